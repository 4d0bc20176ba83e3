"""Tests of wavediff.datasets.signals: Donoho & Johnstone's test signals and the Shepp-Logan phantom.

References: the closed forms of Donoho & Johnstone's test signals, values read off their tables by hand,
and scikit-image's shepp_logan_phantom.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from skimage.data import shepp_logan_phantom
from wavediff.datasets import signals

from wavediff.errors import InvalidInputError

# --------------------------------------------------------------------------- datasets.signals

BLOCK_JUMPS = [0.1, 0.13, 0.15, 0.23, 0.25, 0.40, 0.44, 0.65, 0.76, 0.78, 0.81]
BLOCK_HEIGHTS = [4, -5, 3, -4, 5, -4.2, 2.1, 4.3, -3.1, 2.1, -4.2]
BUMP_HEIGHTS = [4, 5, 3, 4, 5, 4.2, 2.1, 4.3, 3.1, 5.1, 4.2]
BUMP_WIDTHS = [0.005, 0.005, 0.006, 0.01, 0.01, 0.03, 0.01, 0.01, 0.005, 0.008, 0.005]


def _t(i: int, n: int) -> float:
    return (i + 0.5) / n


@pytest.mark.parametrize("i", [0, 137, 300, 511, 760, 1023])
def test_heavisine_closed_form(i):
    n = 1024
    t = _t(i, n)
    sign = lambda v: math.copysign(1.0, v) if v != 0 else 0.0  # noqa: E731
    expected = 4 * math.sin(4 * math.pi * t) - sign(t - 0.3) - sign(0.72 - t)
    assert signals.heavisine(n)[i] == pytest.approx(expected, abs=1e-12)


def test_heavisine_jumps_by_hand():
    # n=100: t = 0.005, 0.295 | 0.305 | 0.715 | 0.725
    h = signals.heavisine(100)
    s = lambda t: 4 * math.sin(4 * math.pi * t)  # noqa: E731
    assert h[0] == pytest.approx(s(0.005) + 1 - 1, abs=1e-12)
    assert h[29] == pytest.approx(s(0.295) + 1 - 1, abs=1e-12)
    assert h[30] == pytest.approx(s(0.305) - 1 - 1, abs=1e-12)
    assert h[71] == pytest.approx(s(0.715) - 1 - 1, abs=1e-12)
    assert h[72] == pytest.approx(s(0.725) - 1 + 1, abs=1e-12)


@pytest.mark.parametrize("i", [0, 10, 99, 500, 1023])
def test_doppler_closed_form(i):
    n = 1024
    t = _t(i, n)
    expected = math.sqrt(t * (1 - t)) * math.sin(2.1 * math.pi / (t + 0.05))
    assert signals.doppler(n)[i] == pytest.approx(expected, abs=1e-12)


def test_blocks_hand_values():
    # n=100 -> t=(i+0.5)/100 never hits a jump; cumulative heights read off the table by hand
    b = signals.blocks(100)
    hand = {0: 0.0, 9: 0.0, 10: 4.0, 12: 4.0, 13: -1.0, 14: -1.0, 15: 2.0, 22: 2.0, 23: -2.0, 24: -2.0,
            25: 3.0, 39: 3.0, 40: -1.2, 43: -1.2, 44: 0.9, 64: 0.9, 65: 5.2, 75: 5.2, 76: 2.1, 77: 2.1,
            78: 4.2, 80: 4.2, 81: 0.0, 99: 0.0}  # fmt: skip
    for i, v in hand.items():
        assert b[i] == pytest.approx(v, abs=1e-12), i


@pytest.mark.parametrize("i", [0, 102, 130, 250, 413, 650, 900])
def test_bumps_closed_form(i):
    n = 1024
    t = _t(i, n)
    expected = sum(
        h / (1 + abs(t - tj) / w) ** 4
        for tj, h, w in zip(BLOCK_JUMPS, BUMP_HEIGHTS, BUMP_WIDTHS, strict=True)
    )
    assert signals.bumps(n)[i] == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_signal_shapes_and_registry():
    assert set(signals.SIGNALS) == {"blocks", "bumps", "heavisine", "doppler"}
    for name in signals.SIGNALS:
        for n in (2, 7, 1024):
            assert signals.test_signal(name, n).shape == (n,)


@pytest.mark.parametrize("std", [1.0, 7.0, 0.25])
def test_test_signal_std_rescaling(std):
    n = 512
    t = (np.arange(n) + 0.5) / n
    raw = 4 * np.sin(4 * np.pi * t) - np.sign(t - 0.3) - np.sign(0.72 - t)
    x = signals.test_signal("heavisine", n, std=std)
    assert x.std() == pytest.approx(std, rel=1e-12)
    np.testing.assert_allclose(x, raw * (std / raw.std()), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(signals.test_signal("heavisine", n), raw, rtol=0, atol=1e-12)


def test_phantom_shape_and_range():
    p2 = signals.phantom(48)
    assert p2.shape == (48, 48)
    assert p2.min() >= 0.0 and p2.max() <= 1.0 and p2.max() > 0.5
    p3 = signals.phantom(32, dims=3)
    assert p3.shape == (32, 32, 32)
    assert p3.min() >= 0.0 and p3.max() <= 1.0
    # envelope 1 - z^2/0.8 on z = (k + 0.5)/32 * 2 - 1: zero on the outer slices, ~1 in the middle
    assert np.all(p3[0] == 0) and np.all(p3[-1] == 0)
    z = (15 + 0.5) / 32 * 2 - 1
    np.testing.assert_allclose(p3[15], np.clip((1 - z**2 / 0.8) * signals.phantom(32), 0, 1), atol=1e-12)


def test_phantom_full_size_is_skimage_phantom():
    ref = np.clip(shepp_logan_phantom(), 0, 1)
    np.testing.assert_allclose(signals.phantom(ref.shape[0]), ref, atol=1e-12)


@pytest.mark.parametrize(
    "call, phrase",
    [
        (lambda: signals.test_signal("sine"), "unknown test signal"),
        (lambda: signals.test_signal("blocks", 1), "n=1"),
        (lambda: signals.test_signal("blocks", 0), "n=0"),
        (lambda: signals.test_signal("blocks", 64.0), "integer"),
        (lambda: signals.test_signal("blocks", 64, std=0), "positive"),
        (lambda: signals.test_signal("blocks", 64, std=-1.0), "positive"),
        (lambda: signals.doppler(1), "integer >= 2"),
        (lambda: signals.phantom(4), "size"),
        (lambda: signals.phantom(32.0), "size"),
        (lambda: signals.phantom(32, dims=4), "dim"),
        (lambda: signals.phantom(32, dims=1), "dim"),
    ],
)
def test_signals_bad_arguments(call, phrase):
    with pytest.raises(InvalidInputError, match=phrase):
        call()


def test_test_signal_nan_std_rejected():
    with pytest.raises(InvalidInputError, match="std"):
        signals.test_signal("blocks", 64, std=float("nan"))
