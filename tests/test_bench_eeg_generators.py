"""benchmarks.eeg.generators: every arm scored on both generators, the cells recomputed here."""

from __future__ import annotations

import numpy as np
import pytest
from wavediff.datasets.eeg import simulate_raw
from wavediff.modalities.eeg.artifacts import contaminate
from wavediff.modalities.eeg.baselines import wavelet_denoise
from wavediff.modalities.eeg.cleaners import BANDPASS, WAVELET, classical_cleaners

from benchmarks.eeg import generators
from benchmarks.eeg.heldout import heldout_contaminate
from benchmarks.eeg.protocol import NOISY, WAVEDIFF, epoch_metrics
from wavediff import get_modality
from wavediff.pipeline import Restorer

needs_model = pytest.mark.skipif(not get_modality("eeg").weights_path().is_file(), reason="no shipped EEG model")


@pytest.fixture(scope="module")
def recording():
    return simulate_raw(n_seconds=8.0, sfreq=256.0, rng=3)


def test_rows_score_what_each_generator_made(recording):
    single = classical_cleaners(single_channel=True)
    rows = generators.generator_rows([recording], [0.0], seed=5, arms=generators.ARMS[1:], artifacts=("eog",), cleaners=single)
    assert {(r["arm"], r["generator"]) for r in rows} == {(a, g) for a in generators.ARMS[1:] for g in generators.GENERATORS}
    # the single-channel arm, held-out generator: each channel its own artifact, drawn in channel order
    rng = np.random.default_rng(5)  # each arm and generator has its own stream, seeded alike
    x = recording.get_data()
    y = np.concatenate([heldout_contaminate(x[i : i + 1], 256.0, rng, "eog", 0.0)[0] for i in range(len(x))])
    want = epoch_metrics(x, np.concatenate([wavelet_denoise(y[i : i + 1], 256.0) for i in range(len(y))]), 256.0)
    got = next(r for r in rows if r["arm"] == generators.ARMS[1] and r["generator"] == "held-out" and r["method"] == WAVELET)
    assert got["RRMSE_t"] == pytest.approx(want["RRMSE_t"], rel=1e-12)
    rng = np.random.default_rng(5)
    y = np.concatenate([contaminate(x[i : i + 1], 256.0, rng, "eog", 0.0)[0] for i in range(len(x))])
    got = next(r for r in rows if r["arm"] == generators.ARMS[1] and r["generator"] == "room" and r["method"] == NOISY)
    assert got["RRMSE_t"] == pytest.approx(epoch_metrics(x, y, 256.0)["RRMSE_t"], rel=1e-12)
    # the other lab's format: 173.61 Hz, band-passed 0.5-40 Hz before contamination
    data, sfreq, _ = generators.arm_data(recording, generators.ARMS[2])
    assert sfreq == pytest.approx(173.61, abs=0.01) and data.shape[1] == pytest.approx(8 * 173.61, abs=2)
    table = generators.generator_table(rows)
    assert "held-out" in table and "room" in table and f"<= {generators.BAR:g}" in table and BANDPASS not in table.split("\n")[0]


@needs_model
def test_the_ratio_is_wavediff_over_the_best_classical_method(recording):
    restorer = Restorer("eeg", seed=0)
    rows = generators.generator_rows([recording], [0.0], seed=1, restorer=restorer, arms=generators.ARMS[1:2], artifacts=("emg",),
                                     cleaners=classical_cleaners(single_channel=True))  # fmt: skip
    sel = [r for r in rows if r["generator"] == "held-out"]
    by = {r["method"]: r["RRMSE_t"] for r in sel}
    ratio = by[WAVEDIFF] / min(by[BANDPASS], by[WAVELET])
    line = next(ln for ln in generators.generator_table(rows).splitlines() if "| held-out |" in ln)
    assert f"| {ratio:.2f} |" in line
