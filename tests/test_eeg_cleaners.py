"""The EEG room's one list of classical cleaners (wavediff.modalities.eeg.cleaners)."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from wavediff.datasets.eeg import simulate_raw
from wavediff.modalities.eeg import cleaners
from wavediff.modalities.eeg.baselines import bandpass_notch, eog_regression, ica_clean, wavelet_denoise
from wavediff.modalities.eeg.cleaners import (
    BANDPASS,
    CLEANERS,
    ICA_EOG,
    ICA_EOG_EMG,
    REGRESSION,
    SINGLE_CHANNEL,
    WAVELET,
    classical_cleaners,
)

from wavediff.errors import InvalidInputError

# the labels of benchmarks/results/eeg.md: renaming one breaks the comparison with earlier results
LABELS = ["band-pass + notch", "wavelet (SureShrink)", "EOG regression (Fp1/Fp2, F7-F8)", "ICA (auto EOG)", "ICA (auto EOG/EMG)"]


@pytest.fixture(scope="module")
def recording():
    raw = simulate_raw(n_seconds=10.0, sfreq=256.0, rng=5)  # short: ICA warns, but the comparison is exact
    return raw.get_data(), raw.info["sfreq"], raw.ch_names


def test_module_doctests():
    result = doctest.testmod(cleaners, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.attempted >= 3 and result.failed == 0


def test_the_list_keeps_the_benchmark_labels_in_order():
    assert list(CLEANERS) == LABELS == [BANDPASS, WAVELET, REGRESSION, ICA_EOG, ICA_EOG_EMG]
    assert list(classical_cleaners(single_channel=True)) == list(SINGLE_CHANNEL) == LABELS[:2]
    with pytest.raises(TypeError):
        CLEANERS["mine"] = lambda d, s, n: d  # read-only: edit a copy, dict(CLEANERS)


@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_each_cleaner_is_the_baseline_it_names(recording):
    """Same data, same call: the list adds no processing of its own."""
    y, sfreq, names = recording
    before = y.copy()
    np.testing.assert_array_equal(CLEANERS[BANDPASS](y, sfreq, names), bandpass_notch(y, sfreq))
    np.testing.assert_array_equal(CLEANERS[WAVELET](y, sfreq, None), wavelet_denoise(y, sfreq))
    np.testing.assert_array_equal(CLEANERS[REGRESSION](y, sfreq, names), eog_regression(y, sfreq, names))
    np.testing.assert_array_equal(CLEANERS[ICA_EOG](y, sfreq, names), ica_clean(y, sfreq, names, reject_emg=False))
    np.testing.assert_array_equal(CLEANERS[ICA_EOG_EMG](y, sfreq, names), ica_clean(y, sfreq, names))
    np.testing.assert_array_equal(y, before)


def test_options_reach_the_band_pass():
    sfreq = 256.0
    t = np.arange(int(10 * sfreq)) / sfreq
    hum = 20e-6 * np.sin(2 * np.pi * 60.0 * t)
    mid = slice(int(2 * sfreq), int(8 * sfreq))  # away from the filters' edges
    at_50 = classical_cleaners()[BANDPASS](hum, sfreq, None)
    at_60 = classical_cleaners(line_freq=60.0)[BANDPASS](hum, sfreq, None)
    assert np.std(at_60[mid]) < 0.1 * np.std(at_50[mid])  # the 60 Hz notch removes what 50 Hz leaves
    iir = classical_cleaners(line_freq=60.0, filter_method="iir")[BANDPASS](hum, sfreq, None)
    np.testing.assert_array_equal(iir, bandpass_notch(hum, sfreq, line_freq=60.0, method="iir"))


def test_bad_options_and_missing_names_are_refused(recording):
    y, sfreq, _ = recording
    with pytest.raises(InvalidInputError, match="filter_method"):
        classical_cleaners(filter_method="butter")
    with pytest.raises(InvalidInputError, match="line_freq"):
        classical_cleaners(line_freq=-50.0)
    with pytest.raises(InvalidInputError, match="needs channel names"):
        CLEANERS[REGRESSION](y, sfreq, None)
