"""What a room's measurement ``y`` is: a linear operator and a noise model, and the one restore API.

A :class:`Measurement` pairs a :class:`~wavediff.operators.LinearOperator` ``A`` (None: the identity,
denoising) with a noise model:

- ``'gaussian'``: ``y = A x + sigma eps`` (``sigma`` in every real component when ``A x`` is complex);
- ``'rician'``: the magnitude ``y = |A x + sigma (eps1 + i eps2)|`` (MRI magnitude images);
- ``'poisson'``: transmission (CT): ``counts ~ Poisson(I0 exp(-A x))`` with ``I0 = counts`` incident
  photons per ray, stored post-log as ``y = -log(max(counts, 0.5) / I0)``.

:meth:`Measurement.restore` serves both routes with one call: a conditional model trained on pairs for
this fixed operator (``conditional=``), or the unconditional prior ``denoiser`` with measurement guidance
(:func:`wavediff.diffusion.guidance.posterior`) for any operator without retraining, on the Gaussian
surrogate of :meth:`Measurement.gaussianised`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from .errors import InvalidInputError, ShapeError
from .operators import LinearOperator

__all__ = ["Measurement", "NOISE_MODELS"]

NOISE_MODELS = ("gaussian", "rician", "poisson")


class _Identity(LinearOperator):
    """``y = x``: the operator of a room that denoises in place."""

    isometric_range = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        return y


class _Whitened(LinearOperator):
    """``diag(w) A``: ``A`` with each measurement scaled by ``w = 1 / s`` (per-element noise ``s`` made unit).

    ``w`` has the shape of one batch of measurements; a batch ``K`` times larger (the draws of
    :func:`~wavediff.diffusion.guidance.posterior`, item-major) repeats it, a smaller one (a probe) takes
    its first rows.
    """

    def __init__(self, op: LinearOperator, w: torch.Tensor):
        self.op, self.w = op, w

    def _w(self, like: torch.Tensor) -> torch.Tensor:
        w, n = self.w.to(device=like.device, dtype=like.real.dtype), like.shape[0]
        if n == w.shape[0]:
            return w
        return (
            w.repeat_interleave(n // w.shape[0], dim=0) if n % w.shape[0] == 0 and n > w.shape[0] else w[:n]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.op(x)
        return self._w(y) * y

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        return self.op.adjoint(self._w(y) * y)

    def solve(self, y, lam=0.0, x0=None, *, init=None, iters=100, tol=1e-6):
        """Closed form on the identity (a diagonal system), conjugate gradients otherwise."""
        if not isinstance(self.op, _Identity):
            return super().solve(y, lam, x0, init=init, iters=iters, tol=tol)
        w = self._w(y)
        lam_b = torch.as_tensor(lam, dtype=w.dtype, device=w.device).reshape(-1, *([1] * (w.ndim - 1)))
        rhs = w * y + (lam_b * x0 if x0 is not None else 0.0)
        return rhs / (w**2 + lam_b)


def _real_randn(like: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    return torch.randn(like.shape, generator=generator, dtype=like.real.dtype, device=like.device)


def _per_item_sum(v: torch.Tensor) -> torch.Tensor:
    return v.reshape(v.shape[0], -1).sum(-1)


@dataclass(frozen=True)
class Measurement:
    """The operator and noise model of a room's measurements ``y``.

    Parameters
    ----------
    operator : LinearOperator or None
        ``A``; None is the identity (the room denoises in place).
    noise : {'gaussian', 'rician', 'poisson'}
        The noise model (module docstring).
    sigma : float
        Gaussian and Rician only: the noise level, ``>= 0``; for Rician that of the underlying complex
        Gaussian in each real component.
    counts : float
        Poisson only: the incident photons ``I0 > 0`` per ray.

    Examples
    --------
    >>> import torch
    >>> m = Measurement(noise="gaussian", sigma=0.0)
    >>> m.simulate(torch.ones(1, 3))
    tensor([[1., 1., 1.]])
    """

    operator: LinearOperator | None = None
    noise: str = "gaussian"
    sigma: float | None = None
    counts: float | None = None

    def __post_init__(self) -> None:
        if self.operator is not None and not isinstance(self.operator, LinearOperator):
            raise InvalidInputError(
                f"operator is a {type(self.operator).__name__}; pass a wavediff.operators.LinearOperator, "
                "or None for the identity (denoising)"
            )
        if self.noise not in NOISE_MODELS:
            raise InvalidInputError(f"unknown noise model {self.noise!r}; use one of {list(NOISE_MODELS)}")
        if self.noise == "poisson":
            if self.sigma is not None:
                raise InvalidInputError(
                    "sigma is for Gaussian and Rician noise; Poisson noise follows from counts, so drop sigma"
                )
            if self.counts is None:
                raise InvalidInputError(
                    "Poisson transmission needs counts: the incident photons I0 per ray (> 0)"
                )
            counts = float(self.counts)
            if not (math.isfinite(counts) and counts > 0):
                raise InvalidInputError(f"counts={self.counts} must be a finite number of photons > 0")
            object.__setattr__(self, "counts", counts)
            return
        if self.counts is not None:
            raise InvalidInputError(
                f"counts is for Poisson transmission; {self.noise} noise takes sigma only, so drop counts"
            )
        if self.sigma is None:
            raise InvalidInputError(f"{self.noise} noise needs sigma, its level (a float >= 0)")
        sigma = float(self.sigma)
        if not (math.isfinite(sigma) and sigma >= 0):
            raise InvalidInputError(f"sigma={self.sigma} must be a finite noise level >= 0")
        object.__setattr__(self, "sigma", sigma)

    # ---------------------------------------------------------------- the forward model
    @property
    def op(self) -> LinearOperator:
        """``A``, the identity where ``operator`` is None."""
        return self.operator if self.operator is not None else _Identity()

    def _ax(self, x: torch.Tensor) -> torch.Tensor:
        ax = self.op(torch.as_tensor(x))
        if self.noise == "poisson" and ax.is_complex():
            raise InvalidInputError(
                "Poisson transmission needs real line integrals A x; this operator is complex"
            )
        return ax

    def simulate(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """A draw of ``y`` given the batch ``x`` (first axis: batch), reproducible from ``generator``.

        Poisson: zero counts are floored at 0.5 before the log (the usual CT convention, which keeps
        ``y`` finite); :meth:`counts_from` undoes the floor.
        """
        ax = self._ax(x)
        if self.noise == "gaussian":
            eps = _real_randn(ax, generator)
            if ax.is_complex():
                eps = torch.complex(eps, _real_randn(ax, generator))
            return ax + self.sigma * eps
        if self.noise == "rician":
            e1, e2 = _real_randn(ax, generator), _real_randn(ax, generator)
            return (ax + self.sigma * torch.complex(e1, e2)).abs()
        counts = torch.poisson(self.counts * torch.exp(-ax), generator=generator)
        return -torch.log(counts.clamp_min(0.5) / self.counts)

    def counts_from(self, y: torch.Tensor) -> torch.Tensor:
        """Poisson: the integer counts behind post-log ``y``, ``floor(I0 exp(-y) + 0.25)`` (the 0.5 floor
        maps back to 0). Exact while ``I0 exp(-y)`` is accurate to 0.25 (float64 or modest counts)."""
        if self.noise != "poisson":
            raise InvalidInputError(
                f"counts_from is for Poisson transmission; this measurement is {self.noise}"
            )
        return torch.floor(self.counts * torch.exp(-torch.as_tensor(y)) + 0.25)

    def log_likelihood(self, y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``log p(y | x)`` per batch item (shape ``(batch,)``), exact and differentiable in ``x``.

        Gaussian: the normal density of every real component. Rician: ``log(y / s^2) - (y^2 + nu^2) / (2 s^2)
        + log I0(y nu / s^2)``, ``nu = |A x|``, with ``log I0(z) = log(i0e(z)) + z`` (stable for large ``z``).
        Poisson: the probability of the counts recovered from ``y`` by :meth:`counts_from` under rates
        ``I0 exp(-A x)`` (a probability mass, not a density of ``y``).
        """
        y = torch.as_tensor(y)
        ax = self._ax(x)
        if ax.shape != y.shape:
            raise ShapeError(
                f"y has shape {tuple(y.shape)} but A x has shape {tuple(ax.shape)}; pass matching batches"
            )
        if self.noise == "poisson":
            k = self.counts_from(y)
            ll = k * (math.log(self.counts) - ax) - self.counts * torch.exp(-ax) - torch.lgamma(k + 1)
            return _per_item_sum(ll)
        if self.sigma == 0:
            raise InvalidInputError(
                "with sigma = 0 the likelihood is degenerate; give the noise level sigma > 0"
            )
        s2 = self.sigma**2
        if self.noise == "gaussian":
            r = torch.view_as_real(y - ax) if (y - ax).is_complex() else y - ax
            n = r[0].numel()
            return -0.5 * _per_item_sum(r**2) / s2 - 0.5 * n * math.log(2 * math.pi * s2)
        if y.is_complex() or bool((y < 0).any()):
            raise InvalidInputError("Rician measurements are magnitudes: pass real y >= 0")
        nu = ax.abs()
        z = y * nu / s2
        # - (y^2 + nu^2) / (2 s^2) + z = - (y - nu)^2 / (2 s^2): no cancellation of large terms at high SNR
        ll = torch.log(y / s2) - (y - nu) ** 2 / (2 * s2) + torch.log(torch.special.i0e(z))
        return _per_item_sum(ll)

    # ---------------------------------------------------------------- the Gaussian surrogate and restore
    def gaussianised(self, y: torch.Tensor) -> tuple[torch.Tensor, float | torch.Tensor, torch.Tensor | None]:
        """``(y_g, sigma_g, weights)``: data the linear samplers treat as ``y_g = A x + N(0, sigma_g^2)``.

        - Gaussian: ``(y, sigma, None)``.
        - Rician: the bias-corrected magnitude ``sqrt(max(y^2 - sigma^2, 0))`` and ``sigma`` (Gudbjartsson
          & Patz 1995), for real non-negative ``A x`` (magnitude images). A high-SNR approximation: the
          magnitude's bias ``sigma^2 / (2 nu)`` cancels to second order, but it is biased at low SNR (the
          Rician floor). ``y^2 - 2 sigma^2`` is the unbiased estimate of ``nu^2``, not of ``nu``: its
          square root is as biased as ``y``, so it is not used.
        - Poisson: ``y`` itself, a per-element ``sigma_g = sqrt(1 / c)`` and ``weights = c``, with
          ``c = I0 exp(-y)`` the estimated counts per ray: the post-log noise variance is ``1 / c`` to
          first order (the floored zero counts get variance 2).
        """
        y = torch.as_tensor(y)
        if self.noise == "gaussian":
            return y, self.sigma, None
        if self.noise == "rician":
            return torch.sqrt((y**2 - self.sigma**2).clamp_min(0)), self.sigma, None
        counts = self.counts * torch.exp(-y)
        return y, torch.sqrt(1.0 / counts), counts

    def restore(
        self,
        denoiser: Callable[..., torch.Tensor] | None,
        y: torch.Tensor,
        *,
        method: str = "split_gibbs",
        n_draws: int = 8,
        conditional: Callable[[torch.Tensor, int], Any] | None = None,
        **kw: Any,
    ) -> Any:
        """Posterior draws of ``x`` given ``y``: the one API of both routes.

        With ``conditional`` (a model trained on pairs for this fixed operator, called as
        ``conditional(y, n_draws)``) its result is returned as is. Otherwise the unconditional prior
        ``denoiser`` is guided by :func:`~wavediff.diffusion.guidance.posterior` (``method``, ``**kw``) on
        :meth:`gaussianised` data; a per-element noise level ``s`` (Poisson) is whitened away
        (``y / s`` under ``diag(1 / s) A``, unit noise). Returns its
        :class:`~wavediff.diffusion.guidance.PosteriorResult`.
        """
        if conditional is not None:
            return conditional(y, n_draws)
        if denoiser is None:
            raise InvalidInputError(
                "pass a prior denoiser (unconditional route) or conditional= (a paired model)"
            )
        from .diffusion.guidance import posterior

        y_g, sigma, _ = self.gaussianised(y)
        op = self.op
        if isinstance(sigma, torch.Tensor):
            w = 1.0 / sigma
            y_g, op, sigma = y_g * w, _Whitened(op, w), 1.0
        kw.setdefault("progress", False)
        return posterior(method, denoiser, y_g, op, sigma, n_draws, **kw)
