"""EEG room, degradations, metrics and learning: EEGdenoiseNet-style corruption, scores, uncertainty,
training batches, restoring through the pipeline, and the shipped demo.

Truth comes from exact identities (the SNR the EEGdenoiseNet protocol defines, measured back; untouched
channels; a perfect estimate scores perfectly), from spies on what the training protocol calls, and from
the restored objects MNE hands back.
"""

from __future__ import annotations

import mne
import numpy as np
import pytest
import torch
from _eeg_helpers import _eeg_room, _raw, _rms  # noqa: F401  (_eeg_room: the `eeg` fixture)


@pytest.mark.parametrize("artifact", ["eog", "emg", "mix"])
def test_degrade_keeps_the_object_and_sets_the_eegdenoisenet_snr(eeg, artifact):
    raw = _raw(sfreq=256.0, n_times=2560)
    before = raw.get_data().copy()
    noisy = eeg.degrade(raw, np.random.default_rng(0), artifact=artifact, snr_db=-3.0)
    assert isinstance(noisy, mne.io.BaseRaw) and noisy is not raw
    assert np.array_equal(raw.get_data(), before)
    picks = mne.pick_types(raw.info, eeg=True, exclude="bads")
    others = np.setdiff1d(np.arange(len(raw.ch_names)), picks)
    assert np.array_equal(noisy.get_data(others), before[others])  # EOG, stim and bad channels untouched
    x, y = before[picks], noisy.get_data(picks)
    assert 10 * np.log10(_rms(x) / _rms(y - x)) == pytest.approx(-3.0, abs=1e-9)


def test_metrics_of_a_perfect_estimate(eeg):
    raw = _raw(sfreq=256.0, n_times=1024)
    m = eeg.metrics(raw, raw.copy())
    assert m["RRMSE_t"] == 0.0 and m["RRMSE_s"] == 0.0 and m["CC"] == pytest.approx(1.0)


def test_uncertainty_maps_back_in_volts(eeg):
    raw = _raw(sfreq=256.0, n_times=1024)
    tensor, ctx = eeg.to_tensor(raw)
    zero = eeg.uncertainty_from_tensor(torch.zeros_like(tensor), ctx)
    assert isinstance(zero, mne.io.BaseRaw) and np.abs(zero.get_data()).max() == 0.0
    one = eeg.uncertainty_from_tensor(torch.ones_like(tensor), ctx).get_data()
    picks = mne.pick_types(raw.info, eeg=True, exclude="bads")
    # unit std per window, in tensor units, is one window-std of the recording in volts
    scale = raw.get_data(picks).std(axis=1)
    assert np.allclose(one[picks].mean(axis=1), scale, rtol=0.2)
    others = np.setdiff1d(np.arange(len(raw.ch_names)), picks)
    assert np.abs(one[others]).max() == 0.0


@pytest.mark.filterwarnings("ignore:FastICA did not converge")
def test_training_batches_follow_the_protocol(eeg, monkeypatch):
    from wavediff.modalities.eeg import training

    calls = []
    real = training.ica_ocular

    def spy(data, sfreq, names, positions):
        calls.append(data.copy())
        return real(data, sfreq, names, positions)

    monkeypatch.setattr(training, "ica_ocular", spy)
    recipe = type(eeg).default_recipe()
    recipe["train"].update(recordings=2, recording_seconds=30.0)
    batch = eeg.training_data(recipe, seed=0)
    assert len(calls) == 2 and calls[0].shape == (19, 30 * 256)  # ICA runs on each whole contaminated recording
    clean, noisy = batch(torch.Generator().manual_seed(1), 24)
    assert clean.shape == (24, 1, 512) and noisy.shape == (24, 1 + eeg.context_channels, 512)
    std = noisy.std(dim=-1, unbiased=False)  # scaled by the noisy std; the ocular fit, a projection of the channel, in its units
    assert torch.allclose(std[:, [0, 2, 3]], torch.ones(24, 3), atol=1e-5) and bool((std[:, 1] <= 1.0 + 1e-5).all())
    assert not torch.allclose(clean, noisy)
    with_ica = noisy[:, 4].abs().amax(dim=-1) > 0  # ICA's estimate only in draws with the whole named montage
    assert 0 < int(with_ica.sum()) < 24
    again = batch(torch.Generator().manual_seed(1), 24)
    assert torch.equal(again[0], clean) and torch.equal(again[1], noisy)


def test_restore_returns_mne_objects_with_uncertainty(eeg, tmp_path, monkeypatch):
    from wavediff import restore
    from wavediff.pipeline import train

    monkeypatch.setattr(type(eeg), "weights_path", classmethod(lambda cls: tmp_path / "weights.safetensors"))
    small = {"net": {"preset": "tiny"}, "train": {"recordings": 2, "recording_seconds": 4.0, "batch_size": 4}, "sampler": {"steps": 2}}
    train(eeg, steps=2, recipe=small, progress=False)
    raw = _raw(sfreq=160.0, n_times=800)
    restored, std = restore(raw, n_draws=2, steps=2, return_std=True)
    assert isinstance(restored, mne.io.BaseRaw) and isinstance(std, mne.io.BaseRaw)
    assert restored.ch_names == raw.ch_names and restored.n_times == raw.n_times
    assert restored.info["sfreq"] == 160.0 and list(restored.annotations.description) == ["blink", "stim"]
    picks = mne.pick_types(raw.info, eeg=True, exclude="bads")
    assert (std.get_data(picks) >= 0).all() and std.get_data(picks).max() > 0


def test_evoked_transients_are_local_bounded_and_average_referenced():
    from wavediff.modalities.eeg.artifacts import electrode_positions
    from wavediff.modalities.eeg.training import evoked_transient

    names = ["Fp1", "Fz", "Cz", "Pz", "O1", "O2", "T7", "T8", "EOG"]
    pos = electrode_positions(names)
    rng = np.random.default_rng(0)
    for _ in range(20):
        erp = evoked_transient(pos, 512, 256.0, rng)
        assert erp.shape == (9, 512)
        assert np.all(erp[-1] == 0)  # no position, no transient
        np.testing.assert_allclose(erp[:-1].mean(axis=0), 0.0, atol=1e-18)
        assert 1e-6 < np.abs(erp).max() < 2 * 15e-6 * 2  # two components of at most 15 uV, re-referenced
    assert not evoked_transient(np.full((3, 3), np.nan), 100, 256.0, rng).any()


def test_training_pool_is_high_passed_as_the_recipe_says(eeg, monkeypatch):
    import wavediff.datasets.eeg as datasets

    calls = []
    real = datasets.simulate_epochs

    def spy(n_epochs, **kwargs):
        calls.append((n_epochs, kwargs["highpass"]))
        return real(n_epochs, **kwargs)

    monkeypatch.setattr(datasets, "simulate_epochs", spy)
    recipe = type(eeg).default_recipe()
    recipe["train"].update(recordings=3, recording_seconds=4.0)
    for highpass in (0.0, 0.5):
        eeg.training_data({**recipe, "train": {**recipe["train"], "highpass": highpass}}, seed=0)
    assert calls == [(3, 0.0), (3, 0.5)]


def test_training_windows_carry_evoked_transients_when_asked(eeg):
    recipe = type(eeg).default_recipe()
    recipe["train"].update(recordings=2, recording_seconds=4.0, artifacts=["line"])
    draw = {f: eeg.training_data({**recipe, "train": {**recipe["train"], "erp_fraction": f}}, seed=0) for f in (0.0, 1.0)}
    plain, _ = draw[0.0](torch.Generator().manual_seed(1), 8)
    evoked, _ = draw[1.0](torch.Generator().manual_seed(1), 8)
    assert not torch.allclose(plain, evoked)


# ---------------------------------------------------------------------------- demo
@pytest.mark.filterwarnings("ignore:FastICA did not converge")
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_demo_scores_every_method_and_writes_the_figure(eeg, tmp_path):
    """`wavediff demo eeg`: the shipped model beside the classical methods on the same data, and its figure."""
    if not eeg.weights_path().is_file():
        pytest.skip("no shipped EEG model")
    result = eeg.demo(tmp_path, seed=0)
    methods = [row["method"] for row in result["table"]]
    from wavediff.modalities.eeg.cleaners import CLEANERS

    assert methods == ["noisy input", *CLEANERS, "wavediff (posterior mean)"]  # the room's one list of cleaners
    noisy, learned = result["table"][0], result["table"][-1]
    assert learned["RRMSE_t"] < noisy["RRMSE_t"]  # blinks at -3 dB: anything that works beats the input
    assert result["figure"].is_file() and result["figure"].stat().st_size > 10_000
