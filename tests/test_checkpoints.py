"""Tests of training checkpoints: exact resume, the safetensors + JSON files, loading, and their errors.

References used: a straight run against a resumed run, the safetensors file layout read byte by byte,
and float16 rounding done by hand. Nothing is compared with the code's own earlier output.
"""

from __future__ import annotations

import copy
import json
import struct

import pytest
import torch
from _threads import _single_thread  # noqa: F401
from _training_helpers import _data, _flat, _tiny, _trainer

from wavediff import errors
from wavediff.training import Trainer, load_checkpoint, load_denoiser, save_checkpoint


def _safetensors_header(path) -> tuple[int, dict, int]:
    """(header length, header JSON, file size) read from the raw bytes of a .safetensors file."""
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    return n, json.loads(raw[8 : 8 + n].decode("utf-8")), len(raw)


# ---------------------------------------------------------------------- exact resume


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
    with pytest.raises(errors.CheckpointError, match="has no lonely.json beside it"):
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
