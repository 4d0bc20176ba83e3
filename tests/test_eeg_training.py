"""EEG models carry their layout, train on users' own recordings, and fine-tune the shipped model.

Truth: the files the test writes (their sha256, their channel count, where the test put the blinks),
the window length the test trains with, and the weights the test starts from.
"""

from __future__ import annotations

import hashlib
import json

import mne
import numpy as np
import pytest
import torch
from wavediff.datasets.eeg import simulate_raw

from wavediff import get_modality
from wavediff.errors import CheckpointError, ConfigError, DataNotFoundError
from wavediff.learning import _load_init
from wavediff.pipeline import Restorer, model_from_recipe, train

TINY = {"net": {"preset": "tiny"}, "train": {"recordings": 2, "recording_seconds": 4.0, "batch_size": 4}, "sampler": {"steps": 2}}


@pytest.fixture(scope="module")
def eeg():
    return get_modality("eeg")


def _blinky(seconds: float, sfreq: float, seed: int, blink_every: int = 3) -> mne.io.BaseRaw:
    """A simulated 19-channel recording with a 400 uV frontal blink in every ``blink_every``-th 2 s window."""
    raw = simulate_raw(n_seconds=seconds, sfreq=sfreq, rng=seed)
    data = raw.get_data()
    n = int(2 * sfreq)
    bump = 400e-6 * np.exp(-0.5 * ((np.arange(n) - n / 2) / (0.05 * sfreq)) ** 2)
    for start in range(0, data.shape[1] - n + 1, blink_every * n):
        data[:2, start : start + n] += bump
    return mne.io.RawArray(data, raw.info, verbose="error")


def test_a_model_trained_with_another_window_restores_with_that_window(eeg, tmp_path):
    path = train("eeg", steps=2, out=tmp_path / "w1s.safetensors", recipe={**TINY, "data": {"window": 1.0}}, progress=False)
    record = json.loads(path.with_suffix(".json").read_text())
    assert record["config"]["layout"] == {"room": "eeg", "settings": {**eeg.settings(), "window": 1.0}}
    restorer = Restorer("eeg", path)
    assert restorer.modality.window == 256 and eeg.window == 512  # the model's window, not the room's default
    raw = simulate_raw(n_seconds=6.0, sfreq=160.0, rng=1)
    tensor, _ = restorer.modality.to_tensor(raw)
    assert tensor.shape[-1] == 256
    out = restorer.restore(raw)
    assert out.n_times == raw.n_times and out.ch_names == raw.ch_names
    with pytest.raises(ConfigError, match="trained with"):
        Restorer(eeg, path)  # a room set up with 2 s windows is refused, not silently mismatched
    assert Restorer(type(eeg)(window=1.0, overlap=0.5), path).modality.hop == 128  # overlap is free


def test_training_on_users_recordings_reads_them_and_records_their_hashes(eeg, tmp_path):
    data = tmp_path / "mine"
    data.mkdir()
    eeg.write(_blinky(24.0, 160.0, seed=2), data / "a_raw.fif")
    eeg.write(_blinky(20.0, 200.0, seed=3), data / "b.edf")
    (data / "notes.txt").write_text("not a recording")
    out = train("eeg", steps=2, out=tmp_path / "mine.safetensors", data=data, recipe={**TINY, "train": {**TINY["train"], "data_recordings": 3, "recording_seconds": 6.0}}, progress=False)
    info = json.loads(out.with_suffix(".json").read_text())["info"]
    assert info["data"]["source"] == "user files" and info["data"]["folder"] == str(data.resolve())
    files = {f["path"]: f["sha256"] for f in info["data"]["files"]}
    assert files == {name: hashlib.sha256((data / name).read_bytes()).hexdigest() for name in ("a_raw.fif", "b.edf")}
    with pytest.raises(DataNotFoundError, match="no such folder"):
        train("eeg", steps=1, out=tmp_path / "x.safetensors", data=tmp_path / "missing", progress=False)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("")
    with pytest.raises(DataNotFoundError, match="holds no eeg files"):
        train("eeg", steps=1, out=tmp_path / "x.safetensors", data=tmp_path / "empty", progress=False)
    assert not (tmp_path / "x.safetensors").exists()


def test_the_users_pool_keeps_blink_free_epochs_and_contaminates_copies(eeg, tmp_path):
    from wavediff.modalities.eeg.training import recordings_pool, training_batches

    eeg.write(_blinky(32.0, 256.0, seed=4, blink_every=2), tmp_path / "r_raw.fif")  # 16 windows, 8 with a blink
    cfg = {"highpass": 0.0, "recording_seconds": 6.0, "data_recordings": 5}
    pool = recordings_pool(eeg, eeg.data_files(tmp_path), cfg)
    assert len(pool) == 5 and [rec["clean"].shape for rec in pool[:3]] == [(19, 6 * 256), (19, 6 * 256), (19, 4 * 256)]
    # the blink windows (every other one, 400 uV at Fp1/Fp2) are the louder half: none is kept
    assert max(np.ptp(rec["clean"][:2], axis=1).max() for rec in pool) < 300e-6
    recipe = {"data": eeg.settings(), "train": {**cfg, "artifacts": ["eog"], "clean_fraction": 0.0}}
    batch = training_batches(eeg, recipe, seed=0, data=tmp_path)
    clean, noisy = batch(torch.Generator().manual_seed(0), 8)
    assert clean.shape == (8, 1, 512) and noisy.shape == (8, 5, 512) and not torch.allclose(clean, noisy[:, :1])


def test_fine_tuning_starts_from_the_given_weights_and_refuses_another_architecture(eeg, tmp_path):
    base = train("eeg", steps=2, out=tmp_path / "base.safetensors", recipe=TINY, progress=False)
    model = model_from_recipe({**eeg.default_recipe(), **TINY}, dims=1)
    _load_init(model, base)
    from wavediff.training import load_denoiser

    start = load_denoiser(base)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), start.state_dict().values()))
    tuned = train("eeg", steps=3, out=tmp_path / "tuned.safetensors", init=base, progress=False)
    info = json.loads(tuned.with_suffix(".json").read_text())["info"]
    assert info["init"]["sha256"] == hashlib.sha256(base.read_bytes()).hexdigest() and info["steps"] == 3
    assert info["recipe"]["net"] == {"preset": "tiny"}  # the base model's recipe, so the architecture matches
    with pytest.raises(CheckpointError, match="another architecture"):
        train("eeg", steps=1, out=tmp_path / "bad.safetensors", init=base, recipe={"net": {"preset": "small"}}, progress=False)
    with pytest.raises(CheckpointError, match="no such file"):
        train("eeg", steps=1, out=tmp_path / "bad.safetensors", init=tmp_path / "absent.safetensors", progress=False)


def test_the_shipped_model_records_its_layout(eeg):
    if not eeg.weights_path().is_file():
        pytest.skip("no shipped EEG model")
    restorer = Restorer("eeg")
    assert restorer.model.layout["room"] == "eeg"
    assert restorer.modality.settings() == type(eeg)(**restorer.model.layout["settings"]).settings()


def test_the_shipped_model_was_trained_by_the_committed_recipe(eeg):
    """The shipped weights' JSON records the recipe that made them; outside [sampler] (read at restore
    time) it is the committed recipe.toml. Keys added to the recipe after that run must be ones its
    training did not read: those read only with --data or --init, or set to the value the training
    code takes when the key is absent."""
    from wavediff.training import read_meta

    if not eeg.weights_path().is_file():
        pytest.skip("no shipped EEG model")
    info = read_meta(eeg.weights_path())["info"]
    used = {k: v for k, v in info["recipe"].items() if k != "sampler"}
    committed = {k: v for k, v in eeg.default_recipe().items() if k != "sampler"}
    committed["data"] = {**committed.get("data", {}), **eeg.settings()}
    only_with_data_or_init = {"data_recordings", "finetune_steps", "finetune_lr", "recorded_fraction"}
    absent_means = {"variety": "standard", "bandlimit_fraction": 0.0}  # modalities/eeg/training.py's cfg.get defaults
    assert set(used) == set(committed)
    for section, keys in committed.items():
        for key, value in keys.items():
            if key in used[section]:
                assert used[section][key] == value, (section, key)
            else:
                assert key in only_with_data_or_init or absent_means.get(key, object()) == value, (section, key)
    assert info["command"].startswith("wavediff train eeg ") and "--data" not in info["command"]
    assert info["steps"] == committed["train"]["steps"] and info.get("init") is None  # trained from scratch


def test_cli_evaluate_scores_two_eeg_files_like_the_rooms_metrics(eeg, tmp_path, capsys):
    from wavediff.modalities.eeg.metrics import eeg_metrics

    from wavediff import cli

    clean = simulate_raw(n_seconds=8.0, sfreq=160.0, rng=5)
    noisy = eeg.degrade(clean, np.random.default_rng(6), artifact="eog", snr_db=-3.0)
    eeg.write(clean, tmp_path / "clean_raw.fif")
    eeg.write(noisy, tmp_path / "noisy_raw.fif")
    assert cli.main(["evaluate", "eeg", str(tmp_path / "clean_raw.fif"), str(tmp_path / "noisy_raw.fif"), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)["metrics"]
    want = eeg_metrics(clean.get_data(), noisy.get_data(), 160.0)
    assert got == pytest.approx(want, rel=1e-5)  # FIF keeps float32 samples


@pytest.mark.filterwarnings("ignore:FastICA did not converge")
def test_the_users_own_artifacts_separated_by_ica_contaminate_the_pool(eeg, tmp_path):
    from wavediff.modalities.eeg.training import add_recorded, recordings_pool

    raw = _blinky(40.0, 256.0, seed=5, blink_every=2)
    eeg.write(raw, tmp_path / "r_raw.fif")
    cfg = {"highpass": 0.0, "recording_seconds": 6.0, "data_recordings": 3, "recorded_fraction": 1.0}
    pool = recordings_pool(eeg, eeg.data_files(tmp_path), cfg)
    recorded = pool[0]["recorded"]
    assert recorded is not None and recorded.shape == raw.get_data().shape
    # what ICA separated is the blinks the test put on Fp1/Fp2, not the background
    fp, rest = np.sqrt(np.mean(recorded[:2] ** 2)), np.sqrt(np.mean(recorded[2:] ** 2))
    assert fp > 5 * rest
    rng = np.random.default_rng(0)
    noisy = add_recorded(pool[0]["clean"], recorded, rng, -3.0)
    noise = noisy - pool[0]["clean"]
    assert 10 * np.log10(np.sqrt(np.mean(pool[0]["clean"] ** 2)) / np.sqrt(np.mean(noise**2))) == pytest.approx(-3.0)
    # without the key nothing is separated (and the simulated pool never has it)
    assert recordings_pool(eeg, eeg.data_files(tmp_path), {**cfg, "recorded_fraction": 0.0})[0]["recorded"] is None
