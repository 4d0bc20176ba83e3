"""wavediff: wavelet-domain diffusion models for scientific measurements.

The engine (wavelets, classical baselines, metrics, the modality protocol) lives here; each
scientific field is a room under :mod:`wavediff.modalities`; embedded generators and download
recipes live under :mod:`wavediff.datasets`.

``import wavediff`` is light: the registry and the errors load at once, the engine (PyTorch) and
the rooms' field libraries on first use of the names that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import errors
from .modality import Modality, available_modalities, get_modality, register_modality

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

_LAZY = {"Restorer": "pipeline", "restore": "pipeline", "WaveletTransform": "wavelets"}

if TYPE_CHECKING:
    from .pipeline import Restorer, restore
    from .wavelets import WaveletTransform


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'wavediff' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
