"""EEG room, spatial context (ART-style) and the ICA-first layout: what the model sees beside each channel.

Truth comes from exact weights read off impulse inputs (frontal averages, F7 - F8, nearest neighbours),
numpy's least squares, artifacts of known topography added to simulated EEG, and ICA's own estimate
recomputed here; an unchanged tensor still gives the recording (or ICA's cleaning) back."""

from __future__ import annotations

import mne
import numpy as np
import pytest
import torch
from _eeg_helpers import _eeg_room, _raw, _rms  # noqa: F401  (_eeg_room registers the `eeg` fixture)

from wavediff.errors import InvalidInputError


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


@pytest.mark.filterwarnings("ignore:FastICA did not converge")
def test_ica_spread_adds_icas_uncertainty_where_ica_took_something_out(ocular_recording, monkeypatch):
    from scipy.ndimage import uniform_filter1d
    from wavediff.modalities.eeg.adapter import EEG

    brain, ocular = ocular_recording
    raw = mne.io.RawArray(brain + ocular, mne.create_info(NAMES_1020, 256.0, "eeg"), verbose=False)
    room = EEG(context_channels=4)
    _, ctx = room.to_tensor(raw, verbose=False)
    spread = room.ica_spread(ctx, k=0.5)
    # k times the 0.25 s moving RMS of what ICA took out, at the recording's rate (here the model's)
    want = 0.5 * np.sqrt(uniform_filter1d(ctx["ocular"] ** 2, size=64, axis=-1, mode="nearest"))[:, : raw.n_times]
    np.testing.assert_allclose(spread, want, rtol=1e-12, atol=1e-18)
    assert room.ica_spread(ctx, k=0.0) is None and room.ica_spread({**ctx, "ocular": None}, k=0.5) is None
    # the uncertainty combines the draws' spread and ICA's in quadrature; k = 0 leaves the draws' alone
    draws = torch.full((ctx["tensor_input"].shape[0], 1, 512), 0.1)
    monkeypatch.setattr(EEG, "default_recipe", classmethod(lambda cls: {"sampler": {"ica_spread": 0.5}}))
    with_ica = room.uncertainty_from_tensor(draws, ctx).get_data()
    monkeypatch.setattr(EEG, "default_recipe", classmethod(lambda cls: {"sampler": {"ica_spread": 0.0}}))
    alone = room.uncertainty_from_tensor(draws, ctx).get_data()
    np.testing.assert_allclose(with_ica, np.sqrt(alone**2 + want**2), rtol=1e-10, atol=1e-18)
    fp1, o1 = NAMES_1020.index("Fp1"), NAMES_1020.index("O1")
    assert (with_ica[fp1] - alone[fp1]).mean() > 3 * (with_ica[o1] - alone[o1]).mean()  # most where blinks are
