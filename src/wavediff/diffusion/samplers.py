"""Samplers: plain functions ``(denoiser, x, sigmas, cond) -> SampleResult``.

They know nothing about networks, modalities or files. ``denoiser(x, sigma, cond)`` returns the
estimate of the clean signal; ``x`` is the state at noise level ``sigmas[0]`` (pure noise times
``sigma_max`` for generation, or an observation plus noise for restoration), and ``sigmas`` decreases
to 0 (see :func:`~wavediff.diffusion.process.karras_sigmas`). Every sampler counts network evaluations
(NFE) and can return the clean estimate of each evaluation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

from ..errors import InvalidInputError

__all__ = ["SampleResult", "heun", "dpmpp_2m", "edm_stochastic", "SAMPLERS", "sample"]

DenoiserFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None], torch.Tensor]


@dataclass
class SampleResult:
    """Final state ``x``, the number of network evaluations ``nfe`` and, on request, the x0 estimates."""

    x: torch.Tensor
    nfe: int
    x0s: list[torch.Tensor] = field(default_factory=list)


class _Counted:
    """Wraps a denoiser to count evaluations and keep x0 estimates."""

    def __init__(self, denoiser: DenoiserFn, cond: torch.Tensor | None, keep: bool):
        self.denoiser, self.cond, self.keep = denoiser, cond, keep
        self.nfe, self.x0s = 0, []

    def __call__(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        self.nfe += 1
        out = self.denoiser(x, sigma.to(x.dtype).expand(x.shape[0]), self.cond)
        if self.keep:
            self.x0s.append(out.detach().clone())
        return out


def _check(x: torch.Tensor, sigmas: torch.Tensor) -> torch.Tensor:
    sigmas = torch.as_tensor(sigmas, dtype=torch.float64, device=x.device)
    if sigmas.ndim != 1 or sigmas.numel() < 2:
        raise InvalidInputError("sigmas must be a 1-D sequence of at least two noise levels (ending at 0)")
    if bool((sigmas[1:] > sigmas[:-1]).any()) or bool((sigmas < 0).any()):
        raise InvalidInputError("sigmas must be non-negative and non-increasing, e.g. process.sigmas(n_steps)")
    if not bool(torch.isfinite(x).all()):
        raise InvalidInputError("the starting state contains NaN or inf")
    return sigmas


@torch.no_grad()
def edm_stochastic(
    denoiser: DenoiserFn,
    x: torch.Tensor,
    sigmas: torch.Tensor,
    cond: torch.Tensor | None = None,
    *,
    churn: float = 0.0,
    s_tmin: float = 0.0,
    s_tmax: float = math.inf,
    s_noise: float = 1.0,
    generator: torch.Generator | None = None,
    return_x0: bool = False,
    progress: bool = False,
) -> SampleResult:
    """EDM Algorithm 2: Heun steps with optional "churn" (noise added then removed at each step).

    ``churn`` is EDM's ``S_churn``: at each step with ``s_tmin <= sigma <= s_tmax`` the level is raised
    by ``gamma = min(churn / N, sqrt(2) - 1)`` with fresh noise scaled by ``s_noise``. ``churn=0`` is
    the deterministic Heun sampler. NFE = ``2N - 1`` for ``N`` steps ending at 0.
    """
    sigmas = _check(x, sigmas)
    model = _Counted(denoiser, cond, return_x0)
    n = len(sigmas) - 1
    for i in tqdm(range(n), disable=not progress, desc="sampling", leave=False):
        s_cur, s_next = sigmas[i], sigmas[i + 1]
        gamma = min(churn / n, math.sqrt(2) - 1) if s_tmin <= s_cur <= s_tmax else 0.0
        s_hat = s_cur * (1 + gamma)
        if gamma > 0:
            eps = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=generator.device if generator else x.device)
            x = x + (s_hat**2 - s_cur**2).sqrt().to(x.dtype) * s_noise * eps.to(x.device)
        d_cur = (x - model(x, s_hat)) / s_hat.to(x.dtype)
        x_next = x + (s_next - s_hat).to(x.dtype) * d_cur
        if s_next > 0:  # second-order correction (skipped on the last step to 0)
            d_next = (x_next - model(x_next, s_next)) / s_next.to(x.dtype)
            x_next = x + (s_next - s_hat).to(x.dtype) * (0.5 * d_cur + 0.5 * d_next)
        x = x_next
    return SampleResult(x, model.nfe, model.x0s)


def heun(
    denoiser: DenoiserFn,
    x: torch.Tensor,
    sigmas: torch.Tensor,
    cond: torch.Tensor | None = None,
    *,
    return_x0: bool = False,
    progress: bool = False,
) -> SampleResult:
    """Deterministic EDM Heun sampler (2nd order); NFE = ``2N - 1`` for ``N`` steps."""
    return edm_stochastic(denoiser, x, sigmas, cond, churn=0.0, return_x0=return_x0, progress=progress)


@torch.no_grad()
def dpmpp_2m(
    denoiser: DenoiserFn,
    x: torch.Tensor,
    sigmas: torch.Tensor,
    cond: torch.Tensor | None = None,
    *,
    return_x0: bool = False,
    progress: bool = False,
) -> SampleResult:
    """DPM-Solver++(2M) (Lu et al. 2022), multistep 2nd order in ``t = -log sigma``; NFE = ``N``.

    Each step solves the ODE exactly for a denoised estimate that is linear in ``t``, extrapolated
    from the current and previous evaluations; the first and the last step (to 0) are first order.
    """
    sigmas = _check(x, sigmas)
    model = _Counted(denoiser, cond, return_x0)
    previous: torch.Tensor | None = None
    for i in tqdm(range(len(sigmas) - 1), disable=not progress, desc="sampling", leave=False):
        s_cur, s_next = sigmas[i], sigmas[i + 1]
        denoised = model(x, s_cur)
        if s_next == 0:
            x = denoised
            break
        h = (s_cur / s_next).log()  # t_next - t with t = -log(sigma)
        if previous is None:
            d = denoised
        else:
            r = (sigmas[i - 1] / s_cur).log() / h
            d = (1 + 1 / (2 * r)).to(x.dtype) * denoised - (1 / (2 * r)).to(x.dtype) * previous
        x = (s_next / s_cur).to(x.dtype) * x - torch.expm1(-h).to(x.dtype) * d
        previous = denoised
    return SampleResult(x, model.nfe, model.x0s)


SAMPLERS: dict[str, Callable[..., SampleResult]] = {"heun": heun, "dpmpp_2m": dpmpp_2m, "stochastic": edm_stochastic}


def sample(name: str, denoiser: DenoiserFn, x: torch.Tensor, sigmas: torch.Tensor, cond: torch.Tensor | None = None, **kwargs) -> SampleResult:
    """Run the sampler called ``name`` (``'heun'``, ``'dpmpp_2m'``, ``'stochastic'``)."""
    if name not in SAMPLERS:
        raise InvalidInputError(f"unknown sampler {name!r}; use one of {sorted(SAMPLERS)}")
    return SAMPLERS[name](denoiser, x, sigmas, cond, **kwargs)
