"""Undersampled MRI: the centred orthonormal FFT behind a k-space mask, single coil or with coil maps,
and fastMRI's random and equispaced Cartesian masks.

Conventions follow fastMRI (``fastmri.fft2c``, ``fastmri.data.subsample``): the image centre sits at
index ``n // 2`` of each axis, the FFT is ``fftshift(fftn(ifftshift(x), norm="ortho"))``, and masks
select whole phase-encoding lines (the last axis) with a fully sampled block of low frequencies.
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import InvalidInputError, MissingDependencyError, ShapeError
from .base import LinearOperator, _per_item

__all__ = ["SubsampledFourier", "fastmri_mask", "fftc", "ifftc", "espirit_maps"]


def fftc(x: torch.Tensor, dims: int = 2) -> torch.Tensor:
    """Centred orthonormal FFT over the last ``dims`` axes (fastMRI's ``fft2c`` for ``dims=2``)."""
    ax = tuple(range(-dims, 0))
    return torch.fft.fftshift(torch.fft.fftn(torch.fft.ifftshift(x, dim=ax), dim=ax, norm="ortho"), dim=ax)


def ifftc(k: torch.Tensor, dims: int = 2) -> torch.Tensor:
    """Inverse of :func:`fftc`."""
    ax = tuple(range(-dims, 0))
    return torch.fft.fftshift(torch.fft.ifftn(torch.fft.ifftshift(k, dim=ax), dim=ax, norm="ortho"), dim=ax)


def fastmri_mask(
    shape: tuple[int, ...],
    acceleration: float,
    center_fraction: float,
    kind: str = "random",
    seed: int | None = None,
) -> torch.Tensor:
    """A Cartesian k-space mask of ``shape`` that keeps whole lines of the last axis, as fastMRI draws them.

    ``round(n * center_fraction)`` central lines are always kept. ``'random'`` keeps each other line
    with probability ``(n / acceleration - n_low) / (n - n_low)``, so ``n / acceleration`` lines are
    kept on average; ``'equispaced'`` keeps lines every ``a`` lines from a random offset, ``a`` adjusted
    for the central block so that the kept fraction is close to ``1 / acceleration`` (fastMRI's
    ``RandomMaskFunc`` / ``EquispacedMaskFunc``).

    Examples
    --------
    >>> m = fastmri_mask((320, 368), acceleration=4, center_fraction=0.08, kind="equispaced", seed=0)
    >>> m.shape, round(float(m.mean()), 2)
    (torch.Size([320, 368]), 0.25)
    """
    if len(shape) < 1 or any(int(n) != n or n < 2 for n in shape):
        raise ShapeError(f"shape={shape} must be a tuple of axis lengths of at least 2")
    if not acceleration > 1:
        raise InvalidInputError(f"acceleration={acceleration} must exceed 1 (4 and 8 are fastMRI's)")
    if not 0 < center_fraction < 1 / acceleration:
        raise InvalidInputError(
            f"center_fraction={center_fraction} must lie in (0, 1/acceleration = {1 / acceleration:.3g}); fastMRI uses 0.08 at 4x, 0.04 at 8x"
        )
    rng = np.random.default_rng(seed)
    n = int(shape[-1])
    n_low = int(round(n * center_fraction))
    lines = np.zeros(n, dtype=bool)
    pad = (n - n_low + 1) // 2
    lines[pad : pad + n_low] = True
    if kind == "random":
        prob = (n / acceleration - n_low) / (n - n_low)
        lines |= rng.uniform(size=n) < prob
    elif kind == "equispaced":
        adjusted = (acceleration * (n_low - n)) / (n_low * acceleration - n)
        offset = int(rng.integers(0, max(1, round(adjusted))))
        lines[np.around(np.arange(offset, n - 1, adjusted)).astype(int)] = True
    else:
        raise InvalidInputError(f"kind={kind!r}: use 'random' or 'equispaced'")
    return torch.from_numpy(np.broadcast_to(lines, tuple(int(s) for s in shape)).copy())


class SubsampledFourier(LinearOperator):
    """``y = M F (S x)``: the centred orthonormal FFT over the last ``dims`` axes, behind a k-space mask.

    Parameters
    ----------
    mask : tensor of 0/1
        Broadcast against the k-space (its trailing ``dims`` axes at least), e.g. :func:`fastmri_mask`.
    dims : int
        2 (slices) or 3 (volumes).
    coil_maps : complex tensor, optional
        Sensitivity maps ``(coils, *spatial)``: the forward map gives one k-space per coil on a new axis
        before the spatial ones (``x (..., *spatial) -> y (..., coils, *spatial)``); the adjoint sums the
        coils back with the conjugate maps.
    real : bool
        Images are real (magnitude or a real part): the adjoint is the one of the real inner product,
        the real part of ``F^H M y``.

    Without coil maps and with complex images ``A A^H = M``, and the regularised solve is exact in
    one step (``x = F^H (M y + lam F x0) / (M + lam)``).

    Examples
    --------
    >>> import torch
    >>> op = SubsampledFourier(torch.ones(4, 4))
    >>> x = torch.randn(1, 4, 4, dtype=torch.complex128)
    >>> bool(torch.allclose(op.adjoint(op(x)), x))  # fully sampled: unitary
    True
    """

    def __init__(self, mask, dims: int = 2, coil_maps: torch.Tensor | None = None, real: bool = False):
        if dims not in (2, 3):
            raise InvalidInputError(f"dims={dims}: SubsampledFourier works on 2-D slices or 3-D volumes")
        m = torch.as_tensor(mask)
        m = m.to(torch.float64) if not m.is_floating_point() else m
        if m.ndim < dims:
            raise ShapeError(f"mask of shape {tuple(m.shape)} has fewer than dims={dims} axes")
        if not bool(((m == 0) | (m == 1)).all()):
            raise InvalidInputError("mask must hold only 0 and 1 (sampled / not sampled)")
        self.mask, self.dims, self.real = m, dims, bool(real)
        self.coil_maps = None
        if coil_maps is not None:
            s = torch.as_tensor(coil_maps)
            if s.ndim < dims + 1:
                raise ShapeError(
                    f"coil_maps of shape {tuple(s.shape)}: expected (coils, *spatial) with {dims} spatial axes"
                )
            self.coil_maps = s.to(torch.complex128) if not s.is_complex() else s

    @property
    def isometric_range(self) -> bool:
        """``A^H A`` is an orthogonal projection: one coil, and complex images or, for real images, a
        mask that samples ``-k`` wherever it samples ``k`` (a real image's two halves of k-space then
        count once each; a lone ``k`` would count half)."""
        if self.coil_maps is not None:
            return False
        if not self.real:
            return True
        mirrored = self.mask
        for ax in range(-self.dims, 0):  # centred index i holds frequency -f at (n - i) mod n (even n)
            mirrored = mirrored.flip(ax)
            if self.mask.shape[ax] % 2 == 0:
                mirrored = mirrored.roll(1, ax)
        return bool(torch.equal(mirrored, self.mask))

    @property
    def fraction(self) -> float:
        """The sampled fraction of k-space."""
        return float(self.mask.mean())

    def _m(self, like: torch.Tensor) -> torch.Tensor:
        return self.mask.to(device=like.device, dtype=like.real.dtype)

    def _maps(self, like: torch.Tensor) -> torch.Tensor:
        dtype = (
            like.dtype
            if like.is_complex()
            else (torch.complex64 if like.dtype != torch.float64 else torch.complex128)
        )
        return self.coil_maps.to(device=like.device, dtype=dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim < self.dims + 1:
            raise ShapeError(f"input of shape {tuple(x.shape)}: need a batch axis and {self.dims} image axes")
        if self.coil_maps is not None:
            if tuple(self.coil_maps.shape[-self.dims :]) != tuple(x.shape[-self.dims :]):
                raise ShapeError(
                    f"coil maps of shape {tuple(self.coil_maps.shape)} do not fit images of shape {tuple(x.shape)}"
                )
            x = x.unsqueeze(-self.dims - 1) * self._maps(x)
        k = fftc(
            x if x.is_complex() else x.to(torch.complex128 if x.dtype == torch.float64 else torch.complex64),
            self.dims,
        )
        return k * self._m(k)

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        x = ifftc(y * self._m(y), self.dims)
        if self.coil_maps is not None:
            x = (x * self._maps(x).conj()).sum(-self.dims - 1)
        return x.real if self.real else x

    def solve(self, y, lam=0.0, x0=None, *, init=None, iters=100, tol=1e-6):
        """Exact in k-space for one coil and complex images; otherwise conjugate gradients."""
        if self.coil_maps is not None or self.real:
            return super().solve(y, lam, x0, init=init, iters=iters, tol=tol)
        m = self._m(y)
        lam_t = torch.as_tensor(lam, dtype=m.dtype, device=y.device)
        if bool((lam_t < 0).any()):
            raise InvalidInputError(f"lam must be non-negative, got {lam!r}")
        lam_b = _per_item(lam_t.expand(y.shape[0]) if lam_t.ndim == 0 else lam_t, y)
        start = init if init is not None else x0
        k_ref = fftc(x0, self.dims) if x0 is not None else torch.zeros_like(y)
        k_start = fftc(start, self.dims) if start is not None else torch.zeros_like(y)
        den = m + lam_b
        k = torch.where(
            den > 0, (m * y + lam_b * k_ref) / torch.where(den > 0, den, torch.ones_like(den)), k_start
        )
        return ifftc(k, self.dims)

    def __repr__(self) -> str:
        coils = "" if self.coil_maps is None else f", {self.coil_maps.shape[0]} coils"
        return f"SubsampledFourier({self.dims}-D, sampled {self.fraction:.3g}{coils})"


def espirit_maps(
    kspace: np.ndarray, calib_width: int = 24, thresh: float = 0.02, crop: float = 0.95
) -> np.ndarray:
    """ESPIRiT coil sensitivity maps ``(coils, *spatial)`` from multi-coil k-space, by sigpy (``pip install sigpy``).

    ``kspace`` is ``(coils, *spatial)`` in the centred convention of :func:`fftc`.
    """
    try:
        from sigpy.mri.app import EspiritCalib
    except ImportError:
        raise MissingDependencyError("ESPIRiT maps come from sigpy: pip install sigpy") from None
    arr = np.asarray(kspace)
    if arr.ndim not in (3, 4) or not np.iscomplexobj(arr):
        raise ShapeError(f"kspace of shape {arr.shape}: expected complex (coils, H, W) or (coils, D, H, W)")
    return EspiritCalib(arr, calib_width=calib_width, thresh=thresh, crop=crop, show_pbar=False).run()
