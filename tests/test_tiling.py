"""Overlap-add windowing: full coverage, exact identity, pointwise maps commute, bounded batches."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from wavediff.errors import InvalidInputError
from wavediff.tiling import apply_windowed, extract_windows, overlap_add, taper, window_starts


@settings(max_examples=60, deadline=None)
@given(n=st.integers(8, 400), size=st.integers(4, 64), frac=st.floats(0.1, 1.0))
def test_windows_cover_every_sample_and_stay_inside(n, size, frac):
    size = min(size, n)
    hop = max(1, int(size * frac))
    starts = window_starts(n, size, hop)
    covered = np.zeros(n, bool)
    for s in starts:
        assert 0 <= s and s + size <= n
        covered[s : s + size] = True
    assert covered.all()
    assert starts == sorted(set(starts))


@pytest.mark.parametrize("kind", ["tukey", "hann", "boxcar"])
def test_overlap_add_of_unchanged_windows_is_identity(kind):
    x = np.random.default_rng(0).normal(size=(2, 3, 777))
    windows, starts = extract_windows(x, 128, 48)
    assert windows.shape == (2, 3, len(starts), 128)
    assert np.allclose(overlap_add(windows, starts, 777, kind), x, rtol=0, atol=1e-12)
    xt = torch.from_numpy(x)
    wt, st_ = extract_windows(xt, 128, 48)
    assert torch.allclose(overlap_add(wt, st_, 777, kind), xt, rtol=0, atol=1e-12)


def test_pointwise_maps_commute_with_windowing():
    x = np.random.default_rng(1).normal(size=(4, 1000))
    assert np.allclose(apply_windowed(lambda w: 3 * w - 1, x, 100, 30), 3 * x - 1, atol=1e-12)
    xt = torch.from_numpy(x)
    assert torch.allclose(apply_windowed(torch.tanh, xt, 100, 50), torch.tanh(xt), atol=1e-12)


def test_apply_windowed_processes_bounded_batches():
    x = np.zeros((2, 10_000))
    seen = []

    def fn(batch):
        seen.append(batch.shape[0])
        return batch

    apply_windowed(fn, x, 64, 32, batch_windows=16)
    assert max(seen) <= 16 and sum(seen) == len(window_starts(10_000, 64, 32))


def test_taper_is_positive_and_symmetric():
    for kind in ("tukey", "hann", "boxcar"):
        w = taper(65, kind)
        assert (w > 0).all() and np.allclose(w, w[::-1])


def test_errors():
    with pytest.raises(InvalidInputError, match="shorter than one window"):
        window_starts(10, 20, 5)
    with pytest.raises(InvalidInputError, match="hop"):
        window_starts(100, 10, 11)
    with pytest.raises(InvalidInputError, match="unknown taper"):
        taper(10, "gauss")
    with pytest.raises(InvalidInputError, match="returned shape"):
        apply_windowed(lambda w: w[..., :-1], np.zeros((1, 100)), 20, 10)
