"""Tests of :mod:`wavediff.wavelets` against independent references.

References used: PyWavelets (``WaveletPacketND``, ``wavedecn``), the algebra of orthonormal maps
(energy, adjoint = inverse, gradient of the energy), the sampling distribution of Gaussian
statistics, and the exact input. Nothing is compared with the code's own earlier output.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import pywt
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wavediff import errors
from wavediff.wavelets import WaveletTransform, max_level

WAVELETS = ["haar", "db2", "db3", "db4", "db6", "db8", "sym4", "sym6", "coif1", "coif2"]
# Largest size drawn per spatial axis, by dim, so every example stays a few ms.
SIZE_CAP = {1: 256, 2: 64, 3: 32}
MAX_LEVEL = 3

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(autouse=True, scope="module")
def _single_thread():
    """Tensors here are tiny: one intra-op thread avoids OpenMP oversubscription on busy CI cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _min_size(wavelet: str, level: int) -> int:
    """Smallest axis length for which pywt.dwt_max_level allows ``level`` (n >= (L-1) * 2**level)."""
    return max(1, (pywt.Wavelet(wavelet).dec_len - 1) * 2**level)


@st.composite
def cases(draw, multiple: bool, min_level: int = 1):
    """(dim, wavelet, level, shape, seed) with a level feasible for every axis.

    ``multiple=True``: every spatial size is a multiple of 2**level.
    ``multiple=False``: sizes are arbitrary and (for level > 0) the first axis is *not* a multiple.
    """
    dim = draw(st.sampled_from([1, 2, 3]))
    wavelet = draw(st.sampled_from(WAVELETS))
    cap = SIZE_CAP[dim]
    feasible = [
        lv for lv in range(min_level, MAX_LEVEL + 1) if _min_size(wavelet, lv) + (0 if multiple else 1) <= cap
    ]
    if not feasible:  # e.g. db8 in 3-D at level >= 2: fall back to the short Haar filter
        wavelet = "haar"
        feasible = [lv for lv in range(min_level, MAX_LEVEL + 1)]
    level = draw(st.sampled_from(feasible))
    q = 2**level
    lo = _min_size(wavelet, level)
    sizes = []
    for axis in range(dim):
        if multiple:
            n = q * draw(st.integers(-(-lo // q), cap // q))
        else:
            n = draw(st.integers(lo, cap))
            if axis == 0 and level > 0 and n % q == 0:
                n = n + 1 if n + 1 <= cap else n - 1
        sizes.append(n)
    batch = draw(st.integers(1, 2))
    channels = draw(st.integers(1, 3 if dim < 3 else 2))
    seed = draw(st.integers(0, 2**31 - 1))
    return dim, wavelet, level, (batch, channels, *sizes), seed


def _randn(shape, seed, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _axes(dim):
    return tuple(range(2, 2 + dim))


def _packet_reference(x: np.ndarray, wavelet: str, level: int, dim: int, names: list[str]) -> np.ndarray:
    """pywt.WaveletPacketND nodes stacked as packed channels c * n_subbands + k."""
    wp = pywt.WaveletPacketND(x, wavelet, mode="periodization", maxlevel=level, axes=_axes(dim))
    nodes = np.stack([wp[name].data for name in names], axis=2)  # (B, C, K, *S)
    return nodes.reshape(x.shape[0], x.shape[1] * len(names), *nodes.shape[3:])


# ---------------------------------------------------------------------------------------------- properties


@settings(max_examples=80, **SETTINGS)
@given(case=cases(multiple=False), use_f64=st.booleans())
def test_reconstruction_with_padding(case, use_f64):
    """inverse(forward(x), size) == x for sizes that are not multiples of 2**level (padding path)."""
    dim, wavelet, level, shape, seed = case
    dtype = np.float64 if use_f64 else np.float32
    x = torch.from_numpy(_randn(shape, seed, dtype))
    wt = WaveletTransform(wavelet, level, dim)
    rec = wt.inverse(wt.forward(x), size=shape[2:])
    assert rec.dtype == x.dtype
    assert rec.shape == x.shape
    tol = 1e-10 if use_f64 else 1e-5
    assert (rec - x).abs().max().item() < tol


@settings(max_examples=80, **SETTINGS)
@given(case=cases(multiple=True), use_f64=st.booleans())
def test_reconstruction_and_energy_for_multiples(case, use_f64):
    """For sizes that are multiples of 2**level: exact reconstruction and sum of squares preserved."""
    dim, wavelet, level, shape, seed = case
    dtype = np.float64 if use_f64 else np.float32
    x = torch.from_numpy(_randn(shape, seed, dtype))
    wt = WaveletTransform(wavelet, level, dim)
    packed = wt.forward(x)
    assert tuple(packed.shape) == wt.packed_shape(tuple(x.shape))
    rec = wt.inverse(packed)  # no size needed: nothing was padded
    assert (rec - x).abs().max().item() < (1e-10 if use_f64 else 1e-5)
    e_x = float((x.double() ** 2).sum())
    e_c = float((packed.double() ** 2).sum())
    # float64: pywt's sym4/sym6 filters are themselves orthonormal only to ~8e-13 (sum h**2 - 1).
    assert e_c == pytest.approx(e_x, rel=1e-10 if use_f64 else 1e-5)


@settings(max_examples=60, **SETTINGS)
@given(case=cases(multiple=True))
def test_packed_coefficients_match_pywt_packets(case):
    """forward(x) equals pywt.WaveletPacketND (periodization) nodes in subband_names() order."""
    dim, wavelet, level, shape, seed = case
    x = _randn(shape, seed)
    wt = WaveletTransform(wavelet, level, dim)
    ref = _packet_reference(x, wavelet, level, dim, wt.subband_names())
    out = wt.forward(torch.from_numpy(x)).numpy()
    assert out.shape == ref.shape
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-6)


@settings(max_examples=40, **SETTINGS)
@given(case=cases(multiple=False, min_level=1), mode=st.sampled_from(["reflect", "replicate", "zero"]))
def test_padding_path_matches_pywt_on_padded_input(case, mode):
    """For non-multiple sizes, forward(x) equals pywt packets of x padded at the end (numpy 'reflect'/'edge'/zeros)."""
    dim, wavelet, level, shape, seed = case
    x = _randn(shape, seed)
    wt = WaveletTransform(wavelet, level, dim, pad_mode=mode)
    target = wt.padded_size(shape[2:])
    assert all(t % 2**level == 0 and 0 <= t - n < 2**level for t, n in zip(target, shape[2:], strict=False))
    widths = [(0, 0), (0, 0)] + [(0, t - n) for t, n in zip(target, shape[2:], strict=False)]
    xp = np.pad(x, widths, mode={"reflect": "reflect", "replicate": "edge", "zero": "constant"}[mode])
    ref = _packet_reference(xp, wavelet, level, dim, wt.subband_names())
    out = wt.forward(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-6)


@settings(max_examples=40, **SETTINGS)
@given(case=cases(multiple=False, min_level=1))
def test_padding_breaks_orthonormality_and_zero_padding_keeps_an_isometry(case):
    """Sizes that are not multiples of 2**level are padded: 'reflect' counts the copied samples twice,
    'zero' keeps norms and inner products, with inverse(., size) as the adjoint."""
    dim, wavelet, level, shape, seed = case
    x, c_seed = _randn(shape, seed), seed + 1
    zero, reflect = (WaveletTransform(wavelet, level, dim, pad_mode=m) for m in ("zero", "reflect"))
    assert not zero.is_orthonormal(shape[2:])
    xt = torch.from_numpy(x)
    np.testing.assert_allclose(np.linalg.norm(zero.forward(xt).numpy()), np.linalg.norm(x), rtol=1e-10)
    c = torch.from_numpy(_randn(zero.packed_shape(shape), c_seed))
    lhs = float((zero.forward(xt) * c).sum())
    rhs = float((xt * zero.inverse(c, size=shape[2:])).sum())
    assert lhs == pytest.approx(rhs, rel=1e-9, abs=1e-9)
    # reflection duplicates samples into the padding: the energy grows by theirs
    xp = reflect._pad(xt)
    np.testing.assert_allclose(np.linalg.norm(reflect.forward(xt).numpy()), np.linalg.norm(xp.numpy()), rtol=1e-10)
    assert np.linalg.norm(xp.numpy()) > np.linalg.norm(x)


def test_is_orthonormal_only_for_multiples_of_two_to_the_level():
    wt = WaveletTransform("db2", level=2, dims=2)
    assert wt.is_orthonormal((64, 32)) and not wt.is_orthonormal((64, 30))


@settings(max_examples=60, **SETTINGS)
@given(case=cases(multiple=True, min_level=1))
def test_wavedec_periodization_matches_pywt_wavedecn(case):
    """wavedec(x, level) equals pywt.wavedecn(mode='periodization') key by key; waverec gives x back."""
    dim, wavelet, level, shape, seed = case
    x = _randn(shape, seed)
    wt = WaveletTransform(wavelet, 1, dim)  # the level argument of wavedec overrides the instance's
    coeffs = wt.wavedec(torch.from_numpy(x), level)
    ref = pywt.wavedecn(x, wavelet, mode="periodization", level=level, axes=_axes(dim))
    assert len(coeffs) == len(ref) == level + 1
    np.testing.assert_allclose(coeffs[0].numpy(), ref[0], rtol=0, atol=1e-6)
    for got, want in zip(coeffs[1:], ref[1:], strict=False):
        assert set(got) == set(want)
        for key in want:
            np.testing.assert_allclose(got[key].numpy(), want[key], rtol=0, atol=1e-6, err_msg=key)
    rec = wt.waverec(coeffs)
    np.testing.assert_allclose(rec.numpy(), x, rtol=0, atol=1e-10)


@st.composite
def ptwt_cases(draw):
    """Arbitrary (also odd) sizes for the redundant boundary modes; small because output grows."""
    dim = draw(st.sampled_from([1, 2, 3]))
    wavelet = draw(st.sampled_from(WAVELETS))
    cap = {1: 128, 2: 48, 3: 24}[dim]
    feasible = [lv for lv in (1, 2, 3) if _min_size(wavelet, lv) <= cap]
    if not feasible:
        wavelet = "db2"
        feasible = [1, 2]
    level = draw(st.sampled_from(feasible))
    sizes = [draw(st.integers(_min_size(wavelet, level), cap)) for _ in range(dim)]
    mode = draw(st.sampled_from(["symmetric", "reflect", "zero"]))
    return (
        dim,
        wavelet,
        level,
        (draw(st.integers(1, 2)), draw(st.integers(1, 2)), *sizes),
        mode,
        draw(st.integers(0, 2**31 - 1)),
    )


@settings(max_examples=60, **SETTINGS)
@given(case=ptwt_cases())
def test_wavedec_other_modes_match_pywt_wavedecn(case):
    """wavedec(mode='symmetric'|'reflect'|'zero') equals pywt.wavedecn with the same mode; waverec inverts it."""
    dim, wavelet, level, shape, mode, seed = case
    x = _randn(shape, seed)
    wt = WaveletTransform(wavelet, level, dim)
    coeffs = wt.wavedec(torch.from_numpy(x), mode=mode)
    ref = pywt.wavedecn(x, wavelet, mode=mode, level=level, axes=_axes(dim))
    assert len(coeffs) == len(ref)
    np.testing.assert_allclose(coeffs[0].numpy(), ref[0], rtol=0, atol=1e-6)
    for got, want in zip(coeffs[1:], ref[1:], strict=False):
        assert set(got) == set(want)
        for key in want:
            np.testing.assert_allclose(got[key].numpy(), want[key], rtol=0, atol=1e-6, err_msg=key)
    rec = wt.waverec(coeffs, size=shape[2:], mode=mode)
    np.testing.assert_allclose(rec.numpy(), x, rtol=0, atol=1e-8)


@settings(max_examples=60, **SETTINGS)
@given(case=cases(multiple=True))
def test_inverse_is_adjoint(case):
    """<forward(x), y> == <x, inverse(y)> (orthonormal map: inverse = adjoint), float64, rel 1e-10."""
    dim, wavelet, level, shape, seed = case
    wt = WaveletTransform(wavelet, level, dim)
    x = torch.from_numpy(_randn(shape, seed))
    y = torch.from_numpy(_randn(wt.packed_shape(shape), seed + 1))
    lhs = float((wt.forward(x) * y).sum())
    rhs = float((x * wt.inverse(y)).sum())
    scale = float(x.norm() * y.norm())  # Cauchy-Schwarz bound on both sides
    assert abs(lhs - rhs) <= 1e-10 * scale


# ---------------------------------------------------------------------------------------------- statistics


def test_white_noise_stays_white():
    """White Gaussian noise (256x256, db4, level 2) -> every subband has std sigma, zero mean, no cross-correlation.

    Per subband n = 64*64 = 4096 samples (x 2 channels). The sample std of n iid N(0, sigma^2) values has
    standard error sigma / sqrt(2n); the sample mean sigma / sqrt(n); the sample correlation of two
    independent series 1 / sqrt(n). Tolerances are 5 standard errors (16 subbands, 120 pairs).
    """
    sigma = 2.5
    x = torch.from_numpy(np.random.default_rng(1234).normal(0.0, sigma, size=(1, 2, 256, 256)))
    wt = WaveletTransform("db4", level=2, dims=2)
    packed = wt.forward(x)
    k = wt.n_subbands
    assert k == 16
    bands = packed.reshape(2, k, -1).permute(1, 0, 2).reshape(k, -1)  # (subband, samples)
    n = bands.shape[1]
    assert n == 2 * 64 * 64
    std = bands.std(dim=1)
    mean = bands.mean(dim=1)
    assert (std - sigma).abs().max().item() < 5 * sigma / math.sqrt(2 * n)
    assert mean.abs().max().item() < 5 * sigma / math.sqrt(n)
    corr = torch.corrcoef(bands)
    off = corr[~torch.eye(k, dtype=torch.bool)]
    assert off.abs().max().item() < 5 / math.sqrt(n)


# ---------------------------------------------------------------------------------------------- autograd


@pytest.mark.parametrize(
    "wavelet, level, dim, spatial",
    [
        ("db2", 1, 1, (8,)),
        ("haar", 2, 1, (8,)),
        ("db2", 1, 2, (6, 8)),
        ("haar", 1, 3, (4, 2, 4)),
        ("db3", 1, 1, (10,)),
    ],
)
def test_gradcheck_forward_and_inverse(wavelet, level, dim, spatial):
    """torch.autograd.gradcheck passes for forward and inverse (finite differences are the reference)."""
    wt = WaveletTransform(wavelet, level, dim)
    x = torch.randn(1, 2, *spatial, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(wt.forward, (x,))
    c = torch.randn(*wt.packed_shape(tuple(x.shape)), dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(wt.inverse, (c,))


def test_gradient_of_energy_is_2x():
    """d/dx ||forward(x)||^2 = 2x because the (unpadded) transform is orthonormal."""
    wt = WaveletTransform("sym4", 2, 2)
    x = torch.randn(2, 1, 32, 28, dtype=torch.float64, requires_grad=True)
    (wt.forward(x) ** 2).sum().backward()
    torch.testing.assert_close(x.grad, 2 * x.detach(), rtol=0, atol=1e-10)


# ---------------------------------------------------------------------------------------------- types & shapes


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numpy_in_numpy_out_and_dtype_kept(dtype):
    """numpy in -> numpy out of the same dtype, with the shape given by packed_shape; inverse likewise."""
    wt = WaveletTransform("db2", 2, 2)
    x = _randn((2, 3, 20, 13), 0, dtype)
    out = wt.forward(x)
    assert isinstance(out, np.ndarray)
    assert out.dtype == dtype
    assert out.shape == wt.packed_shape(x.shape) == (2, 3 * 16, 5, 4)
    rec = wt.inverse(out, size=x.shape[2:])
    assert isinstance(rec, np.ndarray)
    assert rec.dtype == dtype
    np.testing.assert_allclose(rec, x, rtol=0, atol=1e-5 if dtype == np.float32 else 1e-10)


@pytest.mark.parametrize("byteorder", [">", "<"])
def test_numpy_non_native_byte_order_accepted(byteorder):
    """A big-endian float64 array (as read from FITS/SEG-Y files) is still float64: same result as native."""
    wt = WaveletTransform("db2", 1, 1)
    native = _randn((1, 2, 16), 3)
    x = native.astype(byteorder + "f8")
    np.testing.assert_allclose(wt.forward(x), wt.forward(native), rtol=0, atol=0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_torch_dtype_kept(dtype):
    """torch float32 stays float32 and float64 stays float64 through forward, inverse, wavedec, waverec."""
    wt = WaveletTransform("coif1", 1, 3)
    x = torch.randn(1, 2, 12, 11, 10, dtype=dtype)
    out = wt.forward(x)
    assert isinstance(out, torch.Tensor) and out.dtype == dtype
    assert tuple(out.shape) == wt.packed_shape(tuple(x.shape)) == (1, 16, 6, 6, 5)
    assert wt.inverse(out).dtype == dtype
    coeffs = wt.wavedec(x)
    assert coeffs[0].dtype == dtype and all(v.dtype == dtype for d in coeffs[1:] for v in d.values())
    assert wt.waverec(coeffs).dtype == dtype


@pytest.mark.parametrize("dim", [1, 2, 3])
@pytest.mark.parametrize("level", [0, 1, 2, 3])
def test_subband_count_and_names(dim, level):
    """n_subbands == 2**(dim*level); names are unique, have dim*level letters from 'ad', 'a...a' first."""
    wt = WaveletTransform("haar", level, dim)
    names = wt.subband_names()
    assert wt.n_subbands == 2 ** (dim * level) == len(names) == len(set(names))
    assert all(len(n) == dim * level and set(n) <= {"a", "d"} for n in names)
    assert names[0] == "a" * dim * level
    assert names == sorted(names)  # 'a' < 'd': axis-0-major, coarsest split first, as pywt paths


def test_subband_names_2d_level1():
    """The documented order for dim=2, level=1 is pywt.dwtn's: aa, ad, da, dd."""
    assert WaveletTransform("haar", 1, 2).subband_names() == ["aa", "ad", "da", "dd"]
    assert WaveletTransform("haar", 1, 1).subband_names() == ["a", "d"]


@pytest.mark.parametrize("dim, spatial", [(1, (7,)), (2, (5, 3)), (3, (3, 4, 2))])
def test_level_zero_is_identity(dim, spatial):
    """level=0: forward and inverse return the input values unchanged, one subband."""
    wt = WaveletTransform("db4", 0, dim)
    assert wt.n_subbands == 1 and wt.subband_names() == [""]
    x = torch.randn(2, 3, *spatial, dtype=torch.float64)
    assert tuple(wt.packed_shape(tuple(x.shape))) == tuple(x.shape)
    torch.testing.assert_close(wt.forward(x), x, rtol=0, atol=0)
    torch.testing.assert_close(wt.inverse(x), x, rtol=0, atol=0)


def test_max_level_matches_pywt():
    """max_level is pywt.dwt_max_level with the wavelet's filter length."""
    for w in WAVELETS:
        for n in (1, 7, 16, 100, 256):
            assert max_level(n, w) == pywt.dwt_max_level(n, pywt.Wavelet(w).dec_len)


# ---------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_nonfinite_input_rejected(bad):
    """NaN/inf input -> NonFiniteError naming the problem (torch and numpy, forward and wavedec)."""
    wt = WaveletTransform("haar", 1, 2)
    x = torch.zeros(1, 1, 8, 8)
    x[0, 0, 3, 4] = bad
    with pytest.raises(errors.NonFiniteError, match="NaN or infinite"):
        wt.forward(x)
    with pytest.raises(errors.NonFiniteError, match="NaN or infinite"):
        wt.forward(x.numpy())
    with pytest.raises(errors.NonFiniteError, match="NaN or infinite"):
        wt.wavedec(x)


def test_wrong_rank_rejected():
    """Input without (batch, channels) axes -> ShapeError suggesting x[None, None]."""
    wt = WaveletTransform("haar", 1, 2)
    with pytest.raises(errors.ShapeError, match=r"expects \(batch, channels, n, n\)"):
        wt.forward(torch.zeros(8, 8))
    with pytest.raises(errors.ShapeError, match=r"x\[None, None\]"):
        wt.forward(np.zeros((1, 1, 1, 8, 8)))
    with pytest.raises(errors.ShapeError, match="coeffs has shape"):
        wt.inverse(torch.zeros(4, 8, 8))
    with pytest.raises(errors.ShapeError, match="expects"):
        wt.wavedec(torch.zeros(1, 8, 8))
    with pytest.raises(errors.ShapeError, match="expects"):
        wt.packed_shape((8, 8))


def test_empty_input_rejected():
    """An empty tensor -> InvalidInputError saying it is empty."""
    wt = WaveletTransform("haar", 1, 1)
    with pytest.raises(errors.InvalidInputError, match="is empty"):
        wt.forward(torch.zeros(0, 1, 8))
    with pytest.raises(errors.InvalidInputError, match="is empty"):
        wt.forward(np.zeros((2, 0, 8)))


@pytest.mark.parametrize(
    "x",
    [
        torch.zeros(1, 1, 8, dtype=torch.int64),
        np.zeros((1, 1, 8), dtype=np.int32),
        torch.zeros(1, 1, 8, dtype=torch.bool),
        torch.zeros(1, 1, 8, dtype=torch.complex64),
    ],
)
def test_non_float_dtype_rejected(x):
    """Integer/bool/complex input -> InvalidInputError asking for float32 or float64."""
    wt = WaveletTransform("haar", 1, 1)
    with pytest.raises(errors.InvalidInputError, match="convert it to float32 or float64"):
        wt.forward(x)
    with pytest.raises(errors.InvalidInputError, match="float32 or float64"):
        wt.inverse(x)


def test_non_array_input_rejected():
    """A list is neither a tensor nor an array -> InvalidInputError."""
    with pytest.raises(errors.InvalidInputError, match="pass a torch tensor or a numpy array"):
        WaveletTransform("haar", 1, 1).forward([[[0.0, 1.0]]])


def test_unknown_or_non_orthogonal_wavelet_rejected():
    """Unknown names and biorthogonal wavelets -> UnknownWaveletError with a hint."""
    with pytest.raises(errors.UnknownWaveletError, match="unknown wavelet 'db99x'"):
        WaveletTransform("db99x", 1, 1)
    with pytest.raises(errors.UnknownWaveletError, match="not orthonormal"):
        WaveletTransform("bior2.2", 1, 1)
    with pytest.raises(errors.UnknownWaveletError, match="not orthonormal"):
        max_level(64, "rbio3.3")
    with pytest.raises(errors.UnknownWaveletError, match="unknown wavelet"):
        WaveletTransform("morl", 1, 1)  # continuous wavelet


def test_level_too_deep_rejected():
    """db4 on 16 samples at level 3 -> LevelTooDeepError that states the deepest allowed level."""
    wt = WaveletTransform("db4", 3, 1)
    with pytest.raises(errors.LevelTooDeepError, match=r"too deep .* use level <= 1"):
        wt.forward(torch.zeros(1, 1, 16))
    with pytest.raises(errors.LevelTooDeepError, match="too deep"):
        WaveletTransform("db4", 1, 1).wavedec(torch.zeros(1, 1, 16), level=3)
    with pytest.raises(errors.LevelTooDeepError, match="too deep"):  # only one short axis is enough
        WaveletTransform("db2", 2, 2).forward(torch.zeros(1, 1, 64, 8))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(dims=4), "dims=4"),
        (dict(dims=0), "dims=0"),
        (dict(level=-1), "non-negative integer"),
        (dict(level=1.5), "non-negative integer"),
        (dict(level=True), "non-negative integer"),
        (dict(pad_mode="circular"), "pad_mode"),
    ],
)
def test_bad_constructor_arguments_rejected(kwargs, match):
    """dim outside {1,2,3}, negative/non-integer level and unknown pad_mode -> InvalidInputError."""
    args = dict(wavelet="haar", level=1, dims=2) | kwargs
    with pytest.raises(errors.InvalidInputError, match=match):
        WaveletTransform(**args)


def test_inverse_channel_count_rejected():
    """inverse with channels not a multiple of n_subbands -> ShapeError pointing at forward()."""
    wt = WaveletTransform("haar", 1, 2)
    with pytest.raises(errors.ShapeError, match="not a multiple of the 4 subbands"):
        wt.inverse(torch.zeros(1, 6, 4, 4))


def test_unknown_wavedec_mode_rejected():
    """wavedec/waverec with an unknown mode -> InvalidInputError listing the modes."""
    wt = WaveletTransform("db2", 1, 1)
    with pytest.raises(errors.InvalidInputError, match="mode='antireflect'.*periodization"):
        wt.wavedec(torch.zeros(1, 1, 16), mode="antireflect")
    coeffs = wt.wavedec(torch.zeros(1, 1, 16))
    with pytest.raises(errors.InvalidInputError, match="mode='bogus'"):
        wt.waverec(coeffs, mode="bogus")


def test_crop_size_that_does_not_fit_rejected():
    """inverse(size=...) larger than the reconstruction or of the wrong rank -> ShapeError."""
    wt = WaveletTransform("haar", 1, 2)
    c = wt.forward(torch.zeros(1, 1, 8, 8))
    with pytest.raises(errors.ShapeError, match="does not fit"):
        wt.inverse(c, size=(9, 8))
    with pytest.raises(errors.ShapeError, match="does not fit"):
        wt.inverse(c, size=(8,))


def test_errors_subclass_value_error():
    """Every error used here can be caught as ValueError (and as WavediffError)."""
    for exc in (
        errors.NonFiniteError,
        errors.ShapeError,
        errors.InvalidInputError,
        errors.UnknownWaveletError,
        errors.LevelTooDeepError,
    ):
        assert issubclass(exc, ValueError)
        assert issubclass(exc, errors.WavediffError)
    with pytest.raises(ValueError):
        WaveletTransform("bior2.2", 1, 1)
    with pytest.raises(ValueError):
        WaveletTransform("db4", 3, 1).forward(torch.zeros(1, 1, 16))


# ---------------------------------------------------------------------------------------------- no mutation


def test_inputs_are_not_modified():
    """forward/inverse/wavedec/waverec leave their torch and numpy inputs bit-identical."""
    wt = WaveletTransform("db3", 2, 2)
    x_np = _randn((2, 2, 27, 30), 7)
    x_t = torch.from_numpy(_randn((2, 2, 27, 30), 8))
    keep_np, keep_t = x_np.copy(), x_t.clone()
    c_np = wt.forward(x_np)
    c_t = wt.forward(x_t)
    np.testing.assert_array_equal(x_np, keep_np)
    assert torch.equal(x_t, keep_t)

    keep_c_np, keep_c_t = c_np.copy(), c_t.clone()
    wt.inverse(c_np, size=(27, 30))
    wt.inverse(c_t, size=(27, 30))
    np.testing.assert_array_equal(c_np, keep_c_np)
    assert torch.equal(c_t, keep_c_t)

    for mode in ("periodization", "symmetric"):
        coeffs = wt.wavedec(x_t, mode=mode)
        np.testing.assert_array_equal(x_t.numpy(), keep_t.numpy())
        kept = [coeffs[0].clone()] + [{k: v.clone() for k, v in d.items()} for d in coeffs[1:]]
        wt.waverec(coeffs, size=(27, 30), mode=mode)
        assert torch.equal(coeffs[0], kept[0])
        assert all(torch.equal(d[k], e[k]) for d, e in zip(coeffs[1:], kept[1:], strict=False) for k in d)


# ---------------------------------------------------------------------------------------------- devices


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_cuda_matches_cpu(dtype):
    """On CUDA the output stays on the device with the input's dtype and equals the CPU result.

    TF32 convolutions are switched off for the comparison: with them cuDNN rounds float32 inputs to
    10-bit mantissas, which no 1e-5 tolerance survives.
    """
    wt = WaveletTransform("sym4", 2, 2)
    x = torch.randn(2, 3, 36, 40, dtype=dtype)
    tol = 1e-5 if dtype == torch.float32 else 1e-10
    keep = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = False
    try:
        xc = x.cuda()
        out = wt.forward(xc)
        assert out.is_cuda and out.dtype == dtype
        torch.testing.assert_close(out.cpu(), wt.forward(x), rtol=0, atol=tol)
        rec = wt.inverse(out, size=(36, 40))
        assert rec.is_cuda and rec.dtype == dtype
        torch.testing.assert_close(rec.cpu(), x, rtol=0, atol=tol)
        coeffs = wt.wavedec(xc)
        assert coeffs[0].is_cuda and coeffs[0].dtype == dtype
        torch.testing.assert_close(wt.waverec(coeffs, size=(36, 40)).cpu(), x, rtol=0, atol=tol)
    finally:
        torch.backends.cudnn.allow_tf32 = keep
