"""Rooms the modality tests build: the minimal ``Toy`` room and the source of a room module on disk.

Shared by test_modality.py (the protocol, recipes) and test_registry.py (registration, discovery);
:func:`tiny_recipe` and :func:`white_noise_pairs` are the recipe and training data of the toy rooms of
test_pipeline.py and test_safe_restore.py.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from wavediff import metrics
from wavediff.errors import CorruptFileError, InvalidInputError, UnsupportedFormatError
from wavediff.modality import Modality, atomic_output


# --------------------------------------------------------------------------- toy models and their data
def tiny_recipe(channels: tuple[int, ...] = (8, 16), steps: int = 4) -> dict[str, Any]:
    """A recipe for a tiny 1-D model (residual process, 3 sampler steps) trained for ``steps`` steps."""
    return {
        "wavelet": {"name": "haar", "level": 1},
        "net": {"preset": "tiny", "channels": list(channels), "emb_dim": 16},
        "process": {"kind": "residual", "sigma_max": 1.0, "sigma_data": 1.0},
        "sampler": {"name": "dpmpp_2m", "steps": 3},
        "train": {"steps": steps, "batch_size": 8, "lr": 1e-3},
    }


def white_noise_pairs(length: int):
    """Training batches ``batch(generator, n)`` -> (clean, clean + 0.3 * white noise), ``(n, 1, length)`` each."""

    def batch(generator, n):
        clean = torch.randn(n, 1, length, generator=generator)
        return clean, clean + 0.3 * torch.randn(n, 1, length, generator=generator)

    return batch


# --------------------------------------------------------------------------- a minimal room
class Toy(Modality):
    """A minimal but complete room: 1-D float arrays stored as ``.npy``."""

    name = "toytest"
    description = "toy 1-D room used by the tests"
    spatial_dims = 1
    extensions = (".npy",)

    def __init__(self, sigma: float = 1.0) -> None:
        self.sigma = sigma

    def read(self, path):
        path = Path(path)
        if path.suffix.lower() not in self.extensions:
            raise UnsupportedFormatError(f"{path.name}: {type(self).__name__} reads {self.extensions}")
        if path.stat().st_size == 0:
            raise CorruptFileError(f"{path} is empty")
        x = np.load(path, allow_pickle=False)
        if x.ndim != 1:
            raise InvalidInputError(f"{path} holds a {x.ndim}-D array; expected 1-D")
        return x

    def write(self, obj, path):
        x = np.asarray(obj)
        with atomic_output(path) as tmp:
            np.save(tmp, x, allow_pickle=False)
        return Path(path)

    def to_tensor(self, obj):
        x = np.asarray(obj)
        peak = float(np.max(np.abs(x))) if x.size else 0.0
        # a power-of-two scale keeps the round trip bit-exact in float64
        scale = 2.0 ** math.frexp(peak)[1] if peak > 0 else 1.0
        tensor = torch.from_numpy(x.astype(np.float64) / scale).reshape(1, 1, -1)
        return tensor, {"scale": scale, "dtype": x.dtype.str, "shape": x.shape}

    def from_tensor(self, tensor, context):
        x = tensor.detach().cpu().numpy().reshape(context["shape"]) * context["scale"]
        return x.astype(np.dtype(context["dtype"]))

    def degrade(self, clean, rng, sigma=None, **level):
        sigma = self.sigma if sigma is None else sigma
        clean = np.asarray(clean, dtype=np.float64)
        return clean + rng.normal(0.0, sigma, clean.shape)

    def metrics(self, reference, estimate):
        return {"snr_db": metrics.snr_db(reference, estimate), "rmse": metrics.rmse(reference, estimate)}

    def demo(self, out_dir, seed=0):
        rng = np.random.default_rng(seed)
        clean = np.sin(np.linspace(0, 8 * np.pi, 512)) * 3.0
        noisy = self.degrade(clean, rng)
        row = {"method": "noisy input", **self.metrics(clean, noisy)}
        path = self.write(noisy, Path(out_dir) / "toy_demo.npy")
        return {"table": [row], "figure": path}


def _toy_variant(name: str = "toytest", **attrs: Any) -> type[Modality]:
    """A Toy subclass with other class attributes (a distinct class object every call)."""
    return type("ToyVariant", (Toy,), {"name": name, **attrs})



# --------------------------------------------------------------------------- a room module's source
PLUGIN_TEMPLATE = """\
import numpy as np
import torch

from wavediff import metrics
from wavediff.modality import Modality, atomic_output{extra_import}


{decorator}class {cls}(Modality):
    name = {name!r}
    description = {description!r}
    spatial_dims = 1
    extensions = (".npy",)

    def read(self, path):
        return np.load(path)

    def write(self, obj, path):
        with atomic_output(path) as tmp:
            np.save(tmp, np.asarray(obj))
        return path

    def to_tensor(self, obj):
        x = np.asarray(obj, dtype=np.float64)
        return torch.from_numpy(x.copy()).reshape(1, 1, -1), {{"shape": x.shape}}

    def from_tensor(self, tensor, context):
        return tensor.numpy().reshape(context["shape"])

    def degrade(self, clean, rng, sigma=1.0):
        return np.asarray(clean) + rng.normal(0.0, sigma, np.shape(clean))

    def metrics(self, reference, estimate):
        return {{"rmse": metrics.rmse(reference, estimate)}}

    def demo(self, out_dir, seed=0):
        return {{}}
"""


def _room_source(
    cls: str, name: str, *, register: bool = False, description: str = "a room from a test"
) -> str:
    return PLUGIN_TEMPLATE.format(
        cls=cls,
        name=name,
        description=description,
        extra_import=", register_modality" if register else "",
        decorator="@register_modality\n" if register else "",
    )
