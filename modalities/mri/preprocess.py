"""MRI preprocessing with exact inverses: intensity normalisation with percentile clipping (cWDM), slices
along the acquisition's slice axis, padding to the wavelet's block size, 4-D data volume by volume.

Each forward step returns what its inverse needs, so ``inverse(forward(x)) == x`` to floating-point
precision, and a model's change passes through unaltered:

* :func:`normalise` scales a volume to about ``[0, 1]`` by its ``low``/``high`` percentiles and clips
  (cWDM clips at the 99.5th percentile, so bright vessels and fat do not squeeze the brain into a few
  grey levels). The clipped excess is kept, and :func:`denormalise` adds it back: voxels the model
  leaves alone come back exactly, bright outliers included.
* :func:`slice_axis` picks the axis slices are cut along (the one with the largest voxel spacing, as
  2-D acquisitions have; the last on a tie), :func:`to_slices` / :func:`from_slices` move it first.
* :func:`pad_to` / :func:`crop_to` pad the last axes by reflection to a multiple of ``2**level``.
* :func:`volumes` / :func:`stack_volumes` split 4-D data (fMRI, DWI: volumes on the last axis).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from wavediff.errors import InvalidInputError, NonFiniteError, ShapeError

__all__ = [
    "normalise",
    "denormalise",
    "slice_axis",
    "to_slices",
    "from_slices",
    "pad_to",
    "crop_to",
    "volumes",
    "stack_volumes",
]


def _finite(x: Any, name: str = "image") -> np.ndarray:
    arr = np.asarray(x)
    if np.iscomplexobj(arr) or not np.issubdtype(arr.dtype, np.number):
        raise InvalidInputError(f"{name} has dtype {arr.dtype}; pass a real magnitude image")
    if not np.all(np.isfinite(arr)):
        raise NonFiniteError(
            f"{name} holds {int((~np.isfinite(arr)).sum())} NaN or inf voxel(s); fill them first"
        )
    return arr


def normalise(
    volume: Any, low: float = 0.0, high: float = 99.5, *, mask: Any = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """``(x - p_low) / (p_high - p_low)`` clipped to ``[0, 1]``, percentiles over ``mask`` (default all).

    Returns the scaled float32 volume and the context for :func:`denormalise` (the two levels and the
    clipped excess, stored sparsely: indices and values).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(1000.0).reshape(10, 10, 10); x[0, 0, 0] = 1e6  # one bright outlier
    >>> y, ctx = normalise(x, high=99.0)
    >>> float(y.max()), bool(np.allclose(denormalise(y, ctx), x, rtol=1e-12, atol=1e-9))
    (1.0, True)
    """
    arr = _finite(volume, "volume").astype(np.float64)
    if not 0 <= low < high <= 100:
        raise InvalidInputError(
            f"percentiles low={low}, high={high}: need 0 <= low < high <= 100 (cWDM: 0 and 99.5)"
        )
    values = arr if mask is None else arr[np.asarray(mask, dtype=bool)]
    if values.size == 0:
        raise InvalidInputError("the mask selects no voxel")
    lo, hi = (float(v) for v in np.percentile(values, [low, high]))
    if not hi > lo:
        raise InvalidInputError(
            f"the volume is constant between its {low} and {high} percentiles ({lo:g}); nothing to normalise"
        )
    scaled = (arr - lo) / (hi - lo)
    clipped = np.clip(scaled, 0.0, 1.0)
    out = clipped.astype(np.float32)
    # everything float32 rounding and clipping took away, so the inverse is exact
    excess = scaled - out.astype(np.float64)
    where = np.flatnonzero(excess)
    ctx = {"low": lo, "high": hi, "shape": arr.shape, "index": where, "excess": excess.ravel()[where]}
    return out, ctx


def denormalise(scaled: Any, ctx: dict[str, Any]) -> np.ndarray:
    """The inverse of :func:`normalise`: back to the volume's units, the clipped excess added back."""
    arr = np.asarray(scaled, dtype=np.float64)
    if arr.shape != tuple(ctx["shape"]):
        raise ShapeError(
            f"scaled volume of shape {arr.shape}, but it was normalised from {tuple(ctx['shape'])}"
        )
    flat = arr.ravel().copy()
    flat[ctx["index"]] += ctx["excess"]
    return (flat * (ctx["high"] - ctx["low"]) + ctx["low"]).reshape(arr.shape)


def slice_axis(zooms: Sequence[float]) -> int:
    """The axis of largest voxel spacing (the slice axis of a 2-D multi-slice acquisition); the last on a tie.

    Examples
    --------
    >>> slice_axis((0.9, 0.9, 5.0)), slice_axis((1.0, 4.0, 1.0)), slice_axis((1.0, 1.0, 1.0))
    (2, 1, 2)
    """
    z = [float(v) for v in zooms][:3]
    if len(z) != 3 or min(z) <= 0:
        raise InvalidInputError(f"zooms={tuple(zooms)}: pass the three positive voxel sizes (mm)")
    top = max(z)
    return max(i for i, v in enumerate(z) if np.isclose(v, top, rtol=1e-3))


def to_slices(volume: Any, axis: int) -> np.ndarray:
    """The slices ``(n, H, W)`` of a 3-D volume along ``axis`` (a view, the volume untouched)."""
    arr = np.asarray(volume)
    if arr.ndim != 3:
        raise ShapeError(
            f"volume of shape {arr.shape}: pass a 3-D volume (restore 4-D data volume by volume)"
        )
    return np.moveaxis(arr, axis, 0)


def from_slices(slices: Any, axis: int) -> np.ndarray:
    """The inverse of :func:`to_slices`."""
    return np.moveaxis(np.asarray(slices), 0, axis)


def pad_to(x: Any, multiple: int, dims: int = 2) -> tuple[np.ndarray, tuple[int, ...]]:
    """Reflect-pad the last ``dims`` axes to a multiple of ``multiple``; returns the padded array and the
    original sizes for :func:`crop_to`.

    Examples
    --------
    >>> import numpy as np
    >>> p, sizes = pad_to(np.ones((3, 30, 17)), 8)
    >>> p.shape, crop_to(p, sizes).shape
    ((3, 32, 24), (3, 30, 17))
    """
    arr = np.asarray(x)
    if int(multiple) < 1 or arr.ndim < dims:
        raise InvalidInputError(
            f"pad_to needs multiple >= 1 and at least {dims} axes, got {multiple}, {arr.shape}"
        )
    sizes = tuple(int(n) for n in arr.shape[-dims:])
    extra = [(-n) % int(multiple) for n in sizes]
    if not any(extra):
        return arr, sizes
    mode = "reflect" if all(e < n for e, n in zip(extra, sizes)) else "edge"
    widths = [(0, 0)] * (arr.ndim - dims) + [(0, e) for e in extra]
    return np.pad(arr, widths, mode=mode), sizes


def crop_to(x: Any, sizes: Sequence[int]) -> np.ndarray:
    """The inverse of :func:`pad_to`: the leading corner of the last ``len(sizes)`` axes."""
    arr = np.asarray(x)
    return arr[(Ellipsis, *(slice(0, int(n)) for n in sizes))]


def volumes(data: Any) -> Iterator[np.ndarray]:
    """3-D volumes of 3-D or 4-D data (4-D: fMRI/DWI, the volumes on the last axis, as NIfTI stores them)."""
    arr = np.asarray(data)
    if arr.ndim == 3:
        yield arr
    elif arr.ndim == 4:
        for t in range(arr.shape[-1]):
            yield arr[..., t]
    else:
        raise ShapeError(f"data of shape {arr.shape}: pass a 3-D volume or 4-D data (volumes last)")


def stack_volumes(vols: Sequence[np.ndarray], four_d: bool) -> np.ndarray:
    """The inverse of :func:`volumes`."""
    items = list(vols)
    if not items:
        raise InvalidInputError("no volume to stack")
    return np.stack(items, axis=-1) if four_d else items[0]
