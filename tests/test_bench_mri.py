"""benchmarks.mri on a tiny smooth blob the test writes itself: both arms run, the baselines beat the noisy
input at the highest level, calibration never touches the test volumes, and the report carries provenance."""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pytest
from scipy import ndimage

from benchmarks import mri as bench
from benchmarks import mri_calibrate, mri_recon

TINY = {"slices": 8, "size": 32, "volumes": 1, "recon_slices": 2, "iters": 10, "lams": (1e-3, 1e-2)}


def _blob() -> np.ndarray:
    """An 8-slice 32 x 32 smooth blob, stored as NIfTI ``(x, y, z)``."""
    zz, yy, xx = np.meshgrid(
        np.linspace(-1, 1, 8), np.linspace(-1, 1, 32), np.linspace(-1, 1, 32), indexing="ij"
    )
    vol = ((zz / 1.3) ** 2 + (yy / 0.7) ** 2 + (xx / 0.6) ** 2 < 1).astype(float)
    vol = ndimage.gaussian_filter(vol * (0.7 + 0.3 * np.cos(3 * yy) * np.cos(2 * xx)), 1.0)
    return np.moveaxis(vol / vol.max(), 0, -1).astype(np.float32)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mri")
    nib.save(nib.Nifti1Image(_blob(), np.eye(4)), folder / "blob.nii.gz")
    labels = np.zeros((32, 32, 8), np.int16)
    labels[8:20, 8:20] = 3
    nib.save(nib.Nifti1Image(labels, np.eye(4)), folder / "seg.nii.gz")  # a label map: left out
    nib.save(
        nib.Nifti1Image(np.ones((8, 8, 2), np.float32), np.eye(4)), folder / "tiny.nii"
    )  # tiny: left out
    return folder


@pytest.fixture(scope="module")
def volume(data):
    return bench.load_volume(data / "blob.nii.gz", 8, 32)


def test_find_volumes_leaves_out_labels_and_tiny(data):
    keep, skipped = bench.find_volumes(data)
    assert [p.name for p in keep] == ["blob.nii.gz"]
    reasons = {p.name: why for p, why in skipped}
    assert "label map" in reasons["seg.nii.gz"] and "tiny" in reasons["tiny.nii"]


def test_crop_shape_and_scale(volume):
    assert volume.shape == (8, 32, 32) and volume.max() == pytest.approx(1.0)
    big = bench.crop(np.random.default_rng(0).uniform(size=(100, 80, 40)), 16, 50)
    assert big.shape == (16, 50, 40)


def test_denoising_arm_beats_noisy_input(volume):
    tables, notes = bench.denoise_arm([volume], levels=(0.09,), include_bm=True)
    rows = tables[0.09]
    by = {(r["method"], r["sigma"]): r for r in rows}
    methods = [r["method"] for r in rows]
    assert (
        methods[0] == "noisy input"
        and "wavelet (BayesShrink db2)" in methods
        and "NLM (dipy, Rician)" in methods
    )
    noisy = by[("noisy input", "-")]["PSNR (dB)"]
    for r in rows[1:]:
        assert r["PSNR (dB)"] > noisy + 1.0, r
    assert any(r["sigma"].startswith("estimated") for r in rows)  # the estimated-sigma NLM row
    for r in rows:
        assert set(bench.HEADER) <= set(r)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from wavediff.learning import train

    recipe = {
        "net": {"preset": "tiny"},
        "train": {"batch_size": 2, "patch": 32, "phantoms": 1, "phantom_size": 48},
        "sampler": {"steps": 2},
    }
    return train(
        "mri", steps=2, out=tmp_path_factory.mktemp("w") / "w.safetensors", recipe=recipe, progress=False
    )


def test_without_a_model_there_are_no_learned_rows(tmp_path):
    restorer, note = bench.load_restorer(tmp_path / "none.safetensors")
    assert restorer is None and note == bench.LEARNED_NOTE
    assert bench.learned_methods(None) == []


def test_learned_rows_and_coverage_come_from_the_restorer(volume, tiny_model):
    restorer, note = bench.load_restorer(tiny_model)
    assert "simulated by the mri room" in note and "2 steps" in note
    tables, _ = bench.denoise_arm([volume], levels=(0.09,), include_bm=False, restorer=restorer)
    learned = [r for r in tables[0.09] if r["method"].startswith("wavediff")]
    assert [r["sigma"] for r in learned] == ["true", "estimated by the room"]
    assert all(np.isfinite(r["PSNR (dB)"]) for r in learned)
    (row,) = bench.coverage_arm([volume], restorer, (0.09,), draws=2)
    assert 0.0 <= row["coverage (nominal 0.90)"] <= 1.0 and row[
        "NFE / slice"
    ] == restorer.evaluations_per_row(2)


def test_reconstruction_arm(volume, monkeypatch):
    seen = []
    real = mri_recon._kspaces
    monkeypatch.setattr(mri_recon, "_kspaces", lambda vol, case, seed: seen.append(vol) or real(vol, case, seed))
    calib = bench.generated_volumes(1, 8, 32, seed=100)[0][0][1]
    lams = bench.calibrate(calib, TINY["lams"], TINY["iters"], 2)
    assert all(
        not np.array_equal(v, bench._slices(volume, 2)) for v in seen
    )  # calibration: not the test volume
    assert set(lams) == {(c[0], m) for c in bench.CASES for m in bench.RECON_METHODS[1:]}
    tables = bench.recon_arm([volume], lams, TINY["iters"], 2)
    assert list(tables) == [c[0] for c in bench.CASES]
    for rows in tables.values():
        assert [r["method"] for r in rows] == list(bench.RECON_METHODS)
        assert all(np.isfinite(r["PSNR (dB)"]) for r in rows)


def test_run_writes_report_with_provenance(data, tmp_path, monkeypatch):
    monkeypatch.setitem(bench.SETTINGS, "quick", TINY)
    monkeypatch.setattr(bench, "LEVELS", (0.09,))
    out = tmp_path / "mri.md"
    text = bench.run(
        str(data),
        True,
        out,
        command="python3 -m benchmarks.mri --quick",
        include_bm=False,
        model=tmp_path / "none",
        model3d=tmp_path / "none",
    )
    assert out.read_text() == text
    assert text.count("**Provenance.**") == 1 and "`python3 -m benchmarks.mri --quick`" in text
    assert "blob.nii.gz" in text and "sha256" in text and "label map" in text
    assert bench.LEARNED_NOTE in text and "Total run time" in text
    assert "| zero-filled |" in text and "| noisy input |" in text


def test_memory_arm_reports_peak_rss_from_a_fresh_process(tiny_model):
    (row,) = bench.memory_arm([16], tiny_model)
    assert row["volume"] == "16^3" and row["peak RSS (MiB)"] > 0 and row["restore time (s)"] > 0
    assert row["float32 volume (MiB)"] == pytest.approx(16**3 * 4 / 2**20)


def test_pnp_row_joins_the_reconstruction_arm_with_a_calibrated_schedule(volume, tiny_model):
    restorer, _ = bench.load_restorer(tiny_model)
    calib = bench.generated_volumes(1, 8, 32, seed=100)[0][0][1]
    lams = bench.calibrate(calib, TINY["lams"], TINY["iters"], 2, restorer=restorer)
    assert all(lams[(c[0], bench.PNP)] in bench.PNP_GRID for c in bench.CASES)
    tables = bench.recon_arm([volume], lams, TINY["iters"], 2, restorer=restorer)
    for rows in tables.values():
        assert [r["method"] for r in rows] == [*bench.RECON_METHODS, bench.PNP]
        assert rows[-1]["lam"].endswith("NFE") and np.isfinite(rows[-1]["PSNR (dB)"])


def test_spread_calibration_recovers_a_known_factor():
    """Errors drawn with twice the stated spread: the factor that gives 90 % coverage is 2."""
    rng = np.random.default_rng(0)
    ratios = {level: np.abs(rng.normal(0.0, 2.0, 200_000)) / bench.COVERAGE_Z for level in (0.03, 0.09)}
    k, rows = mri_calibrate.calibrate(ratios)
    assert k == pytest.approx(2.0, rel=0.01)
    assert all(abs(r["coverage as drawn"] - 0.59) < 0.01 for r in rows)  # P(|z| < 1.645 / 2)
    assert all(abs(r[f"coverage x {k:.3f}"] - 0.90) < 0.005 for r in rows)


def test_calibration_is_recorded_in_the_json_and_read_back(data, tiny_model, tmp_path, monkeypatch):
    import shutil

    from wavediff import Restorer

    weights = tmp_path / "w.safetensors"
    shutil.copy(tiny_model, weights)
    shutil.copy(tiny_model.with_suffix(".json"), weights.with_suffix(".json"))
    monkeypatch.setattr(mri_calibrate, "LEVELS", (0.09,))
    monkeypatch.setitem(mri_calibrate.SETTINGS, "full", {**bench.SETTINGS["full"], "slices": 4, "size": 32})
    out = tmp_path / "cal.md"
    args = ["--data", str(data), "--volume", "blob.nii.gz", "--model", str(weights), "--draws", "2", "--out", str(out)]
    k = mri_calibrate.main([*args, "--write"])
    record = json.loads(weights.with_suffix(".json").read_text())["calibration"]
    assert record["spread_scale"] == round(k, 4) and record["volume"]["path"] == "blob.nii.gz"
    assert record["command"].startswith("python3 -m benchmarks.mri_calibrate")
    assert Restorer("mri", weights).spread_scale == round(k, 4)
    assert "blob.nii.gz" in out.read_text() and f"{k:.4f}" in out.read_text()
