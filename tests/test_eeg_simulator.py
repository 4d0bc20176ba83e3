"""wavediff.datasets.eeg, the physiological EEG simulator: structure and units, physiology, montages,
subsets and epochs, bad input, and the package's documented public surface.

Truth comes from physiology measured back with standard tools (Welch spectra, correlations), from MNE's
own montages and filters, and from the package's doctests. ERPs are in test_eeg_erp.py; the EEGMMIDB and
EEGdenoiseNet recipes in test_eeg_downloads.py.
"""

from __future__ import annotations

import doctest
import importlib
import warnings

import mne
import numpy as np
import pytest
from _eeg_helpers import SFREQ
from scipy.signal import welch
from wavediff.datasets import eeg

from wavediff.errors import (
    DataNotFoundError,
    InvalidInputError,
    SampleRateError,
)


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
