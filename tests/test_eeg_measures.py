"""EEG room measures (wavediff.modalities.eeg.measures): closed-form values, known ERPs, injected blinks, bad input."""

from __future__ import annotations

import doctest

import mne
import numpy as np
import pytest
from _eeg_helpers import BLINK_TIMES, _blink_wave, _with_blinks
from wavediff.datasets.eeg import add_erp, simulate_raw
from wavediff.modalities.eeg import measures
from wavediff.modalities.eeg.measures import (
    average_epochs,
    band_power,
    blink_amplitudes,
    blink_free_mask,
    blink_free_times,
    channel_indices,
    detect_blinks,
    erp_peak,
    relative_change,
)

from wavediff.errors import InvalidInputError, NonFiniteError, SampleRateError, ShapeError

_BLINK_TOPO = {"Fp1": 1.0, "Fp2": 1.0, "F7": 0.5, "F8": 0.5, "F3": 0.4, "F4": 0.4, "Fz": 0.4}


@pytest.fixture(scope="module")
def resting():
    return simulate_raw(n_seconds=36.0, sfreq=160.0, rng=3)


def test_module_doctests():
    result = doctest.testmod(measures, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.attempted >= 10 and result.failed == 0


def test_band_power_of_a_sinusoid_is_its_closed_form():
    sfreq = 160.0
    t = np.arange(int(20 * sfreq)) / sfreq
    a = 20e-6
    x = np.stack([a * np.sin(2 * np.pi * 10.0 * t), a * np.sin(2 * np.pi * 10.0 * t + 1.0)])
    p = band_power(x, sfreq)
    assert p == pytest.approx(a**2 / 2, rel=0.02)  # a sinusoid's power, all of it inside 8-12 Hz
    assert band_power(x, sfreq, picks=[1]) == pytest.approx(p, rel=1e-3)  # the phase does not matter
    assert relative_change(p, p) == 0.0
    assert band_power(x, sfreq, band=(20.0, 30.0)) < 1e-4 * p


def test_band_power_mask_leaves_out_the_masked_stretch():
    rng = np.random.default_rng(0)
    sfreq = 128.0
    x = rng.normal(0, 10e-6, (2, int(30 * sfreq)))
    burst = x.copy()
    burst[:, 1280:1600] += 500e-6 * np.sin(2 * np.pi * 10 * np.arange(320) / sfreq)
    keep = np.ones(x.shape[1], dtype=bool)
    keep[1280:1600] = False
    assert band_power(burst, sfreq, keep=keep) == pytest.approx(band_power(x, sfreq, keep=keep), rel=1e-12)
    assert band_power(burst, sfreq) > 10 * band_power(x, sfreq)
    with pytest.raises(InvalidInputError, match="artifact-free"):
        band_power(x, sfreq, keep=np.zeros(x.shape[1], dtype=bool))


def test_relative_change_is_elementwise_and_refuses_a_zero_reference():
    assert relative_change(90.0, 100.0) == pytest.approx(-10.0)
    np.testing.assert_allclose(relative_change(np.array([1.0, 3.0]), np.array([2.0, 2.0])), [-50.0, 50.0])
    with pytest.raises(InvalidInputError, match="reference is 0"):
        relative_change(1.0, 0.0)


def test_erp_average_of_a_pure_erp_is_exact():
    sim = simulate_raw(n_seconds=12.0, sfreq=256.0, rng=0)
    zero = mne.io.RawArray(np.zeros((len(sim.ch_names), sim.n_times)), sim.info.copy(), verbose=False)
    events = np.arange(256, zero.n_times - 256, 256)
    pure = add_erp(zero, events, latency=0.3, amplitude_uv=8.0, width=0.05, channel="Pz")
    avg, times, n = average_epochs(pure.get_data(), events, 256.0)
    assert n == len(events)
    lat, amp = erp_peak(avg[pure.ch_names.index("Pz")], times, (0.15, 0.45))
    assert abs(lat - 0.3) < 1 / 256.0
    assert amp == pytest.approx(8e-6, rel=0.01)
    neg = add_erp(zero, events, latency=0.17, amplitude_uv=-5.0, width=0.03, channel="Cz")
    avg, times, _ = average_epochs(neg.get_data(), events, 256.0)
    lat, amp = erp_peak(avg[neg.ch_names.index("Cz")], times, (0.05, 0.3), sign=-1.0)
    assert abs(lat - 0.17) < 1 / 256.0 and amp == pytest.approx(-5e-6, rel=0.01)


def test_average_epochs_removes_the_baseline_and_drops_cut_epochs():
    x = np.full((1, 1000), 3.0)  # a constant offset: the baseline takes it out entirely
    avg, times, n = average_epochs(x, [5, 500, 995], 100.0)
    assert n == 1 and times[0] == pytest.approx(-0.2) and times[-1] == pytest.approx(0.8)
    np.testing.assert_allclose(avg, 0.0, atol=1e-15)
    avg, _, _ = average_epochs(x, [500], 100.0, tmin=0.0, tmax=0.5)  # no baseline before 0 s: kept
    np.testing.assert_allclose(avg, 3.0)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_detect_blinks_finds_the_injected_blinks(resting, sign):
    raw = _with_blinks(resting, _BLINK_TOPO, sign=sign)
    sfreq = raw.info["sfreq"]
    found = detect_blinks(raw.get_data(picks=["Fp1", "Fp2"]), sfreq) / sfreq
    assert len(found) == len(BLINK_TIMES)
    assert np.max(np.abs(found - np.array(BLINK_TIMES))) < 0.05


def test_detect_blinks_finds_none_in_clean_eeg(resting):
    assert detect_blinks(resting.get_data(picks=["Fp1", "Fp2"]), 160.0).size == 0


def test_blink_amplitudes_mask_and_blink_free_times():
    sfreq = 160.0
    wave = _blink_wave(int(36 * sfreq), sfreq, BLINK_TIMES)
    peaks = np.round(np.array(BLINK_TIMES) * sfreq).astype(int)
    amps = 150.0 + 10.0 * (np.arange(len(BLINK_TIMES)) % 5)
    med, avg = blink_amplitudes(np.stack([wave, 0.5 * wave]), peaks, sfreq)
    assert med[0] == pytest.approx(np.median(amps) * 1e-6, rel=0.01) and med[1] == pytest.approx(med[0] / 2, rel=1e-12)
    assert avg[0] == pytest.approx(np.mean(amps) * 1e-6, rel=0.01)
    keep = blink_free_mask(wave.size, peaks, sfreq, margin=0.6)
    assert not keep[peaks].any() and keep[: peaks[0] - 97].all()
    assert np.abs(wave[keep]).max() < 1e-3 * np.abs(wave).max()  # the mask covers the whole blink
    quiet = blink_free_times(keep, sfreq)
    assert quiet.size > 0 and np.all(np.diff(quiet) >= int(0.25 * sfreq))
    for q in quiet:  # each epoch -0.5..+0.3 s around a quiet time lies wholly in blink-free signal
        assert keep[q - 80 : q + 49].all()
    assert blink_amplitudes(wave, quiet, sfreq)[0][0] < 1e-3 * med[0]  # no blink there: nothing measured


def test_channel_indices_names_what_is_missing():
    names = ["Fp1.", "FP2", "O1"]
    assert channel_indices(names, ["fp2", "o1"], "x") == [1, 2]
    assert channel_indices(names, ["Fp1", "Fp2"], "blinks", require_all=True) == [0, 1]  # 'Fp1.' is Fp1 (PhysioNet)
    with pytest.raises(InvalidInputError, match="no Fp2 channel, needed for blinks.*rename_channels"):
        channel_indices(["EEG Fp1-REF", "O1"], ["Fp1", "Fp2"], "blinks", require_all=True)
    with pytest.raises(InvalidInputError, match="no O1/Oz/O2 channels"):
        channel_indices(["Cz"], ["O1", "Oz", "O2"], "alpha")


def test_bad_input_raises_library_errors():
    x = np.zeros((2, 1000))
    with pytest.raises(NonFiniteError):
        band_power(np.full((2, 1000), np.nan), 100.0)
    with pytest.raises(ShapeError):
        band_power(np.zeros((2, 2, 1000)), 100.0)
    with pytest.raises(SampleRateError):
        band_power(x, -1.0)
    with pytest.raises(InvalidInputError, match="Nyquist"):
        band_power(x, 100.0, band=(40.0, 60.0))
    with pytest.raises(InvalidInputError, match="picks"):
        band_power(x, 100.0, picks=[5])
    with pytest.raises(ShapeError, match="boolean mask"):
        band_power(x, 100.0, keep=np.ones(10, dtype=bool))
    with pytest.raises(InvalidInputError, match="fewer than one"):
        band_power(np.zeros(50), 100.0)
    with pytest.raises(InvalidInputError, match="sample indices"):
        average_epochs(x, [1.5, 2.5], 100.0)
    with pytest.raises(InvalidInputError, match="below the second"):
        average_epochs(x, [500], 100.0, tmin=0.5, tmax=0.1)
    with pytest.raises(InvalidInputError, match="no event"):
        average_epochs(x, [999], 100.0)
    with pytest.raises(ShapeError):
        erp_peak(np.zeros(10), np.zeros(11), (0.0, 1.0))
    with pytest.raises(InvalidInputError, match="outside the epoch"):
        erp_peak(np.zeros(10), np.arange(10) / 10.0, (2.0, 3.0))
    with pytest.raises(InvalidInputError, match="sign"):
        erp_peak(np.zeros(10), np.arange(10) / 10.0, (0.0, 1.0), sign=2.0)
    with pytest.raises(InvalidInputError, match="too short"):
        detect_blinks(np.zeros((2, 100)), 100.0)
    with pytest.raises(InvalidInputError, match="n_times"):
        blink_free_mask(0, [], 100.0)
    with pytest.raises(InvalidInputError, match="margin"):
        blink_free_mask(100, [], 100.0, margin=-1.0)
    with pytest.raises(ShapeError):
        blink_free_times(np.ones(10), 100.0)
    with pytest.raises(InvalidInputError, match="no blink"):
        blink_amplitudes(x, [2], 100.0)
    with pytest.raises(InvalidInputError, match="before the blink peak"):
        blink_amplitudes(x, [500], 100.0, baseline=(-0.1, 0.1))


def test_inputs_are_never_modified(resting):
    data = _with_blinks(resting, _BLINK_TOPO).get_data()
    before = data.copy()
    blinks = detect_blinks(data[:2], 160.0)
    band_power(data, 160.0, keep=blink_free_mask(data.shape[1], blinks, 160.0))
    blink_amplitudes(data, blinks, 160.0)
    average_epochs(data, blinks, 160.0)
    np.testing.assert_array_equal(data, before)
