"""Classical denoisers that every benchmark reports beside the learned model.

* :func:`denoise_wavelet` - wavelet shrinkage with VisuShrink (Donoho & Johnstone 1994), BayesShrink
  (Chang, Yu & Vetterli 2000) or SureShrink (Donoho & Johnstone 1995) thresholds, soft or hard, on
  1-D, 2-D or 3-D data, with the noise level estimated by the median absolute deviation of the finest
  detail coefficients when not given. Conventions (default levels, VisuShrink's sample count, boundary
  mode) follow ``skimage.restoration.denoise_wavelet`` so results are comparable with it.
* :func:`wiener` - the local adaptive Wiener filter of ``scipy.signal.wiener`` with the noise power
  taken from ``sigma`` (estimated when not given).

Each function takes a numpy array or torch tensor and returns the same kind; inputs are never modified.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pywt
import scipy.signal
import scipy.stats
import torch

from ._checks import check_array, orthogonal_wavelet, to_numpy
from .errors import InvalidInputError, LevelTooDeepError, ShapeError

__all__ = ["estimate_sigma", "mad_sigma", "denoise_wavelet", "wiener", "sure_threshold"]

_METHODS = {"visushrink": "VisuShrink", "bayesshrink": "BayesShrink", "sureshrink": "SureShrink"}
_MAD_TO_SIGMA = 1.0 / scipy.stats.norm.ppf(0.75)  # 1 / 0.6745


def _restore_kind(out: np.ndarray, like: Any) -> Any:
    if isinstance(like, torch.Tensor):
        return torch.as_tensor(out, dtype=like.dtype if like.is_floating_point() else torch.float64).to(like.device)
    return out


def _prepare(x: Any, channel_axis: int | None) -> tuple[np.ndarray, list[np.ndarray]]:
    """Validate and return (float array, list of single-channel views)."""
    arr = to_numpy(x)
    check_array(arr)
    arr = arr.astype(np.float64 if arr.dtype != np.float32 else np.float32, copy=True)
    if channel_axis is None:
        if arr.ndim not in (1, 2, 3):
            raise ShapeError(
                f"input has shape {arr.shape}; pass a 1-D, 2-D or 3-D array, or set channel_axis "
                "to denoise each channel separately"
            )
        return arr, [arr]
    if not -arr.ndim <= channel_axis < arr.ndim:
        raise ShapeError(f"channel_axis={channel_axis} is out of range for an array of shape {arr.shape}")
    moved = np.moveaxis(arr, channel_axis, 0)
    if moved.ndim - 1 not in (1, 2, 3):
        raise ShapeError(f"each channel must be 1-D, 2-D or 3-D; got channel shape {moved.shape[1:]}")
    return arr, [moved[i] for i in range(moved.shape[0])]


def mad_sigma(detail: Any, mask: Any = None) -> float:
    """``median(|d|) / 0.6745`` over the non-zero wavelet detail coefficients ``detail`` (those where ``mask``
    is true, when given): the Gaussian noise std behind them (Donoho 1995); 0 when none is left.

    Examples
    --------
    >>> import numpy as np
    >>> d = np.random.default_rng(0).normal(0, 2.0, 100_000)
    >>> round(mad_sigma(d), 2), mad_sigma(np.zeros(4))
    (2.0, 0.0)
    """
    detail = np.asarray(detail)
    d = detail if mask is None else detail[np.asarray(mask, dtype=bool)]
    d = d[np.nonzero(d)]
    if d.size == 0:
        return 0.0
    return float(np.median(np.abs(d)) * _MAD_TO_SIGMA)


def estimate_sigma(x: Any, wavelet: str = "db2", channel_axis: int | None = None) -> float | np.ndarray:
    """Robust noise standard deviation from the finest all-detail wavelet subband (Donoho & Johnstone 1994).

    ``sigma = median(|d|) / 0.6745`` over the non-zero coefficients of the single-level ``'d'*ndim``
    subband. Returns one value per channel when ``channel_axis`` is given.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> sigma = estimate_sigma(rng.normal(0, 0.5, (256, 256)))
    >>> abs(sigma - 0.5) < 0.02  # the MAD estimator's standard error here is about 0.005
    True
    """
    _, channels = _prepare(x, channel_axis)
    w = orthogonal_wavelet(wavelet)
    values = [mad_sigma(pywt.dwtn(c, w, mode="symmetric")["d" * c.ndim]) for c in channels]
    return values[0] if channel_axis is None else np.asarray(values)


def sure_threshold(coeffs: np.ndarray, sigma: float) -> float:
    """SureShrink threshold of one subband (hybrid rule of Donoho & Johnstone 1995).

    Minimises Stein's unbiased risk estimate of soft thresholding over the candidate thresholds
    ``|c_i|``, capped by the universal threshold; when the subband is too sparse for SURE to be
    reliable (``mean(c**2)/sigma**2 - 1 <= log2(n)**1.5 / sqrt(n)``) the universal threshold is used.
    """
    x = np.abs(np.ravel(coeffs)) / sigma
    n = x.size
    universal = np.sqrt(2.0 * np.log(n)) if n > 1 else 0.0
    if n <= 1 or (np.sum(x**2) - n) / n <= np.log2(n) ** 1.5 / np.sqrt(n):
        return float(universal * sigma)
    s = np.sort(x) ** 2
    k = np.arange(1, n + 1)
    # risk(t = sqrt(s_k)) = n - 2k + sum_{i<=k} s_i + (n - k) s_k
    risk = n - 2.0 * k + np.cumsum(s) + (n - k) * s
    t = np.sqrt(s[np.argmin(risk)])
    return float(min(t, universal) * sigma)


def _bayes_threshold(detail: np.ndarray, sigma: float) -> float:
    var = sigma**2
    signal_var = np.mean(detail * detail) - var
    eps = np.finfo(np.float64).eps
    # a subband with no signal above the noise is removed whole (threshold -> its max |coefficient|)
    return float(var / np.sqrt(max(signal_var, eps)))


def _shrink_one(
    x: np.ndarray,
    sigma: float | None,
    wavelet: pywt.Wavelet,
    mode: str,
    method: str | None,
    threshold: float | None,
    levels: int | None,
    boundary: str,
) -> np.ndarray:
    deepest = pywt.dwtn_max_level(x.shape, wavelet)
    if levels is None:
        levels = max(deepest - 3, 1)
    if deepest < 1:
        raise LevelTooDeepError(
            f"shape {x.shape} is too small for even one level of {wavelet.name!r} (filter length "
            f"{wavelet.dec_len}); use a shorter wavelet such as 'haar' or a larger input"
        )
    if levels < 1 or levels > deepest:
        raise LevelTooDeepError(f"wavelet_levels={levels} does not fit shape {x.shape} with {wavelet.name!r}; use 1..{deepest}")
    coeffs = pywt.wavedecn(x, wavelet=wavelet, level=levels, mode=boundary)
    details = coeffs[1:]
    if sigma is None:
        sigma = mad_sigma(details[-1]["d" * x.ndim])
    if threshold is None and sigma == 0:
        return x.copy()
    out = [coeffs[0]]
    for level in details:
        shrunk = {}
        for key, d in level.items():
            if threshold is not None:
                t = threshold
            elif method == "VisuShrink":
                t = sigma * np.sqrt(2.0 * np.log(x.size))
            elif method == "BayesShrink":
                t = _bayes_threshold(d, sigma)
            else:
                t = sure_threshold(d, sigma)
            shrunk[key] = pywt.threshold(d, value=t, mode=mode)
        out.append(shrunk)
    rec = pywt.waverecn(out, wavelet, mode=boundary)
    return rec[tuple(slice(s) for s in x.shape)]


def denoise_wavelet(
    x: Any,
    sigma: float | None = None,
    wavelet: str = "db1",
    mode: str = "soft",
    method: str | None = "BayesShrink",
    threshold: float | None = None,
    wavelet_levels: int | None = None,
    boundary: str = "symmetric",
    channel_axis: int | None = None,
) -> Any:
    """Wavelet shrinkage denoising of a 1-D, 2-D or 3-D array.

    Parameters
    ----------
    x : array or tensor
        Noisy data. With ``channel_axis`` set, each channel is denoised separately (own noise estimate).
    sigma : float, optional
        Noise standard deviation; estimated from the finest detail subband (MAD) when omitted.
    wavelet : str
        Orthonormal PyWavelets wavelet.
    mode : {'soft', 'hard'}
        Thresholding rule.
    method : {'BayesShrink', 'VisuShrink', 'SureShrink'} or None
        Threshold selection; ``None`` requires ``threshold``.
    threshold : float, optional
        A fixed threshold for every detail subband (only when ``method`` is None).
    wavelet_levels : int, optional
        Decomposition depth; default three less than the deepest useful level, at least 1.
    boundary : str
        PyWavelets signal extension mode.
    channel_axis : int, optional
        Axis that indexes independent channels (EEG channels, spectral bands, ...).

    Returns
    -------
    Same kind as ``x`` (numpy array or torch tensor), same shape.

    Examples
    --------
    >>> import numpy as np
    >>> from wavediff.datasets.signals import doppler
    >>> clean = doppler(1024)
    >>> noisy = clean + np.random.default_rng(0).normal(0, 0.05, clean.shape)
    >>> out = denoise_wavelet(noisy, wavelet="sym8", method="SureShrink")
    >>> bool(np.mean((out - clean) ** 2) < np.mean((noisy - clean) ** 2))
    True
    """
    if mode not in ("soft", "hard"):
        raise InvalidInputError(f"mode={mode!r}; use 'soft' or 'hard'")
    if method is None:
        if threshold is None:
            raise InvalidInputError("give either a method ('BayesShrink', 'VisuShrink', 'SureShrink') or a threshold")
        if not np.isfinite(threshold) or threshold < 0:
            raise InvalidInputError(f"threshold={threshold} must be non-negative")
    else:
        key = str(method).lower()
        if key not in _METHODS:
            raise InvalidInputError(f"method={method!r}; use 'BayesShrink', 'VisuShrink', 'SureShrink' or None")
        if threshold is not None:
            raise InvalidInputError("threshold is only used with method=None; drop one of them")
        method = _METHODS[key]
    if sigma is not None and (not np.isfinite(sigma) or sigma < 0):
        raise InvalidInputError(f"sigma={sigma!r} must be a non-negative finite number, or None to estimate it")
    if boundary not in pywt.Modes.modes:
        raise InvalidInputError(f"boundary={boundary!r}; use one of {pywt.Modes.modes}")
    w = orthogonal_wavelet(wavelet)
    arr, channels = _prepare(x, channel_axis)
    outs = [_shrink_one(c, sigma, w, mode, method, threshold, wavelet_levels, boundary) for c in channels]
    out = outs[0] if channel_axis is None else np.moveaxis(np.stack(outs), 0, channel_axis)
    return _restore_kind(out.astype(arr.dtype, copy=False), x)


def wiener(
    x: Any,
    sigma: float | None = None,
    mysize: int | tuple[int, ...] | None = None,
    channel_axis: int | None = None,
) -> Any:
    """Local adaptive Wiener filter (``scipy.signal.wiener``) with noise power ``sigma**2``.

    Parameters
    ----------
    sigma : float, optional
        Noise standard deviation; estimated with :func:`estimate_sigma` when omitted.
    mysize : int or tuple, optional
        Window size per axis (default 3 along every axis, SciPy's default).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> clean = np.outer(np.hanning(64), np.hanning(64))
    >>> noisy = clean + rng.normal(0, 0.05, clean.shape)
    >>> bool(np.std(wiener(noisy, sigma=0.05) - clean) < np.std(noisy - clean))
    True
    """
    if sigma is not None and (not np.isfinite(sigma) or sigma < 0):
        raise InvalidInputError(f"sigma={sigma!r} must be a non-negative finite number, or None to estimate it")
    arr, channels = _prepare(x, channel_axis)
    outs = []
    for c in channels:
        s = estimate_sigma(c) if sigma is None else sigma
        if s == 0:  # no noise: the filter is the identity (scipy would divide 0 by 0 on flat regions)
            outs.append(c.copy())
            continue
        size = mysize
        if size is None:
            size = tuple(min(3, n) for n in c.shape)
        outs.append(scipy.signal.wiener(c, mysize=size, noise=float(s) ** 2))
    out = outs[0] if channel_axis is None else np.moveaxis(np.stack(outs), 0, channel_axis)
    return _restore_kind(out.astype(arr.dtype, copy=False), x)
