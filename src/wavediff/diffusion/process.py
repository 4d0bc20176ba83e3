"""Noise processes in the EDM formulation (Karras et al. 2022), with sigma as the one currency.

:class:`EDMProcess` corrupts clean data as ``x_sigma = x0 + sigma * n``. :class:`ResidualProcess` is the
restoration process of the SGMSE+/ResShift/RDDM/IR-SDE family: its path also shifts the mean from the
clean signal to the degraded observation ``y``,

    ``x_sigma = x0 + (sigma / sigma_max) * (y - x0) + sigma * n``,

so at ``sigma_max`` it is ``y + sigma_max * n`` and the reverse path starts from the observation with a
small ``sigma_max`` instead of pure noise. The path is linear in sigma, ``x_sigma = x0 + sigma * v`` with
``v = (y - x0) / sigma_max + n``, so ``dx/dsigma = (x - E[x0 | x_sigma, y]) / sigma``: exactly the EDM
probability-flow ODE with the conditional denoiser (flow matching / stochastic interpolants give this
for any coupling of ``x0`` and ``v``). Every ODE sampler of :mod:`wavediff.diffusion.samplers` therefore
serves both processes unchanged; only the training corruption and the starting state differ.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import torch

from ..errors import ConfigError, InvalidInputError, ShapeError

__all__ = ["EDMProcess", "ResidualProcess", "karras_sigmas", "process_from_config"]


def karras_sigmas(
    n_steps: int,
    sigma_min: float,
    sigma_max: float,
    rho: float = 7.0,
    *,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """EDM time steps ``(sigma_max^(1/rho) + i/(N-1) (sigma_min^(1/rho) - sigma_max^(1/rho)))^rho`` then 0.

    Returns ``n_steps + 1`` decreasing noise levels ending with 0 (EDM eq. 5). ``n_steps=1`` gives
    ``[sigma_max, 0]``.
    """
    if not isinstance(n_steps, int) or n_steps < 1:
        raise InvalidInputError(f"n_steps={n_steps!r} must be a positive integer")
    if not (0 < sigma_min <= sigma_max):
        raise InvalidInputError(f"need 0 < sigma_min <= sigma_max, got sigma_min={sigma_min}, sigma_max={sigma_max}")
    if n_steps == 1:
        ramp = torch.zeros(1, dtype=dtype, device=device)
    else:
        ramp = torch.arange(n_steps, dtype=dtype, device=device) / (n_steps - 1)
    lo, hi = sigma_min ** (1 / rho), sigma_max ** (1 / rho)
    sigmas = (hi + ramp * (lo - hi)) ** rho
    sigmas[0] = sigma_max  # exact endpoints, free of rounding in the power
    if n_steps > 1:
        sigmas[-1] = sigma_min
    return torch.cat([sigmas, sigmas.new_zeros(1)])


@dataclass
class EDMProcess:
    """Variance-exploding process of EDM with its preconditioning and loss weighting.

    Parameters
    ----------
    sigma_data : float
        Standard deviation of the (normalised) clean data; 0.5 in EDM, 1.0 for unit-scaled rooms.
    P_mean, P_std : float
        Training noise levels are ``exp(N(P_mean, P_std^2))`` (log-normal).
    sigma_min, sigma_max : float
        Range of noise levels used for sampling (and clipping the training distribution).

    Examples
    --------
    >>> proc = EDMProcess(sigma_data=1.0)
    >>> c_skip, c_out, c_in, c_noise = proc.preconditioning(torch.tensor([1.0]))
    >>> float(c_skip), round(float(c_out), 4), round(float(c_in), 4)
    (0.5, 0.7071, 0.7071)
    """

    sigma_data: float = 0.5
    P_mean: float = -1.2
    P_std: float = 1.2
    sigma_min: float = 0.002
    sigma_max: float = 80.0

    kind = "edm"
    needs_observation = False

    def __post_init__(self) -> None:
        for name in ("sigma_data", "P_std", "sigma_min", "sigma_max"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ConfigError(f"{name}={value!r} must be a positive finite number")
        if self.sigma_min >= self.sigma_max:
            raise ConfigError(f"sigma_min={self.sigma_min} must be below sigma_max={self.sigma_max}")

    # ------------------------------------------------------------------ EDM table 1
    def preconditioning(self, sigma: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(c_skip, c_out, c_in, c_noise)`` of EDM table 1 for noise levels ``sigma``."""
        sd = self.sigma_data
        c_skip = sd**2 / (sigma**2 + sd**2)
        c_out = sigma * sd / (sigma**2 + sd**2).sqrt()
        c_in = 1 / (sd**2 + sigma**2).sqrt()
        c_noise = sigma.log() / 4
        return c_skip, c_out, c_in, c_noise

    def loss_weight(self, sigma: torch.Tensor) -> torch.Tensor:
        """``lambda(sigma) = (sigma^2 + sigma_data^2) / (sigma sigma_data)^2``: unit effective weight."""
        return (sigma**2 + self.sigma_data**2) / (sigma * self.sigma_data) ** 2

    def sample_sigma(self, n: int, generator: torch.Generator | None = None, device: Any = None) -> torch.Tensor:
        """Training noise levels: log-normal ``exp(P_mean + P_std * N(0, 1))``, clipped to the sampling range."""
        z = torch.randn(n, generator=generator, device=device if generator is None else generator.device)
        return (self.P_mean + self.P_std * z).exp().clamp(self.sigma_min, self.sigma_max).to(device)

    # ------------------------------------------------------------------ paths
    def perturb(self, x0: torch.Tensor, sigma: torch.Tensor, noise: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """The forward path: ``x0 + sigma * noise``."""
        return x0 + _bcast(sigma, x0) * noise

    def renoise(self, x: torch.Tensor, sigma: Any, sigma_hat: Any, noise: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """A state at ``sigma_hat >= sigma`` drawn from ``x`` at ``sigma``: ``x + sqrt(sigma_hat^2 - sigma^2) noise``.

        The path's distribution at ``sigma_hat`` follows for every clean signal (EDM's churn).
        """
        sigma, sigma_hat = _bcast(sigma, x), _bcast(sigma_hat, x)
        return x + (sigma_hat**2 - sigma**2).clamp(min=0).sqrt() * noise

    def prior_sample(
        self,
        shape: tuple[int, ...],
        y: torch.Tensor | None = None,
        *,
        sigma: float | None = None,
        generator: torch.Generator | None = None,
        device: Any = None,
        dtype: torch.dtype = torch.float32,
    ) -> torch.Tensor:
        """A state at noise level ``sigma`` (default ``sigma_max``) to start the reverse path from.

        With ``y`` given (restoration by a Gaussian process, SDEdit style), it is ``y + sigma * n``;
        without, ``sigma * n``.
        """
        sigma = self.sigma_max if sigma is None else float(sigma)
        if y is not None:
            device, dtype, shape = y.device, y.dtype, tuple(y.shape)
        noise = torch.randn(shape, generator=generator, device=device if generator is None else generator.device, dtype=dtype)
        noise = noise.to(device)
        return (y if y is not None else 0.0) + sigma * noise

    def sigmas(self, n_steps: int, sigma_max: float | None = None, rho: float = 7.0, **kwargs: Any) -> torch.Tensor:
        """Sampling schedule from ``sigma_max`` (default the process's) down to 0."""
        top = self.sigma_max if sigma_max is None else float(sigma_max)
        return karras_sigmas(n_steps, min(self.sigma_min, top), top, rho, **kwargs)

    # ------------------------------------------------------------------ loss
    def loss(
        self,
        denoiser: Any,
        x0: torch.Tensor,
        cond: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """EDM's weighted denoising loss ``E[lambda(sigma) ||D(x_sigma, sigma, cond) - x0||^2]`` (mean per element)."""
        sigma = self.sample_sigma(x0.shape[0], generator, device=x0.device).to(x0.dtype)
        noise = torch.randn(x0.shape, generator=generator, device=x0.device if generator is None else generator.device, dtype=x0.dtype)
        y = self._observation(x0, cond)
        x_sigma = self.perturb(x0, sigma, noise.to(x0.device), y)
        denoised = denoiser(x_sigma, sigma, cond)
        per_sample = ((denoised - x0) ** 2).flatten(1).mean(dim=1)
        return (self.loss_weight(sigma) * per_sample).mean()

    def _observation(self, x0: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor | None:
        return None

    def config(self) -> dict[str, Any]:
        return {"kind": self.kind, **asdict(self)}


@dataclass
class ResidualProcess(EDMProcess):
    """Mean-reverting restoration process: the forward path ends at ``y + sigma_max * n``.

    ``cond`` must start with the degraded observation ``y`` (same channels as ``x0``); further
    channels (masks, side information) may follow and are passed to the network untouched.
    ``sigma_max`` should be of the order of the residual ``y - x0`` (default 1 on unit-scaled data).

    Training levels are ``exp(N(P_mean, P_std^2))`` clipped to ``[sigma_min, sigma_max]``, so the
    share ``1 - Phi((log sigma_max - P_mean) / P_std)`` of them sits exactly at ``sigma_max``: about
    16 % with the defaults (``P_mean = -1``, ``P_std = 1``, ``sigma_max = 1``: ``1 - Phi(1) = 0.159``).
    Those draws train ``D(y + sigma_max n, sigma_max) = E[x0 | y]``, the posterior mean that
    :meth:`wavediff.Restorer.posterior_mean_tensor` reads in one network evaluation; a recipe that
    moves ``P_mean`` far below ``log sigma_max`` leaves that estimate untrained.

    Examples
    --------
    >>> proc = ResidualProcess()
    >>> s = proc.sample_sigma(100_000, torch.Generator().manual_seed(0))
    >>> round(float((s == proc.sigma_max).double().mean()), 2)
    0.16
    """

    sigma_max: float = 1.0
    P_mean: float = -1.0
    P_std: float = 1.0

    kind = "residual"
    needs_observation = True

    def perturb(self, x0: torch.Tensor, sigma: torch.Tensor, noise: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """``x0 + (sigma / sigma_max)(y - x0) + sigma * noise``."""
        if y is None:
            raise InvalidInputError("the residual process needs the degraded observation y (pass cond)")
        s = _bcast(sigma, x0)
        return x0 + (s / self.sigma_max) * (y - x0) + s * noise

    def renoise(self, x: torch.Tensor, sigma: Any, sigma_hat: Any, noise: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """A state at ``sigma_hat`` in ``[sigma, sigma_max]`` drawn from ``x`` at ``sigma``, exactly on the path.

        ``x_hat = a x + b y + c noise`` with ``a = (sigma_max - sigma_hat) / (sigma_max - sigma)``,
        ``b = (sigma_hat - a sigma) / sigma_max`` and ``c^2 = sigma_hat^2 - a^2 sigma^2``: for every
        clean ``x0`` it has the mean ``x0 + (sigma_hat / sigma_max)(y - x0)`` and the variance
        ``sigma_hat^2`` of the path, so raising the level also moves the mean toward ``y``.
        """
        if y is None:
            raise InvalidInputError("the residual path moves toward the observation: pass y")
        sigma, sigma_hat = _bcast(sigma, x), _bcast(sigma_hat, x)
        m = self.sigma_max
        if bool((sigma_hat > m * (1 + 1e-12)).any()) or bool((sigma_hat < sigma).any()):
            raise InvalidInputError(f"renoise needs sigma <= sigma_hat <= sigma_max = {m}")
        if bool((sigma >= m).all()):
            return x.clone()
        a = (m - sigma_hat) / (m - sigma)
        b = (sigma_hat - a * sigma) / m
        c = (sigma_hat**2 - (a * sigma) ** 2).clamp(min=0).sqrt()
        return a * x + b * y + c * noise

    def prior_sample(self, shape: tuple[int, ...], y: torch.Tensor | None = None, **kwargs: Any) -> torch.Tensor:
        if y is None:
            raise InvalidInputError("the residual process starts from the observation: pass y")
        if kwargs.get("sigma") not in (None, self.sigma_max):
            raise InvalidInputError("the residual path reaches y + noise only at sigma_max; start there")
        return super().prior_sample(shape, y, **kwargs)

    def _observation(self, x0: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
        if cond is None or cond.shape[1] < x0.shape[1] or cond.shape[2:] != x0.shape[2:]:
            got = None if cond is None else tuple(cond.shape)
            raise ShapeError(
                f"the residual process needs cond starting with the observation y of shape {tuple(x0.shape)}; got {got}"
            )
        return cond[:, : x0.shape[1]]


def process_from_config(config: dict[str, Any]) -> EDMProcess:
    """Rebuild a process from :meth:`EDMProcess.config` output."""
    config = dict(config)
    kind = config.pop("kind", "edm")
    classes = {"edm": EDMProcess, "residual": ResidualProcess}
    if kind not in classes:
        raise ConfigError(f"unknown process kind {kind!r}; use one of {sorted(classes)}")
    try:
        return classes[kind](**config)
    except TypeError as exc:
        raise ConfigError(f"invalid process configuration {config}: {exc}") from exc


def _bcast(sigma: torch.Tensor | float, like: torch.Tensor) -> torch.Tensor:
    sigma = torch.as_tensor(sigma, dtype=like.dtype, device=like.device)
    if sigma.ndim == 0:
        return sigma
    return sigma.reshape(-1, *([1] * (like.ndim - 1)))
