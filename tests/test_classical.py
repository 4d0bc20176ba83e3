"""Tests of wavediff.classical (wavelet shrinkage, Wiener) and wavediff.datasets.signals.

References: scikit-image's denoise_wavelet / estimate_sigma (peer implementation), SciPy's wiener,
a hand-written PyWavelets pipeline, a brute-force SURE risk, and the closed forms of Donoho &
Johnstone's test signals.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import pywt
import scipy.signal
import scipy.stats
import torch
from skimage import data, img_as_float
from skimage.data import shepp_logan_phantom
from skimage.metrics import peak_signal_noise_ratio as sk_psnr
from skimage.restoration import denoise_wavelet as sk_denoise_wavelet
from skimage.restoration import estimate_sigma as sk_estimate_sigma
from wavediff.datasets import signals

from wavediff import classical
from wavediff.classical import denoise_wavelet, estimate_sigma, sure_threshold, wiener
from wavediff.errors import (
    InvalidInputError,
    LevelTooDeepError,
    NonFiniteError,
    ShapeError,
    UnknownWaveletError,
)

MAD_DENOM = scipy.stats.norm.ppf(0.75)  # 0.6745


# --------------------------------------------------------------------------- data


def _noisy(clean: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    return clean + np.random.default_rng(seed).normal(0.0, sigma, clean.shape)


@pytest.fixture(scope="module")
def images():
    out = {}
    for seed, name in enumerate(["camera", "moon", "coins"]):
        clean = img_as_float(getattr(data, name)())
        out[name] = (clean, _noisy(clean, 0.1, 100 + seed))
    return out


@pytest.fixture(scope="module")
def volume():
    clean = signals.phantom(32, dims=3)
    return clean, _noisy(clean, 0.1, 200)


@pytest.fixture(scope="module")
def rgb():
    clean = img_as_float(data.astronaut())[:128, 100:228, :]
    return clean, _noisy(clean, 0.1, 300)


def _mad(d: np.ndarray) -> float:
    d = d[np.nonzero(d)]
    return float(np.median(np.abs(d)) / MAD_DENOM)


def _check_peer(ours: np.ndarray, ref: np.ndarray, clean: np.ndarray) -> None:
    assert ours.shape == ref.shape == clean.shape
    assert ours.dtype == ref.dtype
    assert abs(sk_psnr(clean, ours, data_range=1.0) - sk_psnr(clean, ref, data_range=1.0)) < 0.1
    assert np.max(np.abs(ours - ref)) < 1e-6


# --------------------------------------------------------------------------- peer check vs skimage


@pytest.mark.parametrize("name", ["camera", "moon", "coins"])
@pytest.mark.parametrize("wavelet", ["db1", "db2", "sym4"])
def test_denoise_wavelet_matches_skimage_2d(images, name, wavelet):
    clean, noisy = images[name]
    for method in ("BayesShrink", "VisuShrink"):
        for mode in ("soft", "hard"):
            for sigma in (None, 0.1):
                ours = denoise_wavelet(noisy, sigma=sigma, wavelet=wavelet, mode=mode, method=method)
                ref = sk_denoise_wavelet(
                    noisy, sigma=sigma, wavelet=wavelet, mode=mode, method=method, rescale_sigma=False
                )
                _check_peer(ours, ref, clean)


@pytest.mark.parametrize("wavelet, levels", [("db1", 1), ("db2", 2), ("sym4", 4), ("db1", 6)])
def test_denoise_wavelet_matches_skimage_explicit_levels(images, wavelet, levels):
    clean, noisy = images["coins"]
    for method in ("BayesShrink", "VisuShrink"):
        for mode in ("soft", "hard"):
            ours = denoise_wavelet(noisy, wavelet=wavelet, mode=mode, method=method, wavelet_levels=levels)
            ref = sk_denoise_wavelet(
                noisy, wavelet=wavelet, mode=mode, method=method, wavelet_levels=levels, rescale_sigma=False
            )
            _check_peer(ours, ref, clean)


@pytest.mark.parametrize("wavelet", ["db1", "db2", "sym4"])
def test_denoise_wavelet_matches_skimage_3d(volume, wavelet):
    clean, noisy = volume
    for method in ("BayesShrink", "VisuShrink"):
        for mode in ("soft", "hard"):
            for sigma in (None, 0.1):
                ours = denoise_wavelet(noisy, sigma=sigma, wavelet=wavelet, mode=mode, method=method)
                ref = sk_denoise_wavelet(
                    noisy, sigma=sigma, wavelet=wavelet, mode=mode, method=method, rescale_sigma=False
                )
                _check_peer(ours, ref, clean)


@pytest.mark.parametrize("wavelet", ["db1", "sym4"])
def test_denoise_wavelet_matches_skimage_1d(wavelet):
    clean = signals.doppler(1000)  # not a power of two: exercises the crop
    noisy = _noisy(clean, 0.05, 400)
    for method in ("BayesShrink", "VisuShrink"):
        for mode in ("soft", "hard"):
            for sigma in (None, 0.05):
                ours = denoise_wavelet(noisy, sigma=sigma, wavelet=wavelet, mode=mode, method=method)
                ref = sk_denoise_wavelet(
                    noisy, sigma=sigma, wavelet=wavelet, mode=mode, method=method, rescale_sigma=False
                )
                assert ours.shape == clean.shape
                np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-6)


def test_denoise_wavelet_float32_matches_skimage(images):
    clean, noisy = images["moon"]
    noisy32 = noisy.astype(np.float32)
    for method in ("BayesShrink", "VisuShrink"):
        ours = denoise_wavelet(noisy32, wavelet="db2", method=method)
        ref = sk_denoise_wavelet(noisy32, wavelet="db2", method=method, rescale_sigma=False)
        assert ours.dtype == np.float32
        _check_peer(ours, ref, clean)


@pytest.mark.parametrize("sigma", [None, 0.1])
@pytest.mark.parametrize("method", ["BayesShrink", "VisuShrink"])
def test_denoise_wavelet_channel_axis_last_matches_skimage(rgb, sigma, method):
    # skimage with convert2ycbcr=False denoises each channel on its own, with its own sigma estimate:
    # the same semantics as wavediff's channel_axis.
    clean, noisy = rgb
    for mode in ("soft", "hard"):
        ours = denoise_wavelet(noisy, sigma=sigma, wavelet="db2", mode=mode, method=method, channel_axis=-1)
        ref = sk_denoise_wavelet(
            noisy,
            sigma=sigma,
            wavelet="db2",
            mode=mode,
            method=method,
            channel_axis=-1,
            convert2ycbcr=False,
            rescale_sigma=False,
        )
        _check_peer(ours, ref, clean)


def test_denoise_wavelet_channel_axis_first_equals_per_channel_skimage(rgb):
    clean, noisy = rgb
    noisy_cf = np.ascontiguousarray(np.moveaxis(noisy, -1, 0))
    ours = denoise_wavelet(noisy_cf, wavelet="sym4", method="BayesShrink", channel_axis=0)
    assert ours.shape == noisy_cf.shape
    for c in range(3):
        ref = sk_denoise_wavelet(noisy_cf[c], wavelet="sym4", method="BayesShrink", rescale_sigma=False)
        np.testing.assert_allclose(ours[c], ref, rtol=0, atol=1e-6)


def test_denoise_wavelet_channel_axis_1d_channels():
    # EEG-like (channels, time): each row denoised with its own noise estimate
    rng = np.random.default_rng(500)
    t = np.linspace(0, 1, 512)
    clean = np.stack([np.sin(2 * np.pi * f * t) for f in (3, 5, 7, 11)])
    noisy = clean + rng.normal(0, 1, clean.shape) * np.array([[0.05], [0.1], [0.2], [0.4]])
    ours = denoise_wavelet(noisy, wavelet="db2", method="VisuShrink", channel_axis=0)
    for c in range(4):
        ref = sk_denoise_wavelet(noisy[c], wavelet="db2", method="VisuShrink", rescale_sigma=False)
        np.testing.assert_allclose(ours[c], ref, rtol=0, atol=1e-6)


# --------------------------------------------------------------------------- estimate_sigma


@pytest.mark.parametrize("name", ["camera", "moon", "coins"])
def test_estimate_sigma_matches_skimage_2d(images, name):
    _, noisy = images[name]
    assert estimate_sigma(noisy) == pytest.approx(sk_estimate_sigma(noisy), abs=1e-10)
    # skimage's image without noise: piecewise-flat regions give exact zeros, which are masked out
    clean = images[name][0]
    assert estimate_sigma(clean) == pytest.approx(sk_estimate_sigma(clean), abs=1e-10)


def test_estimate_sigma_matches_skimage_3d_1d_and_channels(volume, rgb):
    _, noisy = volume
    assert estimate_sigma(noisy) == pytest.approx(sk_estimate_sigma(noisy), abs=1e-10)
    sig = _noisy(signals.heavisine(777), 0.3, 600)
    assert estimate_sigma(sig) == pytest.approx(sk_estimate_sigma(sig), abs=1e-10)
    _, img = rgb
    got = estimate_sigma(img, channel_axis=-1)
    expected = sk_estimate_sigma(img, channel_axis=-1, average_sigmas=False)
    assert isinstance(got, np.ndarray) and got.shape == (3,)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


def test_estimate_sigma_hand_formula():
    x = np.random.default_rng(601).normal(size=(64, 48))
    expected = np.median(np.abs(pywt.dwtn(x, "db2", mode="symmetric")["dd"])) / MAD_DENOM
    assert estimate_sigma(x) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("shape, sigma", [((512, 512), 0.3), ((4096,), 2.0), ((64, 64, 64), 0.05)])
def test_estimate_sigma_recovers_known_noise(shape, sigma):
    noise = np.random.default_rng(602).normal(0.0, sigma, shape)
    # the MAD estimator of a Gaussian scale has asymptotic variance 1.3605 sigma^2 / N, N detail coefficients
    n_detail = int(np.prod([s // 2 for s in shape]))
    tol = 5 * math.sqrt(1.3605 / n_detail)
    assert estimate_sigma(noise) == pytest.approx(sigma, rel=tol)


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


# --------------------------------------------------------------------------- wiener


@pytest.mark.parametrize("mysize", [None, 3, 5, (3, 7)])
@pytest.mark.parametrize("sigma", [0.05, 0.1, 0.3])
def test_wiener_matches_scipy(images, mysize, sigma):
    _, noisy = images["coins"]
    x = noisy[:100, :120]
    expected = scipy.signal.wiener(x, mysize=mysize if mysize is not None else 3, noise=sigma**2)
    np.testing.assert_allclose(wiener(x, sigma=sigma, mysize=mysize), expected, rtol=0, atol=1e-12)


def test_wiener_estimates_sigma_like_skimage(images, volume):
    for x in (images["moon"][1][:128, :128], volume[1], _noisy(signals.bumps(500), 0.2, 900)):
        expected = scipy.signal.wiener(x, mysize=3, noise=sk_estimate_sigma(x) ** 2)
        np.testing.assert_allclose(wiener(x), expected, rtol=0, atol=1e-12)


def test_wiener_channel_axis_equals_loop(rgb):
    _, img = rgb
    out = wiener(img, sigma=0.1, mysize=5, channel_axis=-1)
    for c in range(3):
        expected = scipy.signal.wiener(img[..., c], mysize=5, noise=0.01)
        np.testing.assert_allclose(out[..., c], expected, rtol=0, atol=1e-12)
    out = wiener(img, channel_axis=-1)
    for c in range(3):
        expected = scipy.signal.wiener(img[..., c], mysize=3, noise=sk_estimate_sigma(img[..., c]) ** 2)
        np.testing.assert_allclose(out[..., c], expected, rtol=0, atol=1e-12)


def test_wiener_zero_noise_is_identity():
    # noise power 0: the Wiener gain 1 - noise/local_var is 1 everywhere, so the output is the input.
    rng = np.random.default_rng(901)
    x = rng.normal(size=(24, 24))
    np.testing.assert_allclose(wiener(x, sigma=0.0), x, rtol=0, atol=1e-12)
    # ... also where the data are locally flat (local variance exactly 0), e.g. a noise-free
    # piecewise-constant image
    flat = np.ones((16, 16))
    flat[:, 8:] = 2.0
    assert np.all(np.isfinite(wiener(flat, sigma=0.0)))
    np.testing.assert_allclose(wiener(flat, sigma=0.0), flat, rtol=0, atol=1e-12)


def test_wiener_of_zero_signal_is_zero():
    # all detail coefficients are exactly 0, so the estimated sigma is exactly 0 (hand value), and
    # filtering the zero signal must give the zero signal
    zeros = np.zeros((16, 16))
    assert estimate_sigma(zeros) == 0.0
    out = wiener(zeros)
    assert np.all(np.isfinite(out))
    np.testing.assert_array_equal(out, zeros)


# --------------------------------------------------------------------------- array kinds


SHAPES = [(200,), (40, 36), (16, 18, 20)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(
    "fn, kwargs",
    [
        (denoise_wavelet, {"method": "BayesShrink"}),
        (denoise_wavelet, {"method": "VisuShrink", "mode": "hard", "sigma": 0.2}),
        (denoise_wavelet, {"method": "SureShrink", "wavelet": "db2"}),
        (denoise_wavelet, {"method": None, "threshold": 0.3}),
        (wiener, {}),
        (wiener, {"sigma": 0.2}),
    ],
)
def test_torch_in_torch_out(fn, kwargs, dtype, shape):
    rng = np.random.default_rng(1000)
    x_np = (np.linspace(0, 1, int(np.prod(shape))).reshape(shape) + rng.normal(0, 0.2, shape)).astype(
        np.float32 if dtype == torch.float32 else np.float64
    )
    x_t = torch.tensor(x_np)
    before = x_t.clone()
    out = fn(x_t, **kwargs)
    assert isinstance(out, torch.Tensor)
    assert out.dtype == dtype
    assert tuple(out.shape) == shape
    assert torch.equal(x_t, before)
    # same numbers as the numpy path of the same precision
    out_np = fn(x_np.copy(), **kwargs)
    assert isinstance(out_np, np.ndarray)
    assert out_np.dtype == x_np.dtype
    np.testing.assert_array_equal(out.numpy(), out_np)


@pytest.mark.parametrize("shape", SHAPES)
def test_numpy_in_numpy_out_not_modified(shape):
    x = np.random.default_rng(1001).normal(size=shape)
    x0 = x.copy()
    for out in (
        denoise_wavelet(x, method="BayesShrink"),
        denoise_wavelet(x, method="SureShrink"),
        denoise_wavelet(x, method=None, threshold=0.5),
        wiener(x),
    ):
        assert isinstance(out, np.ndarray)
        assert out.shape == shape and out.dtype == np.float64
        assert out is not x
    estimate_sigma(x)
    np.testing.assert_array_equal(x, x0)


def test_channel_axis_input_not_modified_and_torch(rgb):
    _, img = rgb
    t = torch.tensor(np.moveaxis(img, -1, 0).copy(), dtype=torch.float64)
    before = t.clone()
    out = denoise_wavelet(t, method="BayesShrink", channel_axis=0)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float64 and out.shape == t.shape
    assert torch.equal(t, before)
    for c in range(3):
        ref = sk_denoise_wavelet(t[c].numpy(), rescale_sigma=False)
        np.testing.assert_allclose(out[c].numpy(), ref, rtol=0, atol=1e-6)


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


def test_module_exports():
    assert set(classical.__all__) == {"estimate_sigma", "denoise_wavelet", "wiener", "sure_threshold"}
