"""Training: AdamW, EMA weights, gradient clipping, bf16 on CUDA, DDP under torchrun, safe checkpoints.

Checkpoints are a ``.safetensors`` file (tensors only) plus a ``.json`` file beside it (model
configuration, step, optimiser hyper-parameters, metrics); nothing is ever unpickled. Randomness of
step ``k`` (batch indices, noise levels, noise) comes from a generator seeded by ``(seed, k, rank)``, so
a run resumed from a checkpoint continues exactly as if it had never stopped.

Training past one machine: launch the same script with ``torchrun --nproc_per_node N script.py``; the
Trainer joins the process group (NCCL on CUDA, gloo on CPU) and wraps the model in
``DistributedDataParallel``, so gradients are averaged and every replica holds identical weights.
"""

from __future__ import annotations

import copy
import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from safetensors.torch import load_file, save_file
from torch import nn
from tqdm.auto import tqdm

from .diffusion.denoiser import Denoiser
from .errors import CheckpointError, InvalidInputError
from .modality import atomic_output

__all__ = ["Trainer", "TensorData", "save_checkpoint", "load_checkpoint", "load_denoiser", "read_meta"]

FORMAT = "wavediff-checkpoint"
BatchFn = Callable[[torch.Generator, int], tuple[torch.Tensor, torch.Tensor | None]]


class TensorData:
    """Random mini-batches from in-memory tensors: ``clean (N, C, *S)`` and an optional ``cond``.

    ``degrade(clean_batch, generator) -> cond`` may be given instead of ``cond`` to corrupt clean
    examples on the fly (a fresh degradation every step).
    """

    def __init__(
        self,
        clean: torch.Tensor,
        cond: torch.Tensor | None = None,
        degrade: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
    ):
        if clean.ndim < 3 or clean.shape[0] < 1:
            raise InvalidInputError(f"clean has shape {tuple(clean.shape)}; pass (N, channels, *spatial) with N >= 1")
        if cond is not None and (cond.shape[0] != clean.shape[0] or cond.shape[2:] != clean.shape[2:]):
            raise InvalidInputError(f"cond {tuple(cond.shape)} must match clean {tuple(clean.shape)} except in channels")
        if cond is not None and degrade is not None:
            raise InvalidInputError("give cond or degrade, not both")
        self.clean, self.cond, self.degrade = clean, cond, degrade

    def __call__(self, generator: torch.Generator, batch_size: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        idx = torch.randint(0, self.clean.shape[0], (batch_size,), generator=generator)
        x0 = self.clean[idx]
        if self.degrade is not None:
            return x0, self.degrade(x0, generator)
        return x0, None if self.cond is None else self.cond[idx]


def _dist_info() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _maybe_init_distributed(device: torch.device) -> None:
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and dist.is_available() and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")


class Trainer:
    """Fit a :class:`~wavediff.diffusion.Denoiser` with its process's weighted denoising loss.

    Parameters
    ----------
    denoiser : Denoiser
        The model; its ``process`` defines the corruption and the loss.
    data : callable
        ``data(generator, batch_size) -> (x0, cond)``, e.g. :class:`TensorData`.
    batch_size : int
        Per-process batch size.
    lr, weight_decay, betas : AdamW settings.
    ema_decay : float
        EMA decay; the effective decay warms up as ``min(ema_decay, (1 + k) / (10 + k))``.
    grad_clip : float or None
        Clip the global gradient norm to this value.
    warmup_steps : int
        Linear learning-rate warm-up.
    seed : int
        Seeds every step's generator together with the step index and rank.
    device : str or torch.device
        ``'cpu'``, ``'cuda'``, ``'cuda:1'``...; with CUDA the network runs under bf16 autocast.

    Examples
    --------
    >>> import torch
    >>> from wavediff.nets import UNet
    >>> from wavediff.diffusion import Denoiser, EDMProcess
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <...>
    >>> model = Denoiser(UNet(dims=1, in_channels=1, preset="tiny"), EDMProcess(sigma_data=1.0))
    >>> trainer = Trainer(model, TensorData(torch.randn(64, 1, 32)), batch_size=8)
    >>> history = trainer.fit(2, progress=False)
    >>> trainer.step
    2
    """

    def __init__(
        self,
        denoiser: Denoiser,
        data: BatchFn,
        *,
        batch_size: int = 32,
        lr: float = 2e-4,
        weight_decay: float = 0.0,
        betas: tuple[float, float] = (0.9, 0.999),
        ema_decay: float = 0.999,
        grad_clip: float | None = 1.0,
        warmup_steps: int = 0,
        seed: int = 0,
        device: str | torch.device = "cpu",
    ):
        if batch_size < 1:
            raise InvalidInputError(f"batch_size={batch_size} must be >= 1")
        self.device = torch.device(device)
        if self.device.type == "cuda" and not torch.cuda.is_available():
            from .errors import DeviceError

            raise DeviceError("device='cuda' was requested but no CUDA device is available; use device='cpu'")
        _maybe_init_distributed(self.device)
        self.rank, self.world_size = _dist_info()
        self.model = denoiser.to(self.device)
        self.ema = copy.deepcopy(self.model).eval().requires_grad_(False)
        self.data = data
        self.batch_size, self.seed = batch_size, seed
        self.ema_decay, self.grad_clip, self.warmup_steps = ema_decay, grad_clip, warmup_steps
        self.lr = lr
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=lr, betas=betas, weight_decay=weight_decay)
        self.step = 0
        self.history: list[float] = []
        self.seconds = 0.0  # time spent in fit(), summed over resumed runs
        self.tag: dict[str, Any] = {}  # caller's description of the run (e.g. its recipe), kept in checkpoints
        self._train_model: nn.Module = self.model
        if self.world_size > 1:
            ids = [self.device.index or 0] if self.device.type == "cuda" else None
            self._train_model = nn.parallel.DistributedDataParallel(self.model, device_ids=ids)

    # ------------------------------------------------------------------ loop
    def _generator(self, step: int) -> torch.Generator:
        g = torch.Generator()
        g.manual_seed((self.seed * 1_000_003 + step) * 1_009 + self.rank)
        return g

    def train_step(self) -> float:
        """One optimisation step; returns the loss."""
        g = self._generator(self.step)
        x0, cond = self.data(g, self.batch_size)
        x0 = x0.to(self.device, torch.float32)
        cond = None if cond is None else cond.to(self.device, torch.float32)
        self.model.train()
        # dropout and other layers draw from the global RNG: seed it from this step's generator, inside
        # a fork so the caller's RNG state is untouched, so that a resumed run repeats this step exactly
        cuda = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda):
            torch.manual_seed(int(torch.randint(0, 2**62, (1,), generator=g)))
            loss = self.model.process.loss(self._train_model, x0, cond, generator=g)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"loss became {loss.item()} at step {self.step}; lower lr or check the data scaling")
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
        if self.grad_clip is not None:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
        if self.warmup_steps:
            for group in self.optimizer.param_groups:
                group["lr"] = self.lr * min(1.0, (self.step + 1) / self.warmup_steps)
        self.optimizer.step()
        self._update_ema()
        self.step += 1
        value = float(loss.detach())
        self.history.append(value)
        return value

    @torch.no_grad()
    def _update_ema(self) -> None:
        beta = min(self.ema_decay, (1 + self.step) / (10 + self.step))
        for p_ema, p in zip(self.ema.parameters(), self.model.parameters()):
            p_ema.lerp_(p.detach(), 1 - beta)
        for b_ema, b in zip(self.ema.buffers(), self.model.buffers()):
            b_ema.copy_(b)

    def fit(
        self,
        steps: int,
        *,
        progress: bool = True,
        checkpoint: str | os.PathLike | None = None,
        checkpoint_every: int = 0,
        callback: Callable[[int, float], None] | None = None,
    ) -> list[float]:
        """Train until ``self.step == steps`` (so a resumed trainer continues to the same total).

        Writes ``checkpoint`` every ``checkpoint_every`` steps and at the end (rank 0 only).
        Returns the loss history.
        """
        bar = tqdm(total=steps, initial=self.step, disable=not progress or self.rank != 0, desc="training")
        smooth = None
        last = time.perf_counter()
        while self.step < steps:
            loss = self.train_step()
            now = time.perf_counter()
            self.seconds, last = self.seconds + (now - last), now
            smooth = loss if smooth is None else 0.98 * smooth + 0.02 * loss
            bar.update(1)
            bar.set_postfix(loss=f"{smooth:.4g}")
            if callback is not None:
                callback(self.step, loss)
            if checkpoint and checkpoint_every and self.step % checkpoint_every == 0:
                self.save(checkpoint)
        bar.close()
        if checkpoint:
            self.save(checkpoint)
        return self.history

    # ------------------------------------------------------------------ checkpoints
    def save(self, path: str | os.PathLike, metrics: dict[str, Any] | None = None) -> Path | None:
        """Write model, EMA and optimiser state (rank 0 only; returns the path written or None)."""
        if self.rank != 0:
            return None
        tensors: dict[str, torch.Tensor] = {}
        tensors.update({f"model.{k}": v for k, v in self.model.state_dict().items()})
        tensors.update({f"ema.{k}": v for k, v in self.ema.state_dict().items()})
        opt = self.optimizer.state_dict()
        for idx, state in opt["state"].items():
            for key, value in state.items():
                tensors[f"optim.{idx}.{key}"] = torch.as_tensor(value)
        info = {
            "step": self.step,
            "seed": self.seed,
            "trainer": {"batch_size": self.batch_size, "lr": self.lr, "ema_decay": self.ema_decay,
                        "grad_clip": self.grad_clip, "warmup_steps": self.warmup_steps, "world_size": self.world_size},
            "param_groups": opt["param_groups"],
            "loss_tail": self.history[-100:],
            "train_seconds": self.seconds,
            "tag": self.tag,
        }  # fmt: skip
        return save_checkpoint(path, self.model, tensors=tensors, info=info, metrics=metrics)

    def load(self, path: str | os.PathLike) -> None:
        """Restore model, EMA, optimiser and step from :meth:`save` output (exact resume)."""
        tensors, meta = load_checkpoint(path)
        if meta["config"] != self.model.config():
            raise CheckpointError(f"{path} holds a model with a different configuration; build the model from it")
        info = meta.get("info", {})
        if "step" not in info or "param_groups" not in info:
            raise CheckpointError(f"{path} is a weights-only checkpoint; it cannot resume training")
        self.model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
        self.ema.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("ema.")})
        state: dict[int, dict[str, torch.Tensor]] = {}
        for key, value in tensors.items():
            if key.startswith("optim."):
                _, idx, name = key.split(".", 2)
                state.setdefault(int(idx), {})[name] = value
        self.optimizer.load_state_dict({"state": state, "param_groups": info["param_groups"]})
        self.step = int(info["step"])
        self.history = list(info.get("loss_tail", []))
        self.seed = int(info.get("seed", self.seed))
        self.seconds = float(info.get("train_seconds", 0.0))
        self.tag = dict(info.get("tag", {}))


def save_checkpoint(
    path: str | os.PathLike,
    denoiser: Denoiser,
    *,
    tensors: dict[str, torch.Tensor] | None = None,
    info: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    dtype: torch.dtype | None = None,
) -> Path:
    """Write ``path`` (``.safetensors``) and ``path.with_suffix('.json')`` atomically.

    Without ``tensors`` only the denoiser's weights are saved, as ``model.*`` (optionally cast to
    ``dtype``, e.g. float16 to halve shipped weights).
    """
    path = Path(path)
    if path.suffix != ".safetensors":
        raise InvalidInputError(f"checkpoint path {path} must end in .safetensors")
    if tensors is None:
        tensors = {f"model.{k}": v for k, v in denoiser.state_dict().items()}
    tensors = {
        k: (v.to(dtype) if dtype is not None and v.is_floating_point() else v).detach().cpu().contiguous().clone()
        for k, v in tensors.items()
    }
    meta = {"format": FORMAT, "version": 1, "config": denoiser.config(), "info": info or {}, "metrics": metrics or {}}
    with atomic_output(path) as tmp:
        save_file(tensors, str(tmp), metadata={"format": FORMAT})
    with atomic_output(path.with_suffix(".json")) as tmp:
        tmp.write_text(json.dumps(_plain_json(meta), indent=2, sort_keys=True, allow_nan=False))
    return path


def _plain_json(obj: Any) -> Any:
    """Standard JSON values only: tuples become lists, non-finite floats the strings 'inf'/'-inf'/'nan'."""
    if isinstance(obj, dict):
        return {str(k): _plain_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [_plain_json(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    if isinstance(obj, (bool, int, float, str)) or obj is None:
        return obj
    if hasattr(obj, "item"):  # numpy / torch scalars
        return _plain_json(obj.item())
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


_PICKLE_MAGIC = (b"PK\x03\x04", b"\x80")  # torch.save's zip archive, a raw pickle


def check_weights_file(path: str | os.PathLike, label: str = "checkpoint") -> Path:
    """``path`` if it looks like wavediff weights (a safetensors file with its JSON beside it), else one
    :class:`~wavediff.errors.CheckpointError` line saying what the file is and what is expected."""
    path = Path(path)
    expected = "wavediff loads the .safetensors file and its .json that `wavediff train` writes"
    if path.is_dir():
        raise CheckpointError(f"{label} {path} is a folder; {expected}")
    if not path.is_file():
        raise CheckpointError(f"{label} {path}: no such file; {expected}")
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(_PICKLE_MAGIC) or path.suffix.lower() in (".pt", ".pth", ".ckpt", ".pkl"):
        raise CheckpointError(f"{label} {path} is a PyTorch pickle (torch.save), which wavediff never loads; {expected}")
    if len(head) < 8 or int.from_bytes(head, "little") > path.stat().st_size:
        raise CheckpointError(f"{label} {path} is not a safetensors file; {expected}")
    meta_path = path.with_suffix(".json")
    if not meta_path.is_file():
        raise CheckpointError(
            f"{label} {path} has no {meta_path.name} beside it (not wavediff weights, or the JSON was not copied); {expected}"
        )
    return path


def read_meta(path: str | os.PathLike) -> dict[str, Any]:
    """The JSON description of a checkpoint (configuration, provenance, metrics), without its tensors."""
    path = check_weights_file(path)
    meta_path = path.with_suffix(".json")
    try:
        meta = json.loads(meta_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{meta_path} is not valid JSON ({exc}); the checkpoint is damaged") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or "config" not in meta:
        raise CheckpointError(f"{meta_path} is not a wavediff checkpoint description (no format {FORMAT!r} and config); use weights from `wavediff train`")
    return meta


def load_checkpoint(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read the tensors and the JSON metadata of a checkpoint (safetensors only; nothing unpickled)."""
    meta = read_meta(path)
    try:
        tensors = load_file(str(path))
    except Exception as exc:  # safetensors raises its own error types for truncated files
        raise CheckpointError(f"{path} could not be read ({exc}); the file is truncated or not safetensors") from exc
    return tensors, meta


def _layout(meta: dict[str, Any]) -> dict[str, Any] | None:
    """The room a checkpoint was trained for: its config's ``layout``, or for checkpoints written before
    layouts were recorded there, the room and recipe ``[data]`` of its provenance."""
    if meta["config"].get("layout") is not None:
        return meta["config"]["layout"]
    info = meta.get("info", {})
    recipe = info.get("recipe")
    if isinstance(info.get("room"), str) and isinstance(recipe, dict) and isinstance(recipe.get("data"), dict):
        return {"room": info["room"], "settings": recipe["data"]}
    return None


def load_denoiser(path: str | os.PathLike, device: str | torch.device = "cpu", use_ema: bool = True) -> Denoiser:
    """Build the :class:`Denoiser` described by a checkpoint and load its (EMA) weights, in eval mode.

    The model's ``layout`` (the room and settings it was trained with) comes from the checkpoint.
    """
    tensors, meta = load_checkpoint(path)
    try:
        model = Denoiser.from_config({**meta["config"], "layout": _layout(meta)})
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: its configuration does not describe a model ({type(exc).__name__}: {exc})") from exc
    prefix = "ema." if use_ema and any(k.startswith("ema.") for k in tensors) else "model."
    state = {k[len(prefix):]: v.float() if v.is_floating_point() else v for k, v in tensors.items() if k.startswith(prefix)}
    own = set(model.state_dict())
    missing, unexpected = sorted(own - set(state)), sorted(set(state) - own)
    if missing or unexpected:
        first = ", ".join((missing or unexpected)[:3])
        raise CheckpointError(
            f"{path} does not hold the network its JSON describes: {len(missing)} tensor(s) missing, {len(unexpected)} "
            f"unexpected (e.g. {first}); it was not written by `wavediff train` with this configuration"
        )
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise CheckpointError(f"{path} does not match its own configuration ({str(exc).splitlines()[0][:300]})") from exc
    return model.to(device).eval()
