"""The classical MRI methods the field uses today, from the field's libraries.

Denoising of magnitude images with Rician noise of std ``sigma``:

* :func:`nlm` - dipy's non-local means with its Rician correction (``dipy.denoise.nlmeans``, blockwise);
* :func:`wavelet` - the engine's BayesShrink wavelet shrinkage of the magnitude, then the Rician bias
  correction ``sqrt(max(x^2 - sigma^2, 0))`` (the magnitude's mean is ``sqrt(A^2 + sigma^2)`` at high SNR);
* :func:`bm3d_slices` / :func:`bm4d_volume` - BM3D per slice and BM4D on the volume (the ``bm3d`` /
  ``bm4d`` packages, **non-commercial licence**: used when installed, never a dependency), on the
  magnitude with the same bias correction;
* :func:`mppca` and :func:`patch2self` - dipy's Marchenko-Pastur PCA and Patch2Self for 4-D data (DWI,
  fMRI), whose last axis holds the volumes.

Reconstruction from undersampled Cartesian k-space ``(..., [coils,] H, W)`` and its mask:

* :func:`zero_filled` - the inverse centred FFT of the zero-filled k-space (root-sum-of-squares over coils,
  or the SENSE combination when maps are given), fastMRI's baseline;
* :func:`sigpy_cs` - sigpy's ``L1WaveletRecon`` (db4) or ``TotalVariationRecon``, single or multi-coil.

All inputs are left unchanged; outputs are new float (or complex) arrays of the input's spatial shape.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import torch

from wavediff.classical import denoise_wavelet
from wavediff.errors import InvalidInputError, MissingDependencyError, ShapeError
from wavediff.operators import ifftc

from .degrade import magnitude_image

__all__ = ["nlm", "wavelet", "bm3d_slices", "bm4d_volume", "mppca", "patch2self", "zero_filled", "sigpy_cs"]


def _library(module: str, advice: str) -> Any:
    """``import module``, or a MissingDependencyError saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(advice) from None


_NONCOMMERCIAL = "{} is the {} package (non-commercial licence, so not a wavediff dependency): pip install {}"


def _magnitude(image: Any, sigma: float, ndims: tuple[int, ...] = (2, 3)) -> np.ndarray:
    arr = magnitude_image(image)
    if arr.ndim not in ndims:
        raise ShapeError(f"image of shape {arr.shape}: pass a slice (H, W) or a volume (slices, H, W)")
    if not sigma > 0:
        raise InvalidInputError(f"sigma={sigma} must be positive (estimate it with degrade.estimate_sigma)")
    return arr


def _unbias(x: np.ndarray, sigma: float) -> np.ndarray:
    return np.sqrt(np.maximum(x**2 - sigma**2, 0.0))


def nlm(
    image: Any, sigma: float, *, patch_radius: int = 1, block_radius: int = 5, num_threads: int | None = None
) -> np.ndarray:
    """dipy's non-local means with the Rician bias correction; a slice is processed as a 1-slice volume.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.zeros((32, 32)); x[8:24, 8:24] = 1.0
    >>> y = np.abs(x + 0.05 * np.random.default_rng(0).normal(size=x.shape))
    >>> bool(np.abs(nlm(y, 0.05) - x).mean() < np.abs(y - x).mean())
    True
    """
    nlmeans = _library(
        "dipy.denoise.nlmeans", "non-local means comes from dipy: pip install 'wavediff[mri]'"
    ).nlmeans
    arr = _magnitude(image, sigma)
    vol = arr[..., None] if arr.ndim == 2 else arr
    out = nlmeans(
        vol, sigma, patch_radius=patch_radius, block_radius=block_radius, rician=True, num_threads=num_threads
    )
    return np.asarray(out, dtype=np.float64).reshape(arr.shape)


def wavelet(image: Any, sigma: float, *, wavelet_name: str = "db2") -> np.ndarray:
    """BayesShrink on the magnitude (each slice of a volume, a 2-D transform), then the Rician bias correction.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.zeros((64, 64)); x[16:48, 16:48] = 1.0
    >>> y = np.abs(x + 0.05 * np.random.default_rng(0).normal(size=x.shape))
    >>> bool(np.abs(wavelet(y, 0.05) - x).mean() < np.abs(y - x).mean())
    True
    """
    arr = _magnitude(image, sigma)
    if arr.ndim == 2:
        den = denoise_wavelet(arr, sigma=sigma, wavelet=wavelet_name)
    else:
        den = np.stack([denoise_wavelet(s, sigma=sigma, wavelet=wavelet_name) for s in arr])
    return _unbias(np.asarray(den), sigma)


def bm3d_slices(image: Any, sigma: float) -> np.ndarray:
    """BM3D (the ``bm3d`` package, non-commercial licence) on each slice, then the Rician bias correction."""
    bm3d = _library("bm3d", _NONCOMMERCIAL.format("BM3D", "bm3d", "bm3d"))
    arr = _magnitude(image, sigma)
    slices = arr[None] if arr.ndim == 2 else arr
    out = np.stack([np.asarray(bm3d.bm3d(s, sigma_psd=sigma), dtype=np.float64) for s in slices])
    return _unbias(out.reshape(arr.shape), sigma)


def bm4d_volume(image: Any, sigma: float) -> np.ndarray:
    """BM4D (the ``bm4d`` package, non-commercial licence) on the volume, then the Rician bias correction."""
    bm4d = _library("bm4d", _NONCOMMERCIAL.format("BM4D", "bm4d", "bm4d"))
    arr = _magnitude(image, sigma, ndims=(3,))
    return _unbias(np.asarray(bm4d.bm4d(arr, sigma_psd=sigma), dtype=np.float64), sigma)


def _four_d(data: Any) -> np.ndarray:
    arr = np.asarray(data, dtype=np.float64)
    if arr.ndim != 4 or arr.shape[-1] < 2:
        raise ShapeError(
            f"data of shape {arr.shape}: pass 4-D data (x, y, z, volumes) with at least 2 volumes"
        )
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError("the data contain NaN or inf")
    return arr


def mppca(data: Any, *, patch_radius: int = 2) -> np.ndarray:
    """dipy's MP-PCA denoising of 4-D data (the noise level is found by the Marchenko-Pastur law)."""
    _mppca = _library("dipy.denoise.localpca", "MP-PCA comes from dipy: pip install 'wavediff[mri]'").mppca
    return np.asarray(_mppca(_four_d(data), patch_radius=patch_radius), dtype=np.float64)


def patch2self(data: Any, bvals: Any) -> np.ndarray:
    """dipy's Patch2Self (self-supervised, per volume regression from the others) for DWI with ``bvals``."""
    _p2s = _library(
        "dipy.denoise.patch2self", "Patch2Self comes from dipy: pip install 'wavediff[mri]'"
    ).patch2self
    arr = _four_d(data)
    b = np.asarray(bvals, dtype=np.float64)
    if b.shape != (arr.shape[-1],):
        raise ShapeError(f"bvals of shape {b.shape}: one b-value per volume ({arr.shape[-1]})")
    return np.asarray(_p2s(arr, b, shift_intensity=True, clip_negative_vals=False), dtype=np.float64)


def _kspace(kspace: Any, mask: Any) -> tuple[np.ndarray, np.ndarray]:
    k = np.asarray(kspace)
    if not np.iscomplexobj(k) or k.ndim < 2:
        raise ShapeError(
            f"kspace of shape {k.shape}, dtype {k.dtype}: pass complex k-space (..., [coils,] H, W)"
        )
    m = np.asarray(mask, dtype=bool)
    if m.shape != k.shape[-2:]:
        raise ShapeError(f"mask of shape {m.shape} does not match k-space's (H, W) = {k.shape[-2:]}")
    return np.where(m, k, 0), m


def zero_filled(kspace: Any, mask: Any, maps: Any = None, *, coils: bool = False) -> np.ndarray:
    """Magnitude of the inverse centred FFT of the zero-filled k-space; with ``coils=True`` the axis -3
    holds coils, combined by root-sum-of-squares, or with ``maps`` by ``sum_c conj(S_c) x_c``.

    Examples
    --------
    >>> import numpy as np
    >>> k = np.fft.fftshift(np.fft.fft2(np.ones((8, 8)), norm="ortho"))
    >>> round(float(zero_filled(k, np.ones((8, 8), bool))[0, 0]), 12)
    1.0
    """
    k, _ = _kspace(kspace, mask)
    img = ifftc(torch.from_numpy(k.astype(np.complex128))).numpy()
    if maps is not None:
        return np.abs((np.conj(np.asarray(maps)) * img).sum(axis=-3))
    if coils:
        return np.sqrt((np.abs(img) ** 2).sum(axis=-3))
    return np.abs(img)


def sigpy_cs(
    kspace: Any, mask: Any, lam: float, *, kind: str = "wavelet", maps: Any = None, iters: int = 100
) -> np.ndarray:
    """sigpy's compressed sensing, ``'wavelet'`` (``L1WaveletRecon``, db4) or ``'tv'`` (``TotalVariationRecon``),
    on one slice's k-space ``(H, W)`` or ``(coils, H, W)`` (then ``maps`` of that shape are needed); returns
    the complex image ``(H, W)``. ``lam`` is in the units of the k-space values.
    """
    try:
        import sigpy.mri.app as app
    except ImportError:
        raise MissingDependencyError(
            "compressed sensing comes from sigpy: pip install 'wavediff[mri]'"
        ) from None
    k, m = _kspace(kspace, mask)
    if k.ndim == 2:
        k, sens = k[None], np.ones((1, *k.shape), complex)
    elif k.ndim == 3 and maps is not None and np.shape(maps) == k.shape:
        sens = np.asarray(maps)
    else:
        raise ShapeError(
            f"kspace of shape {k.shape}: pass one slice (H, W), or (coils, H, W) with maps of that shape"
        )
    solvers = {"wavelet": app.L1WaveletRecon, "tv": app.TotalVariationRecon}
    if kind not in solvers:
        raise InvalidInputError(f"kind={kind!r}: use 'wavelet' or 'tv'")
    if not lam >= 0:
        raise InvalidInputError(f"lam={lam} must be non-negative")
    run = solvers[kind](k, sens, lam, weights=m.astype(float), max_iter=int(iters), show_pbar=False)
    return np.asarray(run.run())
