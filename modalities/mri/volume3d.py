"""The MRI room's 3-D layout (``[data] dims = 3``): volumes as overlapping cubes for a 3-D model.

cWDM's packing: a 3-D U-Net sees the eight level-1 Haar subbands of a cube as channels (the
recipe's ``[wavelet] name = "haar", level = 1`` on 3-D tensors), so it works at half the resolution on
every axis with nothing lost. Whole volumes do not fit a CPU model, so the scaled volume is cut into
cubes of ``cube`` voxels every ``hop`` (the last cube on each axis aligned to the end, so every voxel is
covered; :func:`wavediff.tiling.patch_starts`), and the restored cubes are blended with separable
Tukey weights divided by their sum (:func:`wavediff.tiling.taper_nd`), so unchanged cubes give the
volume back exactly.

* :func:`cubes` / :func:`blend` - the forward cut and its inverse.
* :func:`crop3d` - a training crop: a random block of a volume, resized by a random factor, flipped
  and with its axes permuted at random (no axis is special in a 3-D model).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from wavediff.errors import InvalidInputError
from wavediff.tiling import patch_starts, taper_nd

__all__ = ["cubes", "blend", "crop3d"]


def cubes(volume: np.ndarray, cube: int, hop: int) -> tuple[np.ndarray, dict[str, Any]]:
    """``(n, cube, cube, cube)`` overlapping cubes of a 3-D array and the geometry :func:`blend` needs.

    Axes shorter than ``cube`` are padded symmetrically (mirrored, edge included) at their end first.

    Examples
    --------
    >>> import numpy as np
    >>> vol = np.random.default_rng(0).random((40, 20, 7))
    >>> rows, geom = cubes(vol, 16, 12)
    >>> rows.shape
    (6, 16, 16, 16)
    >>> bool(np.allclose(blend(rows, geom), vol, rtol=0, atol=1e-12))
    True
    """
    vol = np.asarray(volume)
    if vol.ndim != 3:
        raise InvalidInputError(f"cubes are cut from a 3-D volume, not shape {vol.shape}")
    if not 1 <= hop <= cube:
        raise InvalidInputError(f"hop={hop} must be between 1 and the cube side {cube}")
    padded = vol
    while any(n < cube for n in padded.shape):  # symmetric padding reaches at most the axis' length per pass
        padded = np.pad(padded, [(0, min(n, max(0, cube - n))) for n in padded.shape], mode="symmetric")
    starts = patch_starts(padded.shape, (cube,) * 3, (hop,) * 3)
    rows = np.stack([padded[a : a + cube, b : b + cube, c : c + cube] for a, b, c in starts])
    return rows, {"shape": vol.shape, "padded": padded.shape, "starts": starts, "cube": cube}


def blend(rows: np.ndarray, geometry: dict[str, Any]) -> np.ndarray:
    """The volume from its (restored) cubes: taper-weighted average where they overlap, then the crop."""
    cube, starts = geometry["cube"], geometry["starts"]
    if rows.shape != (len(starts), cube, cube, cube):
        raise InvalidInputError(f"{rows.shape} cubes do not match the {len(starts)} cubes of side {cube} cut")
    weight = taper_nd((cube,) * 3)
    out = np.zeros(geometry["padded"], dtype=np.float64)
    norm = np.zeros(geometry["padded"], dtype=np.float64)
    for row, (a, b, c) in zip(rows, starts):
        region = (slice(a, a + cube), slice(b, b + cube), slice(c, c + cube))
        out[region] += weight * row
        norm[region] += weight
    n0, n1, n2 = geometry["shape"]
    return (out / norm)[:n0, :n1, :n2]


def crop3d(vol: np.ndarray, size: int, rng: np.random.Generator, scale: tuple[float, float]) -> np.ndarray:
    """A ``(size, size, size)`` training crop of ``vol``: a random block resized by a factor drawn from
    ``scale`` (anti-aliased; never below what the crop needs unless the volume is smaller), padded
    symmetrically where the volume is too thin, then flipped and its axes permuted at random."""
    from skimage.transform import resize

    factor = max(rng.uniform(*scale), min(1.0, size / min(vol.shape)))
    need = [min(int(np.ceil(size / factor)) + 4, n) for n in vol.shape]
    start = [int(rng.integers(0, n - k + 1)) for n, k in zip(vol.shape, need)]
    block = vol[tuple(slice(s, s + k) for s, k in zip(start, need))]
    if factor < 0.999:
        shape = tuple(max(8, round(k * factor)) for k in block.shape)
        block = resize(block, shape, order=1, anti_aliasing=True, anti_aliasing_sigma=0.5 / factor, preserve_range=True)
    while any(n < size for n in block.shape):
        block = np.pad(block, [(0, min(n, max(0, size - n))) for n in block.shape], mode="symmetric")
    start = [int(rng.integers(0, n - size + 1)) for n in block.shape]
    block = block[tuple(slice(s, s + size) for s in start)]
    block = block[tuple(slice(None, None, -1) if rng.random() < 0.5 else slice(None) for _ in range(3))]
    return np.ascontiguousarray(np.transpose(block, rng.permutation(3)), dtype=np.float32)
