"""Diffusion in the EDM formulation: processes, the preconditioned denoiser, samplers, exact denoisers."""

from .analytic import GaussianDenoiser, GaussianMixtureDenoiser, LinearGaussianRestorer, gaussian_mmse
from .denoiser import Denoiser
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
]
