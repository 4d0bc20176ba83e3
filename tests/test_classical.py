"""Tests of wavediff.classical against peer implementations, and of the array kinds it accepts.

References: scikit-image's denoise_wavelet / estimate_sigma (peer implementation), SciPy's wiener, and
the MAD formula written out with PyWavelets. torch in gives torch out with the numbers of the numpy path,
and inputs are never modified. The threshold rules and the input checks are tested in test_shrinkage.py,
wavediff.datasets.signals in test_signals.py.
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
from skimage.metrics import peak_signal_noise_ratio as sk_psnr
from skimage.restoration import denoise_wavelet as sk_denoise_wavelet
from skimage.restoration import estimate_sigma as sk_estimate_sigma
from wavediff.datasets import signals

from wavediff import classical
from wavediff.classical import denoise_wavelet, estimate_sigma, wiener

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


# --------------------------------------------------------------------------- the public names


def test_module_exports():
    assert set(classical.__all__) == {"estimate_sigma", "mad_sigma", "denoise_wavelet", "wiener", "sure_threshold"}


def test_mad_sigma_with_a_mask_uses_only_the_masked_coefficients():
    rng = np.random.default_rng(0)
    d = np.concatenate([rng.normal(0, 1.0, 20000), rng.normal(0, 5.0, 20000)])  # noise, then structure
    mask = np.arange(d.size) < 20000
    assert classical.mad_sigma(d, mask) == pytest.approx(1.0, rel=0.03)
    assert classical.mad_sigma(d) > 1.5
