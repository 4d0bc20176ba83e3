"""Samplers: plain functions ``(denoiser, x, sigmas, cond) -> SampleResult``.

They know nothing about networks, modalities or files. ``denoiser(x, sigma, cond)`` returns the
estimate of the clean signal; ``x`` is the state at noise level ``sigmas[0]`` (pure noise times
``sigma_max`` for generation, or an observation plus noise for restoration), and ``sigmas`` strictly
decreases to 0 (see :func:`~wavediff.diffusion.process.karras_sigmas`). Every sampler counts network
evaluations (NFE) and can return the clean estimate of each evaluation.

The state is carried in float64 whatever the dtype of ``x`` (the denoiser is called with it, and a
:class:`~wavediff.diffusion.Denoiser` runs its network in its own dtype), so that long schedules do
not accumulate rounding; the result comes back in the dtype of ``x``.

Examples
--------
Sampling ``N(0, 4)`` with its exact denoiser, ``E[x0 | x] = 4 x / (4 + sigma^2)``:

>>> import torch
>>> from wavediff.diffusion import GaussianDenoiser, karras_sigmas
>>> den = GaussianDenoiser(torch.zeros(1), torch.full((1, 1), 4.0))
>>> g = torch.Generator().manual_seed(0)
>>> x = torch.randn(20000, 1, generator=g, dtype=torch.float64) * (4 + 5.0**2) ** 0.5  # the marginal at sigma 5
>>> out = heun(den, x, karras_sigmas(18, 0.01, 5.0))
>>> out.nfe, round(float(out.x.std()), 1)
(35, 2.0)
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from tqdm.auto import tqdm

from ..errors import InvalidInputError

__all__ = ["SampleResult", "heun", "dpmpp_2m", "edm_stochastic", "SAMPLERS", "sample", "evaluations"]

DenoiserFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None], torch.Tensor]


@dataclass
class SampleResult:
    """Final state ``x``, the number of network evaluations ``nfe`` and, on request, the x0 estimates."""

    x: torch.Tensor
    nfe: int
    x0s: list[torch.Tensor] = field(default_factory=list)


class _Counted:
    """Wraps a denoiser to count evaluations and keep x0 estimates (float64, like the state)."""

    def __init__(self, denoiser: DenoiserFn, cond: torch.Tensor | None, keep: bool):
        self.denoiser, self.cond, self.keep = denoiser, cond, keep
        self.nfe, self.x0s = 0, []

    def __call__(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        self.nfe += 1
        out = self.denoiser(x, sigma.to(x.dtype).expand(x.shape[0]), self.cond).to(torch.float64)
        if self.keep:
            self.x0s.append(out.detach().clone())
        return out


def _check(x: torch.Tensor, sigmas: torch.Tensor) -> torch.Tensor:
    sigmas = torch.as_tensor(sigmas, dtype=torch.float64, device=x.device)
    if sigmas.ndim != 1 or sigmas.numel() < 2:
        raise InvalidInputError("sigmas must be a 1-D sequence of at least two noise levels (ending at 0)")
    if not bool(torch.isfinite(sigmas).all()) or bool((sigmas < 0).any()):
        raise InvalidInputError("sigmas must be finite and non-negative, e.g. process.sigmas(n_steps)")
    steps = sigmas[1:] - sigmas[:-1]
    if bool((steps >= 0).any()):
        i = int(torch.nonzero(steps >= 0)[0])
        raise InvalidInputError(
            f"sigmas must strictly decrease; sigmas[{i}] = {float(sigmas[i]):g} is followed by "
            f"{float(sigmas[i + 1]):g} (a repeated level is a step of length zero): use process.sigmas(n_steps)"
        )
    if not bool(torch.isfinite(x).all()):
        raise InvalidInputError("the starting state contains NaN or inf")
    return sigmas


def _renoise(
    process: Any, x: torch.Tensor, s_cur: torch.Tensor, s_hat: torch.Tensor, eps: torch.Tensor, cond: torch.Tensor | None
) -> torch.Tensor:
    """The state at ``s_hat > s_cur`` drawn from the one at ``s_cur`` along the process's own path
    (the Gaussian process's when there is none)."""
    if process is None:
        return x + (s_hat**2 - s_cur**2).sqrt() * eps
    y = None
    if getattr(process, "needs_observation", False):
        if cond is None:
            raise InvalidInputError("churn along the residual path needs the observation: pass cond")
        y = cond[:, : x.shape[1]].to(x.dtype)
    return process.renoise(x, s_cur, s_hat, eps, y)


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
    process: Any = None,
    generator: torch.Generator | None = None,
    return_x0: bool = False,
    progress: bool = False,
) -> SampleResult:
    """EDM Algorithm 2: Heun steps with optional "churn" (noise added then removed at each step).

    ``churn`` is EDM's ``S_churn``: at each step with ``s_tmin <= sigma <= s_tmax`` the level is raised
    by ``gamma = min(churn / N, sqrt(2) - 1)`` with fresh noise scaled by ``s_noise``. ``churn=0`` is
    the deterministic Heun sampler. NFE = ``2N - 1`` for ``N`` steps ending at 0.

    Raising the level must follow the process's path. For the Gaussian (EDM) process that is adding
    noise of variance ``s_hat^2 - s^2``. For the residual process the mean must also move toward the
    observation: ``process.renoise`` draws ``x_hat = a x + b y + c eps`` with ``a = (sigma_max - s_hat)
    / (sigma_max - s)``, ``b = (s_hat - a s) / sigma_max`` and ``c^2 = s_hat^2 - a^2 s^2``, which has the
    path's distribution at ``s_hat`` for every clean signal, and ``s_hat`` never exceeds ``sigma_max``.
    ``process`` defaults to ``denoiser.process`` (a :class:`~wavediff.diffusion.Denoiser` has one);
    without it the Gaussian process is assumed.

    ``generator`` draws the churn noise, so a run is reproducible from it.
    """
    sigmas = _check(x, sigmas)
    dtype = x.dtype
    x = x.to(torch.float64)
    process = getattr(denoiser, "process", None) if process is None else process
    top = float(getattr(process, "sigma_max", math.inf)) if getattr(process, "needs_observation", False) else math.inf
    model = _Counted(denoiser, cond, return_x0)
    n = len(sigmas) - 1
    for i in tqdm(range(n), disable=not progress, desc="sampling", leave=False):
        s_cur, s_next = sigmas[i], sigmas[i + 1]
        gamma = min(churn / n, math.sqrt(2) - 1) if s_tmin <= s_cur <= s_tmax else 0.0
        s_hat = (s_cur * (1 + gamma)).clamp(max=top)
        if s_hat > s_cur:
            eps = torch.randn(x.shape, generator=generator, dtype=torch.float64, device=generator.device if generator else x.device)
            x = _renoise(process, x, s_cur, s_hat, s_noise * eps.to(x.device), cond)
        d_cur = (x - model(x, s_hat)) / s_hat
        x_next = x + (s_next - s_hat) * d_cur
        if s_next > 0:  # second-order correction (skipped on the last step to 0)
            d_next = (x_next - model(x_next, s_next)) / s_next
            x_next = x + (s_next - s_hat) * (0.5 * d_cur + 0.5 * d_next)
        x = x_next
    return SampleResult(x.to(dtype), model.nfe, model.x0s)


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
    dtype = x.dtype
    x = x.to(torch.float64)
    model = _Counted(denoiser, cond, return_x0)
    previous: torch.Tensor | None = None
    for i in tqdm(range(len(sigmas) - 1), disable=not progress, desc="sampling", leave=False):
        s_cur, s_next = sigmas[i], sigmas[i + 1]
        denoised = model(x, s_cur)
        if s_next == 0:
            x = denoised
            break
        h = (s_cur / s_next).log()  # t_next - t with t = -log(sigma); > 0, the levels strictly decrease
        if previous is None:
            d = denoised
        else:
            r = (sigmas[i - 1] / s_cur).log() / h
            d = (1 + 1 / (2 * r)) * denoised - (1 / (2 * r)) * previous
        x = (s_next / s_cur) * x - torch.expm1(-h) * d
        previous = denoised
    return SampleResult(x.to(dtype), model.nfe, model.x0s)


SAMPLERS: dict[str, Callable[..., SampleResult]] = {"heun": heun, "dpmpp_2m": dpmpp_2m, "stochastic": edm_stochastic}


def sample(name: str, denoiser: DenoiserFn, x: torch.Tensor, sigmas: torch.Tensor, cond: torch.Tensor | None = None, **kwargs: Any) -> SampleResult:
    """Run the sampler called ``name`` (``'heun'``, ``'dpmpp_2m'``, ``'stochastic'``).

    ``generator`` (and ``process``) are passed on to samplers that draw noise and dropped for the
    deterministic ones, so a caller can always hand over its generator.
    """
    if name not in SAMPLERS:
        raise InvalidInputError(f"unknown sampler {name!r}; use one of {sorted(SAMPLERS)}")
    fn = SAMPLERS[name]
    accepted = inspect.signature(fn).parameters
    for optional in ("generator", "process"):
        if optional in kwargs and optional not in accepted:
            kwargs.pop(optional)
    return fn(denoiser, x, sigmas, cond, **kwargs)


def evaluations(name: str, sigmas: torch.Tensor) -> int:
    """Network evaluations the sampler ``name`` makes along ``sigmas`` (per row of the batch), counted by
    running it on a one-element state with a zero denoiser.

    Examples
    --------
    >>> import torch
    >>> sig = torch.tensor([80.0, 10.0, 1.0, 0.0])
    >>> evaluations("dpmpp_2m", sig), evaluations("heun", sig)  # Heun skips its correction at sigma = 0
    (3, 5)
    """
    return sample(name, lambda x, s, c: torch.zeros_like(x), torch.zeros(1, 1, 1), sigmas).nfe
