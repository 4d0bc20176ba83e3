"""benchmarks.eeg.checks (downstream and real-blink checks) on short simulated data.

A cheap untrained model stands in for the shipped one: these tests check that every row holds what
it claims (recomputed here from the same seeded data, or from an oracle cleaner that returns the
clean recording, which must score a perfect row), not how well wavediff cleans. The measures
themselves are tested in test_eeg_measures.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from _eeg_helpers import BLINK_TIMES, _with_blinks
from wavediff.datasets.eeg import ERP, simulate_raw
from wavediff.modalities.eeg.baselines import bandpass_notch
from wavediff.modalities.eeg.cleaners import BANDPASS, CLEANERS, ICA_EOG, ICA_EOG_EMG, classical_cleaners
from wavediff.modalities.eeg.measures import (
    average_epochs,
    band_power,
    blink_amplitudes,
    detect_blinks,
    relative_change,
)

from benchmarks.eeg import checks as ec
from wavediff import get_modality
from wavediff.errors import InvalidInputError
from wavediff.pipeline import Restorer, model_from_recipe

OCC = ["O1", "O2"]  # the simulator's occipital channels (no Oz in the 19-channel montage)

pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]


@pytest.fixture(scope="module")
def cheap():
    """A restorer with an untrained model: fast, finite, meaningless output."""
    torch.manual_seed(0)
    return Restorer("eeg", model=model_from_recipe(get_modality("eeg").default_recipe(), 1))


def _finite(row, keys):
    return all(isinstance(row[k], float) and math.isfinite(row[k]) for k in keys)


_BLINK_TOPO = {"Fp1": 1.0, "Fp2": 1.0, "F7": 0.5, "F8": 0.5, "F3": 0.4, "F4": 0.4, "Fz": 0.4, "C3": 0.2, "C4": 0.2,
               "Cz": 0.2, "T7": 0.15, "T8": 0.15}  # fmt: skip


@pytest.fixture(scope="module")
def resting():
    return simulate_raw(n_seconds=36.0, sfreq=160.0, rng=3)


@pytest.fixture(scope="module")
def blinky(resting):
    return _with_blinks(resting, _BLINK_TOPO)


def _oracle(clean: np.ndarray):
    """A cleaner that hands back the clean recording, whatever it is given."""
    return lambda data, sfreq, ch_names: clean.copy()


# ----------------------------------------------------------------------------- alpha power


def test_alpha_check_rows_are_the_alpha_power_of_each_output(cheap):
    seed, seconds = 1, 20.0
    clean = simulate_raw(n_seconds=seconds, sfreq=256.0, rng=seed)  # what the check simulates from its seed
    cleaners = {BANDPASS: CLEANERS[BANDPASS], "oracle": _oracle(clean.get_data())}
    rows = ec.alpha_check(cheap, seed=seed, seconds=seconds, artifacts=("eog", "emg"), cleaners=cleaners)
    assert [(r["artifact"], r["method"]) for r in rows] == [
        (a, m) for a in ("EOG", "EMG") for m in ("clean recording", ec.UNTOUCHED, BANDPASS, "oracle", "wavediff")
    ]
    occ = [clean.ch_names.index(c) for c in OCC]
    ref = band_power(clean.get_data(), 256.0, occ)
    rng = np.random.default_rng(seed + 1)  # the check's contamination, drawn again
    for artifact in ("eog", "emg"):
        noisy = get_modality("eeg").degrade(clean, rng, artifact=artifact, snr_db=0.0)
        sel = {r["method"]: r for r in rows if r["artifact"] == artifact.upper()}
        assert sel["clean recording"]["alpha_change_pct"] == 0.0 and sel["clean recording"]["alpha_uv2"] == ref * 1e12
        assert sel["oracle"]["alpha_change_pct"] == 0.0  # the clean recording back: no change, exactly
        y = noisy.get_data()
        for name, est in ((ec.UNTOUCHED, y), (BANDPASS, bandpass_notch(y, 256.0)), ("wavediff", cheap.restore(noisy).get_data())):
            assert sel[name]["alpha_change_pct"] == relative_change(band_power(est, 256.0, occ), ref)
    assert "change vs clean (%)" in ec.alpha_table(rows)


def test_alpha_check_without_a_model_notes_the_skip():
    rows = ec.alpha_check(None, seed=1, seconds=20.0, artifacts=("emg",), cleaners={})
    wd = [r for r in rows if r["method"] == "wavediff"]
    assert len(wd) == 1 and wd[0]["alpha_change_pct"] is None and "skipped" in wd[0]["note"]
    assert "skipped" in ec.alpha_table(rows)


# ----------------------------------------------------------------------------- averaged ERP


def test_erp_check_rows_are_the_averages_of_each_output(cheap):
    spec = ERP(latency=0.3, amplitude_uv=200.0, width=0.05, channel="Pz")
    clean = simulate_raw(n_seconds=20.0, sfreq=256.0, rng=2, erp=spec)
    rows = ec.erp_check(cheap, seed=2, seconds=20.0, erp=spec, artifacts=("eog",), cleaners={"oracle": _oracle(clean.get_data())})
    truth = rows[0]
    assert truth["method"] == "truth (simulated)" and truth["latency_ms"] == 300.0 and truth["amplitude_uv"] == 200.0
    sel = {r["method"]: r for r in rows[1:]}
    assert list(sel) == ["clean recording", ec.UNTOUCHED, "oracle", "wavediff"]
    ref = sel["clean recording"]
    assert ref["rmse_vs_clean_uv"] == 0.0 and ref["amplitude_vs_clean_pct"] == 0.0
    assert abs(ref["latency_ms"] - 300.0) < 1e3 / 256.0  # the known latency, within a sample period
    assert ref["amplitude_uv"] == pytest.approx(200.0, rel=0.05)  # background EEG left after 19 trials
    assert ref["trials"] >= 15
    oracle = sel["oracle"]
    assert oracle["rmse_vs_clean_uv"] == 0.0 and oracle["latency_vs_clean_ms"] == 0.0
    # the untouched input's average, recomputed from the same seeded contamination
    noisy = get_modality("eeg").degrade(clean, np.random.default_rng(3), artifact="eog", snr_db=0.0)
    events = np.round(clean.annotations.onset * 256.0).astype(int)
    pz = clean.ch_names.index("Pz")
    want = average_epochs(noisy.get_data(), events, 256.0)[0][pz] - average_epochs(clean.get_data(), events, 256.0)[0][pz]
    assert sel[ec.UNTOUCHED]["rmse_vs_clean_uv"] == pytest.approx(np.sqrt(np.mean(want**2)) * 1e6, rel=1e-12)
    assert sel[ec.UNTOUCHED]["rmse_vs_clean_uv"] > 0.1  # EOG at 0 dB does leave a trace in a 20-trial average
    assert "RMSE vs clean average" in ec.erp_table(rows)


# ----------------------------------------------------------------------------- real blinks


def test_blink_check_scores_the_default_methods_and_an_oracle(blinky, resting, cheap):
    # PhysioNet-style names ('Fp1.', 'O1..') are standardised on the way in
    dotted = blinky.copy().rename_channels(lambda c: c + "." * max(1, 4 - len(c)))
    clean = resting.copy().filter(0.5, None, verbose="error").get_data()  # the check high-passes its input first
    rows = ec.blink_check(dotted, cheap, cleaners={**classical_cleaners(line_freq=60.0), "oracle": _oracle(clean)})
    assert [r["method"] for r in rows] == [ec.UNTOUCHED, *CLEANERS, "oracle", "wavediff"]
    keys = ["fp1_uv", "fp2_uv", "reduction_fp1_pct", "reduction_fp2_pct", "avg_fp1_uv", "avg_fp2_uv",
            "reduction_avg_fp1_pct", "reduction_avg_fp2_pct", "alpha_uv2", "alpha_change_pct",
            "above_background_fp1_pct", "above_background_fp2_pct", "blink_free_change_pct"]  # fmt: skip
    assert all(_finite(r, keys) for r in rows)
    by = {r["method"]: r for r in rows}
    untouched = by[ec.UNTOUCHED]
    assert untouched["blinks"] == len(BLINK_TIMES)
    for k in ("reduction_fp1_pct", "reduction_fp2_pct", "reduction_avg_fp1_pct", "reduction_avg_fp2_pct", "alpha_change_pct"):
        assert untouched[k] == 0.0
    assert untouched["meets_bars"] is False and untouched["meets_bars_per_blink"] is False
    # the oracle removes the blinks and nothing else: it meets the bars, and scores about the floor per blink
    oracle = by["oracle"]
    assert oracle["meets_bars"] is True and min(oracle["reduction_avg_fp1_pct"], oracle["reduction_avg_fp2_pct"]) > 80
    assert abs(oracle["alpha_change_pct"]) < 1.0
    assert oracle["fp1_uv"] == pytest.approx(untouched["floor_fp1_uv"], rel=0.5)
    # measured against the background, the oracle leaves about nothing of the blinks, the input all of them
    assert untouched["above_background_fp1_pct"] == pytest.approx(100.0) and untouched["blink_free_change_pct"] == 0.0
    assert abs(oracle["above_background_fp1_pct"]) < 25 and abs(oracle["above_background_fp2_pct"]) < 25
    for ica in (by[ICA_EOG], by[ICA_EOG_EMG]):  # ICA does remove blinks
        assert ica["reduction_avg_fp1_pct"] > 50 and ica["reduction_avg_fp2_pct"] > 50
    assert 0 < untouched["floor_fp1_uv"] < untouched["fp1_uv"]
    # the band-pass row, recomputed from the same high-passed input and the same blinks
    data = blinky.copy().filter(0.5, None, verbose="error").get_data()
    blinks = detect_blinks(data[:2], 160.0)
    ref_med, ref_avg = blink_amplitudes(data[:2], blinks, 160.0)
    _, avg = blink_amplitudes(bandpass_notch(data, 160.0, line_freq=60.0)[:2], blinks, 160.0)
    assert by[BANDPASS]["reduction_avg_fp1_pct"] == pytest.approx(float(0.0 - relative_change(avg, ref_avg)[0]), abs=1e-9)
    table = ec.blink_table(rows)
    assert "bar (issue)" in table and ">= 80" in table and "< 10" in table and "8 blinks" in table


def test_blink_check_without_a_model_notes_the_skip(blinky):
    rows = ec.blink_check(blinky.copy().pick(["Fp1", "Fp2", "F3", "F4", "C3", "C4", "O1", "O2"]), None, cleaners={})
    assert [r["method"] for r in rows] == [ec.UNTOUCHED, "wavediff"]
    assert rows[-1]["meets_bars"] is None and "skipped" in rows[-1]["note"] and "skipped" in ec.blink_table(rows)


def test_blink_check_names_the_missing_channels(tmp_path, blinky):
    path = tmp_path / "no_frontal_raw.fif"
    blinky.copy().drop_channels(["Fp1", "Fp2"]).save(path, verbose="error")
    with pytest.raises(InvalidInputError, match="Fp1/Fp2 channels"):
        ec.blink_check(path, None)
    with pytest.raises(InvalidInputError, match="no Fp2 channel"):
        ec.blink_check(blinky.copy().drop_channels(["Fp2"]), None)
    with pytest.raises(InvalidInputError, match="O1/Oz/O2"):
        ec.blink_check(blinky.copy().drop_channels(["O1", "O2"]), None)


def test_blink_check_without_blinks_says_so(resting):
    with pytest.raises(InvalidInputError, match="no blink found"):
        ec.blink_check(resting, None, cleaners={})
