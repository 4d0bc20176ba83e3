"""wavediff.datasets.eeg: the physiological EEG simulator and the EEGMMIDB / EEGdenoiseNet recipes.

Truth comes from physiology measured back with standard tools (Welch spectra, correlations, ERP
averaging around the annotated events), from files the tests write themselves, and from the arguments
the fetchers hand to MNE and pooch (both replaced here: no network).
"""

from __future__ import annotations

import doctest
import importlib
import re
import warnings

import mne
import numpy as np
import pytest
from scipy.signal import welch
from wavediff.datasets import eeg

from wavediff.errors import (
    CorruptFileError,
    DataNotFoundError,
    InvalidInputError,
    NonFiniteError,
    SampleRateError,
    UnsupportedFormatError,
    WavediffError,
)

SFREQ = 256.0


@pytest.fixture(scope="module")
def raw60():
    return eeg.simulate_raw(60.0, sfreq=SFREQ, rng=np.random.default_rng(1))


def _band(freqs, psd, lo, hi):
    return psd[..., (freqs >= lo) & (freqs <= hi)].mean(-1)


# -------------------------------------------------------------------------------------------------
# simulator: structure and units
# -------------------------------------------------------------------------------------------------


def test_raw_has_the_19_channels_sfreq_montage_and_average_reference(raw60):
    assert isinstance(raw60, mne.io.RawArray)
    assert raw60.ch_names == list(eeg.DEFAULT_CH_NAMES)
    assert raw60.info["sfreq"] == SFREQ
    assert raw60.get_data().shape == (19, int(60 * SFREQ))
    assert set(raw60.get_channel_types()) == {"eeg"}
    montage = raw60.get_montage()
    assert montage is not None
    pos = montage.get_positions()["ch_pos"]
    assert all(np.isfinite(pos[c]).all() and np.linalg.norm(pos[c]) > 0.05 for c in raw60.ch_names)
    assert raw60.info["custom_ref_applied"]
    np.testing.assert_allclose(raw60.get_data().mean(0), 0.0, atol=1e-15)


def test_amplitudes_are_tens_of_microvolts_in_volts(raw60):
    rms_uv = raw60.get_data().std(axis=1) * 1e6
    assert np.all((rms_uv > 5) & (rms_uv < 100)), rms_uv


def test_same_seed_same_recording_other_seed_other_recording():
    a = eeg.simulate_raw(5.0, rng=np.random.default_rng(42)).get_data()
    b = eeg.simulate_raw(5.0, rng=42).get_data()
    c = eeg.simulate_raw(5.0, rng=43).get_data()
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).mean() > 0.3 * np.abs(a).mean()


def test_old_and_new_montage_names_give_the_same_recording_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = eeg.simulate_raw(3.0, montage="standard_1020", rng=0)
        b = eeg.simulate_raw(3.0, montage="colin27_1020", rng=0)
    np.testing.assert_array_equal(a.get_data(), b.get_data())


# -------------------------------------------------------------------------------------------------
# simulator: physiology
# -------------------------------------------------------------------------------------------------


def test_spectrum_is_one_over_f_with_an_occipital_alpha_peak(raw60):
    freqs, psd = welch(raw60.get_data(), fs=SFREQ, nperseg=int(2 * SFREQ))
    fit = (freqs >= 2) & (freqs <= 40) & ~((freqs >= 8) & (freqs <= 12))
    slope = np.polyfit(np.log(freqs[fit]), np.log(psd[:, fit].mean(0)), 1)[0]
    assert -2.2 < slope < -0.9, slope  # spectral exponent ~1-2

    alpha = _band(freqs, psd, 8, 12)
    flanks = 0.5 * (_band(freqs, psd, 6, 7) + _band(freqs, psd, 14, 16))
    ratio = dict(zip(raw60.ch_names, alpha / flanks))
    occipital = np.mean([ratio["O1"], ratio["O2"]])
    frontal = np.mean([ratio["Fp1"], ratio["Fp2"]])
    assert occipital > 5, ratio
    assert occipital > 1.5 * frontal, ratio  # frontal channels see alpha only through the reference


@pytest.mark.parametrize("highpass", [0.5, 1.0])
def test_highpass_shapes_the_background_as_mnes_filter_does(highpass):
    kw = dict(n_seconds=60.0, rng=5, alpha=False, theta=False, beta=False, noise_uv=0.0)
    plain = eeg.simulate_raw(**kw)
    cut = eeg.simulate_raw(**kw, highpass=highpass).get_data()
    filtered = plain.copy().filter(highpass, None, verbose="error").get_data()  # the reference: MNE's default FIR
    welch16 = lambda x: welch(x, fs=SFREQ, nperseg=int(16 * SFREQ))  # noqa: E731  (1/16 Hz bins)
    freqs, p_plain = welch16(plain.get_data())
    above = (freqs >= 2 * highpass) & (freqs <= 40)

    def response(p):  # amplitude relative to the plain background, 1 above the transition band
        ratio = p.sum(0) / p_plain.sum(0)
        return np.sqrt(ratio / np.median(ratio[above]))

    got, want = response(welch16(cut)[1]), response(welch16(filtered)[1])
    assert np.abs(got - want)[freqs > 0].max() < 0.04, (got[freqs <= 2 * highpass], want[freqs <= 2 * highpass])
    assert want[(freqs > 0) & (freqs <= highpass / 4)].max() < 0.2  # the comparison spans what the filter cuts
    # above the cut the background keeps its 1/f shape exactly (the level moves: each source has unit variance)
    assert np.ptp(np.log(got[above])) < 1e-3


@pytest.mark.parametrize("highpass", [0.0, 1.0])
def test_epochs_look_like_windows_cut_from_a_recording(highpass):
    # a short epoch keeps the offset and slow trend a window of a continuous recording has: a model
    # trained on re-centred epochs would learn that every window mean is drift
    kw = dict(highpass=highpass, alpha=False, theta=False, beta=False, noise_uv=0.0)
    epochs = eeg.simulate_epochs(200, rng=1, **kw)
    raw = eeg.simulate_raw(400.0, rng=2, **kw).get_data()
    crops = raw[:, : 200 * 512].reshape(19, 200, 512).transpose(1, 0, 2)

    def low_spectrum(x):  # power of the 0-4 Hz bins of 2 s windows, as a share of all
        power = np.abs(np.fft.rfft(x, axis=-1)) ** 2
        return power[..., :9].mean((0, 1)) / power.mean((0, 1)).sum()

    ratio = low_spectrum(epochs) / low_spectrum(crops)
    assert np.all((ratio > 0.75) & (ratio < 1.33)), ratio
    offset = lambda x: np.mean(np.abs(x.mean(-1)) / x.std(-1))  # noqa: E731
    assert offset(epochs) == pytest.approx(offset(crops), rel=0.2)


def test_theta_is_frontal_midline_and_beta_central(raw60):
    freqs, psd = welch(raw60.get_data(), fs=SFREQ, nperseg=int(2 * SFREQ))
    theta = dict(zip(raw60.ch_names, _band(freqs, psd, 5, 6.5) / _band(freqs, psd, 2.5, 3.5)))
    beta = dict(zip(raw60.ch_names, _band(freqs, psd, 17, 23) / _band(freqs, psd, 32, 40)))
    assert theta["Fz"] > theta["O1"] and theta["Fz"] > theta["T7"], theta
    assert min(beta["C3"], beta["C4"]) > max(beta["Fp1"], beta["O1"], beta["Pz"]), beta


def test_neighbouring_electrodes_correlate_more_than_distant_ones():
    raw = eeg.simulate_raw(60.0, rng=5, alpha=False, theta=False, beta=False)  # the 1/f background alone
    pos = np.array([raw.get_montage().get_positions()["ch_pos"][c] for c in raw.ch_names])
    dist = np.linalg.norm(pos[:, None] - pos[None], axis=-1)
    np.fill_diagonal(dist, np.nan)
    corr = np.corrcoef(raw.get_data())
    rows = np.arange(len(pos))
    nearest = corr[rows, np.nanargmin(dist, axis=1)]
    farthest = corr[rows, np.nanargmax(dist, axis=1)]
    assert nearest.mean() > 0.4, nearest
    assert nearest.mean() > farthest.mean() + 0.4, (nearest.mean(), farthest.mean())


def test_erp_is_measured_back_at_its_latency_and_amplitude():
    spec = eeg.ERP(latency=0.3, amplitude_uv=10.0, width=0.05, channel="Pz", interval=0.8, jitter=0.2)
    raw = eeg.simulate_raw(480.0, rng=1, erp=spec)  # resting rhythms included
    events, ids = mne.events_from_annotations(raw, verbose=False)
    assert list(ids) == ["stimulus"] and len(events) > 500
    x = raw.get_data(picks="Pz")[0]
    lo, hi = int(-0.2 * SFREQ), int(0.6 * SFREQ)
    avg = np.mean([x[s + lo : s + hi] for s in events[:, 0] if s + lo >= 0 and s + hi <= x.size], axis=0)
    times = np.arange(lo, hi) / SFREQ
    best = None
    for latency in np.arange(0.2, 0.4, 1 / SFREQ / 8):  # least-squares template + offset
        design = np.c_[np.exp(-((times - latency) ** 2) / (2 * spec.width**2)), np.ones_like(times)]
        coef, *_ = np.linalg.lstsq(design, avg, rcond=None)
        resid = np.sum((avg - design @ coef) ** 2)
        if best is None or resid < best[0]:
            best = (resid, latency, coef[0])
    _, latency, amplitude = best
    assert abs(latency - spec.latency) <= 1 / SFREQ, latency
    assert abs(amplitude * 1e6 - spec.amplitude_uv) <= 0.1 * spec.amplitude_uv, amplitude


def test_add_erp_is_exact_at_its_channel_and_leaves_the_input_alone():
    raw = eeg.simulate_raw(6.0, rng=2)
    before = raw.get_data().copy()
    events = np.array([[256, 0, 1], [1024, 0, 1]])
    out = eeg.add_erp(
        raw, events, latency=0.25, amplitude_uv=-4.0, width=0.03, channel="Cz", description="tone"
    )
    np.testing.assert_array_equal(raw.get_data(), before)
    diff = out.get_data() - before
    cz = out.ch_names.index("Cz")
    assert diff[cz, 256 + 64] * 1e6 == pytest.approx(-4.0)
    assert np.argmin(diff[cz, 256:700]) == 64
    np.testing.assert_allclose(diff.mean(0), 0.0, atol=1e-18)  # stays average-referenced
    assert np.abs(diff[:, :256]).max() == 0.0  # nothing before the first event
    found, ids = mne.events_from_annotations(out, verbose=False)
    np.testing.assert_array_equal(found[:, 0], events[:, 0])
    assert list(ids) == ["tone"]
    assert len(raw.annotations) == 0


def test_add_erp_rejects_unknown_channels_and_bad_events():
    raw = eeg.simulate_raw(3.0, rng=0)
    with pytest.raises(InvalidInputError, match="not an EEG channel.*did you mean 'Cz'"):
        eeg.add_erp(raw, [100], channel="CZ")
    with pytest.raises(InvalidInputError, match="within the recording"):
        eeg.add_erp(raw, [10**6])
    with pytest.raises(InvalidInputError, match="events must be"):
        eeg.add_erp(raw, [0.5, 1.0])
    with pytest.raises(UnsupportedFormatError):
        eeg.add_erp(raw.get_data(), [100])


# -------------------------------------------------------------------------------------------------
# simulator: montages, subsets, epochs
# -------------------------------------------------------------------------------------------------


def test_channel_subset_keeps_names_and_montage_positions():
    names = ["O1", "Oz", "O2", "Cz"]
    raw = eeg.simulate_raw(4.0, ch_names=names, rng=0)
    full = mne.channels.make_standard_montage(
        "colin27_1020" if "colin27_1020" in mne.channels.get_builtin_montages() else "standard_1020"
    )
    info = mne.create_info(names, SFREQ, "eeg").set_montage(full)
    assert raw.ch_names == names
    for mine, ref in zip(raw.info["chs"], info["chs"]):
        np.testing.assert_allclose(mine["loc"][:3], ref["loc"][:3])
    assert eeg.simulate_raw(4.0, montage="biosemi64", rng=0).ch_names == list(eeg.DEFAULT_CH_NAMES)
    single = eeg.simulate_raw(4.0, ch_names=["Cz"], reference=None, rng=0)
    assert single.get_data().shape == (1, 1024) and not single.info["custom_ref_applied"]


def test_no_montage_works_without_positions_or_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        raw = eeg.simulate_raw(20.0, montage=None, rng=0)
        custom = eeg.simulate_raw(
            4.0, montage=None, ch_names=["ch1", "ch2", "ch3"], rng=0, erp=dict(channel="ch2")
        )
        epochs = eeg.simulate_epochs(2, montage=None, rng=0)
    assert raw.get_montage() is None and raw.ch_names == list(eeg.DEFAULT_CH_NAMES)
    assert custom.ch_names == ["ch1", "ch2", "ch3"] and len(custom.annotations) > 0
    assert epochs.shape == (2, 19, 512)
    rms_uv = raw.get_data().std(axis=1) * 1e6
    assert np.all((rms_uv > 5) & (rms_uv < 100)), rms_uv
    freqs, psd = welch(raw.get_data(), fs=SFREQ, nperseg=512)
    fit = (freqs >= 2) & (freqs <= 40) & ~((freqs >= 8) & (freqs <= 12))
    assert -2.2 < np.polyfit(np.log(freqs[fit]), np.log(psd[:, fit].mean(0)), 1)[0] < -0.9


def test_epochs_are_independent_reproducible_segments_in_volts():
    x = eeg.simulate_epochs(8, n_seconds=2.0, sfreq=SFREQ, rng=3)
    assert x.shape == (8, 19, 512) and x.dtype == np.float64
    np.testing.assert_array_equal(x, eeg.simulate_epochs(8, rng=np.random.default_rng(3)))
    rms_uv = x.std(axis=-1) * 1e6
    assert np.all((rms_uv > 2) & (rms_uv < 150))
    np.testing.assert_allclose(x.mean(axis=1), 0.0, atol=1e-15)
    corr = np.corrcoef(x[:, 0])  # one channel across epochs: independent draws
    assert np.abs(corr[np.triu_indices(8, 1)]).mean() < 0.3
    y = eeg.simulate_epochs(2, n_seconds=1.0, sfreq=500.0, ch_names=["C3", "C4"], rng=0)
    assert y.shape == (2, 2, 500)


# -------------------------------------------------------------------------------------------------
# simulator: bad input
# -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        (dict(n_seconds=-1.0), InvalidInputError, "must be positive"),
        (dict(n_seconds=float("nan")), InvalidInputError, "finite duration"),
        (dict(n_seconds=0.01), InvalidInputError, "at least 16 samples"),
        (dict(sfreq=0.0), SampleRateError, "positive finite sampling rate"),
        (dict(sfreq=-256.0), SampleRateError, "positive finite sampling rate"),
        (dict(sfreq=20.0), SampleRateError, "at least 60 Hz"),
        (
            dict(ch_names=["Fp1", "FOO", "cz"]),
            InvalidInputError,
            r"(?s)not in standard_1020.*'cz' \(did you mean 'Cz'",
        ),
        (dict(ch_names=["Cz", "Cz"]), InvalidInputError, "duplicate"),
        (dict(ch_names=[]), InvalidInputError, "empty"),
        (dict(ch_names="Cz"), InvalidInputError, "list of channel names"),
        (dict(ch_names=["Cz"]), InvalidInputError, "at least 2 channels"),
        (dict(montage="standard_1021"), InvalidInputError, "unknown montage.*get_builtin_montages"),
        (dict(montage=3), InvalidInputError, "built-in montage name"),
        (dict(rng="seed"), InvalidInputError, "numpy Generator"),
        (dict(alpha=-1.0), InvalidInputError, "non-negative amplitude scale"),
        (dict(noise_uv=-1.0), InvalidInputError, "noise_uv"),
        (dict(aperiodic_exponent=7.0), InvalidInputError, r"\[0, 4\]"),
        (dict(reference="Cz"), InvalidInputError, "'average' or None"),
        (dict(highpass=-0.5), InvalidInputError, r"highpass=-0.5 must be a cut-off in Hz"),
        (dict(highpass=float("nan")), InvalidInputError, "highpass"),
        (dict(highpass=True), InvalidInputError, "highpass"),
        (dict(erp=dict(channel="Xz")), InvalidInputError, "ERP channel"),
        (dict(erp=dict(lat=0.3)), InvalidInputError, "allowed keys"),
        (dict(n_seconds=0.5, erp=True), InvalidInputError, "too short"),
    ],
)
def test_bad_simulator_input_says_what_to_do(kwargs, error, pattern):
    kwargs = {"n_seconds": 2.0, **kwargs}
    with pytest.raises(error, match=pattern):
        eeg.simulate_raw(**kwargs)


def test_bad_epoch_count_and_errors_are_still_value_errors():
    with pytest.raises(InvalidInputError, match="positive integer"):
        eeg.simulate_epochs(0)
    with pytest.raises(ValueError):  # callers catching ValueError keep working
        eeg.simulate_epochs(2, sfreq=-1.0)


# -------------------------------------------------------------------------------------------------
# EEGdenoiseNet loader and split
# -------------------------------------------------------------------------------------------------


def _write_denoisenet(folder, n=(10, 8, 12), samples=512):
    rng = np.random.default_rng(0)
    arrays = {}
    for kind, count in zip(("EEG", "EOG", "EMG"), n):
        arrays[kind.lower()] = rng.standard_normal((count, samples))
        np.save(folder / f"{kind}_all_epochs.npy", arrays[kind.lower()])
    return arrays


def test_loader_reads_the_three_arrays(tmp_path):
    written = _write_denoisenet(tmp_path)
    data = eeg.load_eegdenoisenet(tmp_path)
    assert data["sfreq"] == 256.0
    for kind in ("eeg", "eog", "emg"):
        assert data[kind].dtype == np.float64 and data[kind].shape[1] == 512
        np.testing.assert_array_equal(data[kind], written[kind])
    np.save(tmp_path / "EOG_all_epochs.npy", np.ones((3, 512), dtype=np.float32))
    assert eeg.load_eegdenoisenet(str(tmp_path))["eog"].dtype == np.float64


def test_truncated_file_is_corrupt(tmp_path):
    _write_denoisenet(tmp_path)
    path = tmp_path / "EEG_all_epochs.npy"
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(CorruptFileError, match="truncated.*download it again"):
        eeg.load_eegdenoisenet(tmp_path)
    path.write_bytes(blob[:40])  # inside the header
    with pytest.raises(CorruptFileError, match="header"):
        eeg.load_eegdenoisenet(tmp_path)
    path.write_bytes(b"")
    with pytest.raises(CorruptFileError, match="empty"):
        eeg.load_eegdenoisenet(tmp_path)
    path.write_bytes(blob + b"\0" * 8)
    with pytest.raises(CorruptFileError, match="longer than its header"):
        eeg.load_eegdenoisenet(tmp_path)


@pytest.mark.parametrize(
    ("array", "pattern"),
    [
        (np.zeros((10, 500)), r"shape \(10, 500\).*\(n_segments, 512\)"),
        (np.zeros(512), r"shape \(512,\)"),
        (np.zeros((2, 10, 512)), "shape"),
        (np.array(["a"] * 512).reshape(1, 512), "floating-point"),
    ],
)
def test_wrong_shape_or_dtype_is_unsupported(tmp_path, array, pattern):
    _write_denoisenet(tmp_path)
    np.save(tmp_path / "EMG_all_epochs.npy", array)
    with pytest.raises(UnsupportedFormatError, match=pattern):
        eeg.load_eegdenoisenet(tmp_path)


def test_pickled_objects_are_refused_never_unpickled(tmp_path, monkeypatch):
    _write_denoisenet(tmp_path)
    # an object-dtype .npy header (what np.save writes before a pickle payload); no pickle is produced here
    with open(tmp_path / "EOG_all_epochs.npy", "wb") as fh:
        np.lib.format.write_array_header_1_0(fh, {"descr": "|O", "fortran_order": False, "shape": (2, 512)})
        fh.write(b"\x80\x04not-a-real-pickle")
    calls = []
    real_load = np.load

    def spy(file, *args, **kwargs):
        calls.append((str(file), kwargs.get("allow_pickle")))
        return real_load(file, *args, **kwargs)

    monkeypatch.setattr(np, "load", spy)
    with pytest.raises(UnsupportedFormatError, match="pickle.*never unpickles"):
        eeg.load_eegdenoisenet(tmp_path)
    assert calls and all(allow is False for _, allow in calls)
    assert not any(name.endswith("EOG_all_epochs.npy") for name, _ in calls)  # refused from its header


def test_not_npy_empty_and_nonfinite_files(tmp_path):
    _write_denoisenet(tmp_path)
    (tmp_path / "EEG_all_epochs.npy").write_text("time,value\n0,1\n")
    with pytest.raises(UnsupportedFormatError, match="not a NumPy .npy file"):
        eeg.load_eegdenoisenet(tmp_path)
    np.save(tmp_path / "EEG_all_epochs.npy", np.zeros((0, 512)))
    with pytest.raises(CorruptFileError, match="no segments"):
        eeg.load_eegdenoisenet(tmp_path)
    bad = np.zeros((3, 512))
    bad[1, 7] = np.nan
    np.save(tmp_path / "EEG_all_epochs.npy", bad)
    with pytest.raises(NonFiniteError, match="1 NaN"):
        eeg.load_eegdenoisenet(tmp_path)


def test_missing_files_say_how_to_download(tmp_path):
    with pytest.raises(eeg.DataNotFoundError, match="not a folder.*fetch_eegdenoisenet") as info:
        eeg.load_eegdenoisenet(tmp_path / "nowhere")
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, WavediffError)
    _write_denoisenet(tmp_path)
    (tmp_path / "EMG_all_epochs.npy").unlink()
    with pytest.raises(FileNotFoundError, match="lacks EMG_all_epochs.npy.*fetch_eegdenoisenet"):
        eeg.load_eegdenoisenet(tmp_path)
    with pytest.raises(InvalidInputError):
        eeg.load_eegdenoisenet(None)


def _check_parts(parts, name, n, counts):
    idx = [parts[p][f"{name}_index"] for p in ("train", "validation", "test")]
    assert [len(i) for i in idx] == list(counts)
    together = np.concatenate(idx)
    assert len(np.unique(together)) == n == len(together)  # disjoint and complete


def test_split_is_deterministic_disjoint_complete_80_10_10(tmp_path):
    _write_denoisenet(tmp_path, n=(50, 40, 60))
    data = eeg.load_eegdenoisenet(tmp_path)
    parts = eeg.eegdenoisenet_split(data, rng=0)
    for name, n, counts in (("eeg", 50, (40, 5, 5)), ("eog", 40, (32, 4, 4)), ("emg", 60, (48, 6, 6))):
        _check_parts(parts, name, n, counts)
        for p in ("train", "validation", "test"):
            np.testing.assert_array_equal(parts[p][name], data[name][parts[p][f"{name}_index"]])
    again = eeg.eegdenoisenet_split(data, rng=0)
    other = eeg.eegdenoisenet_split(data, rng=1)
    np.testing.assert_array_equal(again["test"]["eeg_index"], parts["test"]["eeg_index"])
    assert not np.array_equal(other["train"]["eeg_index"], parts["train"]["eeg_index"])
    assert not np.array_equal(parts["train"]["eeg_index"], np.arange(40))  # shuffled


def test_split_sizes_and_pairing_of_the_real_benchmark():
    data = {"eeg": np.zeros((4514, 1)), "eog": np.zeros((3400, 1)), "emg": np.zeros((5598, 1))}
    parts = eeg.eegdenoisenet_split(data, rng=0)
    _check_parts(parts, "eeg", 4514, (3611, 452, 451))
    _check_parts(parts, "eog", 3400, (2720, 340, 340))
    _check_parts(parts, "emg", 5598, (4478, 560, 560))

    eog = eeg.eegdenoisenet_split(data, rng=0, artifact="eog")  # EEG cut to 3400
    _check_parts(eog, "eeg", 3400, (2720, 340, 340))
    _check_parts(eog, "noise", 3400, (2720, 340, 340))

    emg = eeg.eegdenoisenet_split(data, rng=0, artifact="emg")  # 1084 EEG segments reused
    _check_parts(emg, "noise", 5598, (4478, 560, 560))
    train, held_out = (
        emg["train"]["eeg_index"],
        np.concatenate([emg[p]["eeg_index"] for p in ("validation", "test")]),
    )
    assert len(train) == 4478 and len(np.unique(train)) == 4478 - 1084
    assert len(np.unique(np.concatenate([train, held_out]))) == 4514  # every clean segment is used
    assert not set(train) & set(held_out)  # the reused ones stay in training
    for p in ("train", "validation", "test"):
        assert len(emg[p]["eeg"]) == len(emg[p]["noise"])


def test_split_rejects_bad_arguments():
    data = {"eeg": np.zeros((10, 512))}
    with pytest.raises(InvalidInputError, match="artifact"):
        eeg.eegdenoisenet_split(data, artifact="ecg")
    with pytest.raises(InvalidInputError, match="needs the keys"):
        eeg.eegdenoisenet_split(data, artifact="eog")
    with pytest.raises(InvalidInputError, match="rng="):
        eeg.eegdenoisenet_split(data, rng=-1)
    with pytest.raises(InvalidInputError, match="2-D"):
        eeg.eegdenoisenet_split({"eeg": np.zeros(10)})


# -------------------------------------------------------------------------------------------------
# fetchers (network replaced)
# -------------------------------------------------------------------------------------------------


def test_fetch_eegdenoisenet_pins_urls_and_hashes(tmp_path, monkeypatch):
    import pooch

    calls = []

    def fake_retrieve(**kwargs):
        calls.append(kwargs)
        return str(kwargs["path"] / kwargs["fname"])

    monkeypatch.setattr(pooch, "retrieve", fake_retrieve)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # hashes are pinned: no integrity warning
        folder = eeg.fetch_eegdenoisenet(tmp_path / "edn", progressbar=False)
    assert folder == tmp_path / "edn"
    assert [c["fname"] for c in calls] == ["EEG_all_epochs.npy", "EOG_all_epochs.npy", "EMG_all_epochs.npy"]
    for call in calls:
        assert call["url"] == (
            "https://raw.githubusercontent.com/ncclabsustech/EEGdenoiseNet/"
            f"{eeg.EEGDENOISENET_COMMIT}/data/{call['fname']}"
        )
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", call["known_hash"])
        assert call["path"] == tmp_path / "edn" and call["progressbar"] is False
    assert len({c["known_hash"] for c in calls}) == 3
    assert re.fullmatch(r"[0-9a-f]{40}", eeg.EEGDENOISENET_COMMIT)


def test_fetch_eegdenoisenet_default_folder_is_the_pooch_cache(monkeypatch, tmp_path):
    import pooch

    seen = []
    monkeypatch.setattr(pooch, "os_cache", lambda project: tmp_path / project)
    monkeypatch.setattr(pooch, "retrieve", lambda **kw: seen.append(kw["path"]))
    assert eeg.fetch_eegdenoisenet() == tmp_path / "wavediff" / "eegdenoisenet"
    assert seen == [tmp_path / "wavediff" / "eegdenoisenet"] * 3


def test_fetch_eegmmidb_delegates_to_mne(monkeypatch, tmp_path):
    from mne.datasets import eegbci

    calls = []

    def fake_load_data(subjects, runs, **kwargs):
        calls.append((subjects, runs, kwargs))
        return [str(tmp_path / f"S{subjects:03d}R{r:02d}.edf") for r in runs]

    monkeypatch.setattr(eegbci, "load_data", fake_load_data)
    paths = eeg.fetch_eegmmidb(7, [1, 2], path=tmp_path)
    assert paths == [tmp_path / "S007R01.edf", tmp_path / "S007R02.edf"]
    assert calls == [(7, [1, 2], {"path": str(tmp_path), "update_path": False})]
    assert eeg.fetch_eegmmidb(3, 4) == [tmp_path / "S003R04.edf"]
    assert calls[-1] == (3, [4], {"path": None, "update_path": False})
    for subject, runs, pattern in (
        (0, [1], "1..109"),
        (110, [1], "1..109"),
        (1, [15], "1..14"),
        (1, [], "non-empty"),
    ):
        with pytest.raises(InvalidInputError, match=pattern):
            eeg.fetch_eegmmidb(subject, runs)
    assert len(calls) == 2


# -------------------------------------------------------------------------------------------------
# docs
# -------------------------------------------------------------------------------------------------


SUBMODULES = ("head", "simulator", "erp", "eegmmidb", "eegdenoisenet")


def test_docstring_examples_run():
    # doctest finds only what a module defines itself, so the package and each submodule are run
    modules = [eeg, *(importlib.import_module(f"wavediff.datasets.eeg.{name}") for name in SUBMODULES)]
    attempted = 0
    for module in modules:
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
        assert result.failed == 0, module.__name__
        attempted += result.attempted
    assert attempted > 5


PUBLIC = (
    "DEFAULT_CH_NAMES", "ERP", "simulate_raw", "simulate_epochs", "add_erp", "fetch_eegmmidb",
    "EEGDENOISENET_COMMIT", "EEGDENOISENET_FILES", "EEGDENOISENET_HASHES_VERIFIED_HERE", "EEGDENOISENET_SFREQ",
    "fetch_eegdenoisenet", "load_eegdenoisenet", "eegdenoisenet_split", "DataNotFoundError",
)  # fmt: skip


def test_the_package_keeps_the_public_names_of_the_former_module():
    assert tuple(eeg.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(eeg, name) is not None
    assert eeg.DataNotFoundError is DataNotFoundError


def test_each_part_reads_alone_and_is_documented():
    for name in SUBMODULES:
        module = importlib.import_module(f"wavediff.datasets.eeg.{name}")
        assert module.__doc__ and len(module.__doc__.strip()) > 80, name
        for public in getattr(module, "__all__", []):
            assert getattr(module, public) is getattr(eeg, public), (name, public)


def test_a_patched_simulate_epochs_is_what_callers_find(monkeypatch):
    # the EEG room looks simulate_epochs up on the package at call time; a test double must reach it
    calls = []
    monkeypatch.setattr(eeg, "simulate_epochs", lambda *a, **k: calls.append(a) or np.zeros((1, 2, 3)))
    from wavediff.datasets.eeg import simulate_epochs

    assert simulate_epochs(1).shape == (1, 2, 3) and calls


def test_sample_rate_errors_name_the_minimum():
    with pytest.raises(SampleRateError, match=r"sfreq=59.0 Hz is too low \(the simulated beta rhythm reaches 30 Hz\); use at least 60 Hz"):
        eeg.simulate_epochs(1, sfreq=59.0)
    with pytest.raises(SampleRateError, match="positive finite sampling rate"):
        eeg.simulate_epochs(1, sfreq="256")
    assert eeg.simulate_epochs(1, n_seconds=0.5, sfreq=60, montage=None).shape == (1, 19, 30)
