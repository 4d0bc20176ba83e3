"""Pipeline: a room + a model + a sampler. Truth: with the exact conditional denoiser of a
linear-Gaussian problem, the Restorer's draws have the closed-form posterior mean and spread."""

from __future__ import annotations

import json
import math
import os
import re

import numpy as np
import pytest
import torch
from _toy_rooms import tiny_recipe, white_noise_pairs
from torch import nn

from wavediff import cli
from wavediff.diffusion import EDMProcess, GaussianDenoiser, LinearGaussianRestorer, ResidualProcess
from wavediff.errors import (
    CheckpointError,
    ConfigError,
    InvalidInputError,
    ModalityError,
    ShapeError,
    UnknownModalityError,
)
from wavediff.modality import Modality, atomic_output, register_modality
from wavediff.pipeline import Restorer, model_from_recipe, restore, train
from wavediff.training import Trainer, load_checkpoint

f64 = torch.float64
D = 16


class Signal1D:
    """A native object of the toy room: a 1-D numpy signal with a label."""

    def __init__(self, values: np.ndarray, label: str = "toy"):
        self.values, self.label = values, label


class ToyRoom(Modality):
    name = "toyroom"
    description = "1-D signals in white noise (pipeline tests)"
    spatial_dims = 1
    extensions = (".npy",)

    def read(self, path):
        return Signal1D(np.load(path, allow_pickle=False))

    def write(self, obj, path):
        with atomic_output(path) as tmp:
            np.save(tmp, obj.values)
        return path

    def to_tensor(self, obj):
        return torch.as_tensor(obj.values, dtype=torch.float32).reshape(-1, 1, D), {"label": obj.label, "shape": obj.values.shape}

    def from_tensor(self, tensor, context):
        return Signal1D(tensor.detach().double().numpy().reshape(context["shape"]), context["label"])

    def uncertainty_from_tensor(self, std, context):
        return self.from_tensor(std, context)

    def degrade(self, clean, rng, sigma=0.3):
        return Signal1D(clean.values + rng.normal(0, sigma, clean.values.shape), clean.label)

    def metrics(self, reference, estimate):
        return {"rmse": float(np.sqrt(np.mean((reference.values - estimate.values) ** 2)))}

    def demo(self, out_dir, seed=0):
        return {}

    def accepts(self, obj):
        return isinstance(obj, Signal1D)

    @classmethod
    def default_recipe(cls):
        return tiny_recipe()

    def training_data(self, recipe, seed=0):
        return white_noise_pairs(D)


@pytest.fixture
def toy_room(registry, tmp_path, monkeypatch):
    register_modality(ToyRoom)
    monkeypatch.setattr(ToyRoom, "weights_path", classmethod(lambda cls: tmp_path / "weights.safetensors"))
    return ToyRoom()


class ExactModel(nn.Module):
    """The closed-form conditional denoiser wrapped like a trained model (with .process)."""

    def __init__(self, restorer: LinearGaussianRestorer):
        super().__init__()
        self.exact, self.process = restorer, restorer.process
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, x, sigma, cond=None):
        return self.exact(x.reshape(x.shape[0], -1), sigma, cond.reshape(cond.shape[0], -1)).reshape(x.shape)


def test_restorer_draws_match_the_exact_posterior(toy_room):
    t = torch.arange(D, dtype=f64)
    cov = torch.exp(-0.5 * (t[:, None] - t[None]) ** 2 / 2.0**2) + 1e-3 * torch.eye(D, dtype=f64)
    identity, noise_cov = torch.eye(D, dtype=f64), 0.3**2 * torch.eye(D, dtype=f64)
    exact = LinearGaussianRestorer(torch.zeros(D, dtype=f64), cov, identity, noise_cov, ResidualProcess(sigma_max=1.0, sigma_min=0.02))
    g = torch.Generator().manual_seed(0)
    x0 = GaussianDenoiser(torch.zeros(D, dtype=f64), cov).sample(4, g)
    y = x0 + 0.3 * torch.randn(x0.shape, dtype=f64, generator=g)
    restorer = Restorer(toy_room, ExactModel(exact), steps=12, n_draws=3000, seed=1)
    mean, std = restorer.restore(Signal1D(y.numpy()), return_std=True)
    assert isinstance(mean, Signal1D) and isinstance(std, Signal1D) and mean.values.shape == (4, D)
    post_mean, post_cov = exact.posterior(y)
    post_std = post_cov.diagonal().sqrt()
    se = post_std / np.sqrt(3000)
    assert np.all(np.abs(mean.values - post_mean.numpy()) < 5 * se.numpy())
    # the spread of 3000 draws: standard error of a std is about std / sqrt(2 n)
    assert np.all(np.abs(std.values - post_std.numpy()) < 5 * post_std.numpy() / np.sqrt(2 * 3000) + 0.01 * post_std.numpy())


def test_one_draw_gives_the_exact_posterior_mean_in_one_evaluation(toy_room):
    """At sigma_max the residual state y + sigma_max n carries nothing beyond y: D there is E[x0 | y]."""
    t = torch.arange(D, dtype=f64)
    cov = torch.exp(-0.5 * (t[:, None] - t[None]) ** 2 / 3.0**2) + 1e-3 * torch.eye(D, dtype=f64)
    blur = torch.eye(D, dtype=f64) + 0.5 * torch.diag(torch.ones(D - 1, dtype=f64), 1)
    noise_cov = 0.5**2 * torch.eye(D, dtype=f64)
    exact = LinearGaussianRestorer(torch.zeros(D, dtype=f64), cov, blur, noise_cov, ResidualProcess(sigma_max=1.0, sigma_min=0.02))
    g = torch.Generator().manual_seed(2)
    x0 = GaussianDenoiser(torch.zeros(D, dtype=f64), cov).sample(5, g)
    y = x0 @ blur.T + 0.5 * torch.randn(x0.shape, dtype=f64, generator=g)
    model = ExactModel(exact)
    calls = []
    model.register_forward_hook(lambda *_: calls.append(1))
    for seed in (0, 1):  # whatever the starting noise, the answer is the same
        mean = Restorer(toy_room, model, seed=seed).restore(Signal1D(y.numpy()))
        np.testing.assert_allclose(mean.values, exact.posterior(y)[0].numpy(), rtol=0, atol=1e-6)  # the room works in float32
    assert len(calls) == 2  # one network evaluation per call (all rows in one batch)


def test_context_channels_enter_the_exact_posterior(toy_room):
    """cond = [y, z]: y = x + w1 on the restored channel, z = x + w2 a second view (context channel).
    The exact posterior uses both; the Restorer's mean and draws must give it, shaped like x."""
    t = torch.arange(D, dtype=f64)
    cov = torch.exp(-0.5 * (t[:, None] - t[None]) ** 2 / 2.0**2) + 1e-3 * torch.eye(D, dtype=f64)
    eye = torch.eye(D, dtype=f64)
    A = torch.cat([eye, eye])  # (2D, D): observation first, then the context view
    R = torch.block_diag(0.5**2 * eye, 0.2**2 * eye)
    exact = LinearGaussianRestorer(torch.zeros(D, dtype=f64), cov, A, R, ResidualProcess(sigma_max=1.0, sigma_min=0.02))
    model = ExactModel(exact)
    model.data_channels = 1
    g = torch.Generator().manual_seed(0)
    x0 = GaussianDenoiser(torch.zeros(D, dtype=f64), cov).sample(3, g)
    y = x0 + 0.5 * torch.randn(x0.shape, dtype=f64, generator=g)
    z = x0 + 0.2 * torch.randn(x0.shape, dtype=f64, generator=g)
    cond = torch.stack([y, z], dim=1)  # (3, 2, D)
    post_mean, post_cov = exact.posterior(cond.reshape(3, -1))
    restorer = Restorer(toy_room, model, steps=12, seed=1)
    mean = restorer.posterior_mean_tensor(cond)
    assert mean.shape == (3, 1, D)
    np.testing.assert_allclose(mean[:, 0].numpy(), post_mean.numpy(), rtol=0, atol=1e-9)
    one_by_one = restorer.posterior_mean_tensor(cond, batch_size=1)  # the batch size is only a matter of speed
    np.testing.assert_allclose(one_by_one[:, 0].numpy(), post_mean.numpy(), rtol=0, atol=1e-9)
    for bad in (0, -2, 1.5, True):
        with pytest.raises(InvalidInputError, match="batch_size"):
            restorer.posterior_mean_tensor(cond, batch_size=bad)
    y_only = LinearGaussianRestorer(torch.zeros(D, dtype=f64), cov, eye, 0.5**2 * eye, exact.process).posterior(y)[0]
    assert (post_mean - x0).square().mean() < 0.5 * (y_only - x0).square().mean()  # the context does help
    draws = restorer.restore_tensor(cond, n_draws=2000)
    assert draws.shape == (2000, 3, 1, D)
    post_std = post_cov.diagonal().sqrt()
    np.testing.assert_array_less((draws.mean(0)[:, 0] - post_mean).abs().numpy(), (5 * post_std / np.sqrt(2000)).expand(3, D).numpy())
    np.testing.assert_allclose(draws.std(0)[:, 0].numpy(), post_std.expand(3, D).numpy(), rtol=0.15)
    with pytest.raises(ShapeError, match="channels"):
        Restorer(toy_room, ExactModel(exact), seed=0).posterior_mean_tensor(torch.zeros(3, D, dtype=f64))


def test_default_batches_cap_the_samples_per_call_so_memory_stays_flat_as_windows_grow(toy_room):
    """Small windows (EEG traces) keep the row cap; large slices get fewer rows, so rows x window size
    never exceeds the budget (a 256^2 slice: 32 rows on CPU, where 128 rows held 4 GB of activations)."""
    cov = torch.eye(D, dtype=f64)
    model = ExactModel(LinearGaussianRestorer(torch.zeros(D, dtype=f64), cov, cov, 0.25 * cov, ResidualProcess(sigma_max=1.0)))
    restorer = Restorer(toy_room, model)
    budget = Restorer.PIXELS_PER_CALL["cpu"]
    assert restorer.default_batch_size() == 128
    assert restorer.default_batch_size((1024,)) == 128  # an EEG window: unchanged
    assert restorer.default_batch_size((256, 256)) == budget // 256**2 == 32
    assert restorer.default_batch_size((4096, 4096)) == 1  # never zero rows
    for window in [(64, 64), (128, 128), (200, 311), (96, 96, 96)]:
        rows = restorer.default_batch_size(window)
        assert rows * math.prod(window) <= budget and (rows == 128 or (rows + 1) * math.prod(window) > budget)


def test_model_from_recipe_adds_context_channels_to_the_condition():
    model = model_from_recipe({"net": {"preset": "tiny"}, "wavelet": {"name": "haar", "level": 1}, "data": {"context_channels": 2}}, dims=1)
    assert model.data_channels == 1 and model.net.config["cond_channels"] == 6  # (1 + 2) channels x 2 Haar packets
    x, cond = torch.randn(2, 1, 32), torch.randn(2, 3, 32)
    assert model(x, torch.full((2,), 0.5), cond).shape == (2, 1, 32)


def test_gaussian_process_models_average_draws_instead(toy_room):
    cov = torch.eye(D, dtype=f64)
    exact = LinearGaussianRestorer(torch.zeros(D, dtype=f64), cov, torch.eye(D, dtype=f64), 0.1 * cov, EDMProcess(sigma_max=5.0))
    restorer = Restorer(toy_room, ExactModel(exact), steps=4)
    with pytest.raises(InvalidInputError, match="residual-process"):
        restorer.posterior_mean_tensor(torch.zeros(2, 1, D, dtype=f64))
    out = restorer.restore(Signal1D(np.zeros((2, D))))  # falls back to one draw of the sampler
    assert out.values.shape == (2, D) and np.isfinite(out.values).all()


def test_train_writes_weights_with_provenance_and_restore_uses_them(toy_room, tmp_path):
    path = train(toy_room, steps=3, progress=False)
    assert path == tmp_path / "weights.safetensors" and path.is_file()
    record = json.loads(path.with_suffix(".json").read_text())
    assert record["info"]["room"] == "toyroom" and record["info"]["steps"] == 3
    assert record["info"]["recipe"]["net"]["preset"] == "tiny"
    assert "final_loss_mean_last_100" in record["metrics"]
    assert not (tmp_path / "weights.train.safetensors").exists()  # the resume state is cleaned up
    signal = Signal1D(np.random.default_rng(0).normal(size=(3, D)), label="kept")
    out = restore(signal, n_draws=2, seed=3)  # room found from the object's type
    assert isinstance(out, Signal1D) and out.label == "kept" and out.values.shape == (3, D)
    again = restore(signal, modality="toyroom", n_draws=2, seed=3)
    assert np.array_equal(out.values, again.values)  # seeded draws are reproducible


def test_a_calibrated_spread_in_the_models_json_scales_the_uncertainty_and_nothing_else(toy_room, tmp_path):
    path = train(toy_room, steps=2, progress=False)
    obj = Signal1D(np.random.default_rng(0).normal(size=(3, D)))
    plain = Restorer(toy_room, path, seed=3)
    assert plain.spread_scale == 1.0
    mean, std = plain.restore(obj, n_draws=3, return_std=True)
    meta_path = path.with_suffix(".json")
    record = json.loads(meta_path.read_text())
    record["calibration"] = {"spread_scale": 1.5, "command": "a room's calibration script"}
    meta_path.write_text(json.dumps(record))
    calibrated = Restorer(toy_room, path, seed=3)
    mean2, std2 = calibrated.restore(obj, n_draws=3, return_std=True)
    np.testing.assert_array_equal(mean2.values, mean.values)  # the estimate is untouched
    np.testing.assert_allclose(std2.values, 1.5 * std.values, rtol=1e-6)
    for bad in (0, -1.0, "wide", True):
        record["calibration"]["spread_scale"] = bad
        meta_path.write_text(json.dumps(record))
        with pytest.raises(ConfigError, match="spread_scale"):
            Restorer(toy_room, path)


def test_train_resumes_an_interrupted_run_exactly_and_refuses_one_of_another_recipe(toy_room, tmp_path, monkeypatch):
    straight = train(toy_room, steps=4, out=tmp_path / "straight.safetensors", progress=False, evaluate=False)
    fit = Trainer.fit

    def interrupted(self, steps, **kw):  # the run stops (killed, machine restarted) after two steps
        fit(self, 2, **kw)
        raise KeyboardInterrupt

    monkeypatch.setattr(Trainer, "fit", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train(toy_room, steps=4, progress=False, evaluate=False)
    monkeypatch.setattr(Trainer, "fit", fit)
    state = tmp_path / "weights.train.safetensors"
    assert state.is_file()
    with pytest.raises(CheckpointError, match="another recipe"):
        train(toy_room, steps=4, recipe={"train": {"lr": 1e-2}}, progress=False, evaluate=False)
    assert state.is_file()  # refused, not overwritten
    path = train(toy_room, steps=4, progress=False, evaluate=False)
    assert not state.exists()
    a, meta = load_checkpoint(path)
    b, _ = load_checkpoint(straight)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)  # as if it had never stopped
    assert meta["info"]["train_seconds"] > 0


def test_model_from_recipe_packs_wavelet_channels(toy_room):
    model = model_from_recipe(ToyRoom.default_recipe(), dims=1)
    assert model.net.config["in_channels"] == 2 and model.net.config["cond_channels"] == 2
    assert model.wavelet is not None and model.process.kind == "residual"
    flat = model_from_recipe({**ToyRoom.default_recipe(), "wavelet": {"level": 0}}, dims=1)
    assert flat.wavelet is None and flat.net.config["in_channels"] == 1


def test_cli_train_and_restore(toy_room, tmp_path, capsys):
    assert cli.main(["train", "toyroom", "--steps", "2"]) == 0
    source = tmp_path / "in.npy"
    np.save(source, np.zeros((2, D)))
    before = source.read_bytes()
    code = cli.main(["restore", "toyroom", str(source), str(tmp_path / "out.npy"), "--draws", "2", "--std", str(tmp_path / "std.npy")])
    assert code == 0, capsys.readouterr().err
    assert source.read_bytes() == before  # the input file is never modified
    assert np.load(tmp_path / "out.npy").shape == (2, D) and (np.load(tmp_path / "std.npy") >= 0).all()


def test_cli_train_merges_a_recipe_file_and_records_it(toy_room, tmp_path, capsys):
    overrides = tmp_path / "longer.toml"
    overrides.write_text("[train]\nsteps = 3\nlr = 1e-3\n")
    assert cli.main(["train", "toyroom", "--recipe", str(overrides)]) == 0, capsys.readouterr().err
    info = json.loads((tmp_path / "weights.json").read_text())["info"]
    expected = {**ToyRoom.default_recipe()["train"], "steps": 3, "lr": 1e-3}
    assert info["steps"] == 3 and info["recipe"]["train"] == expected
    assert info["recipe"]["net"] == ToyRoom.default_recipe()["net"]  # the rest of the recipe as shipped


@pytest.mark.parametrize(
    "text, pattern",
    [
        (None, "no such file"),
        ("[train\nsteps = 3", "not valid TOML"),
        ("[trian]\nsteps = 3", r"no section \[trian\] of the toyroom recipe"),
    ],
)
def test_cli_train_recipe_file_errors_say_what_to_do(toy_room, tmp_path, capsys, text, pattern):
    path = tmp_path / "recipe.toml"
    if text is not None:
        path.write_text(text)
    assert cli.main(["train", "toyroom", "--recipe", str(path)]) == 2
    assert re.search(pattern, capsys.readouterr().err)
    assert not (tmp_path / "weights.safetensors").exists()


def test_errors(toy_room, tmp_path):
    with pytest.raises(ModalityError, match="wavediff train toyroom"):
        Restorer(toy_room)  # nothing trained yet
    with pytest.raises(UnknownModalityError, match="pass modality"):
        restore(object())
    path = train(toy_room, steps=1, progress=False)
    with pytest.raises(InvalidInputError, match="n_draws"):
        Restorer(toy_room, path, n_draws=0)
    with pytest.raises(InvalidInputError, match="at least two draws"):
        Restorer(toy_room, path).restore(Signal1D(np.zeros((1, D))), return_std=True)
    with pytest.raises(InvalidInputError, match="steps"):
        train(toy_room, steps=0, progress=False)
    with pytest.raises(InvalidInputError, match=r"no section \[trian\] of the toyroom recipe; it has .*\[train\]"):
        train(toy_room, steps=1, recipe={"trian": {"lr": 1e-3}}, progress=False)
    assert os.path.exists(path)


def test_rooms_without_a_model_say_so():
    class Bare(ToyRoom):
        name = "bare"

        def training_data(self, recipe, seed=0):
            return Modality.training_data(self, recipe, seed)

    with pytest.raises(ModalityError, match="does not provide training data"):
        Bare().training_data({})
    with pytest.raises(ModalityError, match="cannot map uncertainties"):
        Modality.uncertainty_from_tensor(Bare(), torch.zeros(1), {})


def test_restore_names_its_keywords_and_the_rooms_options(toy_room):
    path = train(toy_room, steps=1, progress=False)
    signal = Signal1D(np.zeros((1, D)))
    with pytest.raises(InvalidInputError, match=r"unknown keyword\(s\) n_samples: restore takes model, .* and the toyroom room reads no options"):
        restore(signal, model=path, n_samples=4)
    with pytest.raises(InvalidInputError, match="n_draws"):
        Restorer(toy_room, path).restore(signal, n_draws=0)
    with pytest.raises(InvalidInputError, match="steps"):
        Restorer(toy_room, path, steps=0)


def test_a_model_for_other_dimensions_or_another_room_is_refused(toy_room, tmp_path):
    from wavediff.errors import DeviceError

    flat = model_from_recipe(ToyRoom.default_recipe(), dims=2, layout={"room": "toyroom", "settings": {}})
    with pytest.raises(ConfigError, match="2-D tensors"):
        Restorer(toy_room, flat)
    other = model_from_recipe(ToyRoom.default_recipe(), dims=1, layout={"room": "eeg", "settings": {}})
    with pytest.raises(ConfigError, match="trained for the 'eeg' room"):
        Restorer(toy_room, other)
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="no usable CUDA device"):
            Restorer(toy_room, flat, device="cuda")
    with pytest.raises(DeviceError, match="not a device name"):
        Restorer(toy_room, flat, device="gpu0")


def test_the_checkpoint_records_the_layout_the_data_and_the_sampler_used(toy_room, tmp_path):
    path = train(toy_room, steps=1, recipe={"sampler": {"steps": 5}}, progress=False)
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["config"]["layout"] == {"room": "toyroom", "settings": {}}
    assert meta["info"]["data"]["source"].startswith("simulated by the toyroom room")
    assert Restorer(toy_room, path).steps == 5  # the model's recipe, not the room's default of 3


def test_cli_evaluate_prints_the_rooms_metrics_as_a_table_or_json(toy_room, tmp_path, capsys):
    ref, est = tmp_path / "ref.npy", tmp_path / "est.npy"
    np.save(ref, np.ones((2, D)))
    np.save(est, np.ones((2, D)) + 0.5)
    assert cli.main(["evaluate", "toyroom", str(ref), str(est)]) == 0
    assert "| rmse | 0.5000 |" in capsys.readouterr().out
    assert cli.main(["evaluate", "toyroom", str(ref), str(est), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["metrics"] == {"rmse": 0.5} and record["room"] == "toyroom"
    import hashlib

    assert record["reference"]["sha256"] == hashlib.sha256(ref.read_bytes()).hexdigest()
    assert cli.main(["evaluate", "toyroom", str(ref), str(tmp_path / "none.npy")]) == 2
    assert "ESTIMATE" in capsys.readouterr().err


def test_cli_restore_checks_its_arguments_before_any_work(toy_room, tmp_path, capsys):
    source = tmp_path / "in.npy"
    np.save(source, np.zeros((2, D)))
    train(toy_room, steps=1, progress=False)
    for argv, message in (
        (["--std", str(tmp_path / "s.npy")], "add --draws N"),
        (["--steps", "0"], "--steps 0"),
        (["--draws", "0"], "--draws 0"),
    ):
        assert cli.main(["restore", "toyroom", str(source), str(tmp_path / "out.npy"), *argv]) == 2
        assert message in capsys.readouterr().err
        assert not (tmp_path / "out.npy").exists()
    assert cli.main(["restore", "toyroom", str(source), str(tmp_path / "out.npy"), "--samples", "2"]) == 0  # the other name works too


def test_spatial_dims_is_per_instance(registry, tmp_path):
    """One room serving 2-D slices and 3-D volumes: the model is built for the instance's value."""

    class Images(ToyRoom):
        name = "imagesroom"

        def __init__(self, volume=False):
            self.volume = bool(volume)
            self.spatial_dims = 3 if self.volume else 2

        def settings(self):
            return {"volume": self.volume}

        @classmethod
        def default_recipe(cls):
            return {**ToyRoom.default_recipe(), "data": {"volume": False}}

        def training_data(self, recipe, seed=0):
            shape = (8, 8, 8) if self.volume else (8, 8)
            return lambda g, n: (torch.zeros(n, 1, *shape), torch.randn(n, 1, *shape, generator=g))

    register_modality(Images)
    assert Images.spatial_dims == 1 and Images().spatial_dims == 2 and Images(volume=True).spatial_dims == 3
    for volume, dims in ((False, 2), (True, 3)):
        path = train("imagesroom", steps=1, out=tmp_path / f"v{volume}.safetensors", recipe={"data": {"volume": volume}}, progress=False)
        restorer = Restorer("imagesroom", path)
        assert restorer.model.net.config["dims"] == dims and restorer.modality.spatial_dims == dims
