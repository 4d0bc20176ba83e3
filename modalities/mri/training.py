"""Training pairs for the MRI room: real (or phantom) volumes, Rician noise at a random level, random crops.

* :func:`volume_pool` - the volumes of a folder (``wavediff train mri --data DIR``): every NIfTI file and
  every folder of ``.dcm`` files read as one series (the first volume of 4-D data), minus the files the
  recipe's ``[train] exclude`` patterns hold out (the benchmark's test subjects). Without a folder the
  pool is procedural (``wavediff.datasets.mri.phantoms``: T1/T2/PD heads and the Shepp-Logan phantom).
* :func:`training_batches` - the batch function: a slice along a random axis of a random volume, resized
  by a random factor (as acquisitions differ in resolution, and the benchmark shrinks its slices), a
  random crop, flips and quarter turns, Rician noise at a level log-uniform in ``[train] noise``
  (units of the volume's 99.5th percentile), then the scaling :meth:`MRI.to_tensor` applies at
  restore time: clipped at 1 with the clipped excess kept, so the target is what makes the restored
  image equal the clean one. The second channel is the noise level map (FFDNet's non-blind input); with
  ``[data] context_channels = 3`` the noisy slices on either side follow it (2.5-D: the volume's third axis).
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from wavediff.errors import DataNotFoundError, WavediffError

from .files import read_mri
from .preprocess import volumes
from .volume3d import pad_at_least

__all__ = ["volume_pool", "phantom_pool", "training_batches", "crop3d"]

MIN_SIDE = 32  # voxels: thinner volumes (single slices, scout images) give no 2-D training slice


def _neighbour_correlation(vol: np.ndarray) -> float:
    """Correlation of in-plane neighbours over the volume's slices (about 0.9 for MR images, 0 for white noise)."""
    a, b = vol[:-1].ravel().astype(np.float64), vol[1:].ravel().astype(np.float64)
    return float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else 0.0


def _usable(arr: np.ndarray) -> np.ndarray | None:
    vol = np.clip(np.asarray(next(volumes(arr)), dtype=np.float32), 0, None)
    if vol.ndim != 3 or sorted(vol.shape)[1] < MIN_SIDE or not np.isfinite(vol).all():
        return None
    if np.allclose(vol, np.round(vol)) and np.unique(vol).size < 16:  # a label map
        return None
    if (
        _neighbour_correlation(vol) < 0.3
    ):  # white noise, e.g. test files whose pixels were replaced when anonymised
        return None
    high = float(np.percentile(vol, 99.5))
    return vol / high if high > 0 else None


def volume_pool(root: str | Path, exclude: Any = ()) -> tuple[list[np.ndarray], list[str]]:
    """The usable volumes under ``root`` (each divided by its 99.5th percentile) and their relative paths.

    NIfTI files are read one by one, ``.dcm`` files folder by folder as one series; files matching an
    ``exclude`` glob (relative to ``root``) are left out. Unreadable and tiny volumes, label maps and
    white noise (anonymised test files) are skipped with a warning naming them.
    """
    from .adapter import MRI

    root = Path(root)
    sources: list[Path] = []
    series: dict[Path, list[Path]] = defaultdict(list)
    # the files the weights' JSON records (Modality.data_files), less the held-out ones
    for p in MRI().data_files(root, exclude=exclude):
        if p.name.lower().endswith((".nii", ".nii.gz")):
            sources.append(p)
        elif p.name.lower().endswith(".dcm"):
            series[p.parent].append(p)
    sources += sorted(series)
    vols, names, skipped = [], [], []
    for src in sources:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                vol = _usable(read_mri(src).data)
        except (WavediffError, ValueError, OSError) as exc:
            skipped.append(f"{src.relative_to(root)} ({type(exc).__name__})")
            continue
        if vol is None:
            skipped.append(f"{src.relative_to(root)} (tiny, a label map or white noise)")
            continue
        vols.append(vol)
        names.append(src.relative_to(root).as_posix())
    if skipped:
        warnings.warn(f"MRI training: {len(skipped)} source(s) not used: {'; '.join(skipped)}", stacklevel=2)
    if not vols:
        raise DataNotFoundError(
            f"{root} holds no usable MR volume (NIfTI or a folder of .dcm files) to train on"
        )
    return vols, names


def phantom_pool(n: int, seed: int, size: int = 96) -> list[np.ndarray]:
    """``n`` procedural volumes: brain phantoms in turn T1, T2, PD, and one Shepp-Logan."""
    from wavediff.datasets.mri.phantoms import brain_phantom, shepp_logan_3d

    out = []
    for i in range(n):
        kind = ("T1", "T2", "PD")[i % 3]
        vol = brain_phantom((size, size, size), rng=seed + i, contrast=kind)
        out.append(np.asarray(vol, dtype=np.float32))
    out.append(np.asarray(shepp_logan_3d((size, size, size)), dtype=np.float32))
    return [v / float(np.percentile(v, 99.5)) for v in out]


def _resize(img: np.ndarray, factor: float) -> np.ndarray:
    from skimage.transform import resize

    if factor >= 0.999:
        return img
    shape = tuple(max(8, round(s * factor)) for s in img.shape)
    if any(n >= s for n, s in zip(shape, img.shape)):
        return img
    return resize(
        img, shape, order=1, anti_aliasing=True, anti_aliasing_sigma=0.5 / factor, preserve_range=True
    )


def _crop(
    vol: np.ndarray, size: int, rng: np.random.Generator, scale: tuple[float, float], depth: int = 1
) -> np.ndarray:
    """``(depth, size, size)``: a crop of a random slice of ``vol`` along a random axis, randomly resized,
    with ``depth // 2`` neighbouring slices on each side (the slice itself repeated at the volume's edge)."""
    axes = [a for a in range(3) if sorted(np.delete(vol.shape, a))[0] >= MIN_SIDE] or [
        int(np.argmin(vol.shape))
    ]
    axis = int(rng.choice(axes))
    n = vol.shape[axis]
    index = int(rng.integers(int(0.1 * n), max(int(0.1 * n) + 1, int(0.9 * n))))
    half = depth // 2
    at = [min(max(index + d, 0), n - 1) for d in range(-half, half + 1)]
    stack = np.stack([vol[(slice(None),) * axis + (i,)] for i in at])  # views, not np.take's copies
    factor = rng.uniform(*scale)
    factor = max(
        factor, min(1.0, size / min(stack.shape[1:]))
    )  # no smaller than the crop unless it is already
    # the region that resizes to the crop (with a margin for the anti-aliasing filter), then only that is resized
    need = min(int(np.ceil(size / factor)) + 4, *stack.shape[1:])
    i, j = (int(rng.integers(0, s - need + 1)) for s in stack.shape[1:])
    stack = np.stack([_resize(img[i : i + need, j : j + need], factor) for img in stack])
    pad = [(0, 0)] + [(0, max(0, size - s)) for s in stack.shape[1:]]
    if any(p[1] for p in pad):
        stack = np.pad(stack, pad, mode="reflect" if min(stack.shape[1:]) > 1 else "edge")
    i, j = (int(rng.integers(0, s - size + 1)) for s in stack.shape[1:])
    stack = stack[:, i : i + size, j : j + size]
    if rng.random() < 0.5:
        stack = stack[:, :, ::-1]
    if depth > 1 and rng.random() < 0.5:
        stack = stack[::-1]  # slice order is arbitrary
    return np.rot90(stack, int(rng.integers(4)), axes=(1, 2))


def crop3d(vol: np.ndarray, size: int, rng: np.random.Generator, scale: tuple[float, float]) -> np.ndarray:
    """A ``(size, size, size)`` training crop of ``vol`` for the 3-D layout: a random block resized by a factor
    drawn from ``scale`` (anti-aliased, never below what the crop needs unless the volume is smaller), padded
    symmetrically where the volume is too thin, then flipped and its axes permuted at random (no axis is
    special in a 3-D model)."""
    factor = max(rng.uniform(*scale), min(1.0, size / min(vol.shape)))
    need = [min(int(np.ceil(size / factor)) + 4, n) for n in vol.shape]
    start = [int(rng.integers(0, n - k + 1)) for n, k in zip(vol.shape, need)]
    block = pad_at_least(_resize(vol[tuple(slice(s, s + k) for s, k in zip(start, need))], factor), size)
    start = [int(rng.integers(0, n - size + 1)) for n in block.shape]
    block = block[tuple(slice(s, s + size) for s in start)]
    block = block[tuple(slice(None, None, -1) if rng.random() < 0.5 else slice(None) for _ in range(3))]
    return np.ascontiguousarray(np.transpose(block, rng.permutation(3)), dtype=np.float32)


def training_batches(room: Any, recipe: dict[str, Any], seed: int = 0, data: Path | None = None) -> Any:
    """The batch function ``fn(generator, n) -> (clean (n, 1, P, P), degraded (n, 1 + context, P, P))``: the
    noisy slice, then (context 1 or 3) the level map, then (context 3) the noisy slices on either side."""
    cfg = recipe.get("train", {})
    if data is None:
        pool = phantom_pool(int(cfg.get("phantoms", 6)), seed, int(cfg.get("phantom_size", 96)))
    else:
        pool, _ = volume_pool(data, cfg.get("exclude", ()))
    size = int(cfg.get("patch", 64))
    lo, hi = (float(v) for v in cfg.get("noise", [0.005, 0.25]))
    scale = tuple(float(v) for v in cfg.get("scale", [0.3, 1.0]))
    gain = tuple(float(v) for v in cfg.get("gain", [0.85, 1.1]))
    clean_share = float(cfg.get("clean_fraction", 0.02))
    context = int(recipe.get("data", {}).get("context_channels", 1))
    edge_share = float(cfg.get("edge_fraction", 0.05))
    weights = np.array([v.size**0.5 for v in pool])
    weights /= weights.sum()

    depth = 3 if context == 3 else 1  # the level map, then the slices on either side
    if room.dims == 3:
        return _cube_batches(pool, weights, size, (lo, hi), scale, gain, clean_share, context)

    def batch(generator: torch.Generator, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        rng = np.random.default_rng(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
        clean = np.empty((n, 1, size, size), np.float32)
        noisy = np.empty((n, 1 + context, size, size), np.float32)
        for k in range(n):
            x = _crop(pool[int(rng.choice(len(pool), p=weights))], size, rng, scale, depth)
            target, y, sigma = _noisy(x, rng, (lo, hi), gain, clean_share, edge_share if depth == 3 else 0.0)
            clean[k, 0], noisy[k, 0] = target[depth // 2], y[depth // 2]
            if context:
                noisy[k, 1] = sigma
            if depth == 3:
                noisy[k, 2], noisy[k, 3] = y[0], y[2]
        return torch.from_numpy(clean), torch.from_numpy(noisy)

    return batch


def _noisy(
    x: np.ndarray,
    rng: np.random.Generator,
    noise: tuple[float, float],
    gain: tuple[float, float],
    clean_share: float,
    edge_share: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, float]:
    """(target, noisy, sigma) of one clean crop: Rician noise at a log-uniform level, a random gain, and the
    clipping at 1 that restoring applies (the excess taken from both, as :func:`.preprocess.normalise` keeps
    it). With ``edge_share`` (a stack of 3 slices) the middle slice stands in for a missing neighbour that often,
    as at a volume's edge."""
    lo, hi = noise
    sigma = 0.0 if rng.random() < clean_share else float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
    y = np.abs(x + sigma * (rng.standard_normal(x.shape) + 1j * rng.standard_normal(x.shape)))
    if edge_share and rng.random() < edge_share:
        y[2 * int(rng.integers(2))] = y[1]
    g = rng.uniform(*gain)
    x, y = x * g, y * g
    excess = y - np.clip(y, 0.0, 1.0)
    return x - excess, y - excess, sigma * g


def _cube_batches(
    pool: list[np.ndarray],
    weights: np.ndarray,
    size: int,
    noise: tuple[float, float],
    scale: tuple[float, ...],
    gain: tuple[float, ...],
    clean_share: float,
    context: int,
) -> Any:
    """3-D pairs: clean ``(n, 1, P, P, P)``, noisy ``(n, 1 + context, P, P, P)`` (the cube, then the level map)."""

    def batch(generator: torch.Generator, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        rng = np.random.default_rng(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
        clean = np.empty((n, 1, size, size, size), np.float32)
        noisy = np.empty((n, 1 + context, size, size, size), np.float32)
        for k in range(n):
            x = crop3d(pool[int(rng.choice(len(pool), p=weights))], size, rng, scale)
            clean[k, 0], noisy[k, 0], sigma = _noisy(x, rng, noise, gain, clean_share)
            if context:
                noisy[k, 1] = sigma
        return torch.from_numpy(clean), torch.from_numpy(noisy)

    return batch
