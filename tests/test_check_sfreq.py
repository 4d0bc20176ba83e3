"""wavediff._checks.check_sfreq: the one sampling-rate check shared by the EEG room and its data."""

from __future__ import annotations

import fractions

import numpy as np
import pytest

from wavediff._checks import check_sfreq
from wavediff.errors import InvalidInputError, SampleRateError


@pytest.mark.parametrize("value", [256, 256.0, np.float32(128.0), np.int64(100), fractions.Fraction(1, 2)])
def test_real_numbers_come_back_as_float(value):
    out = check_sfreq(value)
    assert isinstance(out, float) and out == float(value)


@pytest.mark.parametrize("value", [True, False, np.True_, "256", b"256", None, [256.0], float("nan"), float("inf"),
                                   -float("inf"), 0, 0.0, -256.0, 1j])
def test_anything_else_is_refused_with_one_wording(value):
    with pytest.raises(SampleRateError, match=r"must be a positive finite sampling rate in Hz, e\.g\. 256\.0"):
        check_sfreq(value)


def test_the_error_is_a_value_error_and_names_the_argument():
    with pytest.raises(ValueError, match="^rate=-1 "):
        check_sfreq(-1, name="rate")
    assert issubclass(SampleRateError, InvalidInputError)


def test_minimum_is_inclusive_and_named_with_its_reason():
    assert check_sfreq(60, minimum=60.0) == 60.0
    with pytest.raises(SampleRateError, match=r"^sfreq=59\.5 Hz is too low; use at least 60 Hz$"):
        check_sfreq(59.5, minimum=60.0)
    with pytest.raises(SampleRateError, match=r"too low \(beta reaches 30 Hz\); use at least 60 Hz"):
        check_sfreq(20, minimum=60, reason="beta reaches 30 Hz")
    with pytest.raises(SampleRateError, match="positive finite"):  # the basic check comes first
        check_sfreq(0, minimum=60)


def test_every_rate_check_of_the_eeg_room_speaks_the_same_words():
    from wavediff.datasets.eeg import simulate_epochs
    from wavediff.modalities.eeg import artifacts, baselines, metrics

    x = np.zeros((3, 64))
    calls = [
        lambda: artifacts.eog(64, -1.0, 0),
        lambda: artifacts.contaminate(x + 1e-6, float("nan"), 0, "eog", 0.0),
        lambda: baselines.bandpass_notch(x, 0.0),
        lambda: baselines.wavelet_denoise(x, True),
        lambda: metrics.welch_psd(x, "256"),
        lambda: simulate_epochs(1, sfreq=-256.0),
    ]
    for call in calls:
        with pytest.raises(SampleRateError, match="must be a positive finite sampling rate in Hz"):
            call()
