"""The diffusion engine against closed-form truth: EDM formulas, exact Gaussian / mixture denoisers,
sampler accuracy at the NFE budgets of the issue, and the residual process versus the Gaussian one."""

from __future__ import annotations

import math

import pytest
import torch

from wavediff.diffusion import (
    EDMProcess,
    GaussianDenoiser,
    GaussianMixtureDenoiser,
    LinearGaussianRestorer,
    ResidualProcess,
    dpmpp_2m,
    edm_stochastic,
    gaussian_mmse,
    heun,
    karras_sigmas,
    process_from_config,
    sample,
)
from wavediff.errors import ConfigError, InvalidInputError, ShapeError

f64 = torch.float64


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------------------- EDM formulas
@pytest.mark.parametrize("sigma", [0.01, 0.3, 1.0, 7.0, 80.0])
@pytest.mark.parametrize("sd", [0.5, 1.0])
def test_preconditioning_is_edm_table_1(sigma, sd):
    proc = EDMProcess(sigma_data=sd)
    c_skip, c_out, c_in, c_noise = (float(c) for c in proc.preconditioning(torch.tensor([sigma], dtype=f64)))
    assert c_skip == pytest.approx(sd**2 / (sigma**2 + sd**2), rel=1e-12)
    assert c_out == pytest.approx(sigma * sd / math.sqrt(sigma**2 + sd**2), rel=1e-12)
    assert c_in == pytest.approx(1 / math.sqrt(sd**2 + sigma**2), rel=1e-12)
    assert c_noise == pytest.approx(math.log(sigma) / 4, rel=1e-12)
    # the loss weight makes the effective target unit-weighted: lambda * c_out^2 = 1 (EDM sec. 5)
    assert float(proc.loss_weight(torch.tensor(sigma, dtype=f64))) * c_out**2 == pytest.approx(1.0, rel=1e-12)


def test_karras_schedule_formula():
    s = karras_sigmas(5, 0.002, 80.0, rho=7.0)
    assert len(s) == 6 and float(s[-1]) == 0.0
    assert float(s[0]) == pytest.approx(80.0) and float(s[-2]) == pytest.approx(0.002)
    i = 2
    expected = (80 ** (1 / 7) + i / 4 * (0.002 ** (1 / 7) - 80 ** (1 / 7))) ** 7
    assert float(s[i]) == pytest.approx(expected, rel=1e-12)
    assert bool((s[1:] < s[:-1]).all())
    assert karras_sigmas(1, 0.5, 2.0).tolist() == [2.0, 0.0]


def test_training_sigma_distribution_is_lognormal():
    proc = EDMProcess(P_mean=-1.2, P_std=1.2, sigma_min=1e-9, sigma_max=1e9)
    logs = proc.sample_sigma(200_000, _gen(0)).log()
    assert float(logs.mean()) == pytest.approx(-1.2, abs=4 * 1.2 / math.sqrt(200_000))
    assert float(logs.std()) == pytest.approx(1.2, rel=4 / math.sqrt(2 * 200_000))


def test_process_config_round_trip_and_errors():
    for proc in (EDMProcess(sigma_data=0.7, sigma_max=10.0), ResidualProcess(sigma_max=0.8)):
        assert process_from_config(proc.config()) == proc
    with pytest.raises(ConfigError, match="unknown process kind"):
        process_from_config({"kind": "ddpm"})
    with pytest.raises(ConfigError, match="sigma_min"):
        EDMProcess(sigma_min=1.0, sigma_max=0.5)
    with pytest.raises(ConfigError, match="sigma_data"):
        EDMProcess(sigma_data=-1.0)


# ---------------------------------------------------------------------------- exact denoisers
def _mixture():
    weights = torch.tensor([0.5, 0.3, 0.2], dtype=f64)
    means = torch.tensor([[-3.0, 0.0], [3.0, 1.0], [0.0, 4.0]], dtype=f64)
    covs = torch.stack(
        [torch.tensor([[1.0, 0.3], [0.3, 0.5]]), 0.5 * torch.eye(2), torch.tensor([[0.3, 0.0], [0.0, 1.2]])]
    ).to(f64)
    return weights, means, covs


def _mixture_moments(weights, means, covs):
    mean = weights @ means
    second = sum(w * (c + torch.outer(m, m)) for w, m, c in zip(weights, means, covs))
    return mean, second - torch.outer(mean, mean)


def test_mixture_denoiser_satisfies_tweedie():
    """E[x0 | x] = x + sigma^2 grad log p_sigma(x), with p_sigma the mixture convolved with N(0, sigma^2 I)."""
    weights, means, covs = _mixture()
    den = GaussianMixtureDenoiser(weights, means, covs)
    x = torch.randn(50, 2, dtype=f64, generator=_gen(1)) * 3
    for sigma in (0.1, 0.7, 3.0):
        xr = x.clone().requires_grad_(True)
        comps = torch.distributions.MultivariateNormal(means, covs + sigma**2 * torch.eye(2, dtype=f64))
        logp = torch.logsumexp(weights.log() + comps.log_prob(xr[:, None, :]), dim=1).sum()
        (grad,) = torch.autograd.grad(logp, xr)
        assert torch.allclose(den(x, sigma), x + sigma**2 * grad, atol=1e-10)


def test_gaussian_denoiser_formula_and_mmse():
    g = _gen(2)
    a = torch.randn(4, 4, dtype=f64, generator=g)
    cov = a @ a.T / 4 + 0.2 * torch.eye(4, dtype=f64)
    mean = torch.tensor([1.0, -1.0, 0.5, 2.0], dtype=f64)
    den = GaussianDenoiser(mean, cov)
    x = torch.randn(10, 4, dtype=f64, generator=g)
    sigma = 0.6
    expected = mean + (x - mean) @ torch.linalg.solve(cov + sigma**2 * torch.eye(4, dtype=f64), cov)
    assert torch.allclose(den(x, sigma), expected, atol=1e-12)
    # the closed-form MMSE equals the Monte-Carlo error of that denoiser
    x0 = den.sample(100_000, g)
    noisy = x0 + sigma * torch.randn(x0.shape, dtype=f64, generator=g)
    mc = float(((den(noisy, sigma) - x0) ** 2).mean())
    assert mc == pytest.approx(gaussian_mmse(cov, sigma), rel=0.02)


def test_mixture_rejects_bad_parameters():
    weights, means, covs = _mixture()
    with pytest.raises(InvalidInputError, match="sum to 1"):
        GaussianMixtureDenoiser(weights * 2, means, covs)
    with pytest.raises(ShapeError):
        GaussianMixtureDenoiser(weights, means, covs[:2])
    with pytest.raises(ShapeError, match="dimension"):
        GaussianMixtureDenoiser(weights, means, covs)(torch.zeros(3, 5, dtype=f64), 1.0)


# ---------------------------------------------------------------------------- samplers
N_SAMPLES = 20_000
# A schedule for unit-scale data (EDM's image defaults, 0.002..80, waste these small budgets; see the
# test below and benchmarks/engine.py for the error of each choice). Churn only below sigma 1 (S_tmax).
SIGMA_MAX, SIGMA_MIN, RHO = 3.0, 0.1, 7.0
CHURN = {"churn": 1.0, "s_tmax": 1.0}


def _run(name, den, x0_ref, steps, seed):
    """Start from the exact marginal at SIGMA_MAX (data + noise), so only the solver's error is measured."""
    g = _gen(seed)
    x = x0_ref + SIGMA_MAX * torch.randn(x0_ref.shape, dtype=f64, generator=g)
    sigmas = karras_sigmas(steps, SIGMA_MIN, SIGMA_MAX, RHO)
    kwargs = {**CHURN, "generator": g} if name == "stochastic" else {}
    return sample(name, den, x, sigmas, **kwargs)


def _moment_tolerance(ref: torch.Tensor, k: float = 5.0):
    """k standard errors of the sample mean and covariance entries, from the reference's own moments."""
    n = ref.shape[0]
    centred = ref - ref.mean(0)
    prod = centred[:, :, None] * centred[:, None, :]
    se_mean = centred.std(0) / math.sqrt(n)
    se_cov = prod.std(0) / math.sqrt(n)
    return k * se_mean, k * se_cov


# Budgets of the issue: Heun <= 18 NFE (9 steps = 17 NFE), DPM-Solver++ <= 10 NFE, stochastic as Heun.
BUDGETS = [("heun", 9, 17), ("dpmpp_2m", 10, 10), ("stochastic", 9, 17)]


@pytest.mark.parametrize("name,steps,nfe", BUDGETS)
def test_samplers_reproduce_a_gaussian(name, steps, nfe):
    g = _gen(3)
    a = torch.randn(4, 4, dtype=f64, generator=g)
    cov = a @ a.T / 4 + 0.2 * torch.eye(4, dtype=f64)
    mean = torch.tensor([1.0, -1.0, 0.5, 2.0], dtype=f64)
    den = GaussianDenoiser(mean, cov)
    result = _run(name, den, den.sample(N_SAMPLES, g), steps, seed=4)
    assert result.nfe == nfe
    tol_mean, tol_cov = _moment_tolerance(den.sample(N_SAMPLES, _gen(5)))
    assert bool(((result.x.mean(0) - mean).abs() <= tol_mean).all()), result.x.mean(0)
    assert bool(((torch.cov(result.x.T) - cov).abs() <= tol_cov).all()), torch.cov(result.x.T)


@pytest.mark.parametrize("name,steps,nfe", BUDGETS)
def test_samplers_reproduce_a_gaussian_mixture(name, steps, nfe):
    weights, means, covs = _mixture()
    den = GaussianMixtureDenoiser(weights, means, covs)
    g = _gen(6)
    result = _run(name, den, den.sample(N_SAMPLES, g), steps, seed=7)
    assert result.nfe == nfe
    mean, cov = _mixture_moments(weights, means, covs)
    tol_mean, tol_cov = _moment_tolerance(den.sample(N_SAMPLES, _gen(8)))
    assert bool(((result.x.mean(0) - mean).abs() <= tol_mean).all()), result.x.mean(0)
    assert bool(((torch.cov(result.x.T) - cov).abs() <= tol_cov).all()), torch.cov(result.x.T)
    # mixture weights: fraction of samples whose most likely component is k, versus exact draws
    def share(x):
        comps = torch.distributions.MultivariateNormal(means, covs)
        owner = (weights.log() + comps.log_prob(x[:, None, :])).argmax(1)
        return torch.bincount(owner, minlength=3).to(f64) / len(x)

    ref_share = share(den.sample(N_SAMPLES, _gen(9)))
    se = torch.sqrt(2 * ref_share * (1 - ref_share) / N_SAMPLES)
    assert bool(((share(result.x) - ref_share).abs() <= 5 * se).all()), (share(result.x), ref_share)


def test_default_edm_schedule_is_too_coarse_at_these_budgets():
    """The same check fails with EDM's image defaults (sigma 0.002..80): the test can tell a bad schedule."""
    weights, means, covs = _mixture()
    den = GaussianMixtureDenoiser(weights, means, covs)
    x = 80.0 * torch.randn(N_SAMPLES, 2, dtype=f64, generator=_gen(10))
    result = heun(den, x, karras_sigmas(9, 0.002, 80.0, 7.0))
    _, cov = _mixture_moments(weights, means, covs)
    _, tol_cov = _moment_tolerance(den.sample(N_SAMPLES, _gen(11)))
    assert not bool(((torch.cov(result.x.T) - cov).abs() <= tol_cov).all())


def test_samplers_start_from_an_intermediate_state():
    """Restoration starts at sigma_s < sigma_max from data + sigma_s noise: the path must still end on the data."""
    g = _gen(12)
    cov = torch.tensor([[1.0, 0.5], [0.5, 0.8]], dtype=f64)
    den = GaussianDenoiser(torch.zeros(2, dtype=f64), cov)
    x0 = den.sample(N_SAMPLES, g)
    x = x0 + 1.0 * torch.randn(x0.shape, dtype=f64, generator=g)
    for fn in (heun, dpmpp_2m):
        out = fn(den, x, karras_sigmas(8, 0.05, 1.0, 7.0)).x
        _, tol_cov = _moment_tolerance(den.sample(N_SAMPLES, _gen(13)))
        assert bool(((torch.cov(out.T) - cov).abs() <= tol_cov).all())


def test_nfe_counting_and_intermediate_estimates():
    den = GaussianDenoiser(torch.zeros(3, dtype=f64), torch.eye(3, dtype=f64))
    x = torch.randn(5, 3, dtype=f64, generator=_gen(14))
    sig = karras_sigmas(6, 0.01, 10.0)
    for fn, nfe in ((heun, 11), (dpmpp_2m, 6), (edm_stochastic, 11)):
        calls = []

        def counted(x, s, c=None):
            calls.append(float(s[0]))
            return den(x, s, c)

        res = fn(counted, x * 10, sig, return_x0=True)
        assert res.nfe == nfe == len(calls) == len(res.x0s)
        assert all(r.shape == x.shape for r in res.x0s)
    # one step to zero is a single denoiser call: the one-step MMSE estimate
    one = dpmpp_2m(den, x, torch.tensor([2.0, 0.0]))
    assert one.nfe == 1 and torch.allclose(one.x, den(x, 2.0))


def test_sampler_input_errors():
    den = GaussianDenoiser(torch.zeros(2, dtype=f64), torch.eye(2, dtype=f64))
    x = torch.zeros(2, 2, dtype=f64)
    with pytest.raises(InvalidInputError, match="strictly decrease"):
        heun(den, x, torch.tensor([0.1, 1.0, 0.0]))
    for fn in (heun, dpmpp_2m, edm_stochastic):  # a repeated level: an error, not a division by zero
        with pytest.raises(InvalidInputError, match=r"sigmas\[1\] = 0.5 is followed by 0.5"):
            fn(den, x, torch.tensor([1.0, 0.5, 0.5, 0.0]))
    with pytest.raises(InvalidInputError, match="finite"):
        heun(den, x, torch.tensor([float("inf"), 1.0, 0.0]))
    with pytest.raises(InvalidInputError, match="at least two"):
        dpmpp_2m(den, x, torch.tensor([1.0]))
    with pytest.raises(InvalidInputError, match="NaN"):
        heun(den, torch.full((2, 2), float("nan"), dtype=f64), karras_sigmas(3, 0.1, 1.0))
    with pytest.raises(InvalidInputError, match="unknown sampler"):
        sample("ddim", den, x, karras_sigmas(3, 0.1, 1.0))


def test_stochastic_sampler_is_reproducible_from_its_generator():
    den = GaussianDenoiser(torch.zeros(2, dtype=f64), torch.eye(2, dtype=f64))
    x = torch.randn(100, 2, dtype=f64, generator=_gen(15)) * 5
    sig = karras_sigmas(5, 0.1, 5.0)
    a = edm_stochastic(den, x, sig, churn=5.0, generator=_gen(16)).x
    b = edm_stochastic(den, x, sig, churn=5.0, generator=_gen(16)).x
    c = edm_stochastic(den, x, sig, churn=5.0, generator=_gen(17)).x
    assert torch.equal(a, b) and not torch.equal(a, c)


# ---------------------------------------------------------------------------- residual process
def _restoration_problem(d: int = 32, n: int = 5000):
    """Smooth Gaussian signals blurred by a known operator plus white noise: y = A x0 + w."""
    t = torch.arange(d, dtype=f64)
    cov = torch.exp(-0.5 * (t[:, None] - t[None]) ** 2 / 3.0**2) + 1e-3 * torch.eye(d, dtype=f64)
    blur = torch.exp(-0.5 * (t[:, None] - t[None]) ** 2 / 1.5**2)
    blur = blur / blur.sum(1, keepdim=True)
    noise_cov = 0.05**2 * torch.eye(d, dtype=f64)
    g = _gen(20)
    x0 = GaussianDenoiser(torch.zeros(d, dtype=f64), cov).sample(n, g)
    y = x0 @ blur.T + 0.05 * torch.randn(n, d, dtype=f64, generator=g)
    return cov, blur, noise_cov, x0, y


def _sqrtm(m):
    e, v = torch.linalg.eigh(m)
    return v @ torch.diag(e.clamp(min=0).sqrt()) @ v.T


def _posterior_w2(samples, post_mean, post_cov):
    """Squared 2-Wasserstein distance (per dimension) between N(fit of samples - m_y) and N(0, post_cov)."""
    dev = samples - post_mean
    m, c = dev.mean(0), torch.cov(dev.T)
    r = _sqrtm(post_cov)
    return float((m @ m + torch.trace(c + post_cov - 2 * _sqrtm(r @ c @ r))) / post_cov.shape[0])


def test_residual_path_endpoints():
    proc = ResidualProcess(sigma_max=0.8)
    x0, y, n = (torch.randn(3, 1, 16, generator=_gen(i)) for i in (21, 22, 23))
    assert torch.allclose(proc.perturb(x0, torch.full((3,), 0.8), n, y), y + 0.8 * n)
    assert torch.allclose(proc.perturb(x0, torch.zeros(3), n, y), x0)
    with pytest.raises(InvalidInputError, match="observation"):
        proc.perturb(x0, torch.ones(3), n)
    with pytest.raises(InvalidInputError, match="pass y"):
        proc.prior_sample((3, 1, 16))
    with pytest.raises(ShapeError, match="observation y"):
        proc.loss(lambda x, s, c: x, x0, cond=None)


def test_conditional_denoisers_match_the_exact_posterior_at_small_sigma():
    cov, blur, noise_cov, x0, y = _restoration_problem(n=200)
    edm, res = EDMProcess(sigma_max=5.0), ResidualProcess(sigma_max=1.0)
    post_mean, _ = LinearGaussianRestorer(torch.zeros(32, dtype=f64), cov, blur, noise_cov, edm).posterior(y)
    for proc in (edm, res):
        den = LinearGaussianRestorer(torch.zeros(32, dtype=f64), cov, blur, noise_cov, proc)
        # with an uninformative x (huge sigma for EDM; sigma_max for the residual path with x = y + noise)
        # the estimate is driven by y; with sigma -> 0 it returns x itself
        assert torch.allclose(den(x0, 1e-6, y), x0, atol=1e-6)
    den = LinearGaussianRestorer(torch.zeros(32, dtype=f64), cov, blur, noise_cov, edm)
    assert torch.allclose(den(torch.zeros_like(y), 1e6, y), post_mean, atol=1e-6)


@pytest.mark.parametrize("name,steps", [("heun", 3), ("heun", 4), ("dpmpp_2m", 3), ("dpmpp_2m", 4)])
def test_residual_process_beats_gaussian_process_at_equal_nfe(name, steps):
    """Both target p(x0 | y); at the same small NFE the residual path (starting at y + noise) lands
    closer to it. Measured with the exact posterior, not assumed."""
    cov, blur, noise_cov, x0, y = _restoration_problem()
    zero = torch.zeros(32, dtype=f64)
    edm, res = EDMProcess(sigma_max=5.0, sigma_min=0.02), ResidualProcess(sigma_max=1.0, sigma_min=0.02)
    den_g = LinearGaussianRestorer(zero, cov, blur, noise_cov, edm)
    den_r = LinearGaussianRestorer(zero, cov, blur, noise_cov, res)
    post_mean, post_cov = den_g.posterior(y)
    out_g = sample(name, den_g, edm.prior_sample(y.shape, generator=_gen(30), dtype=f64), edm.sigmas(steps), cond=y)
    out_r = sample(name, den_r, res.prior_sample(y.shape, y, generator=_gen(31)), res.sigmas(steps), cond=y)
    assert out_g.nfe == out_r.nfe
    w_g, w_r = _posterior_w2(out_g.x, post_mean, post_cov), _posterior_w2(out_r.x, post_mean, post_cov)
    assert w_r < 0.5 * w_g, (w_r, w_g)


def test_both_processes_converge_to_the_exact_posterior():
    cov, blur, noise_cov, x0, y = _restoration_problem()
    zero = torch.zeros(32, dtype=f64)
    post_mean, post_cov = LinearGaussianRestorer(zero, cov, blur, noise_cov, EDMProcess()).posterior(y)
    exact = post_mean + torch.randn(y.shape, dtype=f64, generator=_gen(40)) @ torch.linalg.cholesky(post_cov).T
    floor = _posterior_w2(exact, post_mean, post_cov)  # sampling error of 5000 exact draws
    for proc, start in ((EDMProcess(sigma_max=5.0, sigma_min=0.02), None), (ResidualProcess(sigma_max=1.0, sigma_min=0.02), y)):
        den = LinearGaussianRestorer(zero, cov, blur, noise_cov, proc)
        x = proc.prior_sample(y.shape, start, generator=_gen(41), dtype=f64)
        out = heun(den, x, proc.sigmas(20), cond=y).x
        assert _posterior_w2(out, post_mean, post_cov) < 5 * floor


def test_sampler_state_is_float64_and_the_result_keeps_the_input_dtype():
    den = GaussianDenoiser(torch.zeros(3, dtype=f64), torch.eye(3, dtype=f64))
    seen = []

    def spy(x, s, c=None):
        seen.append(x.dtype)
        return den(x, s, c)

    x32 = (3.0 * torch.randn(64, 3, generator=_gen(50))).float()
    sig = karras_sigmas(40, 0.01, 3.0)
    for fn in (heun, dpmpp_2m):
        out = fn(spy, x32, sig)
        assert out.x.dtype == torch.float32 and set(seen) == {torch.float64}
        ref = fn(den, x32.double(), sig).x  # a float32 state would drift from the float64 run by ~1e-6
        assert torch.allclose(out.x.double(), ref.float().double(), rtol=0, atol=0)
        seen.clear()


def test_residual_training_puts_a_sixth_of_the_levels_at_sigma_max():
    proc = ResidualProcess()
    s = proc.sample_sigma(200_000, _gen(51))
    share = float((s == proc.sigma_max).double().mean())
    want = 0.5 * math.erfc((math.log(proc.sigma_max) - proc.P_mean) / proc.P_std / math.sqrt(2))  # 1 - Phi(1)
    assert want == pytest.approx(0.1587, abs=1e-4)
    assert share == pytest.approx(want, abs=3 * math.sqrt(want * (1 - want) / len(s)))


def test_residual_renoise_keeps_the_path_distribution_for_every_clean_signal():
    proc = ResidualProcess(sigma_max=0.8)
    n = 200_000
    x0 = torch.tensor([[1.5, -2.0]], dtype=f64).expand(n, 2)
    y = torch.tensor([[0.3, 0.7]], dtype=f64).expand(n, 2)
    s, s_hat = 0.3, 0.55
    x = proc.perturb(x0, torch.full((n,), s, dtype=f64), torch.randn(n, 2, dtype=f64, generator=_gen(52)), y)
    x_hat = proc.renoise(x, s, s_hat, torch.randn(n, 2, dtype=f64, generator=_gen(53)), y)
    want_mean = x0[0] + (s_hat / proc.sigma_max) * (y[0] - x0[0])
    assert torch.allclose(x_hat.mean(0), want_mean, atol=4 * s_hat / math.sqrt(n))
    assert torch.allclose(x_hat.std(0), torch.full((2,), s_hat, dtype=f64), rtol=0.01)
    # EDM's churn (noise only) leaves the mean where it was: the wrong distribution at s_hat
    edm_hat = EDMProcess().renoise(x, s, s_hat, torch.randn(n, 2, dtype=f64, generator=_gen(53)))
    assert not torch.allclose(edm_hat.mean(0), want_mean, atol=0.1)
    with pytest.raises(InvalidInputError, match="sigma_max"):
        proc.renoise(x, s, 0.9, x, y)


def test_churn_on_the_residual_path_samples_the_exact_posterior():
    """The stochastic sampler with churn lands on p(x0 | y) only if raising sigma also moves the mean toward y."""
    cov, blur, noise_cov, x0, y = _restoration_problem()
    zero = torch.zeros(32, dtype=f64)
    res = ResidualProcess(sigma_max=1.0, sigma_min=0.02)
    den = LinearGaussianRestorer(zero, cov, blur, noise_cov, res)
    post_mean, post_cov = den.posterior(y)
    exact = post_mean + torch.randn(y.shape, dtype=f64, generator=_gen(54)) @ torch.linalg.cholesky(post_cov).T
    floor = _posterior_w2(exact, post_mean, post_cov)
    start = res.prior_sample(y.shape, y, generator=_gen(55))
    # gamma = churn / N = 0.1 per step: the churn's own discretisation error vanishes as N grows (at
    # EDM's cap, gamma = 0.41 whatever N, it does not: 7x the floor at 20, 40 and 80 steps alike)
    kwargs = {"churn": 8.0, "generator": _gen(56)}
    out = edm_stochastic(den, start, res.sigmas(80), cond=y, **kwargs).x  # process taken from den.process
    assert _posterior_w2(out, post_mean, post_cov) < 5 * floor
    wrong = edm_stochastic(den, start, res.sigmas(80), cond=y, process=EDMProcess(), **{**kwargs, "generator": _gen(56)}).x
    assert _posterior_w2(wrong, post_mean, post_cov) > 10 * floor  # noise alone: 20x the floor
    # the generator reaches the sampler through sample(); deterministic samplers just ignore it
    again = sample("stochastic", den, start, res.sigmas(80), cond=y, **{**kwargs, "generator": _gen(56)}).x
    assert torch.equal(again, out)
    assert torch.equal(sample("heun", den, start, res.sigmas(4), cond=y, generator=_gen(1)).x, heun(den, start, res.sigmas(4), cond=y).x)
