"""Tests of the threshold rules of wavediff.classical.denoise_wavelet, and of the classical input checks.

References: a hand-written PyWavelets pipeline, a brute-force SURE risk, Donoho & Johnstone's (1995)
hybrid SureShrink rule evaluated directly, and a two-sample Haar signal thresholded by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import pywt
import torch
from test_classical import MAD_DENOM
from wavediff.datasets import signals

from wavediff.classical import denoise_wavelet, estimate_sigma, sure_threshold, wiener
from wavediff.errors import (
    InvalidInputError,
    LevelTooDeepError,
    NonFiniteError,
    ShapeError,
    UnknownWaveletError,
)


def _mad(d: np.ndarray) -> float:
    d = d[np.nonzero(d)]
    return float(np.median(np.abs(d)) / MAD_DENOM)


# --------------------------------------------------------------------------- SureShrink


def _sure_risk(x: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Stein's unbiased risk of soft thresholding unit-variance data x at each threshold (brute force)."""
    x = np.abs(x)[None, :]
    t = np.asarray(thresholds, dtype=float)[:, None]
    return x.size - 2.0 * np.sum(x <= t, axis=1) + np.sum(np.minimum(x, t) ** 2, axis=1)


def _reference_sure_threshold(c: np.ndarray, sigma: float) -> float:
    """Donoho & Johnstone (1995) hybrid SureShrink threshold, by direct evaluation over the candidates |c_i|."""
    x = np.abs(np.ravel(c)) / sigma
    n = x.size
    universal = math.sqrt(2 * math.log(n))
    if (np.sum(x**2) - n) / n <= math.log2(n) ** 1.5 / math.sqrt(n):
        return universal * sigma
    risks = _sure_risk(x, x)
    return min(float(x[np.argmin(risks)]), universal) * sigma


def test_sure_threshold_minimises_sure_on_dense_subband():
    rng = np.random.default_rng(700)
    n, sigma = 1024, 0.5
    c = sigma * np.concatenate([rng.normal(0, 1, n // 2), rng.normal(2, 1, n // 2)])
    x = c / sigma
    universal = math.sqrt(2 * math.log(n))
    # dense enough that the SURE branch of the hybrid rule is used
    assert (np.sum(x**2) - n) / n > math.log2(n) ** 1.5 / math.sqrt(n)

    t = sure_threshold(c, sigma)
    assert 0 < t <= universal * sigma
    grid = np.linspace(0.0, universal, 20001)
    grid_risk = _sure_risk(x, grid)
    risk_t = _sure_risk(x, [t / sigma])[0]
    assert risk_t <= grid_risk.min() + 1e-9
    # and it is the exact minimiser over all candidate thresholds |c_i|
    assert risk_t == pytest.approx(_sure_risk(x, np.abs(x)).min(), abs=1e-9)
    assert t == pytest.approx(_reference_sure_threshold(c, sigma), rel=1e-12)
    # the risk at the minimiser is well below the risk of no thresholding (n) and of the universal threshold
    assert risk_t < _sure_risk(x, [universal])[0]


@pytest.mark.parametrize("n, sigma", [(1024, 1.0), (4096, 0.3), (257, 2.5)])
def test_sure_threshold_sparse_subband_is_universal(n, sigma):
    c = np.random.default_rng(701).normal(0.0, sigma, n)
    assert sure_threshold(c, sigma) == pytest.approx(sigma * math.sqrt(2 * math.log(n)), rel=1e-12)


def test_sure_threshold_sparse_with_few_spikes_is_universal():
    rng = np.random.default_rng(702)
    c = rng.normal(0.0, 1.0, 2048)
    c[:3] = 10.0  # a few large coefficients: (sum c^2 - n)/n ~ 0.15 stays below log2(n)^1.5/sqrt(n) ~ 0.81
    assert sure_threshold(c, 1.0) == pytest.approx(math.sqrt(2 * math.log(2048)), rel=1e-12)


@pytest.mark.parametrize("name", ["blocks", "bumps", "heavisine", "doppler"])
def test_sureshrink_reduces_mse_on_donoho_johnstone_signals(name):
    clean = signals.test_signal(name, 2048, std=7)
    noisy = clean + np.random.default_rng(703).normal(0.0, 1.0, clean.shape)
    out = denoise_wavelet(noisy, wavelet="sym8", method="SureShrink")
    mse_noisy = np.mean((noisy - clean) ** 2)
    mse_out = np.mean((out - clean) ** 2)
    assert mse_out < mse_noisy


@pytest.mark.parametrize("name", ["bumps", "doppler"])
@pytest.mark.parametrize("sigma", [None, 1.0])
def test_sureshrink_equals_reference_pipeline(name, sigma):
    clean = signals.test_signal(name, 2048, std=7)
    noisy = clean + np.random.default_rng(704).normal(0.0, 1.0, clean.shape)
    w = pywt.Wavelet("sym8")
    levels = max(pywt.dwt_max_level(noisy.size, w.dec_len) - 3, 1)
    coeffs = pywt.wavedecn(noisy, w, level=levels, mode="symmetric")
    s = _mad(coeffs[-1]["d"]) if sigma is None else sigma
    shrunk = [coeffs[0]] + [
        {k: pywt.threshold(d, _reference_sure_threshold(d, s), mode="soft") for k, d in lev.items()}
        for lev in coeffs[1:]
    ]
    expected = pywt.waverecn(shrunk, w, mode="symmetric")[: noisy.size]
    out = denoise_wavelet(noisy, sigma=sigma, wavelet="sym8", method="SureShrink")
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-9)


# --------------------------------------------------------------------------- fixed threshold: soft / hard


def _manual_pipeline(x, wavelet, t, mode, levels):
    coeffs = pywt.wavedecn(x, wavelet, level=levels, mode="symmetric")
    out = [coeffs[0]] + [{k: pywt.threshold(d, t, mode=mode) for k, d in lev.items()} for lev in coeffs[1:]]
    rec = pywt.waverecn(out, wavelet, mode="symmetric")
    return rec[tuple(slice(s) for s in x.shape)]


@pytest.mark.parametrize("shape", [(301,), (45, 67), (24, 26, 29)])
@pytest.mark.parametrize("mode", ["soft", "hard"])
@pytest.mark.parametrize("wavelet", ["haar", "db3", "coif2"])
def test_fixed_threshold_equals_manual_pywt(shape, mode, wavelet):
    x = np.random.default_rng(800).normal(size=shape)
    t = 0.7
    deepest = pywt.dwtn_max_level(shape, wavelet)
    for levels in {1, deepest}:
        got = denoise_wavelet(x, wavelet=wavelet, mode=mode, method=None, threshold=t, wavelet_levels=levels)
        np.testing.assert_allclose(got, _manual_pipeline(x, wavelet, t, mode, levels), rtol=0, atol=1e-12)
    # default depth: three less than the deepest level, at least 1 (skimage's convention)
    got = denoise_wavelet(x, wavelet=wavelet, mode=mode, method=None, threshold=t)
    np.testing.assert_allclose(
        got, _manual_pipeline(x, wavelet, t, mode, max(deepest - 3, 1)), rtol=0, atol=1e-12
    )


def test_soft_and_hard_differ_as_defined():
    # Haar, one level, a 2-sample signal: approximation (a+b)/sqrt2, detail (a-b)/sqrt2
    x = np.array([3.0, 1.0])  # detail = sqrt2 ~ 1.414, approx = 2 sqrt2
    # hard with t=1: detail kept -> x unchanged; soft with t=1: detail shrunk to sqrt2 - 1
    hard = denoise_wavelet(x, wavelet="haar", mode="hard", method=None, threshold=1.0, wavelet_levels=1)
    np.testing.assert_allclose(hard, x, atol=1e-12)
    soft = denoise_wavelet(x, wavelet="haar", mode="soft", method=None, threshold=1.0, wavelet_levels=1)
    d = (math.sqrt(2) - 1) / math.sqrt(2)
    np.testing.assert_allclose(soft, [2.0 + d, 2.0 - d], atol=1e-12)
    # a threshold above |detail| removes it: both give the mean
    for mode in ("soft", "hard"):
        out = denoise_wavelet(x, wavelet="haar", mode=mode, method=None, threshold=2.0, wavelet_levels=1)
        np.testing.assert_allclose(out, [2.0, 2.0], atol=1e-12)


def test_zero_threshold_is_identity():
    x = np.random.default_rng(801).normal(size=(40, 36))
    out = denoise_wavelet(x, wavelet="db4", mode="soft", method=None, threshold=0.0)
    np.testing.assert_allclose(out, x, rtol=0, atol=1e-10)


def test_threshold_nan_rejected():
    x = np.random.default_rng(802).normal(size=(32, 32))
    with pytest.raises(InvalidInputError, match="threshold"):
        denoise_wavelet(x, method=None, threshold=float("nan"))


# --------------------------------------------------------------------------- errors


@pytest.fixture(scope="module")
def x2d():
    return np.random.default_rng(1100).normal(size=(32, 32))


def test_unknown_method(x2d):
    with pytest.raises(InvalidInputError, match="method="):
        denoise_wavelet(x2d, method="NeighShrink")


def test_method_names_are_case_insensitive(x2d):
    np.testing.assert_array_equal(
        denoise_wavelet(x2d, method="visushrink"), denoise_wavelet(x2d, method="VisuShrink")
    )


def test_bad_mode(x2d):
    with pytest.raises(InvalidInputError, match="'soft' or 'hard'"):
        denoise_wavelet(x2d, mode="medium")


def test_method_and_threshold_both_given(x2d):
    with pytest.raises(InvalidInputError, match="drop one of them"):
        denoise_wavelet(x2d, method="BayesShrink", threshold=0.3)


def test_neither_method_nor_threshold(x2d):
    with pytest.raises(InvalidInputError, match="give either a method"):
        denoise_wavelet(x2d, method=None)


def test_negative_threshold(x2d):
    with pytest.raises(InvalidInputError, match="non-negative"):
        denoise_wavelet(x2d, method=None, threshold=-0.1)


@pytest.mark.parametrize("sigma", [-0.1, float("nan"), float("inf")])
def test_bad_sigma(x2d, sigma):
    with pytest.raises(InvalidInputError, match="non-negative finite"):
        denoise_wavelet(x2d, sigma=sigma)
    with pytest.raises(InvalidInputError, match="non-negative finite"):
        wiener(x2d, sigma=sigma)


@pytest.mark.parametrize("fn", [denoise_wavelet, wiener, estimate_sigma])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nonfinite_input(x2d, fn, bad):
    x = x2d.copy()
    x[5, 5] = bad
    with pytest.raises(NonFiniteError, match="NaN or infinite"):
        fn(x)
    with pytest.raises(NonFiniteError, match="NaN or infinite"):
        fn(torch.tensor(x))


@pytest.mark.parametrize("fn", [denoise_wavelet, wiener, estimate_sigma])
def test_4d_without_channel_axis(fn):
    x = np.random.default_rng(1101).normal(size=(4, 8, 8, 8))
    with pytest.raises(ShapeError, match="channel_axis"):
        fn(x)
    # with channel_axis it works, one channel at a time
    out = fn(x, channel_axis=0)
    assert np.shape(out) == ((4,) if fn is estimate_sigma else x.shape)


def test_bad_channel_axis(x2d):
    with pytest.raises(ShapeError, match="out of range"):
        denoise_wavelet(x2d, channel_axis=2)


@pytest.mark.parametrize("fn", [denoise_wavelet, wiener, estimate_sigma])
def test_empty_and_complex_and_string(fn):
    with pytest.raises(InvalidInputError, match="empty"):
        fn(np.ones((0, 8)))
    with pytest.raises(InvalidInputError, match="complex"):
        fn(np.ones((8, 8)) * (1 + 1j))
    with pytest.raises(InvalidInputError, match="dtype"):
        fn(np.full((8, 8), "x"))


@pytest.mark.parametrize("wavelet", ["bior1.3", "rbio2.2"])
def test_non_orthogonal_wavelet(x2d, wavelet):
    with pytest.raises(UnknownWaveletError, match="not orthonormal"):
        denoise_wavelet(x2d, wavelet=wavelet)
    with pytest.raises(UnknownWaveletError, match="not orthonormal"):
        estimate_sigma(x2d, wavelet=wavelet)


@pytest.mark.parametrize("wavelet", ["db99", "morl", "mexh"])
def test_unknown_or_continuous_wavelet(x2d, wavelet):
    with pytest.raises(UnknownWaveletError, match="unknown wavelet"):
        denoise_wavelet(x2d, wavelet=wavelet)


def test_levels_too_deep(x2d):
    deepest = pywt.dwtn_max_level(x2d.shape, "db2")
    with pytest.raises(LevelTooDeepError, match="wavelet_levels"):
        denoise_wavelet(x2d, wavelet="db2", wavelet_levels=deepest + 1)
    with pytest.raises(LevelTooDeepError, match="wavelet_levels"):
        denoise_wavelet(x2d, wavelet="db2", wavelet_levels=0)
    # too short for even one level of a long filter
    with pytest.raises(LevelTooDeepError, match="larger input"):
        denoise_wavelet(np.random.default_rng(1102).normal(size=10), wavelet="sym8")
    denoise_wavelet(x2d, wavelet="db2", wavelet_levels=deepest)  # the deepest level itself is fine


def test_bad_boundary(x2d):
    with pytest.raises(InvalidInputError, match="boundary="):
        denoise_wavelet(x2d, boundary="mirror")


def test_errors_are_value_errors(x2d):
    with pytest.raises(ValueError):
        denoise_wavelet(x2d, mode="medium")
    assert issubclass(LevelTooDeepError, ValueError) and issubclass(UnknownWaveletError, ValueError)
