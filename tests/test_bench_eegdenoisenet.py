"""benchmarks.eeg.denoisenet: EEGdenoiseNet's mixing, split, metrics and report on small synthetic files.

Cells are recomputed here from the same split and mixing (or from their closed form) and must equal
what the protocol reports.
"""

from __future__ import annotations

import doctest
import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch
from wavediff.datasets.eeg import eegdenoisenet_split, load_eegdenoisenet
from wavediff.modalities.eeg.baselines import bandpass_notch, wavelet_denoise
from wavediff.modalities.eeg.metrics import cc, rrmse_spectral, rrmse_temporal

from benchmarks.eeg import denoisenet as bench
from wavediff import get_modality
from wavediff.errors import DataNotFoundError, InvalidInputError, ShapeError
from wavediff.pipeline import Restorer, model_from_recipe

N_EEG, N_EOG, N_EMG = 40, 30, 50
SNRS = tuple(range(-7, 3))
CLASSICAL = ("noisy input", "band-pass + notch", "wavelet (SureShrink)")


def _write(folder: Path) -> Path:
    rng = np.random.default_rng(7)
    t = np.arange(512) / 256.0
    eeg = 20.0 * np.sin(2 * np.pi * rng.uniform(6, 12, (N_EEG, 1)) * t) + rng.normal(0, 5.0, (N_EEG, 512))
    eog = (
        np.cumsum(rng.normal(0, 1.0, (N_EOG, 512)), axis=1) * 1e-4
    )  # another unit and scale, as in the files
    emg = rng.normal(0, 3.0, (N_EMG, 512))
    for name, arr in (("EEG", eeg), ("EOG", eog), ("EMG", emg)):
        np.save(folder / f"{name}_all_epochs.npy", arr.astype(np.float64))
    return folder


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return _write(tmp_path_factory.mktemp("eegdenoisenet"))


@pytest.fixture(scope="module")
def tiny_restorer():
    torch.manual_seed(0)
    recipe = {**get_modality("eeg").default_recipe(), "net": {"preset": "tiny"}}
    return Restorer("eeg", model=model_from_recipe(recipe, dims=1))


@pytest.fixture(scope="module")
def no_model_rows(folder):
    mp = pytest.MonkeyPatch()
    room = type(get_modality("eeg"))
    mp.setattr(room, "weights_path", classmethod(lambda cls: folder / "absent.safetensors"))
    try:
        return bench.run_protocol(folder, progress=False)
    finally:
        mp.undo()


def test_mixing_gives_the_snr_of_every_segment():
    rng = np.random.default_rng(0)
    x, n = rng.normal(0, 2.0, (6, 512)), rng.normal(0, 50.0, (6, 512)) + 3.0
    x_before, n_before = x.copy(), n.copy()
    for snr in SNRS:
        y = bench.mix(x, n, snr)
        got = 10 * np.log10(np.sqrt(np.mean(x**2, axis=1)) / np.sqrt(np.mean((y - x) ** 2, axis=1)))
        np.testing.assert_allclose(got, snr, rtol=0, atol=1e-9)
    per_row = np.linspace(-7, 2, 6)
    y = bench.mix(x, n, per_row)
    np.testing.assert_allclose(
        10 * np.log10(np.sqrt(np.mean(x**2, 1)) / np.sqrt(np.mean((y - x) ** 2, 1))), per_row, atol=1e-9
    )
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(n, n_before)
    ny, nx = bench.normalise(y, x)
    np.testing.assert_allclose(ny.std(axis=1), 1.0)
    np.testing.assert_allclose(nx * y.std(axis=1, keepdims=True), x)


def test_mixing_rejects_bad_input():
    x = np.ones((2, 512))
    with pytest.raises(ShapeError):
        bench.mix(x, np.ones((3, 512)), 0.0)
    with pytest.raises(InvalidInputError, match="all zeros"):
        bench.mix(x, np.zeros((2, 512)), 0.0)
    with pytest.raises(ShapeError):
        bench.mix(x, x, [0.0, 1.0, 2.0])
    with pytest.raises(InvalidInputError, match="constant"):
        bench.normalise(np.ones((1, 512)), np.ones((1, 512)))


def test_module_doctests():
    result = doctest.testmod(bench, verbose=False)
    assert result.attempted >= 2 and result.failed == 0


def _test_pairs(folder, artifact, seed=0, n=None):
    test = eegdenoisenet_split(load_eegdenoisenet(folder), rng=seed, artifact=artifact)["test"]
    return test["eeg"][:n], test["noise"][:n]


def test_noisy_input_rrmse_is_closed_form(no_model_rows):
    """y - x = lambda n with RMS(lambda n) = RMS(x) 10**(-snr/10), whatever the normalisation: RRMSE_t = 10**(-snr/10)."""
    for artifact in ("eog", "emg"):
        noisy = {r["snr_db"]: r for r in no_model_rows if r["method"] == "noisy input" and r["artifact"] == artifact}
        assert sorted(noisy) == [float(s) for s in SNRS]
        for snr, row in noisy.items():
            assert abs(row["RRMSE_t"] - 10 ** (-snr / 10)) < 1e-9


def test_rows_cover_the_protocol_and_the_test_part(folder, no_model_rows):
    for artifact, n_artifact in (("eog", N_EOG), ("emg", N_EMG)):
        clean, noise = _test_pairs(folder, artifact)
        assert 0 < len(clean) < n_artifact
        sel = [r for r in no_model_rows if r["artifact"] == artifact]
        assert [(r["method"], r["snr_db"]) for r in sel] == [(m, float(s)) for s in SNRS for m in CLASSICAL]
        assert all(r["n_segments"] == r["n_test"] == len(clean) for r in sel)
        # one cell per classical method, recomputed from the same test pairs, mixing and scaling
        for snr in (-7, 2):
            y, x = bench.normalise(bench.mix(clean, noise, snr), clean)
            for name, est in (("band-pass + notch", bandpass_notch(y, 256.0, method="iir")), ("wavelet (SureShrink)", wavelet_denoise(y, 256.0))):
                row = next(r for r in sel if r["method"] == name and r["snr_db"] == snr)
                assert row["RRMSE_t"] == np.mean(rrmse_temporal(x, est))
                assert row["RRMSE_s"] == np.mean(rrmse_spectral(x, est, 256.0))
                assert row["CC"] == np.mean(cc(x, est))
    assert not any(r["method"] == "wavediff" for r in no_model_rows)


def test_report_tables_hold_the_rows(no_model_rows):
    text = bench.report(no_model_rows)
    lines = text.splitlines()
    for artifact in ("eog", "emg"):
        sel = [r for r in no_model_rows if r["artifact"] == artifact]
        start = lines.index(next(ln for ln in lines if ln.startswith(f"**{artifact.upper()}**")))
        summary = next(ln for ln in lines[start:] if ln.startswith("| band-pass + notch |"))
        mean = np.mean([r["RRMSE_t"] for r in sel if r["method"] == "band-pass + notch"])
        assert summary.split(" | ")[1] == f"{mean:.3f}"  # the mean over the SNR levels
        per = next(ln for ln in lines[start:] if ln.startswith("| wavelet (SureShrink) |") and ln.count("|") == len(SNRS) + 2)
        assert per.strip("| ").split(" | ")[1:] == [f"{r['RRMSE_t']:.3f}" for r in sel if r["method"] == "wavelet (SureShrink)"]
    assert "-14..4 dB of power SNR" in text  # computed from the levels of the rows
    assert "seeded generator (seed 0" in text and "wavediff not run" in text
    with pytest.raises(InvalidInputError):
        bench.report([])


def test_wavediff_with_a_cheap_restorer(folder, tiny_restorer):
    rows = bench.run_protocol(folder, artifacts=("emg",), snrs=(-7, 2), max_segments=3, seed=1, restorer=tiny_restorer, progress=False)
    assert [(r["method"], r["snr_db"]) for r in rows] == [(m, s) for s in (-7.0, 2.0) for m in (*CLASSICAL, "wavediff")]
    wd = [r for r in rows if r["method"] == "wavediff"]
    assert all(r["n_segments"] == 3 and r["n_test"] == 5 and r["seed"] == 1 for r in wd)
    clean, noise = _test_pairs(folder, "emg", seed=1, n=3)
    for row in wd:  # each segment restored on its own, one channel, as the protocol says
        y, x = bench.normalise(bench.mix(clean, noise, row["snr_db"]), clean)
        est = np.asarray(tiny_restorer.restore(y[:, None, :], sfreq=256.0))[:, 0]
        assert row["RRMSE_t"] == np.mean(rrmse_temporal(x, est)) and row["CC"] == np.mean(cc(x, est))
    text = bench.report(rows)
    assert "| wavediff |" in text and "a model passed by the caller" in text and "the first 3 of 5" in text


def test_bad_input_raises_library_errors(tmp_path, folder):
    with pytest.raises(DataNotFoundError):
        bench.run_protocol(tmp_path / "missing", progress=False)
    with pytest.raises(InvalidInputError):
        bench.run_protocol(folder, artifacts=("ecg",), progress=False)
    with pytest.raises(InvalidInputError):
        bench.run_protocol(folder, snrs=(), progress=False)
    with pytest.raises(InvalidInputError):
        bench.run_protocol(folder, max_segments=0, progress=False)


def test_main_writes_the_report_behind_its_provenance(folder, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(type(get_modality("eeg")), "weights_path", classmethod(lambda cls: tmp_path / "absent.safetensors"))
    out = tmp_path / "res" / "eegdenoisenet.md"
    bench.main([str(folder), "--max-segments", "2", "--out", str(out)])
    text = out.read_text()
    head, rest = text.split("\n\n", 1)
    assert head == "# EEGdenoiseNet benchmark" and rest.startswith("**Provenance.**")
    assert f"- command: `python3 -m benchmarks.eeg.denoisenet {folder} --max-segments 2 --out {out}`" in text
    for name in ("EEG", "EOG", "EMG"):  # every file read, with its sha256
        path = folder / f"{name}_all_epochs.npy"
        assert f"`{path}` ({path.stat().st_size} bytes, sha256 `{hashlib.sha256(path.read_bytes()).hexdigest()}`)" in text
    assert "the first 2 of" in text and "wavediff skipped" in capsys.readouterr().out
