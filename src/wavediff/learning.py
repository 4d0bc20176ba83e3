"""Learning a room's model: the recipe's denoiser, trained from scratch, on the user's data, or fine-tuned.

* :func:`model_from_recipe` builds the conditional :class:`~wavediff.diffusion.Denoiser` a room's
  ``recipe.toml`` describes (wavelet, net preset, process), with the room's layout recorded in it.
* :func:`train` fits it on the room's own training data (``Modality.training_data``: its simulator,
  or with ``data=`` the user's own files with the room's degradations) and writes the EMA weights
  with the command, recipe, data and metrics recorded beside them: this is what ``wavediff train
  ROOM`` runs, and how every shipped ``weights.safetensors`` is made. ``init=`` fine-tunes a model.

The room is built from the recipe's ``[data]`` settings, so the checkpoint records the layout the
model was trained with (see :mod:`wavediff.pipeline` for restoring with it).
"""

from __future__ import annotations

import copy
import json
import os
import sys
from pathlib import Path
from typing import Any

import torch

from ._checks import check_device
from .diffusion import Denoiser, process_from_config
from .errors import CheckpointError, ConfigError, InvalidInputError, ModalityError
from .modality import Modality, get_modality
from .nets import UNet
from .report import sha256sum
from .training import Trainer, load_denoiser, read_meta, save_checkpoint
from .wavelets import WaveletTransform

__all__ = ["model_from_recipe", "train", "FINETUNE_STEPS"]

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


def model_from_recipe(recipe: dict[str, Any], dims: int, channels: int = 1, *, layout: dict[str, Any] | None = None) -> Denoiser:
    """The conditional denoiser described by ``recipe`` for ``channels`` input channels on ``dims`` axes.

    Recipe keys: ``[wavelet] name, level`` (level 0: sample domain), ``[net] preset`` (and any
    :class:`~wavediff.nets.UNet` argument), ``[process]`` (see :func:`process_from_config`).
    The degraded observation is the condition, so the net gets as many condition channels as inputs,
    plus ``[data] context_channels`` (default 0) channels of side information that follow it
    (e.g. other electrodes of a montage). ``layout`` (the room and its settings) is recorded in the
    model's configuration.

    Examples
    --------
    >>> recipe = {"net": {"preset": "tiny"}, "wavelet": {"name": "haar", "level": 1}, "data": {"context_channels": 1}}
    >>> model = model_from_recipe(recipe, dims=1, layout={"room": "eeg", "settings": {"window": 2.0}})
    >>> model.net.config["in_channels"], model.net.config["cond_channels"], model.data_channels
    (2, 4, 1)
    >>> model.config()["layout"]
    {'room': 'eeg', 'settings': {'window': 2.0}}
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


def _data_record(room: Modality, data: str | os.PathLike | None, exclude: Any = ()) -> dict[str, Any]:
    """Which data a training run used: the room's simulator, or the user's files with their sha256
    (less those the recipe's ``[train] exclude`` globs hold out, which are recorded)."""
    if data is None:
        return {"source": f"simulated by the {room.name} room (its training_data without --data)"}
    root = Path(data)
    # without held-out globs, call data_files as rooms written before `exclude` existed define it
    files = room.data_files(root, exclude=exclude) if exclude else room.data_files(root)
    return {
        "source": "user files",
        "folder": str(root.resolve()),
        **({"excluded": list(exclude)} if exclude else {}),
        "files": [{"path": str(f.relative_to(root)), "bytes": f.stat().st_size, "sha256": sha256sum(f)} for f in files],
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
    room = _room_for_training(modality, full.get("data", {}), recipe or {})
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
    provenance = _data_record(room, data, train_cfg.get("exclude", ()))
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
    init_record = None if init_path is None else {"path": str(init_path.resolve()), "sha256": sha256sum(init_path)}
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
        "command": "wavediff train " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["train"] else f"wavediff.learning.train({room.name!r}, steps={steps}, seed={seed})",
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
    start = load_denoiser(path)
    theirs = {k: v for k, v in start.config().items() if k != "layout"}  # the layout may differ: that is fine-tuning
    ours = {k: v for k, v in model.config().items() if k != "layout"}
    if theirs != ours:
        raise CheckpointError(
            f"--init {path} holds another architecture than this recipe builds; fine-tune with the recipe it "
            "was trained with (its JSON's info.recipe), changing only [data] and [train] keys"
        )
    model.load_state_dict(start.state_dict())
