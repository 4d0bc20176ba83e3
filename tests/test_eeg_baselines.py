"""EEG room, baselines: band-pass + notch, wavelet shrinkage and ICA, as practitioners use them."""

from __future__ import annotations

import mne
import numpy as np
import pytest
import scipy.signal
from wavediff.modalities.eeg import baselines as bl
from wavediff.modalities.eeg.artifacts import eog

from wavediff.errors import InvalidInputError, NonFiniteError, SampleRateError, ShapeError

NAMES = ["Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "T7", "C3", "Cz", "C4", "T8",
         "P7", "P3", "Pz", "P4", "P8", "O1", "O2"]


def _colored(rng, shape, exponent):
    n = shape[-1]
    spec = np.fft.rfft(rng.standard_normal(shape), axis=-1)
    f = np.fft.rfftfreq(n)
    f[0] = f[1]
    x = np.fft.irfft(spec * f ** (-exponent / 2), n=n, axis=-1)
    return x / x.std(axis=-1, keepdims=True)


def brain_sources(rng, n_times, sfreq, names=NAMES, n_sources=16):
    """Synthetic EEG, ~10 uV RMS: 1/f^1.7 sources (three with ~10 Hz alpha) with a slowly varying amplitude,
    projected through a smooth mixing built from the 10-20 electrode positions, plus weak local activity."""
    builtin = mne.channels.get_builtin_montages()
    kind = "colin27_1020" if "colin27_1020" in builtin else "standard_1020"
    pos_all = mne.channels.make_standard_montage(kind).get_positions()["ch_pos"]
    pos = np.array([pos_all[n] for n in names])
    pos = pos - pos.mean(axis=0)
    src = rng.normal(size=(n_sources, 3))
    src[:, 2] = np.abs(src[:, 2])
    src = 0.07 * src / np.linalg.norm(src, axis=1, keepdims=True)
    d2 = ((pos[:, None, :] - src[None]) ** 2).sum(-1)
    mixing = np.exp(-d2 / (2 * 0.05**2)) * rng.normal(size=n_sources) + 0.3 * rng.normal(size=d2.shape)
    t = np.arange(n_times) / sfreq
    s = _colored(rng, (n_sources, n_times), 1.7)
    s[:3] += 1.5 * np.sin(2 * np.pi * rng.uniform(9, 11, (3, 1)) * t + rng.uniform(0, 6, (3, 1)))
    s *= 1 + 2 * np.abs(_colored(rng, (n_sources, n_times), 4.0))  # non-stationary amplitude
    x = mixing @ s
    x = x / x.std() + 0.1 * _colored(rng, x.shape, 1.7)  # weak local activity under each electrode
    return 10e-6 * x / x.std()


def _power_at(x, sfreq, freq, nperseg):
    f, p = scipy.signal.welch(x, fs=sfreq, nperseg=nperseg, axis=-1)
    return p[..., np.argmin(np.abs(f - freq))]


# ----------------------------------------------------------------------------- band-pass + notch


@pytest.mark.parametrize("method", ["fir", "iir"])
def test_bandpass_notch_removes_drift_and_mains_and_keeps_alpha(method):
    sfreq = 256.0
    t = np.arange(int(60 * sfreq)) / sfreq
    alpha = 20e-6 * np.sin(2 * np.pi * 10 * t)
    x = np.stack([alpha + 50e-6 * np.sin(2 * np.pi * 0.2 * t) + 20e-6 * np.sin(2 * np.pi * 50 * t + 0.3)] * 2)
    before = x.copy()
    y = bl.bandpass_notch(x, sfreq, method=method)
    np.testing.assert_array_equal(x, before)
    assert y.shape == x.shape and y.dtype == np.float64
    mid = slice(int(10 * sfreq), int(50 * sfreq))  # away from the filter's edge transients
    nper = int(10 * sfreq)  # 0.1 Hz resolution
    drift_db = 10 * np.log10(_power_at(x[0, mid], sfreq, 0.2, nper) / _power_at(y[0, mid], sfreq, 0.2, nper))
    line_db = 10 * np.log10(_power_at(x[0, mid], sfreq, 50.0, nper) / _power_at(y[0, mid], sfreq, 50.0, nper))
    alpha_db = 10 * np.log10(_power_at(x[0, mid], sfreq, 10.0, nper) / _power_at(y[0, mid], sfreq, 10.0, nper))
    assert drift_db > 20
    assert line_db > 30
    assert abs(alpha_db) < 1.0


def test_bandpass_notch_60_hz_single_channel_and_notch_skipped_above_nyquist():
    sfreq = 500.0
    t = np.arange(int(20 * sfreq)) / sfreq
    x = 20e-6 * np.sin(2 * np.pi * 10 * t) + 20e-6 * np.sin(2 * np.pi * 60 * t)
    y = bl.bandpass_notch(x, sfreq, h_freq=100.0, line_freq=60.0)  # 60 Hz lies inside the pass band
    assert y.shape == x.shape
    mid = slice(int(5 * sfreq), int(15 * sfreq))
    assert 10 * np.log10(_power_at(x[mid], sfreq, 60.0, 5000) / _power_at(y[mid], sfreq, 60.0, 5000)) > 20
    # at 90 Hz the 50 Hz mains lies above Nyquist: no notch, no error
    low = bl.bandpass_notch(np.random.default_rng(0).normal(0, 1e-5, (2, 900)), 90.0, line_freq=50.0)
    assert low.shape == (2, 900)
    # band-pass only, or notch only
    only_notch = bl.bandpass_notch(x, sfreq, l_freq=None, h_freq=None, line_freq=60.0)
    assert abs(10 * np.log10(_power_at(x[mid], sfreq, 10.0, 5000) / _power_at(only_notch[mid], sfreq, 10.0, 5000))) < 0.5


def test_bandpass_notch_bad_input():
    x = np.random.default_rng(0).normal(0, 1e-5, (2, 1000))
    with pytest.raises(SampleRateError):
        bl.bandpass_notch(x, 0.0)
    with pytest.raises(SampleRateError, match="Nyquist"):
        bl.bandpass_notch(x, 64.0, h_freq=40.0)
    with pytest.raises(InvalidInputError, match="below"):
        bl.bandpass_notch(x, 256.0, l_freq=30.0, h_freq=20.0)
    with pytest.raises(InvalidInputError):
        bl.bandpass_notch(x, 256.0, l_freq=-1.0)
    with pytest.raises(InvalidInputError):
        bl.bandpass_notch(x, 256.0, method="butter")
    with pytest.raises(ShapeError):
        bl.bandpass_notch(x[None], 256.0)
    bad = x.copy()
    bad[0, 5] = np.inf
    with pytest.raises(NonFiniteError):
        bl.bandpass_notch(bad, 256.0)


# ----------------------------------------------------------------------------- wavelet shrinkage


def test_wavelet_denoise_reduces_white_noise_per_channel():
    rng = np.random.default_rng(1)
    sfreq = 256.0
    t = np.arange(2048) / sfreq
    clean = np.stack([20e-6 * np.sin(2 * np.pi * f * t) * np.hanning(t.size) for f in (2.0, 5.0, 9.0, 12.0)])
    noisy = clean + rng.normal(0, 4e-6, clean.shape) * np.array([[1.0], [0.5], [2.0], [1.0]])
    before = noisy.copy()
    out = bl.wavelet_denoise(noisy, sfreq)
    np.testing.assert_array_equal(noisy, before)
    assert out.shape == noisy.shape and out.dtype == np.float64
    rmse_in = np.sqrt(np.mean((noisy - clean) ** 2, axis=1))
    rmse_out = np.sqrt(np.mean((out - clean) ** 2, axis=1))
    assert np.all(rmse_out < 0.7 * rmse_in)
    one = bl.wavelet_denoise(noisy[0], sfreq, wavelet="db4", method="BayesShrink")
    assert one.shape == noisy[0].shape
    with pytest.raises(SampleRateError):
        bl.wavelet_denoise(noisy, -1.0)
    with pytest.raises(InvalidInputError):
        bl.wavelet_denoise(noisy, sfreq, method="NoShrink")


# ----------------------------------------------------------------------------- ICA


@pytest.fixture(scope="module")
def blinky_recording():
    sfreq = 128.0
    n = int(60 * sfreq)
    brain = brain_sources(np.random.default_rng(0), n, sfreq)
    blinks = eog(n, sfreq, np.random.default_rng(10), NAMES, kind="blink")
    return sfreq, brain, brain + blinks


def _rrmse(x, ref):
    return np.sqrt(np.mean((x - ref) ** 2)) / np.sqrt(np.mean(ref**2))


# FastICA seldom converges on the Gaussian background of synthetic EEG; the ocular component is found anyway
@pytest.mark.filterwarnings("ignore:FastICA did not converge")
def test_ica_removes_blinks(blinky_recording):
    sfreq, brain, noisy = blinky_recording
    before = noisy.copy()
    cleaned, report = bl.ica_clean(noisy, sfreq, NAMES, return_report=True)
    np.testing.assert_array_equal(noisy, before)
    assert cleaned.shape == noisy.shape and cleaned.dtype == np.float64
    assert report.exclude and set(report.eog) <= set(report.exclude)
    assert report.eog_channels == ["Fp1", "Fp2", "F7-F8"]  # vertical proxies and the horizontal pair
    assert report.muscle == []  # nothing muscular in this recording
    assert report.ica.n_components_ == len(NAMES)
    assert _rrmse(cleaned, brain) < 0.5 * _rrmse(noisy, brain)
    frontal = slice(0, 2)
    peak_before = np.abs(noisy[frontal] - brain[frontal]).max()
    peak_after = np.abs(cleaned[frontal] - brain[frontal]).max()
    assert peak_after <= 0.3 * peak_before


@pytest.mark.filterwarnings("ignore:FastICA did not converge")
def test_ica_finds_saccades_through_the_horizontal_proxy():
    """Beside blinks, which dominate Fp1/Fp2, saccades (antisymmetric across the head) are found through F7 - F8."""
    from wavediff.datasets.eeg import simulate_raw

    sfreq = 128.0
    brain = simulate_raw(n_seconds=60.0, sfreq=sfreq, ch_names=NAMES, rng=1, highpass=0.5).get_data()
    noisy = brain + eog(brain.shape[1], sfreq, np.random.default_rng(11), NAMES, kind="mixed")
    f7 = NAMES.index("F7")
    vertical_only, report_v = bl.ica_clean(noisy, sfreq, NAMES, heog=None, reject_emg=False, return_report=True)
    both, report = bl.ica_clean(noisy, sfreq, NAMES, reject_emg=False, return_report=True)
    assert report_v.eog_channels == ["Fp1", "Fp2"] and report.eog_channels == ["Fp1", "Fp2", "F7-F8"]
    assert len(report.eog) > len(report_v.eog)  # the saccade component, beside the blink one
    residual = _rrmse(both[f7], brain[f7])
    assert residual < 0.3 * _rrmse(noisy[f7], brain[f7])
    assert residual < 0.5 * _rrmse(vertical_only[f7], brain[f7])
    with pytest.raises(InvalidInputError, match="heog"):
        bl.ica_clean(noisy, sfreq, NAMES, heog="F7")
    with pytest.raises(InvalidInputError, match="decim"):
        bl.ica_clean(noisy, sfreq, NAMES, decim=0)


@pytest.mark.filterwarnings("ignore:FastICA did not converge")
def test_ica_fitted_on_every_kth_sample_removes_blinks_too(blinky_recording):
    sfreq, brain, noisy = blinky_recording
    with pytest.warns(UserWarning, match="2560 samples for 19 ICA components is short"):  # the rule counts the fitted samples
        cleaned, report = bl.ica_clean(noisy, sfreq, NAMES, reject_emg=False, decim=3, return_report=True)
    assert report.eog and _rrmse(cleaned, brain) < 0.5 * _rrmse(noisy, brain)
    with pytest.raises(InvalidInputError, match="too few"):  # the fit sees n_times / decim samples
        bl.ica_clean(noisy[:, :200], sfreq, NAMES, decim=10)


def test_ica_without_positions_warns_and_still_returns_the_shape(blinky_recording):
    sfreq, _, noisy = blinky_recording
    names = [f"E{i}" for i in range(8)]
    with pytest.warns(UserWarning) as record:
        out, report = bl.ica_clean(noisy[:8, : 20 * 128], sfreq, names, return_report=True)
    messages = " ".join(str(w.message) for w in record)
    assert "ocular components were not searched" in messages and "muscle" in messages
    assert out.shape == (8, 20 * 128) and report.exclude == []
    np.testing.assert_allclose(out, noisy[:8, : 20 * 128], rtol=0, atol=1e-12)  # nothing removed: identity
    with pytest.warns(UserWarning):
        again = bl.ica_clean(noisy[:8, : 20 * 128], sfreq, names, return_report=True)[1]
    np.testing.assert_array_equal(again.ica.unmixing_matrix_, report.ica.unmixing_matrix_)  # seeded
    plain = bl.ica_clean(noisy[:8, : 20 * 128], sfreq, names, reject_emg=False, eog_channels=["E0"])
    assert isinstance(plain, np.ndarray) and plain.shape == (8, 20 * 128)


def test_ica_max_iter_bounds_the_unmixing(blinky_recording):
    sfreq, _, noisy = blinky_recording
    x = noisy[:8, : 20 * 128]
    with pytest.warns(UserWarning, match="did not converge"):  # FastICA stopped after 2 iterations says so
        short = bl.ica_clean(x, sfreq, NAMES[:8], reject_emg=False, max_iter=2, return_report=True)[1]
    assert short.ica.n_iter_ <= 2
    full = bl.ica_clean(x, sfreq, NAMES[:8], reject_emg=False, max_iter=20000, return_report=True)[1]
    assert 2 < full.ica.n_iter_ < 20000  # converged before the bound
    for bad in (0, -5, 2.5, True, "many"):
        with pytest.raises(InvalidInputError, match="max_iter"):
            bl.ica_clean(x, sfreq, NAMES[:8], max_iter=bad)


def test_ica_on_average_referenced_data_uses_the_rank(blinky_recording):
    sfreq, _, noisy = blinky_recording
    x = noisy[:8, : 20 * 128]
    x = x - x.mean(axis=0)  # average reference: rank 7
    out, report = bl.ica_clean(x, sfreq, NAMES[:8], reject_emg=False, return_report=True)
    assert report.ica.n_components_ == 7
    assert out.shape == x.shape
    kept = np.setdiff1d(np.arange(7), report.exclude)
    assert kept.size > 0


def test_ica_bad_input():
    x = np.random.default_rng(0).normal(0, 1e-5, (2, 2000))
    with pytest.raises(InvalidInputError, match="single-channel"):
        bl.ica_clean(x, 128.0, ["Fp1", "Fp2"])
    with pytest.raises(InvalidInputError, match="single-channel"):
        bl.ica_clean(x[:1], 128.0, ["Fp1"])
    y = np.random.default_rng(0).normal(0, 1e-5, (4, 2000))
    with pytest.raises(ShapeError, match="one name per row"):
        bl.ica_clean(y, 128.0, ["Fp1", "Fp2", "Cz"])
    with pytest.raises(ShapeError):
        bl.ica_clean(y[0], 128.0, ["Fp1"])
    with pytest.raises(InvalidInputError, match="too few"):
        bl.ica_clean(y[:, :6], 128.0, ["Fp1", "Fp2", "Cz", "Oz"])
    with pytest.raises(InvalidInputError, match="n_components"):
        bl.ica_clean(y, 128.0, ["Fp1", "Fp2", "Cz", "Oz"], n_components=7)
    with pytest.raises(InvalidInputError, match="method"):
        bl.ica_clean(y, 128.0, ["Fp1", "Fp2", "Cz", "Oz"], method="picard")
    with pytest.raises(SampleRateError):
        bl.ica_clean(y, 0.0, ["Fp1", "Fp2", "Cz", "Oz"])
    bad = y.copy()
    bad[1, 1] = np.nan
    with pytest.raises(NonFiniteError):
        bl.ica_clean(bad, 128.0, ["Fp1", "Fp2", "Cz", "Oz"])


# ----------------------------------------------------------------------------- EOG regression
def test_eog_regression_equals_least_squares_on_the_frontal_proxies():
    """Without the high-pass, the result is numpy's least-squares regression on (Fp1+Fp2)/2 and F7-F8."""
    rng = np.random.default_rng(5)
    x = rng.normal(0, 1e-5, (len(NAMES), 3000))
    before = x.copy()
    out = bl.eog_regression(x, 128.0, [n.upper() for n in NAMES], fit_l_freq=None)  # names match case-insensitively
    np.testing.assert_array_equal(x, before)
    proxies = np.stack([(x[0] + x[1]) / 2, x[NAMES.index("F7")] - x[NAMES.index("F8")]])
    proxies -= proxies.mean(axis=1, keepdims=True)  # fitted and subtracted without their means (MNE's convention)
    coef = np.linalg.lstsq(proxies.T, (x - x.mean(axis=1, keepdims=True)).T, rcond=None)[0]
    np.testing.assert_allclose(out, x - coef.T @ proxies, rtol=0, atol=1e-12)
    assert out.shape == x.shape and out.dtype == np.float64


def test_eog_regression_removes_blinks_and_saccades_with_their_topography(blinky_recording):
    sfreq, brain, noisy = blinky_recording
    t = np.arange(brain.shape[1]) / sfreq
    saccade = 40e-6 * np.sign(np.sin(2 * np.pi * 0.2 * t))
    gain = np.zeros(len(NAMES))
    gain[[NAMES.index("F7"), NAMES.index("F8"), NAMES.index("T7"), NAMES.index("T8")]] = [-1.0, 1.0, -0.5, 0.5]
    contaminated = noisy + np.outer(gain, saccade)
    cleaned = bl.eog_regression(contaminated, sfreq, NAMES)
    artifact = contaminated - brain
    left = cleaned - brain  # what is left besides the brain: the artifact's share of it must be gone
    for ch in range(len(NAMES)):  # before cleaning: share 1, RMS ratio 1
        share = np.dot(left[ch], artifact[ch]) / np.dot(artifact[ch], artifact[ch])
        # the proxies carry brain activity (about a tenth of their variance), which shrinks the fitted
        # coefficients by as much (errors-in-variables attenuation) and is itself subtracted
        assert abs(share) < 0.2, NAMES[ch]
        assert np.sqrt(np.mean(left[ch] ** 2) / np.mean(artifact[ch] ** 2)) < 0.45, NAMES[ch]


def test_eog_regression_bad_input():
    x = np.random.default_rng(0).normal(0, 1e-5, (3, 1000))
    with pytest.raises(InvalidInputError, match="frontal"):
        bl.eog_regression(x, 128.0, ["Cz", "Pz", "Oz"])
    with pytest.raises(InvalidInputError, match="at least 2"):
        bl.eog_regression(x[:1], 128.0, ["Fp1"])
    with pytest.raises(ShapeError, match="one name per row"):
        bl.eog_regression(x, 128.0, ["Fp1", "Cz"])
    with pytest.raises(SampleRateError):
        bl.eog_regression(x, 128.0, ["Fp1", "Cz", "Oz"], fit_l_freq=100.0)
