"""Tests of the mathematics of :mod:`wavediff.wavelets` against independent references.

References used: PyWavelets (``WaveletPacketND``, ``wavedecn``), the algebra of orthonormal maps
(energy, adjoint = inverse, gradient of the energy), the sampling distribution of Gaussian
statistics, and the exact input. Nothing is compared with the code's own earlier output.
Types, shapes, errors and devices are tested in test_wavelets_api.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import pywt
import torch
from _threads import _single_thread  # noqa: F401
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wavediff.wavelets import WaveletTransform

WAVELETS = ["haar", "db2", "db3", "db4", "db6", "db8", "sym4", "sym6", "coif1", "coif2"]
# Largest size drawn per spatial axis, by dim, so every example stays a few ms.
SIZE_CAP = {1: 256, 2: 64, 3: 32}
MAX_LEVEL = 3

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])


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
