"""Input checks shared by the public functions (one place, one wording)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pywt
import torch

from .errors import InvalidInputError, NonFiniteError, ShapeError, UnknownWaveletError


def to_numpy(x: Any, name: str = "input") -> np.ndarray:
    """Return ``x`` as a float numpy array without modifying it (torch tensors are detached and copied)."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        if x.dtype in (torch.bfloat16, torch.float16):
            x = x.float()
        x = x.numpy()
    try:
        arr = np.asarray(x)
    except Exception as exc:  # pragma: no cover - exotic objects
        raise InvalidInputError(f"{name} could not be converted to an array ({exc}); pass a numpy array or torch tensor") from exc
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise InvalidInputError(f"{name} has dtype {arr.dtype}; pass a real numeric array")
    if np.iscomplexobj(arr):
        raise InvalidInputError(f"{name} is complex; pass the magnitude or the real and imaginary parts separately")
    return arr


def check_array(
    x: Any,
    name: str = "input",
    ndim: int | tuple[int, ...] | None = None,
    min_ndim: int | None = None,
    allow_nonfinite: bool = False,
) -> Any:
    """Validate a numpy array or torch tensor: not empty, finite, with the expected rank. Returns ``x``."""
    shape = tuple(x.shape) if isinstance(x, (np.ndarray, torch.Tensor)) else np.shape(x)
    rank = len(shape)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if rank not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise ShapeError(f"{name} has {rank} dimension(s) (shape {shape}); expected {want}")
    if min_ndim is not None and rank < min_ndim:
        raise ShapeError(f"{name} has {rank} dimension(s) (shape {shape}); expected at least {min_ndim}")
    if int(np.prod(shape)) == 0:
        raise InvalidInputError(f"{name} is empty (shape {shape}); pass at least one sample")
    if not allow_nonfinite:
        if isinstance(x, torch.Tensor):
            finite = bool(torch.isfinite(x).all()) if x.is_floating_point() else True
        else:
            arr = np.asarray(x)
            finite = bool(np.isfinite(arr).all()) if np.issubdtype(arr.dtype, np.inexact) else True
        if not finite:
            raise NonFiniteError(
                f"{name} contains NaN or infinite values; interpolate or mask them before calling wavediff"
            )
    return x


def check_same_shape(a: Any, b: Any, names: tuple[str, str] = ("reference", "estimate")) -> None:
    if tuple(a.shape) != tuple(b.shape):
        raise ShapeError(f"{names[0]} has shape {tuple(a.shape)} but {names[1]} has shape {tuple(b.shape)}; they must match")


def orthogonal_wavelet(wavelet: str | pywt.Wavelet) -> pywt.Wavelet:
    """Return the pywt.Wavelet for ``wavelet``, requiring an orthonormal discrete family."""
    if isinstance(wavelet, pywt.Wavelet):
        if wavelet.name not in pywt.wavelist(kind="discrete"):
            raise UnknownWaveletError(
                f"custom wavelet {wavelet.name!r} is not supported; pass the name of a PyWavelets wavelet"
            )
        w = pywt.Wavelet(wavelet.name)  # a fresh object: copies of pywt.Wavelet lose their attributes
    else:
        if not isinstance(wavelet, str) or wavelet not in pywt.wavelist(kind="discrete"):
            raise UnknownWaveletError(
                f"unknown wavelet {wavelet!r}; use a discrete orthonormal wavelet from PyWavelets such as "
                "'haar', 'db2'..'db8', 'sym4', 'coif2' (see pywt.wavelist(kind='discrete'))"
            )
        w = pywt.Wavelet(wavelet)
    if not w.orthogonal:
        raise UnknownWaveletError(
            f"wavelet {w.name!r} is not orthonormal; the wavelet domain must preserve white noise, "
            "so use 'haar', 'dbN', 'symN' or 'coifN'"
        )
    return w
