"""Tests of :mod:`wavediff.training`.

References used: the closed-form MMSE of Gaussian data (and the Wiener filter applied by hand), the
EMA recursion and the warm-up schedule written out by hand, the first AdamW step in closed form,
torch's documented gradient-clipping rule, a straight run against a resumed run, the safetensors file
layout read byte by byte, float16 rounding done by hand, and a single-process replay of a two-process
DDP run with gradients averaged by hand. Nothing is compared with the code's own earlier output.
"""

from __future__ import annotations

import copy
import json
import math
import os
import socket
import struct
import subprocess
import sys
import textwrap

import pytest
import torch
from safetensors.torch import load_file

from wavediff import errors
from wavediff.diffusion import Denoiser, EDMProcess, GaussianDenoiser, ResidualProcess, gaussian_mmse
from wavediff.nets import UNet
from wavediff.training import TensorData, Trainer, load_checkpoint, load_denoiser, save_checkpoint
from wavediff.wavelets import WaveletTransform


@pytest.fixture(autouse=True, scope="module")
def _single_thread():
    """One intra-op thread: these nets are tiny, and two OpenMP threads on two busy CI cores can make a
    training step ten times slower (threads spin at barriers while their partner is descheduled)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _tiny(
    seed: int = 0,
    dims: int = 1,
    in_channels: int = 1,
    cond_channels: int = 0,
    process=None,
    wavelet=None,
    **kw,
) -> Denoiser:
    torch.manual_seed(seed)
    net = UNet(dims=dims, in_channels=in_channels, cond_channels=cond_channels, preset="tiny", **kw)
    return Denoiser(net, process or EDMProcess(sigma_data=1.0), wavelet=wavelet)


def _data(n: int = 64, length: int = 16, seed: int = 123) -> TensorData:
    return TensorData(torch.randn(n, 1, length, generator=torch.Generator().manual_seed(seed)))


def _flat(module: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in module.parameters()])


def _safetensors_header(path) -> tuple[int, dict, int]:
    """(header length, header JSON, file size) read from the raw bytes of a .safetensors file."""
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    return n, json.loads(raw[8 : 8 + n].decode("utf-8")), len(raw)


# ---------------------------------------------------------------------- learning reaches the closed form

LENGTH = 64


def _gaussian_cov() -> torch.Tensor:
    i = torch.arange(LENGTH, dtype=torch.float64)
    return torch.exp(-((i[:, None] - i[None]) ** 2) / (2 * 4.0**2)) + 0.05 * torch.eye(
        LENGTH, dtype=torch.float64
    )


@pytest.fixture(scope="module")
def gaussian_data():
    S = _gaussian_cov()
    g = torch.Generator().manual_seed(2024)
    prior = GaussianDenoiser(mean=torch.zeros(LENGTH), cov=S)
    train = prior.sample(20000, g).to(torch.float32).reshape(-1, 1, LENGTH)
    test = prior.sample(2000, g).to(torch.float32).reshape(-1, 1, LENGTH)
    return S, train, test


SIGMAS = (0.2, 0.5, 1.0)


def test_gaussian_mmse_is_the_wiener_error(gaussian_data):
    """The reference itself: closed form = eigenvalue formula = empirical error of the Wiener filter."""
    S, _, test = gaussian_data
    lam, _ = torch.linalg.eigh(S)
    x0 = test.reshape(len(test), -1).double()
    g = torch.Generator().manual_seed(7)
    for s in SIGMAS:
        closed = gaussian_mmse(S, s)
        assert closed == pytest.approx(float((lam * s**2 / (lam + s**2)).mean()), rel=1e-10)
        W = S @ torch.linalg.inv(S + s**2 * torch.eye(LENGTH, dtype=torch.float64))  # posterior mean matrix
        x = x0 + s * torch.randn(x0.shape, generator=g, dtype=torch.float64)
        per_example = ((x @ W.T - x0) ** 2).mean(dim=1)
        se = float(per_example.std()) / math.sqrt(len(per_example))
        assert abs(float(per_example.mean()) - closed) <= 4 * se, (s, float(per_example.mean()), closed, se)


def _train_and_check(gaussian_data, *, wavelet: bool, steps: int) -> None:
    S, train, test = gaussian_data
    if wavelet:
        model = _tiny(
            0,
            in_channels=2,
            wavelet=WaveletTransform("haar", 1, dims=1),
            process=EDMProcess(sigma_data=1.0, P_mean=-0.5, P_std=1.0),
        )
    else:
        model = _tiny(0, process=EDMProcess(sigma_data=1.0, P_mean=-0.5, P_std=1.0))
    trainer = Trainer(model, TensorData(train), batch_size=64, lr=2e-3, warmup_steps=100, seed=0)
    trainer.fit(steps, progress=False)
    assert all(math.isfinite(v) for v in trainer.history)
    g = torch.Generator().manual_seed(99)
    ratios = {}
    with torch.no_grad():
        for s in SIGMAS:
            x = test + s * torch.randn(test.shape, generator=g)
            mse = float(((trainer.ema(x, s) - test) ** 2).double().mean())
            ratios[s] = mse / gaussian_mmse(S, s)
    # the criterion: within 10% of the MMSE of the optimal (linear) denoiser at three levels
    assert all(abs(r - 1) <= 0.10 for r in ratios.values()), ratios


@pytest.mark.slow
def test_training_reaches_the_gaussian_mmse(gaussian_data):
    _train_and_check(gaussian_data, wavelet=False, steps=400)


@pytest.mark.slow
def test_training_in_the_wavelet_domain_reaches_the_gaussian_mmse(gaussian_data):
    _train_and_check(gaussian_data, wavelet=True, steps=400)


# ---------------------------------------------------------------------- exact resume


def _trainer(model: Denoiser, data, **kw) -> Trainer:
    opts = dict(
        batch_size=4, lr=1e-3, warmup_steps=4, ema_decay=0.9, grad_clip=0.5, weight_decay=0.01, seed=5
    )
    opts.update(kw)
    return Trainer(model, data, **opts)


def _optimizer_tensors(trainer: Trainer) -> dict[str, torch.Tensor]:
    state = trainer.optimizer.state_dict()["state"]
    return {f"{i}.{k}": torch.as_tensor(v) for i, s in state.items() for k, v in s.items()}


def _assert_same_state(a: Trainer, b: Trainer) -> None:
    for name, sa, sb in (
        ("model", a.model.state_dict(), b.model.state_dict()),
        ("ema", a.ema.state_dict(), b.ema.state_dict()),
    ):
        assert list(sa) == list(sb)
        for k in sa:
            assert torch.equal(sa[k], sb[k]), f"{name}.{k}"
    oa, ob = _optimizer_tensors(a), _optimizer_tensors(b)
    assert sorted(oa) == sorted(ob) and len(oa) == 3 * len(
        list(a.model.parameters())
    )  # step, exp_avg, exp_avg_sq
    for k in oa:
        assert torch.equal(oa[k], ob[k]), f"optim.{k}"
    assert a.optimizer.param_groups[0]["lr"] == b.optimizer.param_groups[0]["lr"]
    assert a.step == b.step


def test_resume_is_exact(tmp_path):
    data = _data()
    straight = _trainer(_tiny(0), data)
    straight.fit(6, progress=False)

    first = _trainer(_tiny(0), data)
    first.fit(3, progress=False)
    path = tmp_path / "run.safetensors"
    first.tag = {"recipe": {"lr": 1e-3}}
    first.save(path)
    resumed = _trainer(_tiny(0), data)  # a fresh model, identical to the one the straight run started from
    resumed.load(path)
    assert resumed.step == 3
    assert resumed.tag == first.tag and resumed.seconds == first.seconds > 0  # time spent is summed, not restarted
    resumed.fit(6, progress=False)

    _assert_same_state(straight, resumed)
    assert resumed.history == straight.history  # steps 1-3 restored from the checkpoint, 4-6 recomputed
    assert resumed.history[3:] == straight.history[3:] and len(straight.history) == 6
    assert resumed.seconds > first.seconds
    assert not torch.equal(_flat(straight.model), _flat(_tiny(0)))  # training did move the weights


def test_resume_is_exact_with_dropout(tmp_path):
    """The module promises that a resumed run "continues exactly as if it had never stopped"; dropout
    masks are part of a step's randomness and must follow the checkpoint too."""
    data = _data()
    straight = _trainer(_tiny(0, dropout=0.3), data)
    straight.fit(6, progress=False)
    first = _trainer(_tiny(0, dropout=0.3), data)
    first.fit(3, progress=False)
    path = tmp_path / "run.safetensors"
    first.save(path)
    resumed = _trainer(_tiny(0, dropout=0.3), data)
    resumed.load(path)
    resumed.fit(6, progress=False)
    assert resumed.history == straight.history
    _assert_same_state(straight, resumed)


def test_fit_writes_periodic_checkpoints_and_calls_back(tmp_path):
    path = tmp_path / "periodic.safetensors"
    trainer = _trainer(_tiny(0), _data())
    saved_at: list[int] = []
    original_save = trainer.save

    def save(target, metrics=None):
        assert target == path
        saved_at.append(trainer.step)
        return original_save(target, metrics)

    trainer.save = save
    seen: list[int] = []

    def callback(step, loss):
        assert step == trainer.step and loss == trainer.history[-1]
        seen.append(step)

    trainer.fit(5, progress=False, checkpoint=path, checkpoint_every=2, callback=callback)
    assert seen == [1, 2, 3, 4, 5]
    assert saved_at == [2, 4, 5]  # every 2 steps, then at the end
    assert json.loads(path.with_suffix(".json").read_text())["info"]["step"] == 5
    assert trainer.fit(5, progress=False) == trainer.history and trainer.step == 5  # already there: no step


# ---------------------------------------------------------------------- checkpoint files


def test_checkpoint_files_are_safetensors_and_json(tmp_path):
    trainer = _trainer(_tiny(0), _data(), ema_decay=0.5)
    trainer.fit(3, progress=False)
    path = tmp_path / "ck.safetensors"
    assert trainer.save(path, metrics={"psnr": 31.5}) == path
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.json", "ck.safetensors"]  # no temporary left

    meta = json.loads((tmp_path / "ck.json").read_text())
    assert meta["format"] == "wavediff-checkpoint"
    assert meta["config"] == json.loads(json.dumps(trainer.model.config()))
    assert meta["info"]["step"] == 3
    assert meta["metrics"] == {"psnr": 31.5}

    # safetensors layout: u64 little-endian header length, a JSON header, then raw tensor bytes
    raw = path.read_bytes()
    assert not raw.startswith(b"\x80") and not raw.startswith(b"PK")  # neither a pickle nor a torch zip
    n, header, size = _safetensors_header(path)
    assert header["__metadata__"] == {"format": "wavediff-checkpoint"}
    tensors = {k: v for k, v in header.items() if k != "__metadata__"}
    assert size == 8 + n + max(v["data_offsets"][1] for v in tensors.values())
    names = set(tensors)
    model_keys = set(trainer.model.state_dict())
    assert {f"model.{k}" for k in model_keys} <= names and {f"ema.{k}" for k in model_keys} <= names
    assert any(k.startswith("optim.") for k in names)

    tensors_back, meta_back = load_checkpoint(path)
    assert meta_back == meta
    for k, v in trainer.model.state_dict().items():
        assert torch.equal(tensors_back[f"model.{k}"], v)


def test_checkpoint_json_is_standard_json_with_non_finite_metrics(tmp_path):
    """An exact estimate has PSNR = inf (see wavediff.metrics); the description file must still be
    standard JSON (RFC 8259 has no NaN/Infinity), as ``_json_default`` intends for non-finite floats."""
    path = tmp_path / "ck.safetensors"
    save_checkpoint(path, _tiny(0), metrics={"psnr": float("inf"), "score": float("nan"), "snr": 12.5})

    def reject(constant):
        raise ValueError(f"non-standard JSON constant {constant}")

    meta = json.loads(path.with_suffix(".json").read_text(), parse_constant=reject)
    assert meta["metrics"]["snr"] == 12.5
    load_checkpoint(path)  # and the checkpoint still loads


def test_load_denoiser_gives_the_ema_or_the_model(tmp_path):
    trainer = _trainer(_tiny(0), _data(), ema_decay=0.5)
    trainer.fit(3, progress=False)
    path = tmp_path / "ck.safetensors"
    trainer.save(path)
    x = torch.randn(5, 1, 16, generator=torch.Generator().manual_seed(0))
    sigma = torch.tensor([0.05, 0.3, 1.0, 3.0, 20.0])

    ema = load_denoiser(path)
    assert not ema.training and not ema.net.training
    model = load_denoiser(path, use_ema=False)
    trainer.model.eval()
    with torch.no_grad():
        ref_ema, ref_model = trainer.ema(x, sigma), trainer.model(x, sigma)
        assert not torch.equal(ref_ema, ref_model)  # the two weight sets really differ
        assert torch.equal(ema(x, sigma), ref_ema)
        assert torch.equal(model(x, sigma), ref_model)

    # a weights-only checkpoint holds model.* only: load_denoiser falls back to them
    weights = tmp_path / "weights.safetensors"
    save_checkpoint(weights, trainer.model)
    with torch.no_grad():
        assert torch.equal(load_denoiser(weights)(x, sigma), ref_model)


def test_float16_checkpoint_halves_the_file_and_rounds_the_weights(tmp_path):
    model = _tiny(0)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=g))
    full, half = tmp_path / "full.safetensors", tmp_path / "half.safetensors"
    save_checkpoint(full, model)
    save_checkpoint(half, model, dtype=torch.float16)

    n32, h32, size32 = _safetensors_header(full)
    n16, h16, size16 = _safetensors_header(half)
    assert all(v["dtype"] == "F16" for k, v in h16.items() if k != "__metadata__")
    numel = sum(v.numel() for v in model.state_dict().values())
    assert size32 - 8 - n32 == 4 * numel and size16 - 8 - n16 == 2 * numel
    assert size16 < 0.55 * size32

    loaded = load_denoiser(half)
    assert all(v.dtype == torch.float32 for v in loaded.state_dict().values())
    # reference: the float32 model with every weight rounded to float16 by hand
    rounded = copy.deepcopy(model)
    rounded.load_state_dict({k: v.to(torch.float16).to(torch.float32) for k, v in model.state_dict().items()})
    x = torch.randn(6, 1, 16, generator=g)
    sigma = torch.exp(torch.randn(6, generator=g))
    model.eval()
    rounded.eval()
    with torch.no_grad():
        out, ref, exact = loaded(x, sigma), rounded(x, sigma), model(x, sigma)
    assert torch.equal(out, ref)
    # float16 keeps 11 significant bits (unit roundoff 2^-11 ~ 4.9e-4 per weight); through a few
    # dozen layers the network part c_out F moves by well under 20 of those, relative to its size
    net_part = exact - (1 / (sigma**2 + 1)).reshape(-1, 1, 1) * x
    assert (out - exact).abs().max() <= 20 * 2.0**-11 * net_part.abs().max()
    assert (out - exact).abs().max() > 0  # the weights really were rounded


# ---------------------------------------------------------------------- errors


def test_checkpoint_errors(tmp_path):
    trainer = _trainer(_tiny(0), _data())
    trainer.fit(1, progress=False)
    path = tmp_path / "ck.safetensors"
    trainer.save(path)

    # missing json
    lonely = tmp_path / "lonely.safetensors"
    lonely.write_bytes(path.read_bytes())
    with pytest.raises(errors.CheckpointError, match="missing"):
        load_checkpoint(lonely)
    with pytest.raises(errors.CheckpointError):
        load_denoiser(lonely)
    with pytest.raises(errors.CheckpointError):
        load_denoiser(tmp_path / "nothing.safetensors")
    assert issubclass(errors.CheckpointError, OSError)

    # truncated safetensors
    cut = tmp_path / "cut.safetensors"
    raw = path.read_bytes()
    cut.write_bytes(raw[: len(raw) // 2])
    (tmp_path / "cut.json").write_text(path.with_suffix(".json").read_text())
    with pytest.raises(errors.CheckpointError, match="truncated"):
        load_checkpoint(cut)
    with pytest.raises(errors.CheckpointError):
        trainer.load(cut)

    # a json that is not a wavediff checkpoint, and one that is not JSON at all
    other = tmp_path / "other.safetensors"
    other.write_bytes(raw)
    (tmp_path / "other.json").write_text(json.dumps({"format": "something-else", "config": {}}))
    with pytest.raises(errors.CheckpointError, match="not a wavediff checkpoint"):
        load_checkpoint(other)
    (tmp_path / "other.json").write_text(json.dumps({"format": "wavediff-checkpoint"}))  # no config
    with pytest.raises(errors.CheckpointError):
        load_checkpoint(other)
    (tmp_path / "other.json").write_text("{not json")
    with pytest.raises(errors.CheckpointError, match="JSON"):
        load_checkpoint(other)

    # Trainer.load of a checkpoint whose configuration differs
    different = _trainer(_tiny(0, channels=(8, 16)), _data())
    with pytest.raises(errors.CheckpointError, match="different configuration"):
        different.load(path)
    # Trainer.load of a weights-only checkpoint
    weights = tmp_path / "weights.safetensors"
    save_checkpoint(weights, trainer.model)
    fresh = _trainer(_tiny(0), _data())
    with pytest.raises(errors.CheckpointError, match="weights-only"):
        fresh.load(weights)
    assert fresh.step == 0

    # paths must end in .safetensors
    for bad in ("ck.pt", "ck.json", "ck"):
        with pytest.raises(errors.InvalidInputError, match=".safetensors"):
            save_checkpoint(tmp_path / bad, trainer.model)
        with pytest.raises(errors.InvalidInputError):
            trainer.save(tmp_path / bad)
    assert not (tmp_path / "ck.pt").exists()


def test_description_that_is_not_a_json_object_is_a_checkpoint_error(tmp_path):
    """Valid JSON that is not an object (a list, a string) is not a wavediff checkpoint description."""
    path = tmp_path / "ck.safetensors"
    save_checkpoint(path, _tiny(0))
    for text in ("[1, 2]", '"wavediff-checkpoint"', "null"):
        path.with_suffix(".json").write_text(text)
        with pytest.raises(errors.CheckpointError):
            load_checkpoint(path)
        with pytest.raises(errors.CheckpointError):
            load_denoiser(path)


def test_description_with_a_broken_config_is_a_wavediff_error(tmp_path):
    """A description whose config lacks the net or the process must fail with wavediff's own errors
    ("every error says what was wrong and what to do about it"), not a bare KeyError."""
    path = tmp_path / "ck.safetensors"
    save_checkpoint(path, _tiny(0))
    meta = json.loads(path.with_suffix(".json").read_text())
    for broken in ({}, {"net": meta["config"]["net"]}, {"process": meta["config"]["process"]}):
        path.with_suffix(".json").write_text(json.dumps({**meta, "config": broken}))
        with pytest.raises((errors.CheckpointError, errors.ConfigError)):
            load_denoiser(path)


def test_trainer_argument_errors():
    with pytest.raises(errors.InvalidInputError, match="batch_size"):
        Trainer(_tiny(0), _data(), batch_size=0)
    with pytest.raises(errors.InvalidInputError):
        Trainer(_tiny(0), _data(), batch_size=-3)
    clean = torch.randn(10, 1, 16)
    with pytest.raises(errors.InvalidInputError, match="cond"):
        TensorData(clean, cond=torch.randn(9, 1, 16))
    with pytest.raises(errors.InvalidInputError, match="cond"):
        TensorData(clean, cond=torch.randn(10, 1, 15))
    with pytest.raises(errors.InvalidInputError):
        TensorData(clean, cond=torch.randn(10, 2, 16), degrade=lambda x, g: x)
    with pytest.raises(errors.InvalidInputError):
        TensorData(torch.randn(10, 16))
    with pytest.raises(errors.InvalidInputError):
        TensorData(torch.randn(0, 1, 16))
    TensorData(clean, cond=torch.randn(10, 3, 16))  # other channel counts are fine


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present")
def test_cuda_without_cuda_is_a_device_error():
    with pytest.raises(errors.DeviceError, match="cpu"):
        Trainer(_tiny(0), _data(), device="cuda")
    with pytest.raises(RuntimeError):  # DeviceError is a RuntimeError
        Trainer(_tiny(0), _data(), device="cuda:0")


def test_nan_loss_raises_floating_point_error():
    clean = torch.randn(8, 1, 16)
    clean[3, 0, 5] = float("nan")
    trainer = Trainer(_tiny(0), TensorData(clean[3:4].expand(8, 1, 16).clone()), batch_size=2)
    before = _flat(trainer.model).clone()
    with pytest.raises(FloatingPointError, match=r"nan at step 0.*(lr|data)"):
        trainer.fit(3, progress=False)
    assert trainer.step == 0 and trainer.history == []
    assert torch.equal(_flat(trainer.model), before)  # no update was applied


# ---------------------------------------------------------------------- EMA, clipping, warm-up


def test_ema_follows_the_documented_recursion():
    decay, steps = 0.3, 6
    trainer = _trainer(_tiny(0), _data(), ema_decay=decay, warmup_steps=0)
    assert torch.equal(_flat(trainer.ema), _flat(trainer.model))
    assert not trainer.ema.training and not any(p.requires_grad for p in trainer.ema.parameters())
    params = [_flat(trainer.model).double()]
    trainer.fit(
        steps, progress=False, callback=lambda step, loss: params.append(_flat(trainer.model).double())
    )
    ema = params[0]
    for k in range(steps):  # update k (0-based) uses beta_k = min(decay, (1 + k) / (10 + k))
        beta = min(decay, (1 + k) / (10 + k))
        ema = beta * ema + (1 - beta) * params[k + 1]
    assert min(decay, 1 / 10) == 0.1 and min(decay, 6 / 15) == decay  # both regimes are exercised
    got = _flat(trainer.ema).double()
    torch.testing.assert_close(got, ema, rtol=1e-6, atol=1e-6 * float(ema.abs().max()))
    assert not torch.allclose(got, params[-1])  # the EMA is not just the last weights
    for (name, b_ema), b in zip(trainer.ema.named_buffers(), trainer.model.buffers()):
        assert torch.equal(b_ema, b), name


def _record_grads(trainer: Trainer) -> list[list[torch.Tensor]]:
    grads: list[list[torch.Tensor]] = []

    def hook(optimizer, args, kwargs):
        grads.append([p.grad.detach().clone() for g in optimizer.param_groups for p in g["params"]])

    trainer.optimizer.register_step_pre_hook(hook)
    return grads


def _norm(grads: list[torch.Tensor]) -> float:
    return float(torch.sqrt(sum((g.double() ** 2).sum() for g in grads)))


@pytest.mark.parametrize("clip", [1e-8, 1e-3])
def test_gradient_clipping(clip):
    raw_trainer = _trainer(_tiny(0), _data(), grad_clip=None)
    raw = _record_grads(raw_trainer)
    raw_trainer.fit(1, progress=False)
    clipped_trainer = _trainer(_tiny(0), _data(), grad_clip=clip)
    clipped = _record_grads(clipped_trainer)
    clipped_trainer.fit(3, progress=False)

    raw_norm = _norm(raw[0])
    assert raw_norm > 100 * clip  # clipping really has work to do
    for step_grads in clipped:
        assert _norm(step_grads) <= clip * (1 + 1e-6)
    # step 1 sees the same batch and weights: the clipped gradient is the raw one scaled by
    # max_norm / (norm + 1e-6) (torch.nn.utils.clip_grad_norm_)
    scale = clip / (raw_norm + 1e-6)
    for g_clip, g_raw in zip(clipped[0], raw[0]):
        torch.testing.assert_close(g_clip.double(), g_raw.double() * scale, rtol=1e-5, atol=1e-6 * scale)


def test_large_grad_clip_leaves_gradients_unchanged():
    raw_trainer = _trainer(_tiny(0), _data(), grad_clip=None)
    raw = _record_grads(raw_trainer)
    raw_trainer.fit(2, progress=False)
    big = _trainer(_tiny(0), _data(), grad_clip=1e6)
    seen = _record_grads(big)
    big.fit(2, progress=False)
    for a, b in zip(raw, seen):
        assert all(torch.equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("warmup", [0, 4])
def test_warmup_schedule_and_first_adamw_step(warmup):
    lr = 1e-3
    trainer = _trainer(_tiny(0), _data(), lr=lr, warmup_steps=warmup, weight_decay=0.0, grad_clip=None)
    used: list[float] = []
    grads = _record_grads(trainer)
    trainer.optimizer.register_step_pre_hook(lambda opt, a, k: used.append(opt.param_groups[0]["lr"]))
    after: list[float] = []
    before = [p.detach().clone() for p in trainer.model.parameters()]
    snapshots: list[list[torch.Tensor]] = []

    def callback(step, loss):
        after.append(trainer.optimizer.param_groups[0]["lr"])
        snapshots.append([p.detach().clone() for p in trainer.model.parameters()])

    trainer.fit(6, progress=False, callback=callback)
    # step k (1-based) uses lr * min(1, k / warmup); without warm-up, lr throughout
    expected = [lr * min(1.0, k / warmup) if warmup else lr for k in range(1, 7)]
    assert used == pytest.approx(expected, rel=1e-12)
    assert after == pytest.approx(expected, rel=1e-12)
    if warmup:
        assert expected[0] == pytest.approx(lr / 4) and expected[3:] == pytest.approx([lr] * 3)
    # first AdamW step in closed form: m_hat = g, v_hat = g^2, so delta = -lr_1 g / (|g| + eps)
    eps = 1e-8
    for p0, p1, g in zip(before, snapshots[0], grads[0]):
        delta = (p1 - p0).double()
        ref = -expected[0] * g.double() / (g.double().abs() + eps)
        torch.testing.assert_close(delta, ref, rtol=1e-4, atol=1e-6 * expected[0])


# ---------------------------------------------------------------------- residual process


def test_residual_process_training_path():
    clean = torch.randn(32, 1, 16, generator=torch.Generator().manual_seed(3))
    calls: list[int] = []

    def degrade(x, g):
        calls.append(x.shape[0])
        return x + 0.3 * torch.randn(x.shape, generator=g)

    model = _tiny(0, cond_channels=1, process=ResidualProcess(sigma_max=0.5))
    before = _flat(model).clone()
    trainer = Trainer(model, TensorData(clean, degrade=degrade), batch_size=4, lr=1e-3)
    history = trainer.fit(4, progress=False)
    assert len(history) == 4 and all(math.isfinite(v) for v in history)
    assert calls == [4, 4, 4, 4]  # a fresh degradation every step
    assert not torch.equal(_flat(trainer.model), before)
    # an unconditional residual model cannot be trained: the process needs the observation
    plain = Trainer(_tiny(0, process=ResidualProcess()), TensorData(clean), batch_size=4)
    with pytest.raises(errors.ShapeError):
        plain.fit(1, progress=False)


def test_tensor_data_draws_matching_pairs():
    clean = torch.arange(10.0).reshape(10, 1, 1).expand(10, 1, 4).clone()
    cond = -2 * clean
    x0, c = TensorData(clean, cond=cond)(torch.Generator().manual_seed(0), 7)
    assert x0.shape == (7, 1, 4) and torch.equal(c, -2 * x0)
    x0, c = TensorData(clean)(torch.Generator().manual_seed(0), 3)
    assert c is None and x0.shape == (3, 1, 4)


# ---------------------------------------------------------------------- DDP

DDP_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    import torch
    import torch.distributed as dist
    from safetensors.torch import save_file
    from wavediff.diffusion import Denoiser, EDMProcess
    from wavediff.nets import UNet
    from wavediff.training import TensorData, Trainer

    out = sys.argv[1]
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = Denoiser(UNet(dims=1, in_channels=1, preset="tiny"), EDMProcess(sigma_data=1.0))
    init = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    data = TensorData(torch.randn(256, 1, 32, generator=torch.Generator().manual_seed(1)))
    states = []

    def recorded(generator, batch_size):
        states.append(generator.get_state().clone())  # to replay this rank's randomness in the test
        return data(generator, batch_size)

    trainer = Trainer(model, recorded, batch_size=8, lr=1e-3, grad_clip=1.0, ema_decay=0.999)
    trainer.fit(3, progress=False)
    params = torch.cat([p.detach().flatten() for p in trainer.model.parameters()])
    ema = torch.cat([p.detach().flatten() for p in trainer.ema.parameters()])
    tensors = {"params": params, "init": init, "ema": ema}
    tensors.update({f"state{k}": s for k, s in enumerate(states)})
    save_file(tensors, os.path.join(out, f"rank{trainer.rank}.safetensors"))
    with open(os.path.join(out, f"rank{trainer.rank}.json"), "w") as f:
        json.dump({"rank": trainer.rank, "world_size": trainer.world_size, "history": trainer.history,
                   "initialized": dist.is_initialized(), "wrapped": type(trainer._train_model).__name__}, f)
    """
)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed is unavailable")
def test_ddp_two_processes_average_gradients(tmp_path):
    script = tmp_path / "ddp_train.py"
    script.write_text(DDP_SCRIPT)
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for key in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "--master_addr", "127.0.0.1", "--master_port", str(_free_port()), str(script), str(out)]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    info = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    tensors = [load_file(str(out / f"rank{r}.safetensors")) for r in (0, 1)]
    assert [i["rank"] for i in info] == [0, 1]
    assert all(i["world_size"] == 2 and i["initialized"] for i in info)
    assert all(i["wrapped"] == "DistributedDataParallel" for i in info)
    assert torch.equal(tensors[0]["params"], tensors[1]["params"])
    assert torch.equal(tensors[0]["ema"], tensors[1]["ema"])
    assert not torch.equal(tensors[0]["params"], tensors[0]["init"])
    assert info[0]["history"] != info[1]["history"]  # each rank saw its own batches and noise

    # replay in one process: each step's gradient is the mean of the two ranks' gradients (one thread,
    # as in the ranks, so that the kernels sum in the same order)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _replay_ddp(tensors, info)
    finally:
        torch.set_num_threads(threads)


def _replay_ddp(tensors, info) -> None:
    torch.manual_seed(0)
    model = Denoiser(UNet(dims=1, in_channels=1, preset="tiny"), EDMProcess(sigma_data=1.0))
    assert torch.equal(_flat(model), tensors[0]["init"])
    data = TensorData(torch.randn(256, 1, 32, generator=torch.Generator().manual_seed(1)))
    params = list(model.parameters())
    opt = torch.optim.AdamW(params, lr=1e-3, betas=(0.9, 0.999), weight_decay=0.0)
    model.train()
    for k in range(3):
        grads = []
        for r in (0, 1):
            g = torch.Generator()
            g.set_state(tensors[r][f"state{k}"])
            x0, cond = data(g, 8)
            torch.randint(0, 2**62, (1,), generator=g)  # the trainer's per-step seed for dropout
            loss = model.process.loss(model, x0, cond, generator=g)
            assert float(loss.detach()) == info[r]["history"][k]
            opt.zero_grad()
            loss.backward()
            grads.append([p.grad.clone() for p in params])
        for p, g0, g1 in zip(params, *grads):
            p.grad = (g0 + g1) / 2
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
    torch.testing.assert_close(_flat(model), tensors[0]["params"], rtol=0, atol=0)


# ---------------------------------------------------------------------- CUDA


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_training_under_bf16_and_checkpoint_round_trip(tmp_path):
    trainer = _trainer(_tiny(0), _data(), device="cuda", ema_decay=0.5)
    history = trainer.fit(3, progress=False)
    assert all(math.isfinite(v) for v in history)
    assert all(p.is_cuda and p.dtype == torch.float32 for p in trainer.model.parameters())
    path = tmp_path / "gpu.safetensors"
    trainer.save(path)
    loaded = load_denoiser(path)  # on the CPU
    for k, v in trainer.ema.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v.cpu()), k
    resumed = _trainer(_tiny(0), _data(), device="cuda", ema_decay=0.5)
    resumed.load(path)
    assert resumed.step == 3
    resumed.fit(4, progress=False)
    assert math.isfinite(resumed.history[-1])
