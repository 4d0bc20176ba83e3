"""Exact denoisers for Gaussian and Gaussian-mixture data: ground truth for samplers and training.

For data ``x0 ~ sum_k w_k N(mu_k, S_k)`` and ``x = x0 + sigma n`` the MMSE denoiser is

    ``E[x0 | x] = sum_k r_k(x) (mu_k + S_k (S_k + sigma^2 I)^-1 (x - mu_k))``,
    ``r_k(x) ∝ w_k N(x; mu_k, S_k + sigma^2 I)``.

:class:`LinearGaussianRestorer` is the exact conditional denoiser ``E[x0 | x_sigma, y]`` for Gaussian
data observed through a linear operator, ``y = A x0 + w``, under either the EDM or the residual
process, so restoration samplers can be checked against closed-form posteriors.

All classes take and return tensors ``(batch, *shape)`` whose trailing elements flatten to dimension
``d``, and compute in float64.

Examples
--------
Tweedie's formula for ``N(0, 4)`` at noise level 1: the MMSE estimate shrinks ``x`` by ``4 / (4 + 1)``.

>>> import torch
>>> den = GaussianDenoiser(torch.zeros(1), torch.full((1, 1), 4.0))
>>> float(den(torch.tensor([[2.5]]), 1.0))
2.0
>>> round(gaussian_mmse(torch.full((1, 1), 4.0), 1.0), 6)  # 4 - 4 * 4 / 5
0.8

The exact posterior of ``y = x0 + w`` for ``x0 ~ N(0, 1)``, ``w ~ N(0, 1)``: mean ``y / 2``, variance 1/2.

>>> from wavediff.diffusion import ResidualProcess
>>> exact = LinearGaussianRestorer(torch.zeros(1), torch.eye(1), torch.eye(1), torch.eye(1), ResidualProcess())
>>> mean, cov = exact.posterior(torch.tensor([[3.0]]))
>>> float(mean), float(cov)
(1.5, 0.5)
"""

from __future__ import annotations

import math

import torch

from ..errors import InvalidInputError, ShapeError
from .process import EDMProcess

__all__ = [
    "GaussianMixtureDenoiser",
    "GaussianDenoiser",
    "LinearGaussianRestorer",
    "gaussian_mmse",
    "gaussian_posterior",
]


def _as64(t: torch.Tensor | list) -> torch.Tensor:
    return torch.as_tensor(t, dtype=torch.float64)


class GaussianMixtureDenoiser:
    """MMSE denoiser of a Gaussian mixture (``weights (K,)``, ``means (K, d)``, ``covs (K, d, d)``)."""

    def __init__(self, weights: torch.Tensor, means: torch.Tensor, covs: torch.Tensor):
        self.weights, self.means, self.covs = _as64(weights), _as64(means), _as64(covs)
        k, d = self.means.shape
        if self.weights.shape != (k,) or self.covs.shape != (k, d, d):
            raise ShapeError("weights (K,), means (K, d) and covs (K, d, d) must agree")
        if not math.isclose(float(self.weights.sum()), 1.0, rel_tol=1e-9) or bool((self.weights <= 0).any()):
            raise InvalidInputError("mixture weights must be positive and sum to 1")
        self.dim = d

    def __call__(self, x: torch.Tensor, sigma: torch.Tensor | float, cond: torch.Tensor | None = None) -> torch.Tensor:
        shape, dtype = x.shape, x.dtype
        flat = x.reshape(shape[0], -1).to(torch.float64)
        if flat.shape[1] != self.dim:
            raise ShapeError(f"x flattens to {flat.shape[1]} elements per item; this mixture has dimension {self.dim}")
        sigma = torch.as_tensor(sigma, dtype=torch.float64).expand(shape[0])
        out = torch.empty_like(flat)
        for s in sigma.unique():
            rows = sigma == s
            out[rows] = self._denoise(flat[rows], float(s))
        return out.reshape(shape).to(dtype)

    def _denoise(self, x: torch.Tensor, sigma: float) -> torch.Tensor:
        eye = torch.eye(self.dim, dtype=torch.float64)
        cov_x = self.covs + sigma**2 * eye  # (K, d, d)
        chol = torch.linalg.cholesky(cov_x)
        diff = x[:, None, :] - self.means[None]  # (B, K, d)
        sol = torch.cholesky_solve(diff.permute(1, 2, 0), chol)  # (K, d, B): cov_x^-1 (x - mu)
        maha = (diff.permute(1, 2, 0) * sol).sum(dim=1).T  # (B, K)
        logdet = 2 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)  # (K,)
        logp = self.weights.log()[None] - 0.5 * (maha + logdet[None])
        resp = torch.softmax(logp, dim=1)  # (B, K)
        post = self.means[None] + torch.einsum("kij,kjb->bki", self.covs, sol)  # (B, K, d)
        return (resp[..., None] * post).sum(dim=1)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Exact samples ``(n, d)`` from the mixture."""
        comp = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        z = torch.randn(n, self.dim, dtype=torch.float64, generator=generator)
        chol = torch.linalg.cholesky(self.covs)
        return self.means[comp] + torch.einsum("nij,nj->ni", chol[comp], z)


class GaussianDenoiser(GaussianMixtureDenoiser):
    """MMSE denoiser of ``N(mean, cov)``: ``mean + cov (cov + sigma^2 I)^-1 (x - mean)``."""

    def __init__(self, mean: torch.Tensor, cov: torch.Tensor):
        mean, cov = _as64(mean), _as64(cov)
        super().__init__(torch.ones(1, dtype=torch.float64), mean[None], cov[None])


def gaussian_mmse(cov: torch.Tensor, sigma: float) -> float:
    """Per-element MMSE of denoising ``N(., cov)`` at level sigma: ``tr(S - S (S + s^2 I)^-1 S) / d``."""
    cov = _as64(cov)
    d = cov.shape[0]
    post = cov - cov @ torch.linalg.solve(cov + sigma**2 * torch.eye(d, dtype=torch.float64), cov)
    return float(torch.trace(post)) / d


def gaussian_posterior(
    mean: torch.Tensor, cov: torch.Tensor, A: torch.Tensor, y: torch.Tensor, sigma_n: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """The exact posterior of real ``x ~ N(mean, cov)`` given ``y = A x + n``: its mean ``(B, d)`` and
    covariance ``(d, d)``.

    ``A`` is ``(m, d)``, real or complex; ``y`` is ``(B, m)``. The noise has standard deviation ``sigma_n``
    in every real component (for complex ``y``: in the real and in the imaginary part), so the
    precision is ``cov^-1 + Re(A^H A) / sigma_n^2``.
    """
    mean, cov = _as64(mean), _as64(cov)
    A = torch.as_tensor(A)
    A = A.to(torch.complex128) if A.is_complex() else A.to(torch.float64)
    y = torch.as_tensor(y).reshape(-1, A.shape[0]).to(A.dtype)
    if cov.shape != (mean.numel(), mean.numel()) or A.shape[1] != mean.numel():
        raise ShapeError("mean (d,), cov (d, d) and A (m, d) must agree")
    if not sigma_n > 0:
        raise InvalidInputError(f"sigma_n={sigma_n} must be > 0 for a Gaussian posterior")
    AhA = (A.conj().T @ A).real
    post = torch.linalg.inv(torch.linalg.inv(cov) + AhA / sigma_n**2)
    post = (post + post.T) / 2
    lin = torch.linalg.solve(cov, mean)[None] + (y @ A.conj()).real / sigma_n**2  # rows: (A^H y)^T
    return lin @ post, post


class LinearGaussianRestorer:
    """Exact ``E[x0 | x_sigma, y]`` for ``x0 ~ N(mean, cov)``, ``y = A x0 + w``, ``w ~ N(0, noise_cov)``.

    ``A`` is ``(m, d)``: ``y`` may hold side observations after its first ``d`` entries (``m > d``), as a
    condition with context channels does; the residual path runs to those first ``d`` entries.

    ``process`` decides the path: :class:`EDMProcess` (``x_sigma = x0 + sigma n``) or
    :class:`ResidualProcess` (``x_sigma = x0 + (sigma / sigma_max)(y - x0) + sigma n``). Call it like a
    denoiser with ``cond = y``. :meth:`posterior` gives the exact ``p(x0 | y)`` to compare samples with.
    """

    def __init__(self, mean: torch.Tensor, cov: torch.Tensor, A: torch.Tensor, noise_cov: torch.Tensor, process: EDMProcess):
        self.mean, self.cov, self.A, self.R = _as64(mean), _as64(cov), _as64(A), _as64(noise_cov)
        self.dim = self.mean.shape[0]
        self.process = process
        m = self.A.shape[0]
        if self.cov.shape != (self.dim, self.dim) or self.A.shape != (m, self.dim) or self.R.shape != (m, m) or m < self.dim:
            raise ShapeError("mean (d,), cov (d, d), A (m, d) with m >= d and noise_cov (m, m) must agree")
        # the posterior gain and covariance do not depend on y: computed once, not at every sampler step
        S, A = self.cov, self.A
        self._gain = S @ A.T @ torch.linalg.inv(A @ S @ A.T + self.R)
        self._post_cov = S - self._gain @ A @ S

    def posterior(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean ``(B, d)`` and covariance ``(d, d)`` of ``p(x0 | y)``."""
        y = y.reshape(y.shape[0], -1).to(torch.float64)
        mean = self.mean[None] + (y - (self.A @ self.mean)[None]) @ self._gain.T
        return mean, self._post_cov

    def __call__(self, x: torch.Tensor, sigma: torch.Tensor | float, cond: torch.Tensor | None = None) -> torch.Tensor:
        if cond is None:
            raise InvalidInputError("pass the observation y as cond")
        shape, dtype = x.shape, x.dtype
        xf = x.reshape(shape[0], -1).to(torch.float64)
        yf = cond.reshape(shape[0], -1).to(torch.float64)
        sigma = torch.as_tensor(sigma, dtype=torch.float64).expand(shape[0])
        out = torch.empty_like(xf)
        eye = torch.eye(self.dim, dtype=torch.float64)
        m_y, S_y = self.posterior(cond)
        for s in sigma.unique():
            rows = sigma == s
            s = float(s)
            # x_sigma given y is linear in x0: x_sigma = M x0 + b(y) + sigma n with x0 | y ~ N(m_y, S_y).
            if self.process.needs_observation:
                e = s / self.process.sigma_max
                M, b = (1 - e) * eye, e * yf[rows, : self.dim]  # the path runs to the observation's first d entries
            else:
                M, b = eye, torch.zeros_like(xf[rows])
            gain = S_y @ M.T @ torch.linalg.inv(M @ S_y @ M.T + s**2 * eye)
            out[rows] = m_y[rows] + (xf[rows] - b - m_y[rows] @ M.T) @ gain.T
        return out.reshape(shape).to(dtype)
