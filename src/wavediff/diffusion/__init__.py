"""Diffusion in the EDM formulation: processes, the preconditioned denoiser, samplers, exact denoisers,
posterior sampling for ``y = A x + n`` (guidance)."""

from .analytic import (
    GaussianDenoiser,
    GaussianMixtureDenoiser,
    LinearGaussianRestorer,
    gaussian_mmse,
    gaussian_posterior,
)
from .denoiser import Denoiser
from .guidance import POSTERIOR_SAMPLERS, PosteriorResult, diffpir, dps, posterior, split_gibbs
from .process import EDMProcess, ResidualProcess, karras_sigmas, process_from_config
from .samplers import SAMPLERS, SampleResult, dpmpp_2m, edm_stochastic, heun, sample

__all__ = [
    "Denoiser",
    "EDMProcess",
    "ResidualProcess",
    "karras_sigmas",
    "process_from_config",
    "SampleResult",
    "heun",
    "dpmpp_2m",
    "edm_stochastic",
    "sample",
    "SAMPLERS",
    "GaussianDenoiser",
    "GaussianMixtureDenoiser",
    "LinearGaussianRestorer",
    "gaussian_mmse",
    "gaussian_posterior",
    "PosteriorResult",
    "posterior",
    "diffpir",
    "dps",
    "split_gibbs",
    "POSTERIOR_SAMPLERS",
]
