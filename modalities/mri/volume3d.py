"""The MRI room's 3-D layout (``[data] dims = 3``): volumes as overlapping cubes for a 3-D model.

cWDM's packing: a 3-D U-Net sees the eight level-1 Haar subbands of a cube as channels (the
recipe's ``[wavelet] name = "haar", level = 1`` on 3-D tensors), so it works at half the resolution on
every axis with nothing lost. Whole volumes do not fit a CPU model, so the scaled volume is cut into
cubes of ``cube`` voxels every ``hop`` (the last cube on each axis aligned to the end, so every voxel is
covered; :func:`wavediff.tiling.patch_starts`), and the restored cubes are blended with separable
Tukey weights divided by their sum (:func:`wavediff.tiling.taper_nd`), so unchanged cubes give the
volume back exactly.

* :func:`cubes` / :func:`blend` - the forward cut and its inverse; the training crops are
  :mod:`.training`'s (``crop3d``).
* :func:`pad_at_least` - symmetric padding of axes shorter than a side (volumes thinner than a cube).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from wavediff.errors import InvalidInputError
from wavediff.tiling import patch_starts, taper_nd

__all__ = ["cubes", "blend", "pad_at_least"]


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
    padded = pad_at_least(vol, cube)
    starts = patch_starts(padded.shape, (cube,) * 3, (hop,) * 3)
    rows = np.stack([padded[a : a + cube, b : b + cube, c : c + cube] for a, b, c in starts])
    return rows, {"shape": vol.shape, "padded": padded.shape, "starts": starts, "cube": cube}


def pad_at_least(arr: np.ndarray, side: int) -> np.ndarray:
    """``arr`` with every axis shorter than ``side`` padded at its end by mirroring (edge included), as often
    as needed (one pass reaches at most the axis' own length)."""
    while any(n < side for n in arr.shape):
        arr = np.pad(arr, [(0, min(n, max(0, side - n))) for n in arr.shape], mode="symmetric")
    return arr


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
