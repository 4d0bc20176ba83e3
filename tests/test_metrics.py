"""Tests of wavediff.metrics against scikit-image / SciPy references and hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
import torch
from skimage import data, img_as_float
from skimage.metrics import peak_signal_noise_ratio as sk_psnr
from skimage.metrics import structural_similarity as sk_ssim

from wavediff import metrics
from wavediff.errors import InvalidInputError, NonFiniteError, ShapeError

TOL = 1e-7


# --------------------------------------------------------------------------- fixtures / data


def _noisy(img: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return img + rng.normal(0.0, sigma, img.shape)


@pytest.fixture(scope="module")
def camera_pair():
    ref = img_as_float(data.camera())
    return ref, _noisy(ref, 0.1, 1)


@pytest.fixture(scope="module")
def moon_pair():
    ref = img_as_float(data.moon())
    return ref, _noisy(ref, 0.05, 2)


@pytest.fixture(scope="module")
def volume_pair():
    rng = np.random.default_rng(3)
    ref = rng.uniform(0.0, 1.0, (20, 22, 24))
    return ref, ref + rng.normal(0.0, 0.2, ref.shape)


@pytest.fixture(scope="module")
def signal_pair():
    rng = np.random.default_rng(4)
    t = np.linspace(0, 1, 300)
    ref = np.sin(2 * np.pi * 5 * t)
    return ref, ref + rng.normal(0.0, 0.3, ref.shape)


PAIRS = ["camera_pair", "moon_pair", "volume_pair", "signal_pair"]


# --------------------------------------------------------------------------- PSNR vs skimage


@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("data_range", [1.0, 2.5, 255.0])
def test_psnr_matches_skimage(pair, data_range, request):
    ref, est = request.getfixturevalue(pair)
    expected = sk_psnr(ref, est, data_range=data_range)
    assert metrics.psnr(ref, est, data_range=data_range) == pytest.approx(expected, abs=TOL)


def test_psnr_hand_values():
    # MSE = 0.01 -> 10 log10(1 / 0.01) = 20 dB
    assert metrics.psnr(np.zeros(4), np.full(4, 0.1), data_range=1.0) == pytest.approx(20.0, abs=1e-12)
    # MSE = 1, data_range 255 -> 20 log10(255)
    assert metrics.psnr(np.zeros((3, 3)), np.ones((3, 3)), data_range=255.0) == pytest.approx(
        20 * math.log10(255.0), abs=1e-12
    )


def test_psnr_identical_is_inf():
    x = np.random.default_rng(0).normal(size=(8, 8))
    value = metrics.psnr(x, x.copy(), data_range=1.0)
    assert value == math.inf


# --------------------------------------------------------------------------- SSIM vs skimage

SSIM_SETTINGS = [
    pytest.param({}, id="defaults"),
    pytest.param({"gaussian_weights": True, "sigma": 1.5, "use_sample_covariance": False}, id="wang"),
    pytest.param({"gaussian_weights": True, "sigma": 1.5}, id="gauss-sample-cov"),
    pytest.param({"win_size": 5}, id="uniform-win5"),
    pytest.param({"win_size": 9, "use_sample_covariance": False}, id="uniform-win9-pop"),
    pytest.param({"gaussian_weights": True, "sigma": 1.0}, id="gauss-sigma1"),
    # skimage always truncates its Gaussian at 3.5 sigma and uses win_size only for the crop
    # and the covariance normalisation; wavediff ties the filter radius to win_size.
    pytest.param({"gaussian_weights": True, "sigma": 1.5, "win_size": 7}, id="gauss-win7"),
]


@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("kwargs", SSIM_SETTINGS)
def test_ssim_matches_skimage(pair, kwargs, request):
    ref, est = request.getfixturevalue(pair)
    expected = sk_ssim(ref, est, data_range=1.0, **kwargs)
    assert metrics.ssim(ref, est, data_range=1.0, **kwargs) == pytest.approx(expected, abs=TOL)


@pytest.mark.parametrize("pair", ["moon_pair", "volume_pair"])
def test_ssim_full_map_matches_skimage(pair, request):
    ref, est = request.getfixturevalue(pair)
    kwargs = {"gaussian_weights": True, "sigma": 1.5, "use_sample_covariance": False}
    expected_value, expected_map = sk_ssim(ref, est, data_range=2.0, full=True, **kwargs)
    value, smap = metrics.ssim(ref, est, data_range=2.0, full=True, **kwargs)
    assert value == pytest.approx(expected_value, abs=TOL)
    assert smap.shape == expected_map.shape
    np.testing.assert_allclose(smap, expected_map, rtol=0, atol=TOL)


def test_ssim_data_range_and_constants_match_skimage(camera_pair):
    ref, est = camera_pair
    expected = sk_ssim(ref, est, data_range=3.0, K1=0.02, K2=0.05)
    assert metrics.ssim(ref, est, data_range=3.0, K1=0.02, K2=0.05) == pytest.approx(expected, abs=TOL)


def test_ssim_identical_is_one():
    x = np.random.default_rng(5).uniform(size=(16, 16))
    assert metrics.ssim(x, x.copy(), data_range=1.0) == pytest.approx(1.0, abs=1e-12)


# --------------------------------------------------------------------------- hand-computed values


def test_rmse_hand():
    assert metrics.rmse([0.0, 0.0], [3.0, 4.0]) == pytest.approx(math.sqrt(12.5), abs=1e-15)


def test_mse_hand():
    assert metrics.mse([1.0, 2.0, 3.0], [1.0, 2.0, 5.0]) == pytest.approx(4.0 / 3.0, abs=1e-15)
    assert metrics.mse(np.zeros((2, 2)), np.full((2, 2), 0.5)) == pytest.approx(0.25, abs=1e-15)


def test_snr_db_hand():
    # sum(ref^2) / sum(err^2) = n / (n * 0.01) = 100 -> 20 dB
    ref = np.ones(50)
    assert metrics.snr_db(ref, ref + 0.1) == pytest.approx(20.0, abs=1e-10)
    # ratio 1000 -> 30 dB: ref energy 4 * 250 = 1000, error energy 1
    ref = np.full(250, 2.0)
    est = ref.copy()
    est[0] += 1.0
    assert metrics.snr_db(ref, est) == pytest.approx(30.0, abs=1e-10)


def test_snr_db_exact_estimate_is_inf():
    x = np.random.default_rng(6).normal(size=32)
    assert metrics.snr_db(x, x.copy()) == math.inf


def test_rrmse_and_relative_l2_hand():
    ref = np.array([3.0, 4.0])
    est = np.array([4.0, 4.0])
    # ||err|| / ||ref|| = 1 / 5; RMS ratio sqrt(0.5) / sqrt(12.5) = 0.2 as well
    assert metrics.relative_l2(ref, est) == pytest.approx(0.2, abs=1e-15)
    assert metrics.rrmse(ref, est) == pytest.approx(0.2, abs=1e-15)


def test_rrmse_equals_relative_l2_random():
    rng = np.random.default_rng(7)
    ref = rng.normal(size=(6, 40))
    est = ref + rng.normal(0, 0.3, ref.shape)
    expected = np.linalg.norm(est - ref) / np.linalg.norm(ref)
    assert metrics.rrmse(ref, est) == pytest.approx(expected, rel=1e-12)
    assert metrics.relative_l2(ref, est) == pytest.approx(expected, rel=1e-12)
    expected_rows = np.linalg.norm(est - ref, axis=1) / np.linalg.norm(ref, axis=1)
    np.testing.assert_allclose(metrics.rrmse(ref, est, axis=1), expected_rows, rtol=1e-12)
    np.testing.assert_allclose(metrics.relative_l2(ref, est, axis=1), expected_rows, rtol=1e-12)


def test_pearson_matches_scipy_and_corrcoef():
    rng = np.random.default_rng(8)
    x = rng.normal(size=500)
    y = 0.6 * x + rng.normal(size=500)
    value = metrics.pearson(x, y)
    assert value == pytest.approx(scipy.stats.pearsonr(x, y)[0], abs=1e-12)
    assert value == pytest.approx(np.corrcoef(x, y)[0, 1], abs=1e-12)
    # exact hand values: perfectly (anti)correlated affine maps
    assert metrics.pearson([1.0, 2.0, 3.0], [2.0, 4.0, 6.0]) == pytest.approx(1.0, abs=1e-15)
    assert metrics.pearson([1.0, 2.0, 3.0], [3.0, 2.0, 1.0]) == pytest.approx(-1.0, abs=1e-15)


def test_pearson_2d_flattens_like_scipy():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(10, 12))
    y = x**2 + rng.normal(size=x.shape)
    assert metrics.pearson(x, y) == pytest.approx(scipy.stats.pearsonr(x.ravel(), y.ravel())[0], abs=1e-12)


# --------------------------------------------------------------------------- axis=


def _rows():
    rng = np.random.default_rng(10)
    ref = rng.normal(size=(5, 64)) + 2.0
    est = ref + rng.normal(0, 0.4, ref.shape)
    return ref, est


@pytest.mark.parametrize(
    "name, extra",
    [
        ("mse", {}),
        ("rmse", {}),
        ("rrmse", {}),
        ("relative_l2", {}),
        ("snr_db", {}),
        ("pearson", {}),
        ("psnr", {"data_range": 4.0}),
    ],
)
def test_axis_gives_one_value_per_row(name, extra):
    fn = getattr(metrics, name)
    ref, est = _rows()
    per_row = fn(ref, est, axis=1, **extra)
    assert isinstance(per_row, np.ndarray)
    assert per_row.shape == (ref.shape[0],)
    loop = np.array([fn(r, e, **extra) for r, e in zip(ref, est, strict=True)])
    np.testing.assert_allclose(per_row, loop, rtol=1e-12, atol=0)
    # axis=0 on the transposed data is the same thing
    np.testing.assert_allclose(fn(ref.T, est.T, axis=0, **extra), loop, rtol=1e-12, atol=0)


def test_axis_values_match_numpy_and_scipy():
    ref, est = _rows()
    np.testing.assert_allclose(metrics.mse(ref, est, axis=1), ((est - ref) ** 2).mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(
        metrics.psnr(ref, est, data_range=4.0, axis=1),
        [sk_psnr(r, e, data_range=4.0) for r, e in zip(ref, est, strict=True)],
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        metrics.pearson(ref, est, axis=1),
        [scipy.stats.pearsonr(r, e)[0] for r, e in zip(ref, est, strict=True)],
        rtol=1e-12,
    )


def test_axis_tuple_per_volume():
    rng = np.random.default_rng(11)
    ref = rng.normal(size=(3, 8, 9)) + 1.0
    est = ref + rng.normal(0, 0.2, ref.shape)
    got = metrics.rmse(ref, est, axis=(1, 2))
    expected = np.array([np.sqrt(np.mean((e - r) ** 2)) for r, e in zip(ref, est, strict=True)])
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    got = metrics.pearson(ref, est, axis=(1, 2))
    expected = np.array([np.corrcoef(r.ravel(), e.ravel())[0, 1] for r, e in zip(ref, est, strict=True)])
    np.testing.assert_allclose(got, expected, rtol=1e-12)


# --------------------------------------------------------------------------- torch inputs


ALL_FUNCS = [
    ("mse", {}),
    ("rmse", {}),
    ("rrmse", {}),
    ("relative_l2", {}),
    ("snr_db", {}),
    ("pearson", {}),
    ("psnr", {"data_range": 1.0}),
    ("ssim", {"data_range": 1.0}),
]


@pytest.mark.parametrize("name, extra", ALL_FUNCS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_torch_inputs_match_numpy_and_are_not_modified(name, extra, dtype):
    fn = getattr(metrics, name)
    rng = np.random.default_rng(12)
    ref_np = rng.uniform(0, 1, (16, 16))
    est_np = ref_np + rng.normal(0, 0.1, ref_np.shape)
    ref_t = torch.tensor(ref_np, dtype=dtype, requires_grad=True)
    est_t = torch.tensor(est_np, dtype=dtype)
    ref_before, est_before = ref_t.detach().clone(), est_t.clone()

    got = fn(ref_t, est_t, **extra)
    # same values as numpy arrays of the same precision
    expected = fn(ref_t.detach().numpy().copy(), est_t.numpy().copy(), **extra)
    assert isinstance(got, float)
    assert got == expected
    if dtype == torch.float64:
        assert got == fn(ref_np, est_np, **extra)
    assert torch.equal(ref_t.detach(), ref_before)
    assert torch.equal(est_t, est_before)
    assert ref_t.dtype == dtype and est_t.dtype == dtype


@pytest.mark.parametrize("name, extra", ALL_FUNCS)
def test_numpy_inputs_not_modified(name, extra):
    fn = getattr(metrics, name)
    rng = np.random.default_rng(13)
    ref = rng.uniform(0, 1, (12, 12)).astype(np.float32)
    est = (ref + rng.normal(0, 0.1, ref.shape)).astype(np.float32)
    ref0, est0 = ref.copy(), est.copy()
    fn(ref, est, **extra)
    assert ref.dtype == np.float32 and est.dtype == np.float32
    np.testing.assert_array_equal(ref, ref0)
    np.testing.assert_array_equal(est, est0)


def test_torch_float32_close_to_float64_reference():
    rng = np.random.default_rng(14)
    ref = rng.uniform(0, 1, 256)
    est = ref + rng.normal(0, 0.1, 256)
    got = metrics.psnr(
        torch.tensor(ref, dtype=torch.float32), torch.tensor(est, dtype=torch.float32), data_range=1.0
    )
    expected = sk_psnr(
        ref.astype(np.float32).astype(np.float64), est.astype(np.float32).astype(np.float64), data_range=1.0
    )
    assert got == pytest.approx(expected, abs=TOL)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("name, extra", ALL_FUNCS)
def test_shape_mismatch(name, extra):
    with pytest.raises(ShapeError, match="must match"):
        getattr(metrics, name)(np.ones((8, 8)), np.ones((8, 9)), **extra)


@pytest.mark.parametrize("name, extra", ALL_FUNCS)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("which", ["reference", "estimate"])
def test_nonfinite(name, extra, bad, which):
    rng = np.random.default_rng(15)
    ref = rng.uniform(size=(8, 8))
    est = rng.uniform(size=(8, 8))
    (ref if which == "reference" else est)[3, 4] = bad
    with pytest.raises(NonFiniteError, match="NaN or infinite"):
        getattr(metrics, name)(ref, est, **extra)


@pytest.mark.parametrize("name, extra", [f for f in ALL_FUNCS if f[0] != "ssim"])
def test_empty(name, extra):
    with pytest.raises(InvalidInputError, match="empty"):
        getattr(metrics, name)(np.ones(0), np.ones(0), **extra)


def test_ssim_empty_is_an_error():
    with pytest.raises(InvalidInputError, match="empty"):
        metrics.ssim(np.ones((0, 8)), np.ones((0, 8)), data_range=1.0)


@pytest.mark.parametrize("fn", [metrics.psnr, metrics.ssim])
@pytest.mark.parametrize("data_range", [0, 0.0, -1.0, float("nan"), float("inf"), None])
def test_data_range_must_be_positive(fn, data_range):
    x = np.random.default_rng(16).uniform(size=(8, 8))
    with pytest.raises(InvalidInputError, match="must be a positive number"):
        fn(x, x + 0.1, data_range=data_range)


@pytest.mark.parametrize("win_size", [4, 6, 2])
def test_ssim_even_win_size(win_size):
    x = np.random.default_rng(17).uniform(size=(16, 16))
    with pytest.raises(InvalidInputError, match="must be odd"):
        metrics.ssim(x, x + 0.1, data_range=1.0, win_size=win_size)


@pytest.mark.parametrize(
    "shape, kwargs",
    [((6, 32), {}), ((32, 8), {"win_size": 9}), ((5,), {}), ((10, 10), {"gaussian_weights": True})],
)
def test_ssim_array_smaller_than_window(shape, kwargs):
    x = np.random.default_rng(18).uniform(size=shape)
    with pytest.raises(ShapeError, match="at least win_size"):
        metrics.ssim(x, x + 0.1, data_range=1.0, **kwargs)


def test_ssim_4d_is_shape_error():
    x = np.random.default_rng(19).uniform(size=(8, 8, 8, 8))
    with pytest.raises(ShapeError, match="1-D, 2-D or 3-D"):
        metrics.ssim(x, x + 0.1, data_range=1.0)


@pytest.mark.parametrize("fn", [metrics.rrmse, metrics.relative_l2])
def test_relative_errors_zero_reference(fn):
    with pytest.raises(InvalidInputError, match="zero"):
        fn(np.zeros(10), np.ones(10))
    # one all-zero row is enough with axis=
    ref = np.ones((3, 4))
    ref[1] = 0.0
    with pytest.raises(InvalidInputError, match="zero"):
        fn(ref, ref + 1.0, axis=1)


def test_pearson_constant_input():
    with pytest.raises(InvalidInputError, match="constant"):
        metrics.pearson(np.full(10, 3.0), np.arange(10.0))
    with pytest.raises(InvalidInputError, match="constant"):
        metrics.pearson(np.arange(10.0), np.full(10, 3.0))


@pytest.mark.parametrize("name, extra", ALL_FUNCS)
def test_complex_input(name, extra):
    x = np.ones((8, 8)) + 1j * np.ones((8, 8))
    with pytest.raises(InvalidInputError, match="complex"):
        getattr(metrics, name)(x, np.ones((8, 8)), **extra)
    with pytest.raises(InvalidInputError, match="complex"):
        getattr(metrics, name)(np.ones((8, 8)), x, **extra)


@pytest.mark.parametrize("name, extra", ALL_FUNCS)
def test_string_input(name, extra):
    s = np.full((8, 8), "a")
    with pytest.raises(InvalidInputError, match="dtype"):
        getattr(metrics, name)(s, np.ones((8, 8)), **extra)
    with pytest.raises(InvalidInputError, match="dtype"):
        getattr(metrics, name)(np.ones((8, 8)), s, **extra)


def test_errors_are_value_errors():
    # documented: every InvalidInputError is also a ValueError
    with pytest.raises(ValueError):
        metrics.rmse(np.ones(3), np.ones(4))
