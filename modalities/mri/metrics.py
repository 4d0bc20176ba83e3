"""MRI metrics with fastMRI's conventions, and the same metrics within a foreground mask.

fastMRI (``fastmri/evaluate.py``) scores a **volume** ``(slices, H, W)``: NMSE ``||x - y||^2 / ||x||^2``;
PSNR over the whole volume with the volume's maximum as data range; SSIM as the mean over slices of the
2-D SSIM (7x7 uniform window, sample covariance: scikit-image's defaults), again with the volume's
maximum as data range. A data set's figure is the mean of the per-volume values: aggregating slice by
slice gives different (lower) numbers, so :func:`aggregate` only averages volumes.

Background voxels are noise only, and dominate a head volume: the ``mask=`` variants score the
foreground only (the SSIM map averaged over the mask, inside the border where the map is defined; PSNR
and NMSE over the masked voxels; the data range stays the volume's maximum). :func:`foreground_mask`
finds the head by a threshold on a median-filtered image (as dipy's ``median_otsu``), keeping the largest component with its holes
filled.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from scipy import ndimage

from wavediff import metrics as _m
from wavediff._checks import check_array, check_same_shape, to_numpy
from wavediff.errors import InvalidInputError, ShapeError

__all__ = ["nmse", "psnr", "ssim", "volume_metrics", "aggregate", "foreground_mask"]


def _magnitude(x: Any) -> Any:
    """Complex images (numpy or torch) are scored by their magnitude, as fastMRI scores its reconstructions."""
    if getattr(x, "is_complex", None) is not None and callable(x.is_complex) and x.is_complex():
        return x.abs()
    return np.abs(x) if np.iscomplexobj(x) else x


def _volume(
    reference: Any, estimate: Any, mask: Any = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """float64 ``(slices, H, W)`` magnitudes (complex inputs are scored by magnitude) and the mask."""
    ref, est = to_numpy(_magnitude(reference), "reference"), to_numpy(_magnitude(estimate), "estimate")
    check_same_shape(ref, est)
    if ref.ndim == 2:
        ref, est = ref[None], est[None]
    if ref.ndim != 3:
        raise ShapeError(
            f"MRI metrics take a slice (H, W) or a volume (slices, H, W), got shape {ref.shape}; "
            "score 4-D data volume by volume"
        )
    check_array(ref, "reference")
    check_array(est, "estimate")
    if mask is None:
        return ref.astype(np.float64), est.astype(np.float64), None
    m = np.asarray(to_numpy(mask, "mask"))
    m = m[None] if m.ndim == 2 else m
    if m.shape != ref.shape:
        raise ShapeError(f"mask of shape {m.shape} does not match the images' {ref.shape}")
    m = m.astype(bool)
    if not m.any():
        raise InvalidInputError("the mask selects no voxel; pass the foreground (see foreground_mask)")
    return ref.astype(np.float64), est.astype(np.float64), m


def _maxval(ref: np.ndarray, maxval: float | None) -> float:
    value = float(ref.max()) if maxval is None else float(maxval)
    if not value > 0:
        raise InvalidInputError(
            f"the data range (the reference's maximum) is {value}; MRI metrics need a positive reference"
        )
    return value


def nmse(reference: Any, estimate: Any, mask: Any = None) -> float:
    """Normalised MSE ``||x - y||^2 / ||x||^2`` of a slice or volume (within ``mask`` if given).

    Examples
    --------
    >>> import numpy as np
    >>> nmse(np.ones((2, 8, 8)), np.full((2, 8, 8), 1.1)).__round__(6)
    0.01
    """
    ref, est, m = _volume(reference, estimate, mask)
    if m is not None:
        ref, est = ref[m], est[m]
    denom = float(np.sum(ref**2))
    if denom == 0:
        raise InvalidInputError("the reference is zero; NMSE is undefined")
    return float(np.sum((ref - est) ** 2) / denom)


def psnr(reference: Any, estimate: Any, mask: Any = None, maxval: float | None = None) -> float:
    """PSNR in dB of a volume with its maximum as data range (fastMRI), over ``mask`` if given.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.zeros((2, 8, 8)); x[0, 0, 0] = 2.0
    >>> round(psnr(x, x + 0.02), 2)  # 20 log10(2 / 0.02)
    40.0
    """
    ref, est, m = _volume(reference, estimate, mask)
    peak = _maxval(ref, maxval)
    if m is None:
        return float(_m.psnr(ref, est, data_range=peak))
    return float(_m.psnr(ref[m], est[m], data_range=peak))


def ssim(reference: Any, estimate: Any, mask: Any = None, maxval: float | None = None) -> float:
    """SSIM of a volume: the mean of the slices' 2-D SSIM, the volume's maximum as data range (fastMRI).

    With ``mask``, each slice's SSIM map is averaged over its masked voxels away from the 3-voxel
    border where the 7x7 window is not defined, and slices are weighted by their masked voxel count.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).uniform(size=(2, 16, 16))
    >>> ssim(x, x)
    1.0
    """
    ref, est, m = _volume(reference, estimate, mask)
    peak = _maxval(ref, maxval)
    if min(ref.shape[1:]) < 7:
        raise ShapeError(f"slices of {ref.shape[1:]} are smaller than SSIM's 7x7 window")
    if m is None:
        return float(np.mean([_m.ssim(r, e, data_range=peak) for r, e in zip(ref, est)]))
    total, count = 0.0, 0
    inner = np.zeros(ref.shape[1:], dtype=bool)
    inner[3:-3, 3:-3] = True
    for r, e, ms in zip(ref, est, m):
        keep = ms & inner
        if keep.any():
            _, smap = _m.ssim(r, e, data_range=peak, full=True)
            total += float(smap[keep].sum())
            count += int(keep.sum())
    if count == 0:
        raise InvalidInputError("the mask lies within SSIM's 3-voxel border only; pass a larger foreground")
    return total / count


def volume_metrics(reference: Any, estimate: Any, mask: Any = None) -> dict[str, float]:
    """PSNR, SSIM and NMSE of one volume; with ``mask`` also ``psnr_fg``, ``ssim_fg`` and ``nmse_fg``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(1).uniform(size=(2, 16, 16))
    >>> sorted(volume_metrics(x, x + 0.01, mask=x > 0.5))
    ['nmse', 'nmse_fg', 'psnr', 'psnr_fg', 'ssim', 'ssim_fg']
    """
    out = {
        "psnr": psnr(reference, estimate),
        "ssim": ssim(reference, estimate),
        "nmse": nmse(reference, estimate),
    }
    if mask is not None:
        out.update(
            psnr_fg=psnr(reference, estimate, mask),
            ssim_fg=ssim(reference, estimate, mask),
            nmse_fg=nmse(reference, estimate, mask),
        )
    return out


def aggregate(per_volume: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """The data set's figures: each metric's mean over volumes (fastMRI), never over slices.

    Examples
    --------
    >>> aggregate([{"psnr": 30.0, "ssim": 0.8}, {"psnr": 32.0, "ssim": 0.9}])
    {'psnr': 31.0, 'ssim': 0.85}
    """
    rows = list(per_volume)
    if not rows:
        raise InvalidInputError("no volume to aggregate")
    keys = list(rows[0])
    if any(list(r) != keys for r in rows):
        raise InvalidInputError("every volume must carry the same metrics to be averaged")
    return {k: round(float(np.mean([r[k] for r in rows])), 12) for k in keys}


def foreground_mask(image: Any, median_size: int = 3) -> np.ndarray:
    """The head (or object) in a magnitude slice or volume: a threshold on a median-filtered image (Otsu's,
    or the background's median plus 6 robust standard deviations where that is lower), the largest
    connected component, holes filled (slice by slice as well, for ventricles open to the border of a
    crop).

    Examples
    --------
    >>> import numpy as np
    >>> yy, xx = np.mgrid[:32, :32]
    >>> head = (yy - 16) ** 2 + (xx - 16) ** 2 < 100
    >>> disc = head.astype(float)
    >>> disc[14:18, 14:18] = 0.0  # a dark hole inside is still foreground
    >>> m = foreground_mask(disc + 0.01 * np.random.default_rng(0).normal(size=disc.shape))
    >>> bool(m[16, 16]), round(float((m & head).sum() / (m | head).sum()), 2)  # intersection over union
    (True, 0.98)
    """
    from skimage.filters import threshold_otsu

    arr = np.asarray(to_numpy(_magnitude(image), "image"), dtype=np.float64)
    if arr.ndim not in (2, 3):
        raise ShapeError(f"foreground_mask takes a slice or a volume, got shape {arr.shape}")
    check_array(arr, "image")
    # a median filter removes the noise but keeps the edges, so the mask does not bleed into the background
    smoothed = ndimage.median_filter(arr, size=median_size) if median_size > 1 else arr
    if float(smoothed.max()) == float(smoothed.min()):
        raise InvalidInputError("the image is constant: it has no foreground to find")
    # Otsu splits dark tissue from bright when tissue intensities are bimodal; the noise background, the
    # lower mode, sets a safer threshold: its median plus 6 robust standard deviations, if that is lower
    otsu = threshold_otsu(smoothed)
    low = smoothed[smoothed < otsu]
    spread = 1.4826 * float(np.median(np.abs(low - np.median(low)))) if low.size else 0.0
    cut = min(otsu, float(np.median(low)) + 6 * spread) if low.size else otsu
    mask = smoothed > cut
    labels, n = ndimage.label(mask)
    if n > 1:
        sizes = ndimage.sum(mask, labels, index=np.arange(1, n + 1))
        mask = labels == (1 + int(np.argmax(sizes)))
    mask = ndimage.binary_fill_holes(mask)
    if mask.ndim == 3:
        mask = np.stack([ndimage.binary_fill_holes(s) for s in mask])
    return mask
