"""MRI degradations as the field defines them, and estimates of the noise level.

* :func:`rician` - magnitude images with Rician noise: complex Gaussian noise of std ``sigma`` on the real
  and imaginary channels, then the magnitude. The level is a fraction of the image's maximum (the
  denoising literature's "3 %, 5 %, 9 %": ``sigma = level * max``).
* :func:`simulate_kspace` - k-space of a magnitude image given a smooth random phase (real MR images are
  complex; a real-valued image has a Hermitian-symmetric spectrum that undersampling exploits
  unrealistically), single coil or multi-coil with birdcage sensitivity maps (sigpy), normalised so that
  ``sum_c |S_c|^2 = 1`` (the SENSE combination of the coil images gives the image back exactly).
* :func:`undersample` - fastMRI's Cartesian masks (random or equispaced lines, fully sampled centre;
  fastMRI's centre fractions 0.08 at 4x and 0.04 at 8x by default).
* :func:`estimate_sigma` - the noise level of a magnitude image: ``'background'`` (the Rayleigh
  background, ``E[m^2] = 2 sigma^2``), ``'mad'`` (Donoho's median absolute deviation of the finest
  diagonal Haar coefficients, over the foreground where Rician noise is nearly Gaussian), ``'dipy'``
  (dipy's local-variance estimator) or ``'piesno'`` (dipy's PIESNO, for 4-D data with repetitions).

Every function takes a ``numpy.random.Generator`` where it draws, never modifies its input, and returns
new arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pywt
import torch
from scipy import ndimage

from wavediff._checks import check_array, to_numpy
from wavediff.classical import mad_sigma
from wavediff.errors import InvalidInputError, MissingDependencyError, ShapeError
from wavediff.operators import fastmri_mask, fftc

from .metrics import foreground_mask

__all__ = [
    "magnitude_image",
    "rician",
    "smooth_phase",
    "coil_maps",
    "simulate_kspace",
    "undersample",
    "estimate_sigma",
]

#: fastMRI's centre fraction for each acceleration of its challenge
CENTER_FRACTIONS = {4: 0.08, 8: 0.04}

#: accepted mean / rms of background voxels for the 'background' estimate (Rayleigh: 0.886)
RAYLEIGH_RATIO = (0.80, 0.95)


def magnitude_image(image: Any, name: str = "image") -> np.ndarray:
    """``image`` as a finite, non-negative float64 array of at least 2 axes (the room's input check)."""
    arr = np.asarray(to_numpy(image, name), dtype=np.float64)
    check_array(arr, name)
    if arr.ndim < 2:
        raise ShapeError(f"{name} of shape {arr.shape}: pass a slice (H, W) or a volume (slices, H, W)")
    if arr.min() < 0:
        raise InvalidInputError(f"{name} has negative values ({arr.min():.3g}); pass a magnitude image")
    return arr


def _rng(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise InvalidInputError(
            f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}"
        )
    return rng


def rician(
    image: Any, level: float, rng: np.random.Generator, *, reference: float | None = None
) -> np.ndarray:
    """``|x + n_re + i n_im|`` with ``n ~ N(0, sigma^2)``, ``sigma = level * max(x)`` (or ``level * reference``).

    A complex ``image`` gets the complex noise before the magnitude is taken.

    Examples
    --------
    >>> import numpy as np
    >>> y = rician(np.zeros((200, 200)), 0.05, np.random.default_rng(0), reference=1.0)
    >>> round(float(y.mean() / (0.05 * np.sqrt(np.pi / 2))), 2)  # Rayleigh mean sigma sqrt(pi/2)
    1.0
    """
    x = np.asarray(image)
    is_complex = np.iscomplexobj(x)
    mag = np.abs(x) if is_complex else magnitude_image(x)
    if not np.all(np.isfinite(mag)):
        raise InvalidInputError("the image contains NaN or inf")
    if not 0 <= level < 1:
        raise InvalidInputError(
            f"level={level}: a fraction of the maximum in [0, 1) (0.03, 0.05, 0.09 are usual)"
        )
    peak = float(mag.max()) if reference is None else float(reference)
    if not peak > 0:
        raise InvalidInputError("the image is zero; pass reference= to set the noise level's scale")
    sigma = level * peak
    g = _rng(rng)
    noise = sigma * (g.standard_normal(x.shape) + 1j * g.standard_normal(x.shape))
    return np.abs((x if is_complex else x.astype(np.float64)) + noise)


def smooth_phase(
    shape: tuple[int, ...], rng: np.random.Generator, *, max_phase: float = np.pi, smoothness: float = 0.15
) -> np.ndarray:
    """A smooth random phase map (radians) over the last two axes of ``shape``: a random linear ramp and a
    low-pass random field (Gaussian filter of width ``smoothness`` x the size), scaled to ``max_phase``.

    Examples
    --------
    >>> import numpy as np
    >>> p = smooth_phase((64, 64), np.random.default_rng(0))
    >>> p.shape, bool(np.abs(p).max() <= np.pi + 1e-12)
    ((64, 64), True)
    """
    if len(shape) < 2 or any(int(n) < 2 for n in shape):
        raise ShapeError(f"shape={shape}: pass (H, W) or (slices, H, W)")
    g = _rng(rng)
    h, w = int(shape[-2]), int(shape[-1])
    yy, xx = np.meshgrid(np.linspace(-1, 1, h), np.linspace(-1, 1, w), indexing="ij")
    lead = tuple(int(n) for n in shape[:-2])
    out = np.empty((int(np.prod(lead)) if lead else 1, h, w))
    for i in range(out.shape[0]):
        field = ndimage.gaussian_filter(g.standard_normal((h, w)), smoothness * np.array([h, w]), mode="wrap")
        field /= max(float(np.abs(field).max()), 1e-12)
        a, b = g.uniform(-1, 1, size=2)
        p = 0.5 * field + 0.25 * (a * yy + b * xx) + g.uniform(-0.25, 0.25)
        out[i] = max_phase * p / max(float(np.abs(p).max()), 1.0)
    return out.reshape(shape)


def coil_maps(shape: tuple[int, int], n_coils: int) -> np.ndarray:
    """Birdcage coil sensitivities ``(n_coils, H, W)`` (sigpy's ``birdcage_maps``), normalised so that
    ``sum_c |S_c|^2 = 1`` at every pixel.

    Examples
    --------
    >>> import numpy as np
    >>> s = coil_maps((32, 32), 4)
    >>> s.shape, bool(np.allclose((np.abs(s) ** 2).sum(0), 1))
    ((4, 32, 32), True)
    """
    try:
        from sigpy.mri import birdcage_maps
    except ImportError:
        raise MissingDependencyError("coil maps come from sigpy: pip install 'wavediff[mri]'") from None
    if int(n_coils) < 1 or len(shape) != 2:
        raise InvalidInputError(f"coil_maps needs a 2-D shape and at least one coil, got {shape}, {n_coils}")
    maps = birdcage_maps((int(n_coils), *map(int, shape)))
    return maps / np.sqrt((np.abs(maps) ** 2).sum(axis=0, keepdims=True))


def simulate_kspace(
    image: Any,
    rng: np.random.Generator,
    *,
    coils: int = 1,
    phase: bool = True,
    noise: float = 0.0,
) -> dict[str, np.ndarray]:
    """Fully sampled k-space of a magnitude slice or volume ``(..., H, W)`` (centred orthonormal FFT).

    ``phase=True`` multiplies by :func:`smooth_phase`; ``coils > 1`` weights by :func:`coil_maps` first and
    returns k-space ``(..., coils, H, W)``. ``noise`` adds complex Gaussian noise of that std (a fraction of
    the image maximum) per k-space sample, which the orthonormal FFT carries unchanged to image space.
    Returns ``kspace``, the complex ``image`` and, for several coils, ``maps``.

    Examples
    --------
    >>> import numpy as np
    >>> from wavediff.operators import ifftc
    >>> import torch
    >>> x = np.random.default_rng(0).uniform(size=(16, 16))
    >>> out = simulate_kspace(x, np.random.default_rng(1))
    >>> img = ifftc(torch.from_numpy(out["kspace"])).numpy()
    >>> bool(np.allclose(np.abs(img), x))
    True
    """
    mag = magnitude_image(image)
    g = _rng(rng)
    cplx = mag * np.exp(1j * smooth_phase(mag.shape, g)) if phase else mag.astype(np.complex128)
    out: dict[str, np.ndarray] = {"image": cplx}
    if int(coils) > 1:
        maps = coil_maps(mag.shape[-2:], int(coils))
        coil_images = cplx[..., None, :, :] * maps
        out["maps"] = maps
    elif int(coils) == 1:
        coil_images = cplx
    else:
        raise InvalidInputError(f"coils={coils} must be at least 1")
    k = fftc(torch.from_numpy(coil_images)).numpy()
    if noise:
        if not noise > 0:
            raise InvalidInputError(f"noise={noise} must be non-negative")
        sigma = noise * float(mag.max())
        k = k + sigma * (g.standard_normal(k.shape) + 1j * g.standard_normal(k.shape))
    out["kspace"] = k.astype(np.complex64)
    return out


def undersample(
    kspace: Any,
    acceleration: int = 4,
    center_fraction: float | None = None,
    kind: str = "equispaced",
    seed: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Keep fastMRI's mask of k-space lines (the last axis); returns the zero-filled k-space and the
    boolean mask ``(H, W)``. ``center_fraction`` defaults to fastMRI's (0.08 at 4x, 0.04 at 8x).

    Examples
    --------
    >>> import numpy as np
    >>> k = np.ones((64, 320), complex)
    >>> ku, m = undersample(k, 4, seed=0)
    >>> round(float(m.mean()), 2), bool((ku[:, ~m[0]] == 0).all())
    (0.25, True)
    """
    k = np.asarray(kspace)
    if not np.iscomplexobj(k) or k.ndim < 2:
        raise ShapeError(f"kspace of shape {k.shape}, dtype {k.dtype}: pass complex k-space (..., H, W)")
    if center_fraction is None:
        if acceleration not in CENTER_FRACTIONS:
            raise InvalidInputError(
                f"acceleration={acceleration}: give center_fraction (fastMRI's: 4x 0.08, 8x 0.04)"
            )
        center_fraction = CENTER_FRACTIONS[acceleration]
    mask = fastmri_mask(k.shape[-2:], acceleration, center_fraction, kind, seed=seed).numpy().astype(bool)
    return np.where(mask, k, 0), mask


def _finest_diagonal(x: np.ndarray) -> np.ndarray:
    """Orthonormal Haar diagonal coefficients of every slice (last two axes)."""
    return pywt.dwt2(x, "haar", axes=(-2, -1))[1][2]


def estimate_sigma(image: Any, method: str = "background", *, mask: Any = None) -> float:
    """The Gaussian noise std behind a magnitude image (slice, volume, or 4-D with repetitions last).

    ``'background'``: ``sqrt(mean(m^2) / 2)`` over voxels outside the dilated foreground (``mask`` or
    :func:`~wavediff.modalities.mri.metrics.foreground_mask`), exact for a Rayleigh background; refused
    (:class:`~wavediff.errors.InvalidInputError`) when those voxels are not Rayleigh-like (mean / rms
    outside :data:`RAYLEIGH_RATIO`: a zeroed background, or no background in a cropped image).
    ``'mad'``: ``median(|d|) / 0.6745`` of the finest diagonal Haar coefficients inside the eroded
    foreground (Donoho 1995); biased up by fine anatomy, down where the SNR is low. ``'dipy'``:
    ``dipy.denoise.noise_estimate.estimate_sigma`` (median over slices of a 3-D volume). ``'piesno'``:
    dipy's PIESNO on 4-D data whose last axis repeats the same volume (DWI, fMRI).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.zeros((128, 128)); x[32:96, 32:96] = 1.0
    >>> y = rician(x, 0.05, np.random.default_rng(0))
    >>> round(estimate_sigma(y, "background") / 0.05, 2), round(estimate_sigma(y, "mad") / 0.05, 2)
    (1.0, 1.06)
    """
    arr = magnitude_image(image)
    if method in ("background", "mad"):
        vol = arr if arr.ndim <= 3 else arr[..., 0]
        fg = foreground_mask(vol) if mask is None else np.asarray(to_numpy(mask, "mask"), dtype=bool)
        if fg.shape != vol.shape:
            raise ShapeError(f"mask of shape {fg.shape} does not match the image's {vol.shape}")
        if method == "background":
            bg = ~ndimage.binary_dilation(fg, iterations=2)
            if bg.sum() < 50:
                raise InvalidInputError(
                    "fewer than 50 background voxels: the image is cropped to the object; use method='mad' or give sigma"
                )
            b = vol[bg]
            power = float(np.mean(b**2))
            # a Rayleigh background has mean / rms = sqrt(pi / 4) = 0.886; signal (a cropped object) or a
            # zeroed background (skull-stripped, masked exports) does not, and would give a wrong sigma
            ratio = float(np.mean(b)) / np.sqrt(power) if power > 0 else 0.0
            if not RAYLEIGH_RATIO[0] <= ratio <= RAYLEIGH_RATIO[1]:
                raise InvalidInputError(
                    f"the background is not Rayleigh noise (mean / rms = {ratio:.3f}, Rayleigh: 0.886): it is zeroed "
                    "(masked or skull-stripped) or holds signal; use method='mad' or give sigma"
                )
            return float(np.sqrt(power / 2))
        d = _finest_diagonal(vol)
        inner = ndimage.binary_erosion(fg, iterations=2)
        keep = inner[..., ::2, ::2][..., : d.shape[-2], : d.shape[-1]]
        if keep.sum() < 50:
            raise InvalidInputError(
                "the foreground is too small for the MAD estimate; use method='background'"
            )
        return mad_sigma(d, keep)
    if method in ("dipy", "piesno"):
        try:
            from dipy.denoise import noise_estimate
        except ImportError:
            raise MissingDependencyError(
                f"method={method!r} needs dipy: pip install 'wavediff[mri]'"
            ) from None
        if method == "dipy":
            vol = arr if arr.ndim == 3 else (arr[None] if arr.ndim == 2 else arr)
            if vol.ndim == 3:
                return float(
                    np.median(noise_estimate.estimate_sigma(np.moveaxis(vol, 0, -1)[..., None], N=0))
                )
            return float(np.median(noise_estimate.estimate_sigma(vol, N=0)))
        if arr.ndim != 4 or arr.shape[-1] < 2:
            raise ShapeError(
                f"PIESNO takes 4-D data (x, y, z, repetitions), got shape {arr.shape}; use 'background' for one volume"
            )
        return float(np.median(noise_estimate.piesno(arr, N=1)))  # one estimate per slice
    raise InvalidInputError(f"method={method!r}: use 'background', 'mad', 'dipy' or 'piesno'")
