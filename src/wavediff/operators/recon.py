"""Classical reconstructions for ``y = A x + n``: the baselines every reconstructing room reports.

- :func:`zero_filled`: the adjoint ``A^H y`` (zero-filled k-space for MRI, plain back-projection for CT,
  zeros in the gaps for missing samples).
- :func:`sirt`: the simultaneous iterative reconstruction technique over any operator with non-negative
  entries (CT), ``x <- x + C A^T R (y - A x)``, ``R``, ``C`` the inverse row and column sums.
- :func:`sart`: scikit-image's SART (``skimage.transform.iradon_sart``) for a :class:`~.radon.Radon` geometry.
- :func:`fista`: accelerated proximal gradient (Beck & Teboulle 2009) on ``1/2 ||A x - y||^2 + g(x)``,
  with two regularisers: :func:`wavelet_l1` (soft thresholding of orthonormal wavelet details, the
  compressed-sensing MRI baseline; exact prox because the periodised transform is orthonormal) and
  :func:`total_variation` (prox by Chambolle's algorithm, ``skimage.restoration.denoise_tv_chambolle``).

Filtered back-projection is :func:`~.radon.fbp`. Inputs are never modified; everything is batched over the
first axis like the operators.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ..errors import InvalidInputError
from ..wavelets import WaveletTransform
from .base import LinearOperator, inner
from .radon import Radon

__all__ = ["zero_filled", "sirt", "sart", "fista", "wavelet_l1", "total_variation"]

Prox = Callable[[torch.Tensor, float], torch.Tensor]


def zero_filled(op: LinearOperator, y: torch.Tensor) -> torch.Tensor:
    """``A^H y``: the zero-filled / back-projected reconstruction."""
    return op.adjoint(y)


def sirt(
    op: LinearOperator,
    y: torch.Tensor,
    iters: int = 100,
    *,
    x0: torch.Tensor | None = None,
    nonneg: bool = False,
) -> torch.Tensor:
    """SIRT: ``x <- x + C A^T R (y - A x)`` with ``R = 1 / (A 1)`` and ``C = 1 / (A^T 1)``.

    Converges to a weighted least-squares solution for operators with non-negative entries (projections,
    masks). ``nonneg`` clips each iterate at zero (attenuation cannot be negative).
    """
    if iters < 1:
        raise InvalidInputError(f"iters={iters} must be at least 1")
    x = op.adjoint(y) * 0 if x0 is None else x0.clone()
    ones_x = torch.ones_like(x[:1])
    row = op.forward(ones_x)
    col = op.adjoint(torch.ones_like(row))
    if bool((row < 0).any()) or bool((col < 0).any()):
        raise InvalidInputError("SIRT needs an operator with non-negative entries (a projection or a mask)")
    r = torch.where(row > 1e-8, 1.0 / row.clamp_min(1e-8), torch.zeros_like(row))
    c = torch.where(col > 1e-8, 1.0 / col.clamp_min(1e-8), torch.zeros_like(col))
    for _ in range(iters):
        x = x + c * op.adjoint(r * (y - op.forward(x)))
        if nonneg:
            x = x.clamp_min(0)
    return x


def sart(sinogram: torch.Tensor, radon: Radon, iters: int = 2, relaxation: float = 0.15) -> torch.Tensor:
    """SART by ``skimage.transform.iradon_sart`` for each item of a ``(batch, ..., views, detectors)``
    sinogram of ``radon``'s geometry; ``iters`` passes, each started from the previous one."""
    from skimage.transform import iradon_sart

    if tuple(sinogram.shape[-2:]) != (radon.n_angles, radon.size) or sinogram.ndim < 3:
        raise InvalidInputError(
            f"sinogram of shape {tuple(sinogram.shape)}: expected (batch, ..., {radon.n_angles}, {radon.size})"
        )
    if iters < 1:
        raise InvalidInputError(f"iters={iters} must be at least 1")
    flat = sinogram.detach().cpu().to(torch.float64).reshape(-1, radon.n_angles, radon.size).numpy()
    theta = radon.angles.numpy()
    out = np.empty((flat.shape[0], radon.size, radon.size))
    for i, s in enumerate(flat):
        image = None
        for _ in range(iters):
            image = iradon_sart(s.T, theta=theta, image=image, relaxation=relaxation)
        out[i] = image
    shape = (*sinogram.shape[:-2], radon.size, radon.size)
    return torch.from_numpy(out).reshape(shape).to(device=sinogram.device, dtype=sinogram.dtype)


def fista(
    op: LinearOperator,
    y: torch.Tensor,
    prox: Prox,
    iters: int = 100,
    *,
    step: float | None = None,
    x0: torch.Tensor | None = None,
    tol: float = 0.0,
) -> torch.Tensor:
    """FISTA on ``1/2 ||A x - y||^2 + g(x)``, ``prox(v, t)`` the proximal map of ``t g``.

    ``step`` defaults to ``1 / ||A||^2`` (power iteration). Starts from ``x0`` or zero (the first iterate
    is then ``prox(step A^H y)``, well scaled whatever ``||A||``); stops early when the relative change
    of every item falls below ``tol``.
    """
    if iters < 1:
        raise InvalidInputError(f"iters={iters} must be at least 1")
    x = torch.zeros_like(op.adjoint(y)) if x0 is None else x0.clone()
    if step is None:
        g = torch.Generator(device="cpu").manual_seed(0)
        probe = torch.randn(x[:1].shape, generator=g, dtype=x.real.dtype).to(device=x.device, dtype=x.dtype)
        step = 1.0 / float(op.norm(probe)[0]) ** 2
    if not step > 0:
        raise InvalidInputError(f"step={step} must be positive")
    z, t = x, 1.0
    for _ in range(iters):
        x_new = prox(z - step * op.adjoint(op.forward(z) - y), step)
        t_new = (1 + (1 + 4 * t * t) ** 0.5) / 2
        z = x_new + ((t - 1) / t_new) * (x_new - x)
        change = inner(x_new - x, x_new - x).sqrt() / inner(x_new, x_new).sqrt().clamp_min(1e-30)
        x, t = x_new, t_new
        if tol > 0 and bool((change < tol).all()):
            break
    return x


def _soft(c: torch.Tensor, thr: float) -> torch.Tensor:
    """Soft thresholding; for complex values the magnitude shrinks and the phase is kept."""
    mag = c.abs()
    return c * ((mag - thr).clamp_min(0) / mag.clamp_min(1e-30))


def wavelet_l1(
    lam: float, wavelet: str = "db4", level: int = 3, dims: int = 2, approximation: bool = True
) -> Prox:
    """The prox of ``lam ||W x||_1`` (``W`` an orthonormal periodised wavelet transform over the last
    ``dims`` axes), for :func:`fista`.

    ``approximation=True`` penalises every coefficient, as sigpy's ``L1WaveletRecon``; with ``False`` only
    the details are, and the l1 minimiser is free to move energy into the coarse band's null space
    (measured: with db4 the error then grows with the iterations on a random 4x mask). The sizes must be
    multiples of ``2**level`` so the transform is orthonormal and the prox exact.
    """
    if not lam >= 0:
        raise InvalidInputError(f"lam={lam} must be non-negative")
    wt = WaveletTransform(wavelet, level, dims)

    def prox(v: torch.Tensor, t: float) -> torch.Tensor:
        spatial = tuple(v.shape[-dims:])
        if not wt.is_orthonormal(spatial):
            raise InvalidInputError(
                f"image of size {spatial} is not a multiple of 2**{level}; pad it or lower level"
            )
        flat = v.reshape(-1, 1, *spatial)
        parts = (flat.real, flat.imag) if flat.is_complex() else (flat,)
        coeffs = [wt.wavedec(p, level) for p in parts]
        if len(coeffs) == 2:  # complex: shrink the magnitude of re + i im
            merged = [torch.complex(coeffs[0][0], coeffs[1][0])]
            merged += [
                {k: torch.complex(a[k], b[k]) for k in a} for a, b in zip(coeffs[0][1:], coeffs[1][1:])
            ]
        else:
            merged = coeffs[0]
        coarse = _soft(merged[0], t * lam) if approximation else merged[0]
        shrunk = [coarse] + [{k: _soft(d, t * lam) for k, d in det.items()} for det in merged[1:]]
        if len(coeffs) == 2:
            re = wt.waverec([shrunk[0].real] + [{k: d.real for k, d in s.items()} for s in shrunk[1:]])
            im = wt.waverec([shrunk[0].imag] + [{k: d.imag for k, d in s.items()} for s in shrunk[1:]])
            return torch.complex(re, im).reshape(v.shape)
        return wt.waverec(shrunk).reshape(v.shape)

    return prox


def total_variation(lam: float, dims: int = 2, n_iter: int = 100) -> Prox:
    """The prox of ``lam TV(x)`` (isotropic total variation over the last ``dims`` axes), for :func:`fista`,
    by Chambolle's algorithm (``skimage.restoration.denoise_tv_chambolle`` with ``weight = t lam``).

    Complex images are regularised by the TV of their real and imaginary parts, each shrunk separately.
    """
    from skimage.restoration import denoise_tv_chambolle

    if not lam >= 0:
        raise InvalidInputError(f"lam={lam} must be non-negative")

    def prox(v: torch.Tensor, t: float) -> torch.Tensor:
        if lam == 0:
            return v
        spatial = tuple(v.shape[-dims:])
        flat = v.detach().cpu().reshape(-1, *spatial)
        parts = (flat.real, flat.imag) if flat.is_complex() else (flat,)
        out = []
        for p in parts:
            arr = p.to(torch.float64).numpy()
            den = np.stack(
                [denoise_tv_chambolle(a, weight=t * lam, eps=1e-5, max_num_iter=n_iter) for a in arr]
            )
            out.append(torch.from_numpy(den))
        res = torch.complex(out[0], out[1]) if len(out) == 2 else out[0]
        return res.reshape(v.shape).to(device=v.device, dtype=v.dtype)

    return prox
