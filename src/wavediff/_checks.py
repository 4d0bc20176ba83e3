"""Input checks shared by the public functions (one place, one wording)."""

from __future__ import annotations

import math
import numbers
import sys
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import InvalidInputError, NonFiniteError, SampleRateError, ShapeError, UnknownWaveletError

if TYPE_CHECKING:
    import pywt


def _is_tensor(x: Any) -> bool:
    """Whether ``x`` is a torch tensor, without importing torch (no tensor exists before torch is loaded),
    so that rooms' checks stay importable without the engine's heavy half."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def to_numpy(x: Any, name: str = "input") -> np.ndarray:
    """Return ``x`` as a float numpy array without modifying it (torch tensors are detached and copied)."""
    if _is_tensor(x):
        import torch

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
    shape = tuple(x.shape) if isinstance(x, np.ndarray) or _is_tensor(x) else np.shape(x)
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
        if _is_tensor(x):
            finite = bool(x.isfinite().all()) if x.is_floating_point() else True
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
    import pywt

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


def check_sfreq(sfreq: Any, name: str = "sfreq", minimum: float | None = None, *, reason: str | None = None) -> float:
    """Return a sampling rate in Hz as a float, or raise :class:`~wavediff.errors.SampleRateError`.

    Any real number (Python or NumPy, integer or float) that is finite and positive is accepted;
    booleans, strings, NaN, infinities, zero and negative rates are refused with one wording.

    Parameters
    ----------
    sfreq : Any
        The sampling rate to check.
    name : str
        Argument name used in the message (``"sfreq"``, ``"rate"``...).
    minimum : float or None
        Lowest rate the caller can work with, in Hz (inclusive); the message names it.
    reason : str or None
        Why ``minimum`` is needed, quoted in the message (e.g. ``"the beta rhythm reaches 30 Hz"``).

    Returns
    -------
    float

    Examples
    --------
    >>> check_sfreq(256)
    256.0
    >>> check_sfreq(20.0, minimum=60.0)
    Traceback (most recent call last):
    ...
    wavediff.errors.SampleRateError: sfreq=20.0 Hz is too low; use at least 60 Hz
    """
    # bool is an Integral, and a rate of True Hz is always a mistake
    if isinstance(sfreq, (bool, np.bool_)) or not isinstance(sfreq, numbers.Real) or not math.isfinite(sfreq) or sfreq <= 0:
        raise SampleRateError(f"{name}={sfreq!r} must be a positive finite sampling rate in Hz, e.g. 256.0")
    value = float(sfreq)
    if minimum is not None and value < minimum:
        why = f" ({reason})" if reason else ""
        raise SampleRateError(f"{name}={value!r} Hz is too low{why}; use at least {minimum:g} Hz")
    return value


def check_device(device: Any) -> Any:
    """``device`` as a :class:`torch.device`, or a :class:`~wavediff.errors.DeviceError` saying why it cannot be used."""
    import torch

    from .errors import DeviceError

    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise DeviceError(f"device={device!r} is not a device name ({exc}); use 'cpu', 'cuda' or 'cuda:N'") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"device={device!r} was requested but this machine has no usable CUDA device; use device='cpu'")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise DeviceError(f"device={device!r}: only {torch.cuda.device_count()} CUDA device(s) here; use 'cuda:0'")
    elif dev.type != "cpu":
        raise DeviceError(f"device={device!r}: wavediff runs on 'cpu' or 'cuda'")
    return dev
