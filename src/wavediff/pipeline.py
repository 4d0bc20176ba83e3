"""From a room and a model to restored native objects: build, train, restore (with uncertainty).

* :func:`model_from_recipe` builds the conditional :class:`~wavediff.diffusion.Denoiser` a room's
  ``recipe.toml`` describes (wavelet, net preset, process).
* :func:`train` fits it on the room's own training data (``Modality.training_data``: its simulator,
  or with ``data=`` the user's own files with the room's degradations) and writes the EMA weights
  with the command, recipe, data and metrics recorded beside them: this is what ``wavediff train
  ROOM`` runs, and how every shipped ``weights.safetensors`` is made. ``init=`` fine-tunes a model.
* :class:`Restorer` / :func:`restore` turn a native object (an ``mne.io.Raw``, a NIfTI image...) into
  tensors and give back the same kind of object: by default the posterior mean, computed directly in
  one network evaluation (residual process); with several draws of the recipe's sampler, their mean
  and, on request, their per-element standard deviation.

A model carries its room's layout: the recipe's ``[data]`` keys are the room's settings, the room is
built from them for training, the checkpoint records them, and :class:`Restorer` builds the room from
that record (not from the room's defaults).

Examples
--------
A room with one setting (its window), trained for two steps, restores with the window it was trained
with, whatever the room's default:

>>> import tempfile, numpy as np, torch
>>> from wavediff.modality import Modality
>>> class Frames(Modality):
...     name, description, extensions = "frames", "doctest room", (".npy",)
...     def __init__(self, window=None):
...         self.window = int(window or 16)
...     def settings(self):
...         return {"window": self.window}
...     def default_recipe(self):
...         return {"data": {"window": 16}, "net": {"preset": "tiny", "channels": [8], "emb_dim": 16},
...                 "process": {"kind": "residual"}, "sampler": {"name": "dpmpp_2m", "steps": 2},
...                 "train": {"batch_size": 4}}
...     def training_data(self, recipe, seed=0):
...         w = self.window
...         return lambda g, n: (torch.zeros(n, 1, w), torch.randn(n, 1, w, generator=g))
...     def to_tensor(self, obj):
...         return torch.as_tensor(obj, dtype=torch.float32).reshape(-1, 1, self.window), {"shape": np.shape(obj)}
...     def from_tensor(self, tensor, context):
...         return tensor.numpy().reshape(context["shape"])
...     read = write = degrade = metrics = demo = None
>>> path = train(Frames(window=8), steps=2, out=tempfile.mkdtemp() + "/w.safetensors", progress=False)
>>> restorer = Restorer(Frames(), path)
Traceback (most recent call last):
...
wavediff.errors.ConfigError: the frames room is set up with {'window': 16} but the model was trained with {'window': 8}; ...
>>> restorer = Restorer(Frames(window=8), path)
>>> restorer.modality.window, restorer.restore(np.zeros(24)).shape
(8, (24,))
"""

from __future__ import annotations

import copy
import hashlib
import inspect
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
    DeviceError,
    InvalidInputError,
    ModalityError,
    ShapeError,
    UnknownModalityError,
)
from .modality import Modality, available_modalities, get_modality
from .nets import UNet
from .training import Trainer, load_checkpoint, load_denoiser, read_meta, save_checkpoint
from .wavelets import WaveletTransform

__all__ = ["model_from_recipe", "train", "Restorer", "restore", "check_device"]

#: Steps of a fine-tuning run (``init=``) when neither ``steps`` nor ``[train] finetune_steps`` says.
FINETUNE_STEPS = 2000


def _merge(base: dict[str, Any], overrides: dict[str, Any] | None) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in (overrides or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def check_device(device: str | torch.device) -> torch.device:
    """``device`` as a :class:`torch.device`, or a :class:`~wavediff.errors.DeviceError` saying why it cannot be used."""
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise DeviceError(f"device={device!r} is not a device name ({exc}); use 'cpu', 'cuda' or 'cuda:N'") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"device={device!r} was requested but this machine has no usable CUDA device; use device='cpu'")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise DeviceError(f"device={device!r}: only {torch.cuda.device_count()} CUDA device(s) here; use 'cuda:0'")
    elif dev.type != "cpu":
        raise DeviceError(f"device={device!r}: wavediff runs on 'cpu' or 'cuda'")
    return dev


def model_from_recipe(recipe: dict[str, Any], dims: int, channels: int = 1, *, layout: dict[str, Any] | None = None) -> Denoiser:
    """The conditional denoiser described by ``recipe`` for ``channels`` input channels on ``dims`` axes.

    Recipe keys: ``[wavelet] name, level`` (level 0: sample domain), ``[net] preset`` (and any
    :class:`~wavediff.nets.UNet` argument), ``[process]`` (see :func:`process_from_config`).
    The degraded observation is the condition, so the net gets as many condition channels as inputs,
    plus ``[data] context_channels`` (default 0) channels of side information that follow it
    (e.g. other electrodes of a montage). ``layout`` (the room and its settings) is recorded in the
    model's configuration.
    """
    try:
        wav = recipe.get("wavelet", {})
        level = int(wav.get("level", 0))
        wavelet = WaveletTransform(wav.get("name", "haar"), level, dims=dims) if level > 0 else None
        packed = channels * (2 ** (dims * level))
        net_args = {k: v for k, v in recipe.get("net", {}).items() if k not in ("dims", "in_channels", "cond_channels")}
        context = int(recipe.get("data", {}).get("context_channels", 0))
        if context < 0:
            raise ValueError(f"[data] context_channels = {context} must be >= 0")
        net = UNet(dims=dims, in_channels=packed, cond_channels=packed + context * 2 ** (dims * level), **net_args)
        process = process_from_config(recipe.get("process", {"kind": "residual"}))
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"the recipe does not describe a model ({exc}); see the room's recipe.toml") from exc
    return Denoiser(net, process, wavelet, layout=layout)


# ------------------------------------------------------------------------------------------ training
def _init_path(room: Modality, init: str | os.PathLike) -> Path:
    if str(init) == "shipped":
        path = room.weights_path()
        if not path.is_file():
            raise ModalityError(f"--init shipped: room {room.name!r} ships no model at {path}; train one first")
        return path
    path = Path(init)
    if not path.is_file():
        raise CheckpointError(f"--init {path}: no such file; pass 'shipped' or a weights .safetensors file")
    return path


def _room_for_training(modality: Modality | str, settings: dict[str, Any], overrides: dict[str, Any]) -> Modality:
    """The room built from the recipe's ``[data]`` settings (a name), or a given instance checked against them."""
    if isinstance(modality, str):
        return get_modality(modality, **settings)
    asked = overrides.get("data", {})
    own = modality.settings()
    clash = {k: v for k, v in asked.items() if k in own and type(modality)(**{**own, k: v}).settings() != own}
    if clash:
        raise ConfigError(
            f"the recipe sets [data] {clash} but the {modality.name} room passed in is set up with {own}; "
            "pass the room's name to build it from the recipe, or a room with those settings"
        )
    return modality


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _data_record(room: Modality, data: str | os.PathLike | None) -> dict[str, Any]:
    """Which data a training run used: the room's simulator, or the user's files with their sha256."""
    if data is None:
        return {"source": f"simulated by the {room.name} room (its training_data without --data)"}
    root = Path(data)
    files = room.data_files(root)
    return {
        "source": "user files",
        "folder": str(root.resolve()),
        "files": [{"path": str(f.relative_to(root)), "bytes": f.stat().st_size, "sha256": _sha256(f)} for f in files],
    }


def train(
    modality: Modality | str,
    *,
    steps: int | None = None,
    out: str | os.PathLike | None = None,
    device: str = "cpu",
    seed: int = 0,
    recipe: dict[str, Any] | None = None,
    data: str | os.PathLike | None = None,
    init: str | os.PathLike | None = None,
    progress: bool = True,
    evaluate: bool = True,
) -> Path:
    """Train the room's default model and write it (EMA weights, float16) with its provenance.

    Parameters
    ----------
    modality : Modality or str
        The room. A name builds the room from the recipe's ``[data]`` settings; an instance is used as
        it is (recipe ``[data]`` overrides that contradict it are refused).
    steps : int, optional
        Training steps (default: the recipe's ``[train] steps``; when fine-tuning, ``[train]
        finetune_steps`` or 2000).
    out : path, optional
        Where to write ``*.safetensors`` (+ ``.json``); default the room's ``weights.safetensors``.
    recipe : dict, optional
        Overrides merged into the room's ``recipe.toml``; only sections the room's recipe has.
    data : path, optional
        A folder of the user's own files in the room's formats: the room builds the training pairs
        from them (its degradations applied to their content). The JSON records every file's sha256.
    init : 'shipped' or path, optional
        Start from these weights (fine-tuning): the room's shipped model or a checkpoint. Its recipe
        is the base the overrides are merged into, so the architecture matches.
    evaluate : bool
        Record the room's held-out metrics (``Modality.evaluate_model``) in the JSON, when it has one.
    """
    check_device(device)
    room = get_modality(modality) if isinstance(modality, str) else modality
    base = room.default_recipe()
    unknown = sorted(set(recipe or {}) - set(base))
    if unknown:
        raise InvalidInputError(
            f"recipe overrides name no section {', '.join(f'[{k}]' for k in unknown)} of the {room.name} recipe; "
            f"it has {', '.join(f'[{k}]' for k in base)}"
        )
    init_path = None if init is None else _init_path(room, init)
    if init_path is not None:
        init_recipe = read_meta(init_path).get("info", {}).get("recipe")
        base = _merge(base, init_recipe if isinstance(init_recipe, dict) else {})
    full = _merge(base, recipe)
    room = _room_for_training(modality if isinstance(modality, str) else room, full.get("data", {}), recipe or {})
    full["data"] = {**full.get("data", {}), **room.settings()}
    train_cfg = full.get("train", {})
    default_steps = train_cfg.get("finetune_steps", FINETUNE_STEPS) if init_path is not None else train_cfg.get("steps", 1000)
    steps = int(steps if steps is not None else default_steps)
    if steps < 1:
        raise InvalidInputError(f"steps={steps} must be >= 1")
    torch.manual_seed(seed)
    layout = {"room": room.name, "settings": room.settings()}
    model = model_from_recipe(full, room.spatial_dims, int(full.get("data", {}).get("channels", 1)), layout=layout)
    if init_path is not None:
        _load_init(model, init_path)
    provenance = _data_record(room, data)
    batches = room.training_data(full, seed=seed) if data is None else room.training_data(full, seed=seed, data=Path(data))
    trainer = Trainer(
        model,
        batches,
        batch_size=int(train_cfg.get("batch_size", 32)),
        lr=float(train_cfg.get("finetune_lr" if init_path is not None else "lr", train_cfg.get("lr", 2e-4))),
        ema_decay=float(train_cfg.get("ema_decay", 0.999)),
        warmup_steps=int(train_cfg.get("warmup_steps", 0)),
        seed=seed,
        device=device,
    )
    out = Path(out) if out is not None else room.weights_path()
    resume = out.with_name(out.stem + ".train.safetensors")  # full state, for resuming an interrupted run
    init_record = None if init_path is None else {"path": str(init_path.resolve()), "sha256": _sha256(init_path)}
    trainer.tag = json.loads(json.dumps({"room": room.name, "recipe": full, "seed": seed, "data": provenance, "init": init_record}))
    if resume.is_file():
        wanted = trainer.tag
        trainer.load(resume)
        if trainer.tag != wanted:
            raise CheckpointError(
                f"{resume} is an interrupted run of another recipe, room, seed, data or initial model; "
                "delete it to train from the start"
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
        "data": provenance,
        "init": init_record,
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


def _load_init(model: Denoiser, path: Path) -> None:
    """Load the (EMA) weights of checkpoint ``path`` into ``model``; the architectures must match."""
    tensors, meta = load_checkpoint(path)
    theirs = {k: v for k, v in meta["config"].items() if k != "layout"}
    ours = {k: v for k, v in model.config().items() if k != "layout"}
    if theirs != ours:
        raise CheckpointError(
            f"--init {path} holds another architecture than this recipe builds; fine-tune with the recipe it "
            "was trained with (its JSON's info.recipe), changing only [data] and [train] keys"
        )
    prefix = "ema." if any(k.startswith("ema.") for k in tensors) else "model."
    model.load_state_dict({k[len(prefix):]: v.float() if v.is_floating_point() else v for k, v in tensors.items() if k.startswith(prefix)})


# ------------------------------------------------------------------------------------------ restoring
def _room_for_model(modality: Modality | str, layout: dict[str, Any] | None) -> Modality:
    """The room as the model was trained with it: built from the model's record, or checked against it."""
    name = modality if isinstance(modality, str) else modality.name
    if layout is not None and layout["room"] != name:
        raise ConfigError(f"the model was trained for the {layout['room']!r} room, not {name!r}; pass modality={layout['room']!r}")
    if isinstance(modality, str):
        return get_modality(name, **layout["settings"]) if layout is not None else get_modality(name)
    if layout is not None:
        free = set(getattr(modality, "free_settings", ()))
        own = {k: v for k, v in modality.settings().items() if k not in free}
        expected = {k: v for k, v in type(modality)(**layout["settings"]).settings().items() if k not in free}
        if own != expected:
            raise ConfigError(
                f"the {name} room is set up with {own} but the model was trained with {expected}; "
                f"pass the room's name ({name!r}) to build it from the model, or set it up like that"
            )
    return modality


class Restorer:
    """A room, a model and a sampler: ``restorer.restore(obj)`` returns the same kind of object.

    Parameters
    ----------
    modality : Modality or str
        The room. A name builds it from the model's recorded layout (rate, window, context...); an
        instance must be set up as the model was trained.
    model : Denoiser or path, optional
        Default: the room's shipped ``weights.safetensors``.
    device : str
        ``'cpu'`` or ``'cuda'`` (a :class:`~wavediff.errors.DeviceError` when absent).
    sampler, steps : optional
        Default: the model's training recipe's ``[sampler] name, steps`` (the room's for a model
        passed as an object).
    n_draws : int
        Posterior draws per call: their mean is returned and their spread is the uncertainty. With
        ``n_draws=1`` (default) and a residual-process model (every shipped one) no sampler runs:
        the estimate is the posterior mean ``E[x0 | y]``, one network evaluation (see
        :meth:`posterior_mean_tensor`). It is the minimum-MSE estimate, where a single draw has up to
        twice its error, and it costs one evaluation instead of the sampler's ``steps``.
    seed : int
        Seeds the draws (the starting noise and any noise the sampler adds), so results are reproducible.
    """

    def __init__(
        self,
        modality: Modality | str,
        model: Denoiser | str | os.PathLike | None = None,
        *,
        device: str = "cpu",
        sampler: str | None = None,
        steps: int | None = None,
        n_draws: int = 1,
        seed: int = 0,
    ):
        check_device(device)
        if isinstance(n_draws, bool) or not isinstance(n_draws, int) or n_draws < 1:
            raise InvalidInputError(f"n_draws={n_draws!r} must be an integer >= 1")
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
            raise InvalidInputError(f"steps={steps!r} must be an integer >= 1 (sampler steps)")
        defaults = get_modality(modality) if isinstance(modality, str) else modality
        recipe_sampler = defaults.default_recipe().get("sampler", {})
        if model is None:
            path = defaults.weights_path()
            if not path.is_file():
                raise ModalityError(
                    f"room {defaults.name!r} has no shipped model at {path}; train one with "
                    f"`wavediff train {defaults.name}` or pass model="
                )
            model = path
        if isinstance(model, torch.nn.Module):
            if not hasattr(model, "process"):
                raise InvalidInputError("the model must be a wavediff Denoiser (a module with a .process)")
            self.model = model.to(device).eval()
        else:
            self.model = load_denoiser(model, device)
            recipe_sampler = read_meta(model).get("info", {}).get("recipe", {}).get("sampler", recipe_sampler)
        self.modality = _room_for_model(modality, getattr(self.model, "layout", None))
        net_dims = getattr(getattr(self.model, "net", None), "config", {}).get("dims")
        if net_dims is not None and net_dims != self.modality.spatial_dims:
            raise ConfigError(
                f"the model works on {net_dims}-D tensors but the {self.modality.name} room gives "
                f"{self.modality.spatial_dims}-D ones; use a model trained for this room's layout"
            )
        self.sampler = sampler or recipe_sampler.get("name", "dpmpp_2m")
        self.steps = int(steps or recipe_sampler.get("steps", 10))
        self.n_draws, self.seed, self.device = n_draws, seed, device

    @torch.no_grad()
    def restore_tensor(self, y: torch.Tensor, n_draws: int | None = None, batch_size: int | None = None) -> torch.Tensor:
        """Posterior draws ``(n_draws, batch, channels, ...)`` for degraded tensors ``y`` in the room's layout.

        ``y`` holds the observation in its first ``channels`` (the model's data channels) and may
        carry context channels after them (a model made with ``[data] context_channels``).

        Draws are stacked along the batch axis and processed ``batch_size`` rows at a time (default:
        :meth:`default_batch_size`). One generator seeded with ``seed`` draws the starting noise and
        the noise of stochastic samplers.
        """
        n = self.n_draws if n_draws is None else n_draws
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
            out[i : i + batch_size] = sample(self.sampler, self.model, start, sigmas, cond=yb, generator=g, process=process).x.cpu()
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
        * n``, which does depend on ``x0``: models trained with it must draw samples instead.) The
        training draws that sit at ``sigma_max`` (about 16 % with the default process, see
        :class:`~wavediff.diffusion.ResidualProcess`) are what train this estimate.
        """
        process = self.model.process
        if getattr(process, "kind", None) != "residual":
            raise InvalidInputError(
                f"a direct posterior mean needs a residual-process model; this one uses {process.kind!r}: "
                "average draws instead (n_draws >= 2)"
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

    def restore(
        self,
        obj: Any,
        *,
        n_draws: int | None = None,
        return_std: bool = False,
        batch_size: int | None = None,
        **options: Any,
    ) -> Any:
        """Restore a native object; with ``return_std`` also return the draws' standard deviation.

        One draw requested (the default) with a residual-process model gives the direct posterior
        mean (:meth:`posterior_mean_tensor`); otherwise the mean of ``n_draws`` sampler draws.
        ``options`` are the room's own reading options (its ``to_tensor`` keywords, e.g. ``sfreq``
        for numpy EEG); any other keyword is refused with the list of valid ones.
        """
        n = self.n_draws if n_draws is None else n_draws
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InvalidInputError(f"n_draws={n!r} must be an integer >= 1")
        if return_std and n < 2:
            raise InvalidInputError("an uncertainty needs at least two draws: pass n_draws >= 2 (--draws N on the command line)")
        self._check_options(options)
        tensor, context = self.modality.to_tensor(obj, **options)
        wanted = getattr(self.model, "condition_channels", tensor.shape[1])
        if tensor.shape[1] != wanted:
            raise ConfigError(
                f"the model takes {wanted} channel(s) per window (observation, then context) but room "
                f"{self.modality.name!r} gives {tensor.shape[1]}: use weights trained with the room's recipe "
                "(its [data] context_channels), or a room set up like the model's training"
            )
        if n == 1 and not return_std and getattr(self.model.process, "kind", None) == "residual":
            return self.modality.from_tensor(self.posterior_mean_tensor(tensor, batch_size), context)
        draws = self.restore_tensor(tensor, n, batch_size)
        restored = self.modality.from_tensor(draws.mean(0), context)
        if not return_std:
            return restored
        return restored, self.modality.uncertainty_from_tensor(draws.std(0), context)

    def _check_options(self, options: dict[str, Any]) -> None:
        params = inspect.signature(self.modality.to_tensor).parameters
        if any(p.kind is p.VAR_KEYWORD for p in params.values()):
            return
        accepted = [k for k, p in params.items() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)][1:]
        unknown = sorted(set(options) - set(accepted))
        if unknown:
            raise InvalidInputError(
                f"unknown keyword(s) {', '.join(unknown)}: restore takes model, device, sampler, steps, n_draws, "
                f"seed, return_std and batch_size, and the {self.modality.name} room reads "
                f"{', '.join(accepted) or 'no options'}"
            )


def restore(
    obj: Any,
    modality: Modality | str | None = None,
    *,
    model: Denoiser | str | os.PathLike | None = None,
    device: str = "cpu",
    sampler: str | None = None,
    steps: int | None = None,
    n_draws: int = 1,
    seed: int = 0,
    return_std: bool = False,
    batch_size: int | None = None,
    **options: Any,
) -> Any:
    """Restore ``obj`` with the default model of its room (chosen from the object's type if not given).

    The keywords are those of :class:`Restorer` and :meth:`Restorer.restore`; ``options`` are the
    room's reading options (e.g. ``sfreq=`` for a numpy EEG array).

    Examples
    --------
    >>> restore(object())
    Traceback (most recent call last):
    ...
    wavediff.errors.UnknownModalityError: cannot tell which room a object belongs to (none); pass modality='...'
    """
    if modality is None:
        matches = [name for name, cls in available_modalities().items() if _accepts(cls, obj)]
        if len(matches) != 1:
            raise UnknownModalityError(
                f"cannot tell which room a {type(obj).__name__} belongs to ({matches or 'none'}); pass modality='...'"
            )
        modality = matches[0]
    restorer = Restorer(modality, model, device=device, sampler=sampler, steps=steps, n_draws=n_draws, seed=seed)
    return restorer.restore(obj, return_std=return_std, batch_size=batch_size, **options)


def _accepts(cls: type[Modality], obj: Any) -> bool:
    try:
        return bool(cls().accepts(obj))
    except Exception:  # a room that cannot even be built with its defaults does not claim the object
        return False
