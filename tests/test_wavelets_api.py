"""Tests of the :class:`wavediff.wavelets.WaveletTransform` API: types, shapes, errors, no mutation, devices.

References used: PyWavelets (``dwt_max_level``, the subband order of ``dwtn``) and the exact input:
numpy in gives numpy out and torch in gives torch out of the same dtype, inputs stay bit-identical,
every bad input raises a wavediff error that says what to do, and CUDA gives the CPU result.
"""

from __future__ import annotations

import numpy as np
import pytest
import pywt
import torch
from _threads import _single_thread  # noqa: F401
from test_wavelets import WAVELETS, _randn

from wavediff import errors
from wavediff.wavelets import WaveletTransform, max_level

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
