"""Measurement: the noise models' statistics and likelihoods against closed forms and scipy, the Gaussian
surrogates, and restore on a Gaussian prior whose posterior is known exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from _toy_rooms import Toy
from scipy import stats

from wavediff.errors import InvalidInputError
from wavediff.measurement import Measurement
from wavediff.operators import Mask

D = torch.float64


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def unit_gaussian_denoiser(x, sigma, cond=None):
    """The exact MMSE denoiser of the prior N(0, I): ``x / (1 + sigma^2)``."""
    return x / (1 + sigma.reshape(-1, *([1] * (x.ndim - 1))) ** 2)


# --------------------------------------------------------------------------- simulate
def test_simulate_gaussian_residual_std():
    n, sigma = 200_000, 0.3
    x = torch.linspace(-1, 1, n, dtype=D)[None]
    y = Measurement(noise="gaussian", sigma=sigma).simulate(x, _gen())
    std = float((y - x).std())
    # the sample std of n normals has relative standard error 1 / sqrt(2 n) (0.16 %); allow 5 of them
    assert abs(std / sigma - 1) < 5 / math.sqrt(2 * n)


def test_simulate_gaussian_complex_has_sigma_per_component():
    n, sigma = 100_000, 0.5
    op = 1.0 * Mask(torch.ones(n))
    x = torch.zeros(1, n, dtype=torch.complex128)
    y = Measurement(op, "gaussian", sigma).simulate(x, _gen(1))
    for part in (y.real, y.imag):
        assert abs(float(part.std()) / sigma - 1) < 5 / math.sqrt(2 * n)


@pytest.mark.parametrize("complex_ax", [False, True])
def test_simulate_rician_second_moment(complex_ax):
    n, sigma = 50_000, 0.5
    nu = torch.tensor([0.0, 0.5, 2.0], dtype=D)
    ax = nu * (torch.exp(torch.tensor(0.7j)) if complex_ax else 1.0)
    x = ax[:, None].expand(3, n).contiguous()
    y = Measurement(noise="rician", sigma=sigma).simulate(x, _gen(2))
    assert y.dtype == D and bool((y >= 0).all())
    # y^2 = |a + s(e1 + i e2)|^2: mean |a|^2 + 2 s^2, variance 4 s^2 |a|^2 + 4 s^4 (non-central chi-square)
    mean_sq = (y**2).mean(-1)
    bound = 5 * torch.sqrt((4 * sigma**2 * nu**2 + 4 * sigma**4) / n)
    assert bool(((mean_sq - (nu**2 + 2 * sigma**2)).abs() < bound).all())


def test_simulate_poisson_mean_counts():
    n, i0 = 40_000, 50.0
    ax = torch.tensor([0.0, 0.5, 1.0, 2.0], dtype=D)
    m = Measurement(noise="poisson", counts=i0)
    y = m.simulate(ax[:, None].expand(4, n).contiguous(), _gen(3))
    counts = m.counts_from(y)
    assert bool((counts == counts.round()).all())
    lam = i0 * torch.exp(-ax)
    # the mean of n Poisson(lam) counts has standard error sqrt(lam / n)
    assert bool(((counts.mean(-1) - lam).abs() < 5 * torch.sqrt(lam / n)).all())


def test_poisson_zero_counts_are_floored_at_half():
    m = Measurement(noise="poisson", counts=10.0)
    y = m.simulate(torch.full((1, 1000), 8.0, dtype=D), _gen(4))  # rate 10 e^-8: almost every ray is 0
    assert bool(torch.isfinite(y).all())
    assert float(y.max()) == pytest.approx(math.log(10.0 / 0.5))
    assert float(m.counts_from(y).min()) == 0.0


# --------------------------------------------------------------------------- likelihoods
def test_log_likelihood_matches_scipy():
    g = _gen(5)
    x = torch.rand(2, 7, generator=g, dtype=D) + 0.2
    mask = Mask(torch.tensor([1, 1, 0, 1, 1, 1, 0]))

    gauss = Measurement(mask, "gaussian", 0.4)
    y = gauss.simulate(x, g)
    ref = stats.norm.logpdf(y.numpy(), loc=mask(x).numpy(), scale=0.4).sum(-1)
    np.testing.assert_allclose(gauss.log_likelihood(y, x).numpy(), ref, rtol=0, atol=1e-8)

    rice = Measurement(mask, "rician", 0.3)
    y = rice.simulate(x, g)
    nu = mask(x).numpy()
    ref = stats.rice.logpdf(y.numpy(), nu / 0.3, scale=0.3).sum(-1)
    np.testing.assert_allclose(rice.log_likelihood(y, x).numpy(), ref, rtol=0, atol=1e-8)

    pois = Measurement(None, "poisson", counts=30.0)
    y = pois.simulate(x, g)
    k = np.rint(30.0 * np.exp(-y.numpy()))
    k[k == 0.5] = 0
    ref = stats.poisson.logpmf(k, 30.0 * np.exp(-x.numpy())).sum(-1)
    np.testing.assert_allclose(pois.log_likelihood(y, x).numpy(), ref, rtol=0, atol=1e-8)


def test_rician_log_likelihood_stable_at_high_snr():
    rice = Measurement(noise="rician", sigma=0.01)
    x = torch.full((1, 4), 50.0, dtype=D)  # y nu / s^2 ~ 2.5e7: I0 itself overflows
    y = rice.simulate(x, _gen(6))
    ll = rice.log_likelihood(y, x)
    ref = stats.rice.logpdf(y.numpy(), 50.0 / 0.01, scale=0.01).sum(-1)
    assert bool(torch.isfinite(ll).all())
    # terms of size y nu / s^2 ~ 2.5e7 cancel inside scipy: it is good to ~1e-16 * 2.5e7 absolute
    np.testing.assert_allclose(ll.numpy(), ref, rtol=0, atol=1e-7)


@pytest.mark.parametrize(
    "m",
    [
        Measurement(Mask(torch.tensor([1, 0, 1, 1, 1])), "gaussian", 0.5),
        Measurement(None, "rician", 0.4),
        Measurement(2.0 * Mask(torch.ones(5)), "poisson", counts=20.0),
    ],
    ids=["gaussian", "rician", "poisson"],
)
def test_log_likelihood_gradient_matches_finite_differences(m):
    g = _gen(7)
    x = torch.rand(2, 5, generator=g, dtype=D) + 0.3
    y = m.simulate(x, g)
    xg = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(m.log_likelihood(y, xg).sum(), xg)
    h, fd = 1e-6, torch.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        e = torch.zeros_like(x)
        e[idx] = h
        fd[idx] = (m.log_likelihood(y, x + e).sum() - m.log_likelihood(y, x - e).sum()) / (2 * h)
    torch.testing.assert_close(grad, fd, rtol=1e-6, atol=1e-6)


# --------------------------------------------------------------------------- Gaussian surrogates
def test_gaussianised_rician_removes_the_high_snr_bias():
    n, sigma = 4_000_000, 1.0
    nu = 20.0 * sigma
    m = Measurement(noise="rician", sigma=sigma)
    y = m.simulate(torch.full((1, n), nu, dtype=D), _gen(8))
    y_g, s_g, w = m.gaussianised(y)
    assert s_g == sigma and w is None
    raw_bias = float(y.mean()) - nu
    corrected_bias = float(y_g.mean()) - nu
    # the raw magnitude's bias is sigma^2 / (2 nu) = 0.025 (to O(sigma^4 / nu^3)); the corrected one's
    # cancels to that order. Both means have standard error ~ sigma / sqrt(n) = 5e-4: allow 5 of them
    assert raw_bias == pytest.approx(sigma**2 / (2 * nu), abs=2.5e-3)
    assert abs(corrected_bias) < 2.5e-3 < raw_bias / 5


def test_gaussianised_gaussian_and_poisson():
    y = torch.tensor([[0.1, 1.0, 2.0]], dtype=D)
    assert Measurement(noise="gaussian", sigma=0.2).gaussianised(y) == (y, 0.2, None)
    y_g, s, w = Measurement(noise="poisson", counts=100.0).gaussianised(y)
    assert y_g is y
    torch.testing.assert_close(w, 100.0 * torch.exp(-y))
    torch.testing.assert_close(s, torch.sqrt(1 / w))


# --------------------------------------------------------------------------- restore
def test_restore_mask_gaussian_matches_closed_form_posterior():
    n, k, sigma = 64, 32, 0.5
    g = _gen(9)
    mask = (torch.arange(n) % 3 != 0).to(D)
    m = Measurement(Mask(mask), "gaussian", sigma)
    x = torch.randn(1, n, generator=g, dtype=D)
    y = m.simulate(x, g)
    result = m.restore(unit_gaussian_denoiser, y, n_draws=k, iters=60, hold=20, generator=g)
    # N(0, 1) prior: observed pixels have posterior N(y / (1 + s^2), s^2 / (1 + s^2)), unobserved N(0, 1)
    mean = mask * y / (1 + sigma**2)
    var = torch.where(
        mask.bool(), torch.tensor(sigma**2 / (1 + sigma**2), dtype=D), torch.tensor(1.0, dtype=D)
    )
    z = (result.mean - mean) / torch.sqrt(var / k)  # k independent chains: the mean's standard error
    assert float(z.abs().max()) < 4.5  # 64 elements: P(max |z| > 4.5) ~ 64 * 7e-6
    assert float((z**2).mean()) < 2.0


def test_restore_conditional_route_calls_the_model():
    calls = []

    def conditional(y, n_draws):
        calls.append((y, n_draws))
        return "result"

    y = torch.zeros(1, 4, dtype=D)
    assert (
        Measurement(noise="gaussian", sigma=0.1).restore(None, y, n_draws=3, conditional=conditional)
        == "result"
    )
    assert len(calls) == 1 and calls[0][0] is y and calls[0][1] == 3


def test_restore_poisson_whitens_per_element_noise():
    n, k, i0 = 48, 32, 4.0
    g = _gen(10)
    m = Measurement(None, "poisson", counts=i0)
    x = 0.5 * torch.randn(1, n, generator=g, dtype=D)
    y = m.simulate(x, g)
    _, s, _ = m.gaussianised(y)
    # rho_min bounds the chain's extra noise variance (its target has s^2 + rho_min^2): pass a small one
    rho_min = 0.05
    result = m.restore(unit_gaussian_denoiser, y, n_draws=k, rho_min=rho_min, iters=120, hold=40, generator=g)
    # N(0, 1) prior, y = x + N(0, s^2) per element: mean y (1 / s^2) / (1 + 1 / s^2), variance s^2 / (1 + s^2)
    mean = y * (1 / s**2) / (1 + 1 / s**2)
    se = torch.sqrt(s**2 / (1 + s**2) / k)
    bias = y.abs() * rho_min**2  # |y / (1 + s^2) - y / (1 + s^2 + rho_min^2)| <= |y| rho_min^2
    assert bool(((result.mean - mean).abs() < 4.5 * se + bias).all())
    assert float((((result.mean - mean) / se) ** 2).mean()) < 2.0


# --------------------------------------------------------------------------- validation and the room hook
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"noise": "laplace", "sigma": 0.1}, "unknown noise model"),
        ({"noise": "gaussian", "sigma": -0.1}, "sigma"),
        ({"noise": "rician", "sigma": float("nan")}, "sigma"),
        ({"noise": "gaussian"}, "needs sigma"),
        ({"noise": "poisson"}, "needs counts"),
        ({"noise": "poisson", "counts": 0.0}, "counts"),
        ({"noise": "poisson", "counts": 10.0, "sigma": 0.1}, "drop sigma"),
        ({"noise": "gaussian", "sigma": 0.1, "counts": 10.0}, "drop counts"),
        ({"operator": "A", "noise": "gaussian", "sigma": 0.1}, "LinearOperator"),
    ],
)
def test_bad_inputs_raise(kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        Measurement(**kwargs)


def test_modality_declares_no_measurement_by_default():
    room = Toy()
    assert room.measurement(np.zeros(8), {}) is None
