"""Overlap-add windowing so signals of any length are processed in bounded memory.

A long signal is cut into windows of ``size`` samples every ``hop`` samples (the last window is
aligned to the end, so every sample is covered), each window is processed, and the results are
blended back with a tapered weight and normalised by the summed weights. Because the blend is a
weighted average, windows returned unchanged give the input back exactly, whatever the taper.

``window_starts`` … ``apply_windowed`` window the last axis (1-D signals). ``patch_starts``,
``taper_nd`` and ``apply_patched`` do the same over the last 1, 2 or 3 axes (images, volumes): the
patches form the Cartesian grid of the per-axis windows and blend with separable weights, so the
normaliser is the outer product of per-axis 1-D weight sums and no full-size weight array is built.
Everything accepts numpy arrays (also ``np.memmap`` or any array supporting numpy slicing, such as
h5py datasets) or torch tensors of any leading shape.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import scipy.signal
import torch

from .errors import InvalidInputError

__all__ = [
    "window_starts",
    "taper",
    "extract_windows",
    "overlap_add",
    "apply_windowed",
    "unit_scale",
    "patch_starts",
    "taper_nd",
    "apply_patched",
]


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
        raise InvalidInputError(
            f"signal of {n} samples is shorter than one window ({size}); pad it or use a shorter window"
        )
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
            raise InvalidInputError(
                f"fn returned shape {tuple(result.shape)} for windows of shape {tuple(batch.shape)}"
            )
        for i, s in enumerate(chunk):
            out[..., s : s + size] += wt * result[i]
            norm[s : s + size] += wt
    return out / norm


def unit_scale(windows: Any, ndim: int = 1, *, floor: float = 0.0, exclude: Any = None) -> Any:
    """Per-window standard deviations over the last ``ndim`` axes, safe to divide by (keepdims shape).

    A window whose spread is at most ``floor`` times the median spread of the other windows (those
    not marked in ``exclude``, a boolean array over the leading axes) is scaled by that floor, so a
    near-flat window is not blown up to unit spread; with ``floor = 0`` (or nothing to take a
    median of) only exactly constant windows get 1. Dividing by the result and multiplying back is
    the per-window scaling that EEG windows and :func:`apply_patched` patches share.

    Examples
    --------
    >>> import numpy as np
    >>> w = np.stack([k * np.arange(4.0) for k in (1, 2, 3, 1e-9)])
    >>> unit_scale(w, floor=1e-6).ravel().round(7).tolist()  # the last: 1e-6 x the median, 1.677
    [1.118034, 2.236068, 3.354102, 1.7e-06]
    >>> unit_scale(np.zeros((1, 4))).ravel().tolist()
    [1.0]
    """
    axes = tuple(range(-ndim, 0))
    if isinstance(windows, torch.Tensor):
        scale = windows.std(dim=axes, keepdim=True, correction=0)
        spread = scale.reshape(scale.shape[: scale.ndim - ndim])
        live = spread if exclude is None else spread[~torch.as_tensor(exclude, device=spread.device)]
        level = float(floor) * float(live.quantile(0.5)) if floor and live.numel() else 0.0  # as np.median
        fill = torch.full_like(scale, 1.0 if level == 0 else level)
        return torch.where(scale > level, scale, fill)
    scale = np.std(windows, axis=axes, keepdims=True)
    spread = scale.reshape(scale.shape[: scale.ndim - ndim])
    live = spread if exclude is None else spread[~np.asarray(exclude, dtype=bool)]
    level = float(floor) * float(np.median(live)) if floor and live.size else 0.0
    return np.where(scale > level, scale, 1.0 if level == 0 else level)


def _per_axis(value: int | Sequence[int], d: int, name: str) -> tuple[int, ...]:
    values = (value,) * d if isinstance(value, (int, np.integer)) else tuple(value)
    if len(values) != d:
        raise InvalidInputError(f"{name}={value!r} has {len(values)} entries but the patches have {d} axes")
    return tuple(int(v) for v in values)


def _geometry(
    shape: Sequence[int], size: int | Sequence[int], hop: int | Sequence[int] | None
) -> tuple[tuple[int, ...], tuple[int, ...], list[list[int]]]:
    """Per-axis patch sizes, the patched (last ``d``) axes of ``shape`` and the per-axis window starts."""
    sizes = (int(size),) if isinstance(size, (int, np.integer)) else _per_axis(size, len(tuple(size)), "size")
    d = len(sizes)
    if d < 1 or d > len(shape):
        raise InvalidInputError(f"patches of {d} axes do not fit an input of shape {tuple(shape)}")
    hops = tuple(max(1, s // 2) for s in sizes) if hop is None else _per_axis(hop, d, "hop")
    spatial = tuple(int(n) for n in shape[len(shape) - d :])
    for n, sz, hp in zip(spatial, sizes, hops):
        if sz < 1 or hp < 1 or hp > sz:
            raise InvalidInputError(f"need 1 <= hop <= size on every axis, got size={sizes}, hop={hops}")
        if sz > n:
            raise InvalidInputError(
                f"patch size {sizes} is larger than the input's last axes {spatial}; "
                "pad the input or use smaller patches"
            )
    return sizes, spatial, [window_starts(n, sz, hp) for n, sz, hp in zip(spatial, sizes, hops)]


def patch_starts(
    shape: Sequence[int], size: int | Sequence[int], hop: int | Sequence[int] | None = None
) -> list[tuple[int, ...]]:
    """Start tuples of patches of ``size`` every ``hop`` over the last ``len(size)`` axes of ``shape``.

    ``size`` and ``hop`` are an int (one axis) or one entry per axis; ``hop`` defaults to half the
    size. On each axis the last patch is aligned to the end, so every element is covered.

    Examples
    --------
    >>> patch_starts((5, 10, 11), (4, 4), (3, 3))
    [(0, 0), (0, 3), (0, 6), (0, 7), (3, 0), (3, 3), (3, 6), (3, 7), (6, 0), (6, 3), (6, 6), (6, 7)]
    """
    return list(itertools.product(*_geometry(shape, size, hop)[2]))


def _outer(vectors: Sequence[np.ndarray]) -> np.ndarray:
    return functools.reduce(np.multiply.outer, vectors)


def taper_nd(size: int | Sequence[int], kind: str = "tukey", floor: float = 1e-3) -> np.ndarray:
    """Separable blending weights of one patch: the outer product of the 1-D ``taper`` of each axis."""
    sizes = (int(size),) if isinstance(size, (int, np.integer)) else tuple(int(s) for s in size)
    return _outer([taper(s, kind, floor) for s in sizes])


def _zeroed_out(x: Any, out: Any, sizes: tuple[int, ...]) -> Any:
    """The accumulator: ``out`` (checked and zeroed in place) or fresh zeros of ``x``'s shape in float."""
    if out is None:
        if isinstance(x, torch.Tensor):
            dtype = x.dtype if (x.is_floating_point() or x.is_complex()) else torch.get_default_dtype()
            return torch.zeros(x.shape, dtype=dtype, device=x.device)
        return np.zeros(x.shape, dtype=np.result_type(x.dtype, np.float32))
    if tuple(out.shape) != tuple(x.shape):
        raise InvalidInputError(f"out has shape {tuple(out.shape)} but the input has shape {tuple(x.shape)}")
    if isinstance(out, torch.Tensor):
        out.zero_()
    elif isinstance(out, np.ndarray):
        out[...] = 0
    else:  # h5py and friends: zero tile by tile so no full-size temporary is built
        tiles = [window_starts(int(n), sz, sz) for n, sz in zip(x.shape[len(x.shape) - len(sizes) :], sizes)]
        for start in itertools.product(*tiles):
            out[(Ellipsis, *(slice(s, s + sz) for s, sz in zip(start, sizes)))] = 0
    return out


def _batches(grid: list[list[int]], batch: int) -> Iterator[list[tuple[int, ...]]]:
    """Patch start tuples in chunks of ``batch``, generated lazily (no list of every patch is kept)."""
    starts = itertools.product(*grid)
    while chunk := list(itertools.islice(starts, batch)):
        yield chunk


def apply_patched(
    fn: Callable[[Any], Any],
    x: Any,
    size: int | Sequence[int],
    hop: int | Sequence[int] | None = None,
    *,
    batch: int = 16,
    kind: str = "tukey",
    scale: str | None = None,
    out: Any = None,
) -> Any:
    """Apply ``fn`` to overlapping patches over the last ``d`` axes of ``x`` and blend them, in bounded memory.

    ``size`` is an int (``d = 1``, like ``apply_windowed``) or a tuple of ``d`` sizes (2-D or 3-D
    patches); ``hop`` defaults to half the size on each axis (``1 <= hop <= size``). ``fn`` receives
    a batch ``(k, *leading, *size)`` with ``k <= batch`` and must return the same shape. The results
    are weighted by ``taper_nd(size, kind)`` and divided by the summed weights, so an ``fn`` returning
    its input gives ``x`` back. With ``scale='std'`` each patch is divided by its own standard
    deviation (1 where it is zero) before ``fn`` and multiplied back after.

    ``x`` is a numpy array, an ``np.memmap`` or anything sliced like numpy (h5py datasets), or a torch
    tensor (the result keeps its dtype and device). The result is accumulated into ``out`` (zeroed
    first; for example an ``np.memmap``; it must not alias ``x``) or into new zeros; beyond input and
    output, memory holds one batch and per-axis 1-D weight sums, whatever the input size.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(2, 100, 70))
    >>> y = apply_patched(lambda b: b, x, size=(32, 32), scale="std")
    >>> bool(np.allclose(x, y, rtol=1e-12, atol=0))
    True
    >>> y = apply_patched(lambda b: 2 * b**2 + 1, x, size=(32, 16), hop=(8, 16))
    >>> bool(np.allclose(y, 2 * x**2 + 1))
    True
    """
    sizes, spatial, grid = _geometry(tuple(x.shape), size, hop)
    if int(batch) < 1:
        raise InvalidInputError(f"batch must be at least 1, got {batch}")
    if scale not in (None, "std"):
        raise InvalidInputError(f"unknown scale {scale!r}; use None or 'std'")
    tapers = [taper(sz, kind) for sz in sizes]
    norms = []  # per-axis sums of the 1-D weights: the full normaliser is their outer product
    for n, sz, w, starts in zip(spatial, sizes, tapers, grid):
        acc = np.zeros(n)
        for s in starts:
            acc[s : s + sz] += w
        norms.append(acc)
    is_torch = isinstance(x, torch.Tensor)
    out = _zeroed_out(x, out, sizes)
    wdtype = out.real.dtype if is_torch else None
    for chunk in _batches(grid, int(batch)):
        regions = [(Ellipsis, *(slice(s, s + sz) for s, sz in zip(start, sizes))) for start in chunk]
        if is_torch:
            patches = torch.stack([x[r] for r in regions])
        else:
            patches = np.stack([np.asarray(x[r]) for r in regions])
        scales = None
        if scale == "std":
            patches = patches.to(out.dtype) if is_torch else patches.astype(out.dtype, copy=False)
            flat = patches.reshape(len(chunk), -1)
            scales = unit_scale(flat)[:, 0]
            patches = patches / scales.reshape(-1, *([1] * (patches.ndim - 1)))
        result = fn(patches)
        if tuple(result.shape) != tuple(patches.shape):
            raise InvalidInputError(
                f"fn returned shape {tuple(result.shape)} for patches of shape {tuple(patches.shape)}; "
                "it must return the shape it is given"
            )
        for i, (start, region) in enumerate(zip(chunk, regions)):
            # taper weight divided by the summed weight of every patch covering each element
            wn = _outer([w / nrm[s : s + sz] for w, nrm, s, sz in zip(tapers, norms, start, sizes)])
            if is_torch:
                wn = torch.as_tensor(wn, dtype=wdtype, device=out.device)
            if scales is not None:
                wn = wn * scales[i]
            out[region] += result[i] * wn
    return out
