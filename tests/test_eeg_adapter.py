"""EEG room adapter, I/O and tensors: MNE objects and files in, the same kind out, nothing lost.

Truth comes from MNE itself (what it reads back from a file) and from exact identities (an unchanged
tensor gives the recording back bit for bit; channels the model does not own never change).
Degradations, metrics and learning are in test_eeg_learning.py; the spatial context and the ICA-first
layout in test_eeg_context.py.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import mne
import numpy as np
import pytest
import torch
from _eeg_helpers import EEG_NAMES, _eeg_room, _raw, _rms  # noqa: F401  (_eeg_room: the `eeg` fixture)

from wavediff.errors import (
    CorruptFileError,
    DataNotFoundError,
    InvalidInputError,
    SampleRateError,
    ShapeError,
    UnsupportedFormatError,
)


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
    with pytest.raises(UnsupportedFormatError, match="cannot write '.xyz' files"):
        eeg.write(_raw(), target)
    assert list(tmp_path.iterdir()) == []


def test_bad_files_raise_clear_errors(eeg, tmp_path):
    with pytest.raises(DataNotFoundError, match="no such file"):
        eeg.read(tmp_path / "missing.edf")
    empty = tmp_path / "empty.edf"
    empty.write_bytes(b"")
    with pytest.raises(CorruptFileError, match="empty"):
        eeg.read(empty)
    full = eeg.write(_raw(), tmp_path / "full.edf")
    truncated = tmp_path / "truncated.edf"
    truncated.write_bytes(full.read_bytes()[:200])
    with pytest.raises(CorruptFileError, match="truncated, damaged"):
        eeg.read(truncated)
    odd = tmp_path / "data.csv"
    odd.write_text("1,2,3")
    with pytest.raises(UnsupportedFormatError, match="does not read '.csv'"):
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
