"""The protocols for users who hold the data: ``--fastmri DIR`` on files written in fastMRI's layout by the
test (single coil and multi-coil), and ``--ixi DIR`` on files named as IXI names them."""

from __future__ import annotations

import h5py
import nibabel as nib
import numpy as np
import pytest
import torch
from scipy import ndimage
from wavediff.modalities.mri.degrade import coil_maps, smooth_phase

from benchmarks import mri as bench
from benchmarks import mri_fastmri
from wavediff.errors import InvalidInputError
from wavediff.operators import fftc


def _slices(seed, n=3, shape=(40, 200)):
    rng = np.random.default_rng(seed)
    yy, xx = np.meshgrid(np.linspace(-1, 1, shape[0]), np.linspace(-1, 1, shape[1]), indexing="ij")
    base = ((yy / 0.8) ** 2 + (xx / 0.7) ** 2 < 1).astype(float) * (0.6 + 0.4 * np.cos(4 * yy + rng.uniform()))
    return np.stack([ndimage.gaussian_filter(base * (1 + 0.1 * i), 1.0) for i in range(n)])


def _write_fastmri(path, seed, coils=1):
    mag = _slices(seed)
    img = mag * np.exp(1j * smooth_phase(mag.shape, np.random.default_rng(seed)))
    if coils > 1:
        maps = coil_maps(mag.shape[-2:], coils)
        coil_img = img[:, None] * maps
        k = fftc(torch.from_numpy(coil_img)).numpy()
        target = np.sqrt((np.abs(coil_img) ** 2).sum(1))
        key = "reconstruction_rss"
    else:
        k = fftc(torch.from_numpy(img)).numpy()
        target, key = np.abs(img), "reconstruction_esc"
    with h5py.File(path, "w") as f:
        f.create_dataset("kspace", data=(k * 1e-5).astype(np.complex64))  # fastMRI's raw scale
        f.create_dataset(key, data=(mri_fastmri.centre_crop(target, (32, 32)) * 1e-5).astype(np.float32))
        f.attrs["acquisition"] = "CORPD_FBK"


@pytest.mark.parametrize("coils", [1, 4])
def test_fastmri_protocol_scores_the_stored_targets(tmp_path, coils):
    for i in range(3):
        _write_fastmri(tmp_path / f"file{i}.h5", i, coils)
    (tmp_path / "broken.h5").write_bytes(b"not hdf5")
    volumes, notes = mri_fastmri.fastmri_volumes(tmp_path)
    assert [v["path"].name for v in volumes] == ["file0.h5", "file1.h5", "file2.h5"]
    assert any("broken.h5" in n for n in notes)
    cases = mri_fastmri.FASTMRI_CASES[:1]
    tables, chosen, _ = mri_fastmri.fastmri_arm(volumes, None, iters=20, lams=(1e-3, 1e-2), cases=cases)
    rows = {r["method"]: r for r in tables["4x equispaced"]}
    assert set(rows) == set(mri_fastmri.METHODS) and chosen[("4x equispaced", "sigpy L1-wavelet (db4)")] in (1e-3, 1e-2)
    # scored in the file's own units (the scale undone) against its stored target, with maps that fit
    # (wrong maps or scale put these figures below 10 dB)
    assert all(25 < r["PSNR (dB)"] < 60 and 0.5 < r["SSIM"] <= 1 for r in rows.values())
    with pytest.raises(InvalidInputError, match="two files"):
        mri_fastmri.fastmri_arm(volumes[:1])


def test_fastmri_option_writes_its_own_report(tmp_path, monkeypatch):
    for i in range(2):
        _write_fastmri(tmp_path / f"file{i}.h5", i)
    monkeypatch.setattr(mri_fastmri, "FASTMRI_CASES", mri_fastmri.FASTMRI_CASES[:1])
    monkeypatch.setattr(mri_fastmri.fastmri_arm, "__defaults__", (None, 20, (1e-3,), mri_fastmri.FASTMRI_CASES[:1]))
    out = tmp_path / "fastmri.md"
    bench.main(["--fastmri", str(tmp_path), "--out", str(out), "--model", str(tmp_path / "none"), "--quick"])
    text = out.read_text()
    assert "fastMRI reconstruction protocol" in text and "file0.h5" in text and "| zero-filled |" in text
    assert "--fastmri" in text  # the command that made it


def test_ixi_option_takes_ixi_files_in_subject_order(tmp_path, monkeypatch):
    vol = np.moveaxis(_slices(0, n=8, shape=(40, 36)), 0, -1).astype(np.float32)
    for name in ("IXI012-HH-1211-T1.nii.gz", "IXI002-Guys-0828-T1.nii.gz", "IXI002-Guys-0828-T2.nii.gz", "other.nii.gz"):
        nib.save(nib.Nifti1Image(vol, np.eye(4)), tmp_path / name)
    seen = {}

    def fake_run(data, quick, out, max_volumes, **kw):
        seen.update(data=data, files=kw["files"])

    monkeypatch.setattr(bench, "run", fake_run)
    bench.main(["--ixi", str(tmp_path)])
    assert [p.name for p in seen["files"]] == ["IXI002-Guys-0828-T1.nii.gz", "IXI012-HH-1211-T1.nii.gz"]
    keep, _ = bench.find_volumes(tmp_path, seen["files"])
    assert [p.name for p in keep] == ["IXI002-Guys-0828-T1.nii.gz", "IXI012-HH-1211-T1.nii.gz"]
