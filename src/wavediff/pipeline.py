"""From a room and a model to restored native objects: build, train, restore (with uncertainty).

* :func:`model_from_recipe` and :func:`train` (from :mod:`wavediff.learning`) build and train the
  room's model: from scratch, on the user's own files (``data=``) or from given weights (``init=``).
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

import inspect
import math
import os
import sys
from typing import Any

import numpy as np
import torch

from ._checks import check_device
from .diffusion import Denoiser, sample
from .diffusion.samplers import SAMPLERS, evaluations
from .errors import ConfigError, InvalidInputError, ModalityError, ShapeError, UnknownModalityError
from .learning import FINETUNE_STEPS, model_from_recipe, train
from .modality import Modality, available_modalities, get_modality
from .training import load_denoiser, read_meta

__all__ = ["model_from_recipe", "train", "Restorer", "restore", "check_device", "FINETUNE_STEPS"]


# ------------------------------------------------------------------------------------------ restoring
def _spread_scale(meta: dict[str, Any], path: Any) -> float:
    """The calibrated factor on the draws' spread recorded in a checkpoint's JSON (1 when none is)."""
    value = meta.get("calibration", {}).get("spread_scale", 1.0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 100:
        raise ConfigError(f"{path}: calibration.spread_scale={value!r} in its JSON must be a positive number; fix or remove it")
    return float(value)


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
    progress : bool or None
        A tqdm bar with an ETA over the windows (patches, slices) being restored, after a line giving
        the number of network evaluations to come. None (default): shown when stderr is a terminal.

    Attributes
    ----------
    report : str or None
        What the room said of the last :meth:`restore` (its context's ``"report"``: the EEG room's mode,
        the channels it placed and from what), or None.
    spread_scale : float
        Factor on the draws' standard deviation in ``restore(..., return_std=True)``: the model's JSON
        ``calibration.spread_scale`` (chosen on held-out data so that mean +- 1.645 std covers 90 % of
        the truth, by a room's calibration script, e.g. ``benchmarks.mri_calibrate``), else 1.
        :meth:`restore_tensor` returns the draws themselves, unscaled.

    Notes
    -----
    Windows that a room marks as having nothing to restore (its context's ``"unchanged"``: flat
    channels, constant patches, silence, dead traces; see :func:`wavediff.guards.degenerate`) skip the
    network and come back exactly as they went in, with zero spread.
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
        progress: bool | None = None,
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
        self.spread_scale = 1.0  # the draws' spread as it comes, unless the model's JSON records a calibration
        if isinstance(model, torch.nn.Module):
            if not hasattr(model, "process"):
                raise InvalidInputError("the model must be a wavediff Denoiser (a module with a .process)")
            self.model = model.to(device).eval()
        else:
            self.model = load_denoiser(model, device)
            meta = read_meta(model)
            recipe_sampler = meta.get("info", {}).get("recipe", {}).get("sampler", recipe_sampler)
            self.spread_scale = _spread_scale(meta, model)
        self.modality = _room_for_model(modality, getattr(self.model, "layout", None))
        net_dims = getattr(getattr(self.model, "net", None), "config", {}).get("dims")
        if net_dims is not None and net_dims != self.modality.spatial_dims:
            raise ConfigError(
                f"the model works on {net_dims}-D tensors but the {self.modality.name} room gives "
                f"{self.modality.spatial_dims}-D ones; use a model trained for this room's layout"
            )
        self.sampler = sampler or recipe_sampler.get("name", "dpmpp_2m")
        if self.sampler not in SAMPLERS:
            raise InvalidInputError(f"sampler={self.sampler!r} is unknown; use one of {', '.join(sorted(SAMPLERS))}")
        self.steps = int(steps or recipe_sampler.get("steps", 10))
        self.n_draws, self.seed, self.device, self.progress = n_draws, seed, device, progress
        self.report: str | None = None  # the room's account of its last restore (context["report"]), if it gives one

    def evaluations_per_row(self, n_draws: int | None = None) -> int:
        """Network evaluations per window (patch, slice): 1 for the direct posterior mean, else
        ``n_draws`` times the sampler's evaluations for ``steps``."""
        n = self.n_draws if n_draws is None else n_draws
        if n == 1 and getattr(self.model.process, "kind", None) == "residual":
            return 1
        return n * evaluations(self.sampler, self.model.process.sigmas(self.steps))

    def _bar(self, total: int, what: str) -> Any:
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=f"wavediff {what}", unit="window", disable=None if self.progress is None else not self.progress, leave=False)

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
        batch_size = self._batch_size(batch_size, tuple(y.shape[2:]))
        with self._bar(rows.shape[0], f"{n} posterior draws") as bar:
            for i in range(0, rows.shape[0], batch_size):
                yb = rows[i : i + batch_size].to(self.device)
                obs = yb[:, :c]
                start = process.prior_sample(tuple(obs.shape), obs if process.needs_observation else None, generator=g, device=self.device, dtype=yb.dtype)
                out[i : i + batch_size] = sample(self.sampler, self.model, start, sigmas, cond=yb, generator=g, process=process).x.cpu()
                bar.update(yb.shape[0])
        return out.reshape(n, y.shape[0], c, *y.shape[2:])

    #: Samples per network call (rows x window size): bounds the activations, which dominate memory
    #: once windows are large (a 256^2 MRI slice), while small windows (EEG) keep the row cap.
    PIXELS_PER_CALL = {"cpu": 2**21, "cuda": 2**24}

    def default_batch_size(self, window: tuple[int, ...] | None = None) -> int:
        """Rows per network call: up to 128 on CPU, where small batches stay in the cache (larger ones
        made the shipped EEG model slower on 2 threads when this default was chosen), 1024 on GPU, and
        no more than :attr:`PIXELS_PER_CALL` samples in all for windows of spatial shape ``window``
        (at least one row), so memory stays flat as slices or patches grow."""
        kind = "cuda" if torch.device(self.device).type == "cuda" else "cpu"
        rows = 1024 if kind == "cuda" else 128
        if window:
            rows = min(rows, max(1, self.PIXELS_PER_CALL[kind] // max(1, math.prod(window))))
        return rows

    def _batch_size(self, batch_size: int | None, window: tuple[int, ...] | None = None) -> int:
        if batch_size is None:
            return self.default_batch_size(window)
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
        batch_size = self._batch_size(batch_size, tuple(y.shape[2:]))
        with self._bar(y.shape[0], "posterior mean") as bar:
            for i in range(0, y.shape[0], batch_size):
                yb = y[i : i + batch_size].to(self.device)
                obs = yb[:, :c]
                start = process.prior_sample(tuple(obs.shape), obs, generator=g, device=self.device, dtype=yb.dtype)
                sigma = torch.full((yb.shape[0],), float(process.sigma_max), device=self.device, dtype=yb.dtype)
                out[i : i + batch_size] = self.model(start, sigma, cond=yb).cpu()
                bar.update(yb.shape[0])
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
        self.report = context.get("report") if isinstance(context, dict) else None
        wanted = getattr(self.model, "condition_channels", tensor.shape[1])
        if tensor.shape[1] != wanted:
            raise ConfigError(
                f"the model takes {wanted} channel(s) per window (observation, then context) but room "
                f"{self.modality.name!r} gives {tensor.shape[1]}: use weights trained with the room's recipe "
                "(its [data] context_channels), or a room set up like the model's training"
            )
        unchanged = context.get("unchanged") if isinstance(context, dict) else None
        active = slice(None) if unchanged is None else torch.as_tensor(~np.asarray(unchanged, dtype=bool))
        work = tensor[active]
        c = self._data_channels(tensor)
        if self.progress or (self.progress is None and sys.stderr.isatty()):
            skipped = tensor.shape[0] - work.shape[0]
            note = f" ({skipped} with nothing to restore passed through)" if skipped else ""
            print(
                f"wavediff: {work.shape[0]} window(s){note} x {self.evaluations_per_row(n)} network evaluation(s) "
                f"= {work.shape[0] * self.evaluations_per_row(n)} on {self.device}",
                file=sys.stderr,
            )
        if n == 1 and not return_std and getattr(self.model.process, "kind", None) == "residual":
            mean = tensor[:, :c].clone()
            if work.shape[0]:
                mean[active] = self.posterior_mean_tensor(work, batch_size)
            return self.modality.from_tensor(mean, context)
        draws = tensor[:, :c].unsqueeze(0).repeat(n, *([1] * tensor.ndim))
        if work.shape[0]:
            draws[:, active] = self.restore_tensor(work, n, batch_size)
        restored = self.modality.from_tensor(draws.mean(0), context)
        if not return_std:
            return restored
        return restored, self.modality.uncertainty_from_tensor(draws.std(0) * self.spread_scale, context)

    def _check_options(self, options: dict[str, Any]) -> None:
        params = inspect.signature(self.modality.to_tensor).parameters
        if any(p.kind is p.VAR_KEYWORD for p in params.values()):
            return
        accepted = [k for k, p in params.items() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)][1:]
        unknown = sorted(set(options) - set(accepted))
        if unknown:
            raise InvalidInputError(
                f"unknown keyword(s) {', '.join(unknown)}: restore takes model, device, sampler, steps, n_draws, progress, "
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
    progress: bool | None = None,
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
    restorer = Restorer(modality, model, device=device, sampler=sampler, steps=steps, n_draws=n_draws, seed=seed, progress=progress)
    return restorer.restore(obj, return_std=return_std, batch_size=batch_size, **options)


def _accepts(cls: type[Modality], obj: Any) -> bool:
    try:
        return bool(cls().accepts(obj))
    except Exception:  # a room that cannot even be built with its defaults does not claim the object
        return False
