"""EEG room adapter: MNE objects and files in, the same kind out, nothing lost.

Truth comes from MNE itself (what it reads back from a file) and from exact identities (an unchanged
tensor gives the recording back bit for bit; channels the model does not own never change).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import mne
import numpy as np
import pytest
import torch

from wavediff import get_modality
from wavediff.errors import (
    CorruptFileError,
    InvalidInputError,
    SampleRateError,
    ShapeError,
    UnsupportedFormatError,
)

EEG_NAMES = ["Fp1", "Fp2", "F7", "F8", "Cz", "O1", "O2"]


@pytest.fixture(scope="module")
def eeg():
    return get_modality("eeg")


def _raw(sfreq=160.0, n_times=1700, seed=0):
    rng = np.random.default_rng(seed)
    names = [*EEG_NAMES, "EOG1", "STI"]
    types = ["eeg"] * len(EEG_NAMES) + ["eog", "stim"]
    info = mne.create_info(names, sfreq, types)
    data = rng.normal(0, 2e-5, (len(names), n_times))
    data[-1] = 0.0
    data[-1, n_times // 3] = 1.0  # one trigger
    raw = mne.io.RawArray(data, info, verbose=False)
    name = "colin27_1005" if "colin27_1005" in mne.channels.get_builtin_montages() else "standard_1005"
    raw.set_montage(mne.channels.make_standard_montage(name), on_missing="ignore")
    raw.info["bads"] = ["O2"]
    duration = n_times / sfreq
    raw.set_annotations(mne.Annotations([0.15 * duration, 0.55 * duration], [0.1 * duration, 0.0], ["blink", "stim"]))
    return raw


@pytest.mark.parametrize("sfreq", [256.0, 160.0, 500.0])
def test_unchanged_tensor_gives_the_recording_back_exactly(eeg, sfreq):
    raw = _raw(sfreq=sfreq, n_times=int(sfreq * 7.3))
    before = raw.get_data().copy()
    tensor, ctx = eeg.to_tensor(raw)
    assert tensor.dtype == torch.float32 and tensor.shape[1:] == (1 + eeg.context_channels, 512)
    out = eeg.from_tensor(tensor, ctx)
    assert isinstance(out, mne.io.BaseRaw) and out is not raw
    assert np.array_equal(out.get_data(), before)
    assert np.array_equal(raw.get_data(), before)  # input untouched
    assert out.ch_names == raw.ch_names and out.info["bads"] == ["O2"]
    assert list(out.annotations.description) == ["blink", "stim"]
    assert out.info["sfreq"] == sfreq


def test_windows_are_scaled_per_window_like_eegdenoisenet(eeg):
    raw = _raw(sfreq=256.0, n_times=1024)
    tensor, _ = eeg.to_tensor(raw)
    std = tensor.std(dim=-1, unbiased=False)  # the channel and its neighbours' window; the ocular fit is a projection of the channel
    assert torch.allclose(std[:, [0, 2, 3]], torch.ones_like(std[:, [0, 2, 3]]), atol=1e-5)
    assert bool((std[:, 1] <= 1.0 + 1e-5).all())
    n_good = len(EEG_NAMES) - 1
    assert tensor.shape[0] == n_good * 3  # 1024 samples: windows at 0, 256, 512


def test_model_changes_reach_only_good_eeg_channels(eeg):
    raw = _raw()
    tensor, ctx = eeg.to_tensor(raw)
    out = eeg.from_tensor(torch.zeros_like(tensor), ctx)
    changed = np.abs(out.get_data() - raw.get_data()).max(axis=1) > 0
    expected = [name in EEG_NAMES and name != "O2" for name in raw.ch_names]
    assert changed.tolist() == expected
    # zeroed EEG at 160 Hz: what remains is the resampling's round-trip error, small against the signal
    good = [raw.ch_names.index(n) for n in EEG_NAMES if n != "O2"]
    assert out.get_data(good).std() < 0.2 * raw.get_data(good).std()


def test_epochs_round_trip(eeg):
    epochs = mne.make_fixed_length_epochs(_raw(), duration=2.0, preload=True, verbose=False)
    tensor, ctx = eeg.to_tensor(epochs)
    out = eeg.from_tensor(tensor, ctx)
    assert isinstance(out, mne.BaseEpochs)
    assert np.array_equal(out.get_data(), epochs.get_data())
    assert np.array_equal(out.events, epochs.events)


@pytest.mark.parametrize("as_torch", [False, True])
def test_numpy_and_torch_in_same_kind_out(eeg, as_torch):
    x = np.random.default_rng(3).normal(0, 1e-5, (3, 2000)).astype(np.float32)
    obj = torch.from_numpy(x) if as_torch else x
    tensor, ctx = eeg.to_tensor(obj, sfreq=200.0)
    out = eeg.from_tensor(tensor, ctx)
    assert isinstance(out, torch.Tensor) == as_torch
    assert np.array_equal(np.asarray(out), x)
    single, ctx1 = eeg.to_tensor(x[0], sfreq=200.0)
    assert np.array_equal(eeg.from_tensor(single, ctx1), x[0])


def test_epoch_arrays_keep_their_shape_context_and_per_epoch_snr():
    """(n_epochs, n_channels, n_times) arrays: MNE's epochs layout; every epoch is a recording of its own."""
    from wavediff.modalities.eeg.adapter import EEG

    room = EEG(context_channels=3)
    rng = np.random.default_rng(4)
    x = rng.normal(0, 1e-5, (5, 1, 512))
    x[0, 0] += 1e-3 * np.sin(np.arange(512) / 10)  # a huge epoch must not leak into the others' context
    tensor, ctx = room.to_tensor(x, sfreq=256.0)
    assert tensor.shape == (5, 4, 512)
    for i in range(5):  # a lone channel is its own reference: its whole (demeaned) window, and its own neighbour
        assert torch.allclose(tensor[i, 1], tensor[i, 0] - tensor[i, 0].mean(), atol=1e-5)
        assert torch.allclose(tensor[i, 2], tensor[i, 0], atol=1e-6) and torch.allclose(tensor[i, 3], tensor[i, 0], atol=1e-6)
    out = room.from_tensor(tensor, ctx)
    assert out.shape == x.shape and np.array_equal(out, x)
    noisy = room.degrade(x, np.random.default_rng(0), artifact="emg", snr_db=-3.0, sfreq=256.0)
    assert noisy.shape == x.shape
    for clean_ep, noisy_ep in zip(x, noisy):  # EEGdenoiseNet: the SNR holds in each epoch
        assert 10 * np.log10(_rms(clean_ep) / _rms(noisy_ep - clean_ep)) == pytest.approx(-3.0, abs=1e-9)
    with pytest.raises(ShapeError, match="n_epochs"):
        room.to_tensor(np.zeros((2, 2, 2, 512)), sfreq=256.0)


def test_short_recordings_are_padded_and_cropped(eeg):
    raw = _raw(sfreq=256.0, n_times=300)  # shorter than one 512-sample window
    tensor, ctx = eeg.to_tensor(raw)
    assert tensor.shape[-1] == 512
    assert np.array_equal(eeg.from_tensor(tensor, ctx).get_data(), raw.get_data())


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name,atol", [("rec_raw.fif", 1e-11), ("rec.edf", 2e-9), ("rec.bdf", 1e-11), ("rec.vhdr", 1e-11), ("rec.set", 1e-11)])
def test_file_round_trip_keeps_data_and_metadata(eeg, tmp_path, name, atol):
    raw = _raw()
    path = eeg.write(raw, tmp_path / name)
    digest = _digest(path)
    back = eeg.read(path)
    assert _digest(path) == digest  # reading never touches the file
    assert back.ch_names == raw.ch_names
    assert back.info["sfreq"] == raw.info["sfreq"] and back.n_times == raw.n_times
    eeg_picks = mne.pick_types(raw.info, eeg=True, exclude=[])
    # within the format's precision (EDF stores 16-bit integers over the channel's physical range)
    assert np.allclose(back.get_data(eeg_picks), raw.get_data(eeg_picks), rtol=0, atol=atol)
    descriptions = [d.split("/")[-1] for d in back.annotations.description]  # BrainVision prefixes "Comment/"
    assert descriptions == ["blink", "stim"]
    assert np.allclose(back.annotations.onset - back.first_time, raw.annotations.onset, atol=1 / raw.info["sfreq"])
    if name.endswith(".fif"):
        assert back.info["bads"] == ["O2"] and back.get_channel_types() == raw.get_channel_types()
    # the restored object writes and reads again through the same path
    tensor, ctx = eeg.to_tensor(back)
    eeg.write(eeg.from_tensor(tensor, ctx), tmp_path / ("again_" + name))


def test_epochs_file_round_trip(eeg, tmp_path):
    epochs = mne.make_fixed_length_epochs(_raw(), duration=2.0, preload=True, verbose=False)
    back = eeg.read(eeg.write(epochs, tmp_path / "ep-epo.fif"))
    assert isinstance(back, mne.BaseEpochs) and np.allclose(back.get_data(), epochs.get_data(), atol=1e-12)
    with pytest.raises(UnsupportedFormatError, match="-epo.fif"):
        eeg.write(epochs, tmp_path / "ep.fif")
    with pytest.raises(UnsupportedFormatError, match="epochs"):
        eeg.write(epochs, tmp_path / "ep.edf")


def test_failed_write_leaves_no_partial_file(eeg, tmp_path):
    target = tmp_path / "out.xyz"
    with pytest.raises(UnsupportedFormatError, match="cannot write EEG"):
        eeg.write(_raw(), target)
    assert list(tmp_path.iterdir()) == []


def test_bad_files_raise_clear_errors(eeg, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        eeg.read(tmp_path / "missing.edf")
    empty = tmp_path / "empty.edf"
    empty.write_bytes(b"")
    with pytest.raises(CorruptFileError, match="empty"):
        eeg.read(empty)
    full = eeg.write(_raw(), tmp_path / "full.edf")
    truncated = tmp_path / "truncated.edf"
    truncated.write_bytes(full.read_bytes()[:200])
    with pytest.raises(CorruptFileError, match="truncated or damaged"):
        eeg.read(truncated)
    odd = tmp_path / "data.csv"
    odd.write_text("1,2,3")
    with pytest.raises(UnsupportedFormatError, match="unsupported EEG format"):
        eeg.read(odd)


def test_bad_inputs_raise_clear_errors(eeg):
    x = np.zeros((2, 1000))
    with pytest.raises(SampleRateError, match="sfreq"):
        eeg.to_tensor(x)
    with pytest.raises(SampleRateError):
        eeg.to_tensor(x, sfreq=-5.0)
    with pytest.raises(ShapeError, match="n_channels, n_times"):
        eeg.to_tensor(np.zeros((2, 3, 4, 100)), sfreq=256.0)
    bad = np.zeros((2, 1000))
    bad[0, 10] = np.nan
    with pytest.raises(InvalidInputError, match="NaN"):
        eeg.to_tensor(bad, sfreq=256.0)
    with pytest.raises(UnsupportedFormatError, match="cannot use a str"):
        eeg.to_tensor("recording.edf")
    info = mne.create_info(["EOG1"], 256.0, "eog")
    with pytest.raises(InvalidInputError, match="no good EEG channels"):
        eeg.to_tensor(mne.io.RawArray(np.zeros((1, 600)), info, verbose=False))
    tensor, ctx = eeg.to_tensor(np.zeros((2, 1000)), sfreq=256.0)
    with pytest.raises(ShapeError, match="context expects"):
        eeg.from_tensor(tensor[:-1], ctx)


def test_registered_with_its_recipe(eeg):
    recipe = type(eeg).default_recipe()
    assert recipe["data"]["sfreq"] == 256.0 and recipe["data"]["window"] == 2.0
    # the adapter's defaults are the recipe's
    assert eeg.window == round(recipe["data"]["window"] * recipe["data"]["sfreq"]) == 512
    assert eeg.hop == round(512 * (1 - recipe["data"]["overlap"])) == 384


# ---------------------------------------------------------------------------- degradations, metrics, learning
def _rms(x):
    return float(np.sqrt(np.mean(np.asarray(x) ** 2)))


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


# ---------------------------------------------------------------------------- spatial context (ART-style)
def test_spatial_context_averages_frontal_electrodes_and_nearest_neighbours():
    from wavediff.modalities.eeg.adapter import spatial_context
    from wavediff.modalities.eeg.artifacts import electrode_positions

    names = ["Fp1", "Fp2", "F3", "F4", "C3", "Cz", "C4", "P3", "Pz", "O1"]
    pos = electrode_positions(names)
    data = np.eye(len(names))  # channel i is an impulse at time i: a context row shows its weights
    ctx = spatial_context(data, pos)
    assert ctx.shape == (10, 3, 10)
    vertical = np.zeros(10)
    vertical[[0, 1]] = 0.5  # Fp1 and Fp2 are the most anterior; F3/F4 lie > 2 cm behind them
    np.testing.assert_allclose(ctx[:, 0], np.broadcast_to(vertical, (10, 10)), atol=1e-15)
    horizontal = np.zeros(10)
    horizontal[[2, 3]] = [1.0, -1.0]  # the front of the head (5 cm): F3 is its leftmost electrode, F4 its rightmost
    np.testing.assert_allclose(ctx[:, 1], np.broadcast_to(horizontal, (10, 10)), atol=1e-15)
    for i in range(10):
        dist = np.sqrt(((pos - pos[i]) ** 2).sum(axis=1))
        dist[i] = np.inf
        expected = np.zeros(10)
        expected[np.argsort(dist, kind="stable")[:4]] = 0.25
        np.testing.assert_allclose(ctx[i, 2], expected, atol=1e-15)
    assert ctx[names.index("Cz"), 2, names.index("O1")] == 0  # far electrodes are not neighbours
    np.testing.assert_array_equal(data, np.eye(10))  # input untouched


def test_spatial_context_horizontal_reference_is_f7_minus_f8_on_the_10_20_montage():
    from wavediff.modalities.eeg.adapter import spatial_context
    from wavediff.modalities.eeg.artifacts import electrode_positions

    names = ["Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "T7", "C3", "Cz", "C4", "T8", "P7", "P3", "Pz", "P4", "P8", "O1", "O2"]
    ctx = spatial_context(np.eye(19), electrode_positions(names))
    expected = np.zeros(19)
    expected[[names.index("F7"), names.index("F8")]] = [1.0, -1.0]
    np.testing.assert_array_equal(ctx[names.index("O2"), 1], expected)


def test_spatial_context_without_montage_or_with_one_channel():
    from wavediff.modalities.eeg.adapter import spatial_context

    data = np.arange(12.0).reshape(3, 4)
    ctx = spatial_context(data, np.full((3, 3), np.nan))
    for i in range(3):
        others = np.delete(data, i, axis=0).mean(axis=0)
        np.testing.assert_array_equal(ctx[i], np.stack([others, np.zeros(4), others]))
    np.testing.assert_array_equal(spatial_context(data[:1], np.zeros((1, 3)))[0], np.stack([data[0], np.zeros(4), data[0]]))


def test_context_windows_fit_equals_least_squares_on_the_eog_references():
    """Row 0 is numpy's least-squares fit on the demeaned references, in the windows' units."""
    from wavediff.modalities.eeg.adapter import context_windows

    rng = np.random.default_rng(3)
    windows, refs = rng.normal(size=(5, 64)), rng.normal(size=(5, 3, 64))
    refs_in, windows_in = refs.copy(), windows.copy()
    ctx = context_windows(windows, refs)
    assert ctx.shape == (5, 3, 64)
    for i in range(5):
        a = (refs[i, :2] - refs[i, :2].mean(axis=1, keepdims=True)).T
        b = windows[i] - windows[i].mean()
        fit = a @ np.linalg.lstsq(a, b, rcond=None)[0]
        np.testing.assert_allclose(ctx[i, 0], fit, atol=1e-6)  # the ridge is 1e-9 of the trace
        np.testing.assert_allclose(ctx[i, 1], refs[i, 0] / refs[i, 0].std(), rtol=1e-12)
        np.testing.assert_allclose(ctx[i, 2], refs[i, 2] / refs[i, 2].std(), rtol=1e-12)
    np.testing.assert_array_equal(refs, refs_in)
    np.testing.assert_array_equal(windows, windows_in)
    lone = context_windows(windows[:1], np.stack([windows[0], np.zeros(64), windows[0]])[None])  # a channel alone
    np.testing.assert_allclose(lone[0, 0], windows[0] - windows[0].mean(), atol=1e-9)


def test_context_windows_give_each_channel_its_share_of_a_blink_and_a_saccade(eeg):
    """Blink and saccade with known gains: each channel's context row 0 is its own ocular component."""
    from wavediff.modalities.eeg.adapter import EEG

    room = EEG(context_channels=3)
    names = ["Fp1", "Fp2", "F7", "F8", "Cz", "O1"]
    t = np.arange(1024) / 256.0
    data = np.random.default_rng(0).normal(0, 1e-6, (6, 1024))
    blink = 1e-4 * np.exp(-0.5 * ((t - 1.0) / 0.1) ** 2)
    saccade = 5e-5 * ((t > 0.5) & (t < 1.4))
    blink_gain = np.array([1.0, 1.0, 0.4, 0.4, 0.2, 0.0])
    saccade_gain = np.array([-0.3, 0.3, -1.0, 1.0, 0.0, 0.0])
    noisy = data + np.outer(blink_gain, blink) + np.outer(saccade_gain, saccade)
    raw = mne.io.RawArray(noisy, mne.create_info(names, 256.0, "eeg"), verbose=False)
    tensor, ctx = room.to_tensor(raw)
    for ch in ("F7", "Cz", "O1"):
        row = names.index(ch) * ctx["n_windows"]  # rows are channel-major: the channel's first window
        ocular = blink_gain[names.index(ch)] * blink[:512] + saccade_gain[names.index(ch)] * saccade[:512]
        estimate = tensor[row, 1].numpy() * ctx["scale"][names.index(ch), 0, 0]
        error = np.sqrt(np.mean((estimate - (ocular - ocular.mean())) ** 2))
        assert error < 0.05 * max(ocular.std(), 1e-5), ch  # the artifact's share, within the background's 1 uV
    assert np.array_equal(room.from_tensor(tensor, ctx).get_data(), noisy)


NAMES_1020 = ["Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "T7", "C3", "Cz", "C4", "T8",
              "P7", "P3", "Pz", "P4", "P8", "O1", "O2"]  # fmt: skip


@pytest.fixture(scope="module")
def ocular_recording():
    """40 s of simulated 19-channel EEG with blinks and saccades of known topography (volts)."""
    from wavediff.datasets.eeg import simulate_raw
    from wavediff.modalities.eeg.artifacts import eog

    brain = simulate_raw(n_seconds=40.0, sfreq=256.0, rng=5, highpass=0.5).get_data()
    ocular = eog(brain.shape[1], 256.0, np.random.default_rng(6), NAMES_1020, kind="mixed")
    return brain, ocular


@pytest.mark.filterwarnings("ignore:FastICA did not converge")
def test_ica_ocular_gives_each_channel_its_share_of_blinks_and_saccades(ocular_recording):
    from wavediff.modalities.eeg.adapter import ica_ocular
    from wavediff.modalities.eeg.artifacts import electrode_positions

    brain, ocular = ocular_recording
    noisy = brain + ocular
    before = noisy.copy()
    estimate = ica_ocular(noisy, 256.0, NAMES_1020, electrode_positions(NAMES_1020))
    np.testing.assert_array_equal(noisy, before)
    assert estimate.shape == noisy.shape
    for ch in ("Fp1", "Fp2", "F7", "F8"):  # where blinks and saccades are largest
        i = NAMES_1020.index(ch)
        assert _rms(estimate[i] - ocular[i]) < 0.25 * _rms(ocular[i]), ch
    assert _rms(noisy - estimate - brain) < 0.2 * _rms(noisy - brain)  # what is left is the brain


def test_ica_ocular_declines_where_ica_cannot_be_trusted(ocular_recording):
    from wavediff.modalities.eeg.adapter import ica_ocular
    from wavediff.modalities.eeg.artifacts import electrode_positions

    brain, ocular = ocular_recording
    noisy, pos = brain + ocular, electrode_positions(NAMES_1020)
    assert ica_ocular(noisy[:9], 256.0, NAMES_1020[:9], pos[:9]) is None  # too few electrodes
    assert ica_ocular(noisy, 256.0, NAMES_1020, np.full_like(pos, np.nan)) is None  # no positions: no EOG proxies
    assert ica_ocular(noisy[:, : 10 * 256], 256.0, NAMES_1020, pos) is None  # 10 s: too few samples for 18 components


@pytest.mark.filterwarnings("ignore:FastICA did not converge")
def test_context_4_takes_icas_ocular_estimate_out_first_and_shows_it(ocular_recording):
    """The model sees the recording less ICA's ocular estimate (row 0, its references in rows 1-3) and
    the estimate itself (row 4), scaled like the channel; an unchanged tensor gives ICA's cleaning."""
    from wavediff.modalities.eeg.adapter import EEG, ica_ocular
    from wavediff.modalities.eeg.artifacts import electrode_positions

    brain, ocular = ocular_recording
    raw = mne.io.RawArray(brain + ocular, mne.create_info(NAMES_1020, 256.0, "eeg"), verbose=False)
    before = raw.get_data().copy()
    room = EEG(context_channels=4)
    tensor, ctx = room.to_tensor(raw)
    assert tensor.shape == (19 * ctx["n_windows"], 5, 512)
    expected = ica_ocular(before, 256.0, NAMES_1020, electrode_positions(NAMES_1020))
    cleaned = mne.io.RawArray(before - expected, raw.info, verbose=False)
    three, ctx3 = EEG(context_channels=3).to_tensor(cleaned)
    torch.testing.assert_close(tensor[:, :4], three, rtol=0, atol=1e-5)  # rows 0-3: the ICA-cleaned recording
    windows = np.stack([expected[:, s : s + 512] for s in ctx["starts"]], axis=1) / ctx3["scale"]
    np.testing.assert_allclose(tensor[:, 4].numpy(), windows.reshape(-1, 512), rtol=0, atol=1e-5)
    np.testing.assert_allclose(room.from_tensor(tensor, ctx).get_data(), before - expected, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(raw.get_data(), before)  # input untouched
    # the model's change is added on top of ICA's cleaning
    bump = tensor[:, :1].clone()
    bump[0, 0, 100] += 1.0
    change = room.from_tensor(bump, ctx).get_data() - (before - expected)
    assert change[0, 100] > 0 and np.count_nonzero(np.abs(change) > 1e-15) < 512
    anonymous = raw.copy().rename_channels({n: f"E{i}" for i, n in enumerate(NAMES_1020)})
    tensor_a, ctx_a = room.to_tensor(anonymous)
    assert not tensor_a[:, 4].any()  # no montage, no ICA: zeros, as in training, and nothing taken out
    assert np.array_equal(room.from_tensor(tensor_a, ctx_a).get_data(), before)


@pytest.mark.filterwarnings("ignore:FastICA did not converge")
def test_epochs_are_decomposed_together(ocular_recording):
    from wavediff.modalities.eeg.adapter import EEG, ica_ocular
    from wavediff.modalities.eeg.artifacts import electrode_positions

    brain, ocular = ocular_recording
    data = (brain + ocular)[:, : 20 * 512].reshape(19, 20, 512).transpose(1, 0, 2)  # 20 epochs of 2 s
    epochs = mne.EpochsArray(data, mne.create_info(NAMES_1020, 256.0, "eeg"), verbose=False)
    tensor, ctx = EEG(context_channels=4).to_tensor(epochs)
    joined = data.transpose(1, 0, 2).reshape(19, -1)
    expected = ica_ocular(joined, 256.0, NAMES_1020, electrode_positions(NAMES_1020))
    per_epoch = expected.reshape(19, 20, 512).transpose(1, 0, 2).reshape(-1, 512) / ctx["scale"].reshape(-1, 1)
    np.testing.assert_allclose(tensor[:, 4].numpy(), per_epoch, rtol=0, atol=1e-5)


def test_epochs_take_their_context_from_their_own_epoch():
    from wavediff.modalities.eeg.adapter import EEG

    room = EEG(context_channels=3)
    names = ["Fp1", "Fp2", "Cz", "O1"]
    rng = np.random.default_rng(1)
    data = rng.normal(0, 1e-6, (2, 4, 512))
    wave = np.sin(2 * np.pi * 3 * np.arange(512) / 256.0)
    data[0] += np.outer([1.0, 1.0, 0.5, 0.2], 1e-4 * wave)  # a frontal wave in epoch 0 only
    epochs = mne.EpochsArray(data, mne.create_info(names, 256.0, "eeg"), verbose=False)
    tensor, ctx = room.to_tensor(epochs)
    assert tensor.shape == (8, 4, 512)  # 2 epochs x 4 channels x 1 window, channel + 3 context
    assert np.corrcoef(tensor[3, 1].numpy(), wave)[0, 1] > 0.99  # O1 of epoch 0 sees its share of the wave
    assert abs(np.corrcoef(tensor[7, 1].numpy(), wave)[0, 1]) < 0.3  # O1 of epoch 1 does not
    np.testing.assert_array_equal(room.from_tensor(tensor, ctx).get_data(), data)


def test_single_channel_room_and_mismatched_weights(eeg, tmp_path):
    from wavediff.modalities.eeg.adapter import EEG

    from wavediff.errors import ConfigError
    from wavediff.pipeline import Restorer, model_from_recipe

    single = EEG(context_channels=0)
    raw = _raw(sfreq=256.0, n_times=1024)
    tensor, _ = single.to_tensor(raw)
    assert tensor.shape[1] == 1
    recipe = type(eeg).default_recipe()
    recipe = {**recipe, "net": {"preset": "tiny"}, "data": {**recipe["data"], "context_channels": 3}}
    with_context = model_from_recipe(recipe, dims=1)
    assert with_context.condition_channels == 4
    with pytest.raises(ConfigError, match="context_channels"):
        Restorer(single, with_context).restore(raw)
    with pytest.raises(InvalidInputError, match="context_channels"):
        EEG(context_channels=2)


# ---------------------------------------------------------------------------- demo
@pytest.mark.filterwarnings("ignore:FastICA did not converge")
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_demo_scores_every_method_and_writes_the_figure(eeg, tmp_path):
    """`wavediff demo eeg`: the shipped model beside the classical methods on the same data, and its figure."""
    if not eeg.weights_path().is_file():
        pytest.skip("no shipped EEG model")
    result = eeg.demo(tmp_path, seed=0)
    methods = [row["method"] for row in result["table"]]
    assert methods == ["noisy input", "band-pass 1-40 Hz + notch", "wavelet SureShrink", "ICA (auto EOG)",
                       "ICA (auto EOG/EMG)", "wavediff (posterior mean)"]  # fmt: skip
    noisy, learned = result["table"][0], result["table"][-1]
    assert learned["RRMSE_t"] < noisy["RRMSE_t"]  # blinks at -3 dB: anything that works beats the input
    assert result["figure"].is_file() and result["figure"].stat().st_size > 10_000
