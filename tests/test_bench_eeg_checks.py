"""EEG room, downstream and real-blink checks (benchmarks/eeg_checks.py) on short simulated data.

A cheap untrained model stands in for the shipped one: these tests check the measurements (closed-form
identities, known ERPs, injected blinks) and the rows, not how well wavediff cleans.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import mne
import numpy as np
import pytest
import torch
from wavediff.datasets.eeg import ERP, add_erp, simulate_raw

from wavediff import get_modality
from wavediff.errors import InvalidInputError
from wavediff.pipeline import Restorer, model_from_recipe

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "eeg_checks.py"


def _load_module():
    if "eeg_checks" in sys.modules:
        return sys.modules["eeg_checks"]
    spec = importlib.util.spec_from_file_location("eeg_checks", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["eeg_checks"] = module
    spec.loader.exec_module(module)
    return module


ec = _load_module()
METHODS = [ec.UNTOUCHED, ec.BANDPASS, ec.REGRESSION, ec.ICA_EOG, ec.ICA, ec.WAVEDIFF]
BLINK_TIMES = [2.0, 6.5, 10.2, 15.0, 19.4, 24.1, 28.8, 33.0]  # about 0.25 Hz, a resting rate


@pytest.fixture(scope="module")
def cheap():
    """A restorer with an untrained model: fast, finite, meaningless output."""
    torch.manual_seed(0)
    return Restorer("eeg", model=model_from_recipe(get_modality("eeg").default_recipe(), 1))


def _finite(row, keys):
    return all(isinstance(row[k], float) and math.isfinite(row[k]) for k in keys)


def _blink_wave(n_times, sfreq, times, amp_uv=150.0):
    """Asymmetric bells (fast closing, slow reopening, ~300 ms) peaking at ``times``, in volts."""
    t = np.arange(n_times) / sfreq
    out = np.zeros(n_times)
    for i, t0 in enumerate(times):
        d = t - t0
        amp = (amp_uv + 10.0 * (i % 5)) * 1e-6
        out += amp * np.where(d < 0, np.exp(-0.5 * (d / 0.045) ** 2), np.exp(-0.5 * (d / 0.08) ** 2))
    return out


_BLINK_TOPO = {"Fp1": 1.0, "Fp2": 1.0, "F7": 0.5, "F8": 0.5, "F3": 0.4, "F4": 0.4, "Fz": 0.4, "C3": 0.2, "C4": 0.2,
               "Cz": 0.2, "T7": 0.15, "T8": 0.15}  # fmt: skip


def _with_blinks(raw, times=BLINK_TIMES, sign=1.0):
    topo = np.array([_BLINK_TOPO.get(c, 0.08) for c in raw.ch_names])
    wave = sign * _blink_wave(raw.n_times, raw.info["sfreq"], times)
    return mne.io.RawArray(raw.get_data() + topo[:, None] * wave[None], raw.info.copy(), verbose=False)


@pytest.fixture(scope="module")
def blinky():
    return _with_blinks(simulate_raw(n_seconds=36.0, sfreq=160.0, rng=3))


# ----------------------------------------------------------------------------- measurements


def test_band_power_of_a_sinusoid_and_identity():
    sfreq = 160.0
    t = np.arange(int(20 * sfreq)) / sfreq
    a = 20e-6
    x = np.stack([a * np.sin(2 * np.pi * 10.0 * t), a * np.sin(2 * np.pi * 10.0 * t + 1.0)])
    p = ec.band_power(x, sfreq)
    assert p == pytest.approx(a**2 / 2, rel=0.02)  # a sinusoid's power, all of it inside 8-12 Hz
    assert ec.relative_change(p, p) == 0.0
    assert ec.band_power(x, sfreq, band=(20.0, 30.0)) < 1e-4 * p


def test_band_power_mask_leaves_out_the_masked_stretch():
    rng = np.random.default_rng(0)
    sfreq = 128.0
    x = rng.normal(0, 10e-6, (2, int(30 * sfreq)))
    burst = x.copy()
    burst[:, 1280:1600] += 500e-6 * np.sin(2 * np.pi * 10 * np.arange(320) / sfreq)
    keep = np.ones(x.shape[1], dtype=bool)
    keep[1280:1600] = False
    assert ec.band_power(burst, sfreq, keep=keep) == pytest.approx(
        ec.band_power(x, sfreq, keep=keep), rel=1e-12
    )
    assert ec.band_power(burst, sfreq) > 10 * ec.band_power(x, sfreq)
    with pytest.raises(InvalidInputError, match="artifact-free"):
        ec.band_power(x, sfreq, keep=np.zeros(x.shape[1], dtype=bool))


def test_erp_average_of_a_pure_erp_is_exact():
    sim = simulate_raw(n_seconds=12.0, sfreq=256.0, rng=0)
    zero = mne.io.RawArray(np.zeros((len(sim.ch_names), sim.n_times)), sim.info.copy(), verbose=False)
    events = np.arange(256, zero.n_times - 256, 256)
    pure = add_erp(zero, events, latency=0.3, amplitude_uv=8.0, width=0.05, channel="Pz")
    avg, times, n = ec.average_epochs(pure.get_data(), events, 256.0)
    assert n == len(events)
    lat, amp = ec.erp_peak(avg[pure.ch_names.index("Pz")], times, (0.15, 0.45))
    assert abs(lat - 0.3) < 1 / 256.0
    assert amp == pytest.approx(8e-6, rel=0.01)
    neg = add_erp(zero, events, latency=0.17, amplitude_uv=-5.0, width=0.03, channel="Cz")
    avg, times, _ = ec.average_epochs(neg.get_data(), events, 256.0)
    lat, amp = ec.erp_peak(avg[neg.ch_names.index("Cz")], times, (0.05, 0.3), sign=-1.0)
    assert abs(lat - 0.17) < 1 / 256.0 and amp == pytest.approx(-5e-6, rel=0.01)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_detect_blinks_finds_the_injected_blinks(blinky, sign):
    raw = blinky if sign > 0 else _with_blinks(simulate_raw(n_seconds=36.0, sfreq=160.0, rng=3), sign=-1.0)
    sfreq = raw.info["sfreq"]
    found = ec.detect_blinks(raw.get_data(picks=["Fp1", "Fp2"]), sfreq) / sfreq
    assert len(found) == len(BLINK_TIMES)
    assert np.max(np.abs(found - np.array(BLINK_TIMES))) < 0.05


def test_detect_blinks_finds_none_in_clean_eeg():
    raw = simulate_raw(n_seconds=36.0, sfreq=160.0, rng=3)
    assert ec.detect_blinks(raw.get_data(picks=["Fp1", "Fp2"]), 160.0).size == 0


def test_blink_amplitudes_and_mask():
    sfreq = 160.0
    wave = _blink_wave(int(36 * sfreq), sfreq, BLINK_TIMES)
    peaks = np.round(np.array(BLINK_TIMES) * sfreq).astype(int)
    med, avg = ec.blink_amplitudes(np.stack([wave, 0.5 * wave]), peaks, sfreq)
    expected = np.median(150.0 + 10.0 * (np.arange(len(BLINK_TIMES)) % 5)) * 1e-6
    assert med[0] == pytest.approx(expected, rel=0.01) and med[1] == pytest.approx(expected / 2, rel=0.01)
    assert avg[0] == pytest.approx(np.mean(150.0 + 10.0 * (np.arange(len(BLINK_TIMES)) % 5)) * 1e-6, rel=0.01)
    keep = ec.blink_free_mask(wave.size, peaks, sfreq, margin=0.6)
    assert not keep[peaks].any() and keep[: peaks[0] - 97].all()
    assert np.abs(wave[keep]).max() < 1e-3 * np.abs(wave).max()  # the mask covers the whole blink


# ----------------------------------------------------------------------------- the three checks


def test_alpha_check_rows(cheap):
    rows = ec.alpha_check(cheap, seed=1, seconds=20.0, artifacts=("eog", "emg"))
    for artifact in ("EOG", "EMG"):
        sel = {r["method"]: r for r in rows if r["artifact"] == artifact}
        assert list(sel) == ["clean recording", *METHODS]
        assert sel["clean recording"]["alpha_change_pct"] == 0.0
        assert all(_finite(r, ["alpha_uv2", "alpha_change_pct"]) for r in sel.values())
    table = ec.alpha_table(rows)
    assert "change vs clean (%)" in table and ec.WAVEDIFF in table


def test_alpha_check_without_a_model_notes_the_skip():
    rows = ec.alpha_check(None, seed=1, seconds=20.0, artifacts=("emg",))
    wd = [r for r in rows if r["method"] == ec.WAVEDIFF]
    assert len(wd) == 1 and wd[0]["alpha_change_pct"] is None and "skipped" in wd[0]["note"]
    untouched = next(r for r in rows if r["method"] == ec.UNTOUCHED)
    assert _finite(untouched, ["alpha_change_pct"])
    assert "skipped" in ec.alpha_table(rows)


def test_erp_check_rows(cheap):
    spec = ERP(latency=0.3, amplitude_uv=200.0, width=0.05, channel="Pz")
    rows = ec.erp_check(cheap, seed=2, seconds=20.0, erp=spec, artifacts=("eog",))
    truth = rows[0]
    assert (
        truth["method"] == "truth (simulated)"
        and truth["latency_ms"] == 300.0
        and truth["amplitude_uv"] == 200.0
    )
    sel = {r["method"]: r for r in rows[1:]}
    assert list(sel) == ["clean recording", *METHODS]
    keys = ["latency_ms", "amplitude_uv", "latency_vs_clean_ms", "amplitude_vs_clean_pct", "rmse_vs_clean_uv"]
    assert all(_finite(r, keys) for r in sel.values())
    clean = sel["clean recording"]
    assert clean["rmse_vs_clean_uv"] == 0.0 and clean["amplitude_vs_clean_pct"] == 0.0
    assert abs(clean["latency_ms"] - 300.0) < 1e3 / 256.0  # the known latency, within a sample period
    assert clean["amplitude_uv"] == pytest.approx(200.0, rel=0.05)  # background EEG left after 19 trials
    assert clean["trials"] >= 15
    assert "RMSE vs clean average" in ec.erp_table(rows)


def test_blink_check_rows(blinky, cheap):
    # PhysioNet-style names ('Fp1.', 'O1..') are standardised on the way in
    dotted = blinky.copy().rename_channels(lambda c: c + "." * max(1, 4 - len(c)))
    rows = ec.blink_check(dotted, cheap)
    assert [r["method"] for r in rows] == METHODS
    keys = ["fp1_uv", "fp2_uv", "reduction_fp1_pct", "reduction_fp2_pct", "avg_fp1_uv", "avg_fp2_uv",
            "reduction_avg_fp1_pct", "reduction_avg_fp2_pct", "alpha_uv2", "alpha_change_pct"]  # fmt: skip
    assert all(_finite(r, keys) for r in rows)
    untouched = rows[0]
    assert untouched["blinks"] == len(BLINK_TIMES)
    for k in (
        "reduction_fp1_pct",
        "reduction_fp2_pct",
        "reduction_avg_fp1_pct",
        "reduction_avg_fp2_pct",
        "alpha_change_pct",
    ):
        assert untouched[k] == 0.0
    assert untouched["meets_bars"] is False and untouched["meets_bars_per_blink"] is False
    assert all(isinstance(r["meets_bars"], bool) for r in rows)
    by_method = {r["method"]: r for r in rows}
    for ica in (by_method[ec.ICA_EOG], by_method[ec.ICA]):  # ICA does remove blinks
        assert ica["reduction_avg_fp1_pct"] > 50 and ica["reduction_avg_fp2_pct"] > 50
    assert 0 < untouched["floor_fp1_uv"] < untouched["fp1_uv"]
    table = ec.blink_table(rows)
    assert "bar (issue)" in table and ">= 80" in table and "< 10" in table and "8 blinks" in table


def test_blink_check_without_a_model_notes_the_skip(blinky):
    rows = ec.blink_check(blinky.copy().pick(["Fp1", "Fp2", "F3", "F4", "C3", "C4", "O1", "O2"]), None)
    assert rows[-1]["method"] == ec.WAVEDIFF and rows[-1]["meets_bars"] is None
    assert "skipped" in rows[-1]["note"] and "skipped" in ec.blink_table(rows)


def test_blink_check_names_the_missing_channels(tmp_path, blinky):
    path = tmp_path / "no_frontal_raw.fif"
    blinky.copy().drop_channels(["Fp1", "Fp2"]).save(path, verbose="error")
    with pytest.raises(InvalidInputError, match="Fp1/Fp2 channels"):
        ec.blink_check(path, None)
    with pytest.raises(InvalidInputError, match="no Fp2 channel"):
        ec.blink_check(blinky.copy().drop_channels(["Fp2"]), None)
    with pytest.raises(InvalidInputError, match="O1/Oz/O2"):
        ec.blink_check(blinky.copy().drop_channels(["O1", "O2"]), None)


def test_blink_check_without_blinks_says_so():
    raw = simulate_raw(n_seconds=36.0, sfreq=160.0, rng=3)
    with pytest.raises(InvalidInputError, match="no blink found"):
        ec.blink_check(raw, None)
