"""Posterior sampling for ``y = A x + n`` against the closed form.

With a Gaussian prior (its exact denoiser) and a linear operator the posterior is Gaussian and
known (:func:`gaussian_posterior`). The faithful sampler (split Gibbs) must give the posterior mean
within 5 % relative error and 90 % intervals that cover the true images 85-95 % of the time, for a
pixel mask, undersampled Fourier (both partial isometries: the coupling is corrected exactly) and
sparse-view Radon (not one: the coupling's small excess noise stays). The fast samplers are reported by
``benchmarks/inverse.py``, not asserted here.
"""

from __future__ import annotations

import pytest
import torch

from wavediff.diffusion import GaussianDenoiser, gaussian_posterior, posterior
from wavediff.errors import InvalidInputError
from wavediff.operators import Mask, Radon, SubsampledFourier

N = 8  # 8 x 8 images: the dense posterior covariance is 64 x 64


def _prior() -> tuple[torch.Tensor, torch.Tensor]:
    """A smooth stationary prior: squared-exponential covariance (length 1.2 px) plus a 0.05 nugget."""
    ii, jj = torch.meshgrid(torch.arange(N), torch.arange(N), indexing="ij")
    p = torch.stack([ii.flatten(), jj.flatten()], 1).double()
    d2 = ((p[:, None] - p[None]) ** 2).sum(-1)
    return torch.zeros(N * N), torch.exp(-d2 / (2 * 1.2**2)) + 0.05 * torch.eye(N * N)


def _operator(name: str, g: torch.Generator):
    if name == "mask":  # isometric range: the coupling correction makes the target exact
        return Mask(torch.rand(N, N, generator=g) < 0.5)
    if name == "fourier":  # real images, 4 of 8 lines symmetric about the centre: A^H A a projection
        m = torch.zeros(N, N)
        m[:, [0, 3, 4, 5]] = 1
        return SubsampledFourier(m, real=True)
    op = Radon(N, torch.linspace(0, 180, 5)[:-1])  # 4 views
    return op * (1 / float(torch.linalg.matrix_norm(op.matrix((N, N)), 2)))


def _case(name: str, items: int, sigma_n: float, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    mean, cov = _prior()
    den = GaussianDenoiser(mean, cov)
    op = _operator(name, g)
    x = den.sample(items, generator=g).reshape(items, N, N)
    clean = op(x)
    noise = torch.randn(
        torch.view_as_real(clean).shape if clean.is_complex() else clean.shape,
        generator=g,
        dtype=torch.float64,
    )
    y = clean + sigma_n * (torch.view_as_complex(noise) if clean.is_complex() else noise)
    mu, post = gaussian_posterior(mean, cov, op.matrix((N, N)), y.reshape(items, -1), sigma_n)
    return den, op, x, y, mu, post


def _denoiser(den):
    return lambda v, s, c: den(v.reshape(v.shape[0], -1), s).reshape(v.shape)


@pytest.mark.parametrize("name", ["mask", "fourier", "radon"])
def test_split_gibbs_samples_the_exact_gaussian_posterior(name):
    items, draws, sigma_n = 16, 128, 0.1
    den, op, x, y, mu, post = _case(name, items, sigma_n)
    g = torch.Generator().manual_seed(1)
    res = posterior("split_gibbs", _denoiser(den), y, op, sigma_n, draws, generator=g, progress=False)
    mean, std = res.mean.reshape(items, -1), res.std.reshape(items, -1)
    # the Monte-Carlo floor of the mean with 128 draws is about 0.02 (posterior std / sqrt(128))
    rel = float((mean - mu).norm() / mu.norm())
    assert rel < 0.05, f"{name}: posterior mean off by {rel:.3f}"
    inside = ((x.reshape(items, -1) - mean).abs() <= 1.6449 * std).double().mean()  # Gaussian 90 % interval
    assert 0.85 <= float(inside) <= 0.95, f"{name}: 90 % intervals cover {float(inside):.3f}"
    ratio = float((std / post.diagonal().sqrt()).mean())
    assert 0.9 < ratio < 1.1, f"{name}: spread {ratio:.3f} x the exact posterior's"
    assert res.nfe == 300 * 8 + 50 * 8 and res.draws.shape == (draws, items, N, N)


def test_the_exact_posterior_is_the_regression_of_x_on_y():
    """gaussian_posterior against the textbook gain form ``mu + S A^T (A S A^T + s^2 I)^-1 (y - A mu)``."""
    g = torch.Generator().manual_seed(3)
    mean, cov = torch.randn(6, generator=g, dtype=torch.float64), torch.eye(6, dtype=torch.float64) * 2
    A = torch.randn(4, 6, generator=g, dtype=torch.float64)
    y = torch.randn(3, 4, generator=g, dtype=torch.float64)
    mu, post = gaussian_posterior(mean, cov, A, y, 0.5)
    gain = cov @ A.T @ torch.linalg.inv(A @ cov @ A.T + 0.25 * torch.eye(4, dtype=torch.float64))
    assert torch.allclose(mu, mean + (y - A @ mean) @ gain.T, atol=1e-10)
    assert torch.allclose(post, cov - gain @ A @ cov, atol=1e-10)


@pytest.mark.parametrize("method", ["diffpir", "dps"])
def test_fast_samplers_return_mean_and_spread_of_their_draws(method):
    den, op, x, y, mu, post = _case("mask", 2, 0.1)
    res = posterior(
        method, _denoiser(den), y, op, 0.1, 4, generator=torch.Generator().manual_seed(0), progress=False
    )
    # 50 Karras levels, one evaluation each
    assert res.mean.shape == x.shape and res.std.shape == x.shape and res.nfe == 50
    assert torch.allclose(res.mean, res.draws.mean(0)) and torch.allclose(res.std, res.draws.std(0))
    assert bool((res.std > 0).any())
    # better than the prior mean (zero) and than the zero-filled adjoint on the unobserved pixels
    err = float((res.mean.reshape(2, -1) - mu).norm() / mu.norm())
    assert err < float((op.adjoint(y).reshape(2, -1) - mu).norm() / mu.norm())


def test_posterior_rejects_bad_requests():
    den, op, x, y, mu, post = _case("mask", 1, 0.1)
    with pytest.raises(InvalidInputError, match="unknown posterior sampler"):
        posterior("ddrm", _denoiser(den), y, op, 0.1)
    with pytest.raises(InvalidInputError, match="positive integer"):
        posterior("diffpir", _denoiser(den), y, op, 0.1, 0)
    with pytest.raises(InvalidInputError, match="NaN or Inf"):
        posterior("diffpir", _denoiser(den), y * float("nan"), op, 0.1)
    with pytest.raises(InvalidInputError, match="noise level"):
        posterior("split_gibbs", _denoiser(den), y, op, -1.0)
