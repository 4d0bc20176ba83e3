"""From a room and a model to restored native objects: build, train, restore (with uncertainty).

* :func:`model_from_recipe` builds the conditional :class:`~wavediff.diffusion.Denoiser` a room's
  ``recipe.toml`` describes (wavelet, net preset, process).
* :func:`train` fits it on the room's own training data (``Modality.training_data``) and writes the
  EMA weights with the command, recipe and metrics recorded beside them: this is what
  ``wavediff train ROOM`` runs, and how every shipped ``weights.safetensors`` is made.
* :class:`Restorer` / :func:`restore` turn a native object (an ``mne.io.Raw``, a NIfTI image...) into
  tensors and give back the same kind of object: by default the posterior mean, computed directly in
  one network evaluation (residual process); with several draws of the recipe's sampler, their mean
  and, on request, their per-element standard deviation.
"""

from __future__ import annotations

import copy
import json
import os
import sys
from pathlib import Path
from typing import Any

import torch

from .diffusion import Denoiser, process_from_config, sample
from .errors import (
    CheckpointError,
    ConfigError,
    InvalidInputError,
    ModalityError,
    ShapeError,
    UnknownModalityError,
)
from .modality import Modality, available_modalities, get_modality
from .nets import UNet
from .training import Trainer, load_denoiser, save_checkpoint
from .wavelets import WaveletTransform

__all__ = ["model_from_recipe", "train", "Restorer", "restore"]


def _merge(base: dict[str, Any], overrides: dict[str, Any] | None) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in (overrides or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def model_from_recipe(recipe: dict[str, Any], dims: int, channels: int = 1) -> Denoiser:
    """The conditional denoiser described by ``recipe`` for ``channels`` input channels on ``dims`` axes.

    Recipe keys: ``[wavelet] name, level`` (level 0: sample domain), ``[net] preset`` (and any
    :class:`~wavediff.nets.UNet` argument), ``[process]`` (see :func:`process_from_config`).
    The degraded observation is the condition, so the net gets as many condition channels as inputs,
    plus ``[data] context_channels`` (default 0) channels of side information that follow it
    (e.g. other electrodes of a montage).
    """
    try:
        wav = recipe.get("wavelet", {})
        level = int(wav.get("level", 0))
        wavelet = WaveletTransform(wav.get("name", "haar"), level, dim=dims) if level > 0 else None
        packed = channels * (2 ** (dims * level))
        net_args = {k: v for k, v in recipe.get("net", {}).items() if k not in ("dims", "in_channels", "cond_channels")}
        context = int(recipe.get("data", {}).get("context_channels", 0))
        if context < 0:
            raise ValueError(f"[data] context_channels = {context} must be >= 0")
        net = UNet(dims=dims, in_channels=packed, cond_channels=packed + context * 2 ** (dims * level), **net_args)
        process = process_from_config(recipe.get("process", {"kind": "residual"}))
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"the recipe does not describe a model ({exc}); see the room's recipe.toml") from exc
    return Denoiser(net, process, wavelet)


def train(
    modality: Modality | str,
    *,
    steps: int | None = None,
    out: str | os.PathLike | None = None,
    device: str = "cpu",
    seed: int = 0,
    recipe: dict[str, Any] | None = None,
    progress: bool = True,
    evaluate: bool = True,
) -> Path:
    """Train the room's default model and write it (EMA weights, float16) with its provenance.

    Parameters
    ----------
    modality : Modality or str
        The room.
    steps : int, optional
        Training steps (default: the recipe's ``[train] steps``).
    out : path, optional
        Where to write ``*.safetensors`` (+ ``.json``); default the room's ``weights.safetensors``.
    recipe : dict, optional
        Overrides merged into the room's ``recipe.toml``; only sections the room's recipe has.
    evaluate : bool
        Record the room's held-out metrics (``Modality.evaluate_model``) in the JSON, when it has one.
    """
    room = get_modality(modality) if isinstance(modality, str) else modality
    base = room.default_recipe()
    unknown = sorted(set(recipe or {}) - set(base))
    if unknown:
        raise InvalidInputError(
            f"recipe overrides name no section {', '.join(f'[{k}]' for k in unknown)} of the {room.name} recipe; "
            f"it has {', '.join(f'[{k}]' for k in base)}"
        )
    full = _merge(base, recipe)
    train_cfg = full.get("train", {})
    steps = int(steps if steps is not None else train_cfg.get("steps", 1000))
    if steps < 1:
        raise InvalidInputError(f"steps={steps} must be >= 1")
    torch.manual_seed(seed)
    model = model_from_recipe(full, room.spatial_dims, int(full.get("data", {}).get("channels", 1)))
    data = room.training_data(full, seed=seed)
    trainer = Trainer(
        model,
        data,
        batch_size=int(train_cfg.get("batch_size", 32)),
        lr=float(train_cfg.get("lr", 2e-4)),
        ema_decay=float(train_cfg.get("ema_decay", 0.999)),
        warmup_steps=int(train_cfg.get("warmup_steps", 0)),
        seed=seed,
        device=device,
    )
    out = Path(out) if out is not None else room.weights_path()
    resume = out.with_name(out.stem + ".train.safetensors")  # full state, for resuming an interrupted run
    trainer.tag = json.loads(json.dumps({"room": room.name, "recipe": full, "seed": seed}))
    if resume.is_file():
        wanted = trainer.tag
        trainer.load(resume)
        if trainer.tag != wanted:
            raise CheckpointError(
                f"{resume} is an interrupted run of another recipe, room or seed; delete it to train from the start"
            )
    trainer.fit(steps, progress=progress, checkpoint=resume, checkpoint_every=int(train_cfg.get("checkpoint_every", 500)))
    seconds = trainer.seconds  # summed over the runs that resumed one another
    metrics: dict[str, Any] = {"final_loss_mean_last_100": sum(trainer.history[-100:]) / max(1, len(trainer.history[-100:]))}
    if evaluate and hasattr(room, "evaluate_model"):
        metrics.update(room.evaluate_model(trainer.ema.eval(), full, seed=seed + 1))
    info = {
        "command": "wavediff train " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["train"] else f"wavediff.pipeline.train({room.name!r}, steps={steps}, seed={seed})",
        "room": room.name,
        "recipe": full,
        "steps": steps,
        "seed": seed,
        "device": device,
        "train_seconds": round(seconds, 3),
        "torch": torch.__version__,
    }
    save_checkpoint(out, trainer.ema, info=info, metrics=metrics, dtype=torch.float16)
    if resume.is_file():
        resume.unlink()
        resume.with_suffix(".json").unlink(missing_ok=True)
    return out


class Restorer:
    """A room, a model and a sampler: ``restorer.restore(obj)`` returns the same kind of object.

    Parameters
    ----------
    modality : Modality or str
    model : Denoiser or path, optional
        Default: the room's shipped ``weights.safetensors``.
    device : str
        ``'cpu'`` or ``'cuda'``.
    sampler, steps : optional
        Default: the recipe's ``[sampler] name, steps``.
    n_samples : int
        Posterior draws per call: their mean is returned and their spread is the uncertainty. With
        ``n_samples=1`` (default) and a residual-process model (every shipped one) no sampler runs:
        the estimate is the posterior mean ``E[x0 | y]``, one network evaluation (see
        :meth:`posterior_mean_tensor`). It is the minimum-MSE estimate, where a single draw has up to
        twice its error, and it costs one evaluation instead of the sampler's ``steps``.
    seed : int
        Seeds the draws, so results are reproducible.
    """

    def __init__(
        self,
        modality: Modality | str,
        model: Denoiser | str | os.PathLike | None = None,
        *,
        device: str = "cpu",
        sampler: str | None = None,
        steps: int | None = None,
        n_samples: int = 1,
        seed: int = 0,
    ):
        self.modality = get_modality(modality) if isinstance(modality, str) else modality
        if model is None:
            path = self.modality.weights_path()
            if not path.is_file():
                raise ModalityError(
                    f"room {self.modality.name!r} has no shipped model at {path}; train one with "
                    f"`wavediff train {self.modality.name}` or pass model="
                )
            model = path
        if isinstance(model, torch.nn.Module):
            if not hasattr(model, "process"):
                raise InvalidInputError("the model must be a wavediff Denoiser (a module with a .process)")
            self.model = model.to(device).eval()
        else:
            self.model = load_denoiser(model, device)
        recipe = self.modality.default_recipe().get("sampler", {})
        self.sampler = sampler or recipe.get("name", "dpmpp_2m")
        self.steps = int(steps or recipe.get("steps", 10))
        if n_samples < 1:
            raise InvalidInputError(f"n_samples={n_samples} must be >= 1")
        self.n_samples, self.seed, self.device = n_samples, seed, device

    @torch.no_grad()
    def restore_tensor(self, y: torch.Tensor, n_samples: int | None = None, batch_size: int | None = None) -> torch.Tensor:
        """Posterior draws ``(n_samples, batch, channels, ...)`` for degraded tensors ``y`` in the room's layout.

        ``y`` holds the observation in its first ``channels`` (the model's data channels) and may
        carry context channels after them (a model made with ``[data] context_channels``).

        Draws are stacked along the batch axis and processed ``batch_size`` rows at a time (default:
        :meth:`default_batch_size`).
        """
        n = self.n_samples if n_samples is None else n_samples
        process = self.model.process
        c = self._data_channels(y)
        g = torch.Generator(device="cpu").manual_seed(self.seed)
        sigmas = process.sigmas(self.steps)
        rows = y.unsqueeze(0).expand(n, *y.shape).reshape(n * y.shape[0], *y.shape[1:])
        out = torch.empty(rows.shape[0], c, *rows.shape[2:], dtype=rows.dtype)
        batch_size = self._batch_size(batch_size)
        for i in range(0, rows.shape[0], batch_size):
            yb = rows[i : i + batch_size].to(self.device)
            obs = yb[:, :c]
            start = process.prior_sample(tuple(obs.shape), obs if process.needs_observation else None, generator=g, device=self.device, dtype=yb.dtype)
            out[i : i + batch_size] = sample(self.sampler, self.model, start, sigmas, cond=yb).x.cpu()
        return out.reshape(n, y.shape[0], c, *y.shape[2:])

    def default_batch_size(self) -> int:
        """Rows per network call: 128 on CPU, where small batches stay in cache (the shipped EEG model
        restores a 64-channel 10-minute recording in 37 s instead of 56 s with 512 on 2 threads,
        ``benchmarks/eeg.py`` speed section), 1024 on GPU."""
        return 1024 if torch.device(self.device).type == "cuda" else 128

    def _batch_size(self, batch_size: int | None) -> int:
        if batch_size is None:
            return self.default_batch_size()
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidInputError(f"batch_size={batch_size!r} must be a positive integer (rows per network call), or None")
        return batch_size

    def _data_channels(self, y: torch.Tensor) -> int:
        """Channels restored: the model's data channels; ``y`` holds them first, then any context channels."""
        c = int(getattr(self.model, "data_channels", y.shape[1]))
        if y.ndim < 3 or y.shape[1] < c:
            raise ShapeError(f"degraded tensor has shape {tuple(y.shape)}; this model needs (batch, >= {c} channels, ...)")
        return c

    @torch.no_grad()
    def posterior_mean_tensor(self, y: torch.Tensor, batch_size: int | None = None) -> torch.Tensor:
        """The posterior mean ``E[x0 | y]`` of degraded tensors ``y``, in one network evaluation.

        The residual process starts at ``x = y + sigma_max * n`` with ``n`` independent of ``x0``:
        that state holds no information about ``x0`` beyond ``y``, so the trained denoiser's output
        there, ``E[x0 | x, y]``, is ``E[x0 | y]``. (The Gaussian process starts from ``x0 + sigma_max
        * n``, which does depend on ``x0``: models trained with it must draw samples instead.)
        """
        process = self.model.process
        if getattr(process, "kind", None) != "residual":
            raise InvalidInputError(
                f"a direct posterior mean needs a residual-process model; this one uses {process.kind!r}: "
                "average draws instead (n_samples >= 2)"
            )
        c = self._data_channels(y)
        g = torch.Generator(device="cpu").manual_seed(self.seed)
        out = torch.empty(y.shape[0], c, *y.shape[2:], dtype=y.dtype)
        batch_size = self._batch_size(batch_size)
        for i in range(0, y.shape[0], batch_size):
            yb = y[i : i + batch_size].to(self.device)
            obs = yb[:, :c]
            start = process.prior_sample(tuple(obs.shape), obs, generator=g, device=self.device, dtype=yb.dtype)
            sigma = torch.full((yb.shape[0],), float(process.sigma_max), device=self.device, dtype=yb.dtype)
            out[i : i + batch_size] = self.model(start, sigma, cond=yb).cpu()
        return out

    def restore(self, obj: Any, *, n_samples: int | None = None, return_std: bool = False, **kwargs: Any) -> Any:
        """Restore a native object; with ``return_std`` also return the draws' standard deviation.

        One draw requested (the default) with a residual-process model gives the direct posterior
        mean (:meth:`posterior_mean_tensor`); otherwise the mean of ``n_samples`` sampler draws.
        Keyword arguments go to the room's ``to_tensor`` (e.g. ``sfreq`` for numpy EEG).
        """
        n = self.n_samples if n_samples is None else n_samples
        tensor, context = self.modality.to_tensor(obj, **kwargs)
        wanted = getattr(self.model, "condition_channels", tensor.shape[1])
        if tensor.shape[1] != wanted:
            raise ConfigError(
                f"the model takes {wanted} channel(s) per window (observation, then context) but room "
                f"{self.modality.name!r} gives {tensor.shape[1]}: use weights trained with the room's recipe "
                "(its [data] context_channels), or a room set up like the model's training"
            )
        if n == 1 and not return_std and getattr(self.model.process, "kind", None) == "residual":
            return self.modality.from_tensor(self.posterior_mean_tensor(tensor), context)
        draws = self.restore_tensor(tensor, n)
        restored = self.modality.from_tensor(draws.mean(0), context)
        if not return_std:
            return restored
        if draws.shape[0] < 2:
            raise InvalidInputError("an uncertainty needs at least two draws: pass n_samples >= 2")
        return restored, self.modality.uncertainty_from_tensor(draws.std(0), context)


def restore(obj: Any, modality: Modality | str | None = None, **kwargs: Any) -> Any:
    """Restore ``obj`` with the default model of its room (chosen from the object's type if not given).

    Keyword arguments: those of :class:`Restorer` (``device``, ``steps``, ``n_samples``, ``seed``...) and
    of :meth:`Restorer.restore` (``return_std`` and the room's ``to_tensor`` options).
    """
    if modality is None:
        matches = [name for name, cls in available_modalities().items() if cls().accepts(obj)]
        if len(matches) != 1:
            raise UnknownModalityError(
                f"cannot tell which room a {type(obj).__name__} belongs to ({matches or 'none'}); pass modality='...'"
            )
        modality = matches[0]
    init_keys = {"model", "device", "sampler", "steps", "n_samples", "seed"}
    init = {k: kwargs.pop(k) for k in list(kwargs) if k in init_keys}
    return Restorer(modality, **init).restore(obj, **kwargs)

