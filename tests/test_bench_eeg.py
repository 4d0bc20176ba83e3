"""benchmarks/eeg.py: its sections run on tiny inputs and report what they claim to measure."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest
from wavediff.datasets.eeg import simulate_raw

from wavediff import get_modality

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "eeg.py"
pytestmark = pytest.mark.skipif(not get_modality("eeg").weights_path().is_file(), reason="no shipped EEG model")


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_eeg", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def recording():
    return simulate_raw(n_seconds=8.0, sfreq=256.0, rng=3)


def _numbers(markdown: str) -> list[float]:
    return [float(v) for v in re.findall(r"\| (-?\d+\.\d+)", markdown)]


def test_real_clean_keeps_the_quiet_half_of_the_epochs(bench, tmp_path):
    raw = simulate_raw(n_seconds=40.0, sfreq=160.0, rng=0)
    data = raw.get_data()
    blink = 300e-6 * np.exp(-0.5 * ((np.arange(320) - 160) / 20.0) ** 2)
    for start in range(0, data.shape[1], 4 * 320):  # a blink in every other 2 s epoch, on Fp1/Fp2
        data[:2, start : start + 320] += blink[: data.shape[1] - start]
    raw._data = data
    get_modality("eeg").write(raw, tmp_path / "rec.edf")
    (clean,) = bench.real_clean(tmp_path)
    assert clean.info["sfreq"] == 256.0 and len(clean.ch_names) == 19
    assert clean.n_times == 10 * 512  # 10 of the 20 epochs, those without a blink
    assert np.ptp(clean.get_data()[:2]) < 150e-6


def test_settings_table_compares_overlaps_and_estimators(bench, recording):
    text = bench.settings([recording], [0.0], seed=0)
    overlaps = [line.split(" | ")[0] for line in text.splitlines() if line.startswith("| 0")]
    assert overlaps == ["| 0", "| 0.25", "| 0.25", "| 0.25", "| 0.5"]
    assert all(np.isfinite(_numbers(text)))


def test_clean_in_reports_what_each_method_does_to_clean_eeg(bench, recording):
    text = bench.clean_in([recording], seed=0)
    rows = {line.split(" | ")[1]: line for line in text.splitlines() if line.startswith("| simulated")}
    assert set(rows) == {"band-pass + notch", "wavelet (SureShrink)", "EOG regression (Fp1/Fp2, F7-F8)", "ICA (auto EOG)", "ICA (auto EOG/EMG)", "wavediff"}
    x, sfreq = recording.get_data(), recording.info["sfreq"]
    want = bench.epoch_metrics(x, bench.bandpass_notch(x, sfreq), sfreq)  # recomputed outside the section
    assert _numbers(rows["band-pass + notch"]) == pytest.approx([want["RRMSE_t"], want["CC"]], abs=5e-4)
    assert want["RRMSE_t"] > 0.05  # the filter's passband edge does change clean EEG
    rrmse, corr = _numbers(rows["wavediff"])
    assert 0 <= rrmse < 1 and -1 <= corr <= 1


def test_generalisation_covers_rates_montage_and_single_channels(bench, recording):
    text = bench.generalisation([recording], [0.0], seed=0)
    for label in ("128 Hz", "160 Hz", "512 Hz", "no montage", "single channel"):
        assert label in text
    assert all(np.isfinite(_numbers(text)))


def test_coverage_reports_fractions(bench, recording):
    text = bench.coverage([recording], [0.0], seed=0, n_draws=3, steps=(2, 3), seconds=4.0)
    rows = [line.split(" | ", 1)[1] for line in text.splitlines() if " steps | " in line]
    assert len(rows) == 4 and "2 steps" in text and "3 steps" in text
    for row in rows:
        *fractions, ratio = _numbers("| " + row)
        assert all(0.0 <= f <= 1.0 for f in fractions) and fractions == sorted(fractions) and ratio > 0


def test_speed_reports_a_real_time_factor(bench):
    text = bench.speed(seed=0, minutes=1.0, repeats=1)
    assert "64 channels, 1 min at 160 Hz" in text and "real-time factor" in text
