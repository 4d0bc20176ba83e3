"""wavediff: wavelet-domain diffusion models for scientific measurements.

The engine (wavelets, classical baselines, metrics, the modality protocol) lives here; each
scientific field is a room under :mod:`wavediff.modalities`; embedded generators and download
recipes live under :mod:`wavediff.datasets`.
"""

from __future__ import annotations

from . import errors
from .modality import Modality, available_modalities, get_modality, register_modality
from .pipeline import Restorer, restore
from .wavelets import WaveletTransform

__version__ = "0.1.0.dev0"

__all__ = [
    "Modality",
    "Restorer",
    "WaveletTransform",
    "available_modalities",
    "errors",
    "get_modality",
    "register_modality",
    "restore",
    "__version__",
]
