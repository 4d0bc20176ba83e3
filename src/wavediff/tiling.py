"""Overlap-add windowing so signals of any length are processed in bounded memory.

A long signal is cut into windows of ``size`` samples every ``hop`` samples (the last window is
aligned to the end, so every sample is covered), each window is processed, and the results are
blended back with a tapered weight and normalised by the summed weights. Because the blend is a
weighted average, windows returned unchanged give the input back exactly, whatever the taper.

Everything works on the last axis of numpy arrays or torch tensors of any leading shape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.signal
import torch

from .errors import InvalidInputError

__all__ = ["window_starts", "taper", "extract_windows", "overlap_add", "apply_windowed"]


def window_starts(n: int, size: int, hop: int) -> list[int]:
    """Start indices of windows of ``size`` every ``hop`` samples covering ``[0, n)``; the last ends at ``n``.

    Examples
    --------
    >>> window_starts(10, 4, 3)
    [0, 3, 6]
    >>> window_starts(11, 4, 3)
    [0, 3, 6, 7]
    """
    if size < 1 or hop < 1 or hop > size:
        raise InvalidInputError(f"need 1 <= hop <= size, got size={size}, hop={hop}")
    if n < size:
        raise InvalidInputError(f"signal of {n} samples is shorter than one window ({size}); pad it or use a shorter window")
    starts = list(range(0, n - size + 1, hop))
    if starts[-1] + size < n:
        starts.append(n - size)
    return starts


def taper(size: int, kind: str = "tukey", floor: float = 1e-3) -> np.ndarray:
    """Blending weights of one window: ``'tukey'`` (flat middle, cosine edges), ``'hann'`` or ``'boxcar'``.

    A small ``floor`` keeps the weights positive so the first and last samples of a signal, covered by
    one window only, are still defined.
    """
    if kind == "tukey":
        w = scipy.signal.windows.tukey(size, alpha=0.5)
    elif kind == "hann":
        w = scipy.signal.windows.hann(size)
    elif kind == "boxcar":
        w = np.ones(size)
    else:
        raise InvalidInputError(f"unknown taper {kind!r}; use 'tukey', 'hann' or 'boxcar'")
    return np.maximum(w, floor)


def extract_windows(x: Any, size: int, hop: int) -> tuple[Any, list[int]]:
    """Windows ``(..., n_windows, size)`` of the last axis of ``x`` and their start indices."""
    starts = window_starts(x.shape[-1], size, hop)
    if isinstance(x, torch.Tensor):
        return torch.stack([x[..., s : s + size] for s in starts], dim=-2), starts
    return np.stack([x[..., s : s + size] for s in starts], axis=-2), starts


def overlap_add(windows: Any, starts: list[int], n: int, kind: str = "tukey") -> Any:
    """Blend windows ``(..., n_windows, size)`` back to a signal ``(..., n)`` (weighted average)."""
    size = windows.shape[-1]
    if windows.shape[-2] != len(starts):
        raise InvalidInputError(f"{windows.shape[-2]} windows but {len(starts)} start indices")
    w = taper(size, kind)
    if isinstance(windows, torch.Tensor):
        wt = torch.as_tensor(w, dtype=windows.dtype, device=windows.device)
        out = windows.new_zeros((*windows.shape[:-2], n))
        norm = windows.new_zeros(n)
        for i, s in enumerate(starts):
            out[..., s : s + size] += wt * windows[..., i, :]
            norm[s : s + size] += wt
        return out / norm
    out = np.zeros((*windows.shape[:-2], n), dtype=np.result_type(windows.dtype, np.float32))
    norm = np.zeros(n)
    for i, s in enumerate(starts):
        out[..., s : s + size] += w * windows[..., i, :]
        norm[s : s + size] += w
    return (out / norm).astype(out.dtype, copy=False)


def apply_windowed(
    fn: Callable[[Any], Any],
    x: Any,
    size: int,
    hop: int,
    *,
    batch_windows: int = 256,
    kind: str = "tukey",
) -> Any:
    """Apply ``fn`` to windows of the last axis of ``x`` and overlap-add the results, in bounded memory.

    ``fn`` receives a batch ``(k, *leading, size)`` of at most ``batch_windows`` windows and must return
    the same shape. Memory holds the input, the output and one batch, whatever the signal length.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(3, 1000))
    >>> y = apply_windowed(lambda w: w, x, size=128, hop=64)
    >>> bool(np.allclose(x, y))
    True
    """
    n = x.shape[-1]
    starts = window_starts(n, size, hop)
    w = taper(size, kind)
    is_torch = isinstance(x, torch.Tensor)
    if is_torch:
        wt = torch.as_tensor(w, dtype=x.dtype, device=x.device)
        out = torch.zeros_like(x)
        norm = torch.zeros(n, dtype=x.dtype, device=x.device)
    else:
        wt = w
        out = np.zeros(x.shape, dtype=np.result_type(x.dtype, np.float32))
        norm = np.zeros(n)
    for b in range(0, len(starts), batch_windows):
        chunk = starts[b : b + batch_windows]
        windows = [x[..., s : s + size] for s in chunk]
        batch = torch.stack(windows) if is_torch else np.stack(windows)
        result = fn(batch)
        if tuple(result.shape) != tuple(batch.shape):
            raise InvalidInputError(f"fn returned shape {tuple(result.shape)} for windows of shape {tuple(batch.shape)}")
        for i, s in enumerate(chunk):
            out[..., s : s + size] += wt * result[i]
            norm[s : s + size] += wt
    return out / norm
