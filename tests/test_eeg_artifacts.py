"""EEG room, artifacts: realistic corruptions and the EEGdenoiseNet SNR protocol."""

from __future__ import annotations

import warnings

import mne
import numpy as np
import pytest
import scipy.signal
from wavediff.modalities.eeg import artifacts as art

from wavediff.errors import InvalidInputError, NonFiniteError, SampleRateError, ShapeError

NAMES = ["Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "T7", "C3", "Cz", "C4", "T8",
         "P7", "P3", "Pz", "P4", "P8", "O1", "O2"]
SFREQ = 256.0


def _montage_positions(names):
    builtin = mne.channels.get_builtin_montages()
    kind = "colin27_1020" if "colin27_1020" in builtin else "standard_1020"
    pos = mne.channels.make_standard_montage(kind).get_positions()["ch_pos"]
    return np.array([pos[n] for n in names])


def synthetic_eeg(rng, n_times, sfreq=SFREQ, names=NAMES):
    """Pink noise mixed smoothly over the scalp plus an occipital 10 Hz alpha rhythm, about 10 uV RMS."""
    pos = _montage_positions(names)
    n = len(names)
    spec = np.fft.rfft(rng.standard_normal((n, n_times)), axis=-1)
    f = np.fft.rfftfreq(n_times, 1 / sfreq)
    f[0] = f[1]
    pink = np.fft.irfft(spec / np.sqrt(f), n=n_times, axis=-1)
    d = np.linalg.norm(pos[:, None] - pos[None], axis=-1)
    x = np.exp(-(d / 0.05) ** 2) @ pink
    t = np.arange(n_times) / sfreq
    alpha = np.clip(-pos[:, 1] / 0.1, 0.0, None)[:, None] * np.sin(2 * np.pi * 10.0 * t)[None, :]
    x = x / x.std() + 0.8 * alpha
    return 10e-6 * x / x.std()


def _welch(x, sfreq=SFREQ, nperseg=None):
    return scipy.signal.welch(x, fs=sfreq, nperseg=nperseg or min(x.shape[-1], int(sfreq)), axis=-1)


# ----------------------------------------------------------------------------- the SNR protocol


@pytest.mark.parametrize("artifact", art.ARTIFACTS)
def test_snr_definition_is_exact_for_every_artifact_and_level(artifact):
    clean = synthetic_eeg(np.random.default_rng(0), 512)
    for snr in np.arange(-7.0, 2.5, 1.0):
        noisy, noise = art.contaminate(clean, SFREQ, np.random.default_rng(int(snr) + 20), artifact, snr, NAMES)
        assert noisy.shape == noise.shape == clean.shape
        measured = 10 * np.log10(art.rms(clean) / art.rms(noisy - clean))
        assert abs(measured - snr) < 1e-10
        np.testing.assert_allclose(noisy - clean, noise, rtol=0, atol=1e-18)
        # the same lambda in EEGdenoiseNet's own words
        assert abs(10 * np.log10(art.rms(clean) / art.rms(noise)) - snr) < 1e-10


@pytest.mark.parametrize("artifact", art.ARTIFACTS)
def test_snr_holds_without_channel_names_and_for_one_segment(artifact):
    rng = np.random.default_rng(1)
    clean = synthetic_eeg(rng, 512)
    noisy, _ = art.contaminate(clean, SFREQ, rng, artifact, -7.0)
    assert abs(10 * np.log10(art.rms(clean) / art.rms(noisy - clean)) + 7.0) < 1e-10
    single = clean[9]
    noisy1, noise1 = art.contaminate(single, SFREQ, rng, artifact, 2.0)
    assert noisy1.shape == noise1.shape == single.shape
    assert abs(10 * np.log10(art.rms(single) / art.rms(noisy1 - single)) - 2.0) < 1e-10


def test_power_snr_is_twice_the_rms_snr():
    assert art.power_snr_db(-7.0) == -14.0
    np.testing.assert_array_equal(art.power_snr_db(np.array([-7.0, 2.0])), [-14.0, 4.0])
    clean = synthetic_eeg(np.random.default_rng(2), 512)
    noisy, noise = art.contaminate(clean, SFREQ, np.random.default_rng(3), "emg", -3.0, NAMES)
    power_ratio_db = 10 * np.log10(np.mean(clean**2) / np.mean(noise**2))
    assert abs(power_ratio_db - art.power_snr_db(-3.0)) < 1e-10
    with pytest.raises(InvalidInputError):
        art.power_snr_db("3 dB")


@pytest.mark.parametrize("artifact", art.ARTIFACTS)
def test_reproducible_from_seed_and_input_unmodified(artifact):
    clean = synthetic_eeg(np.random.default_rng(4), 512)
    before = clean.copy()
    a = art.contaminate(clean, SFREQ, np.random.default_rng(7), artifact, -2.0, NAMES)
    b = art.contaminate(clean, SFREQ, np.random.default_rng(7), artifact, -2.0, NAMES)
    c = art.contaminate(clean, SFREQ, np.random.default_rng(8), artifact, -2.0, NAMES)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])
    np.testing.assert_array_equal(clean, before)
    assert a[0] is not clean and not np.shares_memory(a[0], clean)


def test_read_only_and_integer_seed_inputs_work():
    clean = synthetic_eeg(np.random.default_rng(5), 512)
    clean.setflags(write=False)
    noisy, _ = art.contaminate(clean, SFREQ, 11, "line", 0.0, NAMES)
    noisy2, _ = art.contaminate(clean, SFREQ, np.random.default_rng(11), "line", 0.0, NAMES)
    np.testing.assert_array_equal(noisy, noisy2)


# ----------------------------------------------------------------------------- ocular


def test_blink_topography_falls_off_from_the_eyes():
    names = NAMES + ["Oz"]
    blink = art.eog(20 * 256, SFREQ, np.random.default_rng(0), names, kind="blink")
    assert blink.shape == (len(names), 20 * 256)
    peak = dict(zip(names, np.abs(blink).max(axis=1)))
    assert min(peak["Fp1"], peak["Fp2"]) > 10 * peak["Oz"]
    assert 90e-6 <= peak["Fp1"] <= 310e-6  # 100-300 uV blinks at Fp1
    assert peak["Fp1"] > peak["Fz"] > peak["Cz"] > peak["Pz"] > peak["Oz"]
    assert peak["Fp1"] > peak["F3"] > peak["C3"] > peak["P3"] > peak["O1"]
    assert blink[0].max() > 0  # positive at Fp1, as a blink is
    # a single rank-1 source: every channel is a multiple of Fp1
    assert np.linalg.matrix_rank(blink, tol=1e-12 * np.abs(blink).max()) == 1


def test_blink_shape_rate_and_asymmetry():
    sfreq = 256.0
    fp1 = art.eog(120 * 256, sfreq, np.random.default_rng(3), ["Fp1"], kind="blink")[0]
    peaks, props = scipy.signal.find_peaks(fp1, height=50e-6, prominence=50e-6)
    assert 0.1 * 120 <= len(peaks) <= 0.6 * 120  # about 0.2-0.5 blinks per second
    # duration above 5 % of the peak is 200-400 ms, and the rise is faster than the fall
    for p in peaks[1:-1][:5]:
        level = 0.05 * fp1[p]
        left = p - np.argmax(fp1[p::-1] < level)
        right = p + np.argmax(fp1[p:] < level)
        assert 0.15 <= (right - left) / sfreq <= 0.45
        assert p - left < right - p


def test_saccade_is_antisymmetric_between_f7_and_f8():
    names = ["F7", "F8", "Fz", "Cz", "Fp1", "Fp2"]
    sac = art.eog(30 * 256, SFREQ, np.random.default_rng(1), names, kind="saccade")
    f7, f8 = sac[0], sac[1]
    t = np.argmax(np.abs(f8))
    assert np.sign(f7[t]) == -np.sign(f8[t]) != 0
    assert np.corrcoef(f7, f8)[0, 1] < -0.99
    assert np.abs(sac[2]).max() < 0.05 * np.abs(f8).max()  # midline: no horizontal EOG
    assert np.abs(sac[3]).max() < 0.05 * np.abs(f8).max()
    assert 15e-6 <= np.abs(f8).max() <= 250e-6


def test_eog_fallback_without_or_with_unknown_names():
    single = art.eog(512, SFREQ, np.random.default_rng(0), kind="mixed")
    assert single.shape == (1, 512)
    with pytest.warns(UserWarning, match="not in the 10-05 template"):
        out = art.eog(512, SFREQ, np.random.default_rng(0), ["Fp1", "VEOG"], kind="blink")
    fallback = art.eog(512, SFREQ, np.random.default_rng(0), kind="blink")
    np.testing.assert_allclose(out[1], fallback[0])  # the unknown channel gets the source itself
    # names are matched case-insensitively
    upper = art.eog(512, SFREQ, np.random.default_rng(0), ["FP1", "CZ"], kind="blink")
    lower = art.eog(512, SFREQ, np.random.default_rng(0), ["Fp1", "Cz"], kind="blink")
    np.testing.assert_array_equal(upper, lower)


def test_electrode_positions_uses_the_template():
    pos = art.electrode_positions(["Fp1", "fp2", "Oz", "XYZ"])
    assert pos.shape == (4, 3)
    assert np.isnan(pos[3]).all() and np.isfinite(pos[:3]).all()
    assert pos[0, 1] > 0.05 and pos[2, 1] < -0.05  # Fp in front, Oz at the back (head coordinates)
    with pytest.raises(InvalidInputError):
        art.electrode_positions(["Fp1", "Fp1"])


# ----------------------------------------------------------------------------- muscle, mains, pops, drift


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_emg_is_broadband_above_20_hz_and_temporal(seed):
    names = NAMES
    x = art.emg(10 * 256, SFREQ, np.random.default_rng(seed), names)
    f, p = _welch(x)
    total = p.sum(axis=0)
    assert total[f >= 20].sum() > 0.9 * total.sum()
    assert total[f > 127.5].sum() == 0 or f.max() <= 128  # band capped below Nyquist
    power = (x**2).mean(axis=1)
    idx = {n: i for i, n in enumerate(names)}
    temporal = np.mean([power[idx[n]] for n in ("T7", "T8", "F7", "F8")])
    central = np.mean([power[idx[n]] for n in ("Fz", "Cz", "Pz", "C3", "C4")])
    assert temporal > 5 * central
    assert names[int(np.argmax(power))] in ("T7", "T8", "F7", "F8", "P7", "P8")


def test_emg_band_at_high_rate_and_bursty_envelope():
    sfreq = 1000.0
    x = art.emg(20 * 1000, sfreq, np.random.default_rng(4), ["T7"])[0]
    f, p = scipy.signal.welch(x, fs=sfreq, nperseg=1000)
    assert p[(f >= 20) & (f <= 200)].sum() > 0.95 * p.sum()
    assert p[f > 230].sum() < 0.01 * p.sum()
    windows = np.sqrt((x[: 20 * 1000].reshape(80, 250) ** 2).mean(axis=1))  # 250 ms RMS
    assert windows.max() > 3 * np.median(windows)  # bursts, not stationary noise
    with pytest.raises(SampleRateError):
        art.emg(100, 40.0, np.random.default_rng(0))


def test_emg_without_names_gives_independent_channels():
    x = art.emg(2048, SFREQ, np.random.default_rng(0), n_channels=4)
    assert x.shape == (4, 2048)
    c = np.corrcoef(x)
    assert np.all(np.abs(c[np.triu_indices(4, 1)]) < 0.9)
    with pytest.raises(ShapeError):
        art.emg(2048, SFREQ, np.random.default_rng(0), ["T7", "T8"], n_channels=3)


@pytest.mark.parametrize("freq", [50.0, 60.0])
def test_line_noise_peaks_at_the_mains_frequency(freq):
    x = art.line_noise(10 * 500, 500.0, np.random.default_rng(0), freq=freq, harmonics=3, n_channels=5)
    assert x.shape == (5, 5000)
    f, p = scipy.signal.welch(x, fs=500.0, nperseg=1000)
    for row in p:
        assert abs(f[np.argmax(row)] - freq) <= 0.5
        for k in (2, 3):
            near = np.abs(f - k * freq) <= 1.0
            assert row[near].max() > 1e3 * np.median(row)  # harmonics present
    assert not np.allclose(x[0], x[1])  # amplitudes differ across electrodes


def test_line_noise_drops_harmonics_above_nyquist_and_rejects_unusable_rates():
    x = art.line_noise(2560, 256.0, np.random.default_rng(0), freq=50.0, harmonics=5)
    f, p = scipy.signal.welch(x[0], fs=256.0, nperseg=256)
    assert abs(f[np.argmax(p)] - 50.0) <= 1.0
    with pytest.raises(SampleRateError):
        art.line_noise(256, 100.0, np.random.default_rng(0), freq=50.0)
    with pytest.raises(InvalidInputError):
        art.line_noise(256, 256.0, np.random.default_rng(0), harmonics=0)


def test_electrode_pops_are_focal_and_recover():
    counts = set()
    for seed in range(20):
        x = art.electrode_pops(4 * 256, SFREQ, np.random.default_rng(seed), n_channels=19)
        hit = np.flatnonzero(np.abs(x).max(axis=1) > 0)
        assert 1 <= hit.size <= 2
        counts.add(hit.size)
        assert np.abs(x).max() >= 50e-6
    assert counts == {1, 2}
    one = art.electrode_pops(10 * 256, SFREQ, np.random.default_rng(3), n_channels=1, n_pops=1)[0]
    onset = np.argmax(np.abs(one) > 0)
    peak = np.argmax(np.abs(one))
    assert peak - onset <= 3  # a jump within three samples...
    after = np.abs(one[peak:])
    assert np.all(np.diff(after) <= 0) and after[-1] < 0.9 * after[0]  # ...then a monotone recovery


def test_drift_power_lies_below_half_a_hertz():
    x = art.drift(60 * 128, 128.0, np.random.default_rng(0), n_channels=4)
    f, p = scipy.signal.welch(x, fs=128.0, nperseg=x.shape[1])
    assert np.all(p[:, f < 0.5].sum(axis=1) > 0.95 * p.sum(axis=1))
    assert 5e-6 < np.abs(x).max() < 500e-6


def test_mix_contains_ocular_and_muscle_content():
    clean = synthetic_eeg(np.random.default_rng(0), 10 * 256)
    _, noise = art.contaminate(clean, SFREQ, np.random.default_rng(1), "mix", 0.0, NAMES)
    f, p = _welch(noise)
    total = p.sum(axis=0)
    assert total[f < 4].sum() > 0.05 * total.sum()  # blinks and saccades
    assert total[f > 20].sum() > 0.05 * total.sum()  # muscle


# ----------------------------------------------------------------------------- bad input


def test_bad_input_raises_helpful_errors():
    clean = synthetic_eeg(np.random.default_rng(0), 512)
    rng = np.random.default_rng(0)
    with pytest.raises(InvalidInputError, match="artifact="):
        art.contaminate(clean, SFREQ, rng, "ecg", 0.0)
    bad = clean.copy()
    bad[3, 10] = np.nan
    with pytest.raises(NonFiniteError, match="NaN"):
        art.contaminate(bad, SFREQ, rng, "eog", 0.0)
    with pytest.raises(ShapeError):
        art.contaminate(clean[None], SFREQ, rng, "eog", 0.0)
    with pytest.raises(ShapeError):
        art.contaminate(np.float64(1.0), SFREQ, rng, "eog", 0.0)
    for sfreq in (0.0, -256.0, float("nan"), "256"):
        with pytest.raises(SampleRateError):
            art.contaminate(clean, sfreq, rng, "eog", 0.0)
    with pytest.raises(SampleRateError):
        art.eog(512, 0.0, rng)
    with pytest.raises(ShapeError, match="channel names"):
        art.contaminate(clean, SFREQ, rng, "eog", 0.0, NAMES[:5])
    with pytest.raises(InvalidInputError, match="all zeros"):
        art.contaminate(np.zeros((2, 100)), SFREQ, rng, "eog", 0.0)
    with pytest.raises(InvalidInputError, match="Generator"):
        art.contaminate(clean, SFREQ, "seed", "eog", 0.0)
    with pytest.raises(InvalidInputError, match="snr_db"):
        art.contaminate(clean, SFREQ, rng, "eog", float("inf"))
    with pytest.raises(InvalidInputError, match="kind"):
        art.eog(512, SFREQ, rng, kind="wink")
    with pytest.raises(InvalidInputError):
        art.eog(0, SFREQ, rng)
    with pytest.raises(InvalidInputError):
        art.contaminate(np.array([["a", "b"]]), SFREQ, rng, "eog", 0.0)
    # every error is also a ValueError, so generic handlers keep working
    with pytest.raises(ValueError):
        art.contaminate(clean, -1.0, rng, "eog", 0.0)


def test_no_warnings_for_standard_names():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        art.contaminate(synthetic_eeg(np.random.default_rng(0), 512), SFREQ, np.random.default_rng(0), "mix", 0.0, NAMES)


# ----------------------------------------------------------------------------- package layout


def test_the_package_keeps_the_public_names_of_the_former_module():
    assert art.__all__ == ["ARTIFACTS", "EOG_KINDS", "electrode_positions", "eog", "emg", "line_noise",
                           "electrode_pops", "drift", "contaminate", "power_snr_db", "rms"]
    from wavediff.modalities.eeg.artifacts import contaminate, electrode_positions, rms  # noqa: F401
    from wavediff.modalities.eeg.montage import electrode_positions as from_montage

    assert electrode_positions is from_montage


def test_each_part_reads_alone_and_is_documented():
    import importlib

    for name in ("common", "ocular", "muscle", "technical", "contamination"):
        module = importlib.import_module(f"wavediff.modalities.eeg.artifacts.{name}")
        assert module.__doc__ and len(module.__doc__.strip()) > 80, name
        for public in getattr(module, "__all__", []):
            assert getattr(module, public) is getattr(art, public), (name, public)
