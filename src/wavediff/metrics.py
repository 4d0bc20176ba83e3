"""Metrics shared by every room.

All functions take ``(reference, estimate)`` in that order (as ``skimage.metrics`` does), accept numpy
arrays or torch tensors, never modify them, and return a Python float, or a numpy array when ``axis``
is given (for example one value per trajectory or per epoch).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage

from ._checks import check_array, check_same_shape, to_numpy
from .errors import InvalidInputError, ShapeError

__all__ = ["psnr", "ssim", "snr_db", "rmse", "rrmse", "relative_l2", "pearson", "mse"]

Axis = int | tuple[int, ...] | None


def _pair(reference: Any, estimate: Any) -> tuple[np.ndarray, np.ndarray]:
    ref = to_numpy(reference, "reference")
    est = to_numpy(estimate, "estimate")
    check_same_shape(ref, est)
    check_array(ref, "reference")
    check_array(est, "estimate")
    return ref.astype(np.float64), est.astype(np.float64)


def _check_range(data_range: Any) -> float:
    try:
        value = float(data_range)
    except (TypeError, ValueError):
        value = float("nan")
    if isinstance(data_range, (str, bytes)) or not np.isfinite(value) or value <= 0:
        raise InvalidInputError(f"data_range={data_range!r} must be a positive number (e.g. 1.0 or 255)")
    return value


def _out(value: np.ndarray | np.floating) -> float | np.ndarray:
    return float(value) if np.ndim(value) == 0 else np.asarray(value)


def mse(reference: Any, estimate: Any, axis: Axis = None) -> float | np.ndarray:
    """Mean squared error."""
    ref, est = _pair(reference, estimate)
    return _out(np.mean((est - ref) ** 2, axis=axis))


def rmse(reference: Any, estimate: Any, axis: Axis = None) -> float | np.ndarray:
    """Root mean squared error, in the units of the data.

    Examples
    --------
    >>> rmse([0.0, 0.0], [3.0, 4.0])  # sqrt((9 + 16) / 2)
    3.5355339059327378
    """
    ref, est = _pair(reference, estimate)
    return _out(np.sqrt(np.mean((est - ref) ** 2, axis=axis)))


def rrmse(reference: Any, estimate: Any, axis: Axis = None) -> float | np.ndarray:
    """Relative RMSE, ``RMS(estimate - reference) / RMS(reference)`` (EEGdenoiseNet's RRMSE).

    Raises :class:`~wavediff.errors.InvalidInputError` when the reference is identically zero.
    """
    ref, est = _pair(reference, estimate)
    denom = np.sqrt(np.mean(ref**2, axis=axis))
    if np.any(denom == 0):
        raise InvalidInputError("reference is all zeros, so a relative error is undefined; use rmse() instead")
    return _out(np.sqrt(np.mean((est - ref) ** 2, axis=axis)) / denom)


def relative_l2(reference: Any, estimate: Any, axis: Axis = None) -> float | np.ndarray:
    """Relative L2 error ``||estimate - reference|| / ||reference||`` (PDE benchmarks' convention).

    Numerically equal to :func:`rrmse` over the same axes; both names are kept because each field
    reports its own. Use ``axis`` to get one value per trajectory.
    """
    ref, est = _pair(reference, estimate)
    denom = np.sqrt(np.sum(ref**2, axis=axis))
    if np.any(denom == 0):
        raise InvalidInputError("reference has zero norm, so a relative error is undefined; use rmse() instead")
    return _out(np.sqrt(np.sum((est - ref) ** 2, axis=axis)) / denom)


def snr_db(reference: Any, estimate: Any, axis: Axis = None) -> float | np.ndarray:
    """Signal-to-noise ratio of ``estimate`` in dB: ``10 log10(sum(ref**2) / sum((est - ref)**2))``.

    The signal energy includes the reference's mean (the convention of the EEG and seismic
    literature); an exact estimate gives ``inf``.
    """
    ref, est = _pair(reference, estimate)
    signal = np.sum(ref**2, axis=axis)
    noise = np.sum((est - ref) ** 2, axis=axis)
    if np.any(signal == 0):
        raise InvalidInputError("reference is all zeros, so an SNR is undefined; use rmse() instead")
    with np.errstate(divide="ignore"):
        return _out(10.0 * np.log10(signal) - 10.0 * np.log10(noise))


def psnr(reference: Any, estimate: Any, data_range: float, axis: Axis = None) -> float | np.ndarray:
    """Peak signal-to-noise ratio in dB, ``10 log10(data_range**2 / MSE)``.

    ``data_range`` is required: guessing it from the data (as some libraries do) makes numbers
    incomparable across files. For [0, 1] images pass 1.0; for CT in a HU window pass its width.

    Examples
    --------
    >>> import numpy as np
    >>> round(psnr(np.zeros(4), np.full(4, 0.1), data_range=1.0), 6)
    20.0
    """
    data_range = _check_range(data_range)
    ref, est = _pair(reference, estimate)
    err = np.mean((est - ref) ** 2, axis=axis)
    with np.errstate(divide="ignore"):
        return _out(10.0 * np.log10(float(data_range) ** 2) - 10.0 * np.log10(err))


def pearson(reference: Any, estimate: Any, axis: Axis = None) -> float | np.ndarray:
    """Pearson correlation coefficient (EEG's "CC")."""
    ref, est = _pair(reference, estimate)
    r = ref - ref.mean(axis=axis, keepdims=True)
    e = est - est.mean(axis=axis, keepdims=True)
    denom = np.sqrt(np.sum(r**2, axis=axis) * np.sum(e**2, axis=axis))
    if np.any(denom == 0):
        raise InvalidInputError("a constant input has no correlation; check that neither array is flat")
    return _out(np.sum(r * e, axis=axis) / denom)


def ssim(
    reference: Any,
    estimate: Any,
    data_range: float,
    win_size: int | None = None,
    gaussian_weights: bool = False,
    sigma: float = 1.5,
    K1: float = 0.01,
    K2: float = 0.03,
    use_sample_covariance: bool = True,
    full: bool = False,
) -> float | tuple[float, np.ndarray]:
    """Mean structural similarity (Wang et al. 2004) of 1-D, 2-D or 3-D arrays.

    Follows the conventions of ``skimage.metrics.structural_similarity`` so numbers are comparable:
    a uniform ``win_size`` window (default 7) or, with ``gaussian_weights=True``, an 11-tap Gaussian of
    width ``sigma``; sample covariances unless ``use_sample_covariance=False``; the mean is taken away
    from a border of ``(win_size - 1) // 2``. Wang et al.'s exact setting is
    ``gaussian_weights=True, use_sample_covariance=False``.

    Parameters
    ----------
    data_range : float
        Dynamic range of the data (required, see :func:`psnr`).
    full : bool
        Also return the SSIM map.
    """
    data_range = _check_range(data_range)
    ref, est = _pair(reference, estimate)
    if ref.ndim not in (1, 2, 3):
        raise ShapeError(f"ssim takes 1-D, 2-D or 3-D arrays, got shape {ref.shape}; compute it per image or volume")
    if win_size is None:
        win_size = 2 * int(3.5 * sigma + 0.5) + 1 if gaussian_weights else 7
    if win_size < 3 or win_size % 2 == 0:
        raise InvalidInputError(f"win_size={win_size} must be odd and at least 3")
    if min(ref.shape) < win_size:
        raise ShapeError(
            f"every axis must be at least win_size={win_size} long, got shape {ref.shape}; pass a smaller odd win_size"
        )

    if gaussian_weights:
        def smooth(a: np.ndarray) -> np.ndarray:
            # skimage's kernel always spans 3.5 sigma; win_size only sets the border and the normalisation
            return ndimage.gaussian_filter(a, sigma=sigma, truncate=3.5, mode="reflect")

    else:
        def smooth(a: np.ndarray) -> np.ndarray:
            return ndimage.uniform_filter(a, size=win_size, mode="reflect")

    n = win_size**ref.ndim
    cov_norm = n / (n - 1.0) if use_sample_covariance else 1.0

    mu_x, mu_y = smooth(ref), smooth(est)
    var_x = cov_norm * (smooth(ref * ref) - mu_x**2)
    var_y = cov_norm * (smooth(est * est) - mu_y**2)
    cov_xy = cov_norm * (smooth(ref * est) - mu_x * mu_y)
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    smap = ((2 * mu_x * mu_y + c1) * (2 * cov_xy + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    pad = (win_size - 1) // 2
    inner = smap[tuple(slice(pad, s - pad) for s in smap.shape)]
    value = float(inner.mean())
    return (value, smap) if full else value
