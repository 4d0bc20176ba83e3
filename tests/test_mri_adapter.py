"""The MRI room's adapter: registry, exact tensor round trips, noise level, I/O through the engine's
guards (DICOM folders included), degradations, metrics, training pairs and restoring with a model."""

from __future__ import annotations

import json
import warnings

import nibabel as nib
import numpy as np
import pytest
import torch
from test_mri_files import _series
from wavediff.modalities.mri import training as mri_training
from wavediff.modalities.mri.adapter import MRI
from wavediff.modalities.mri.degrade import rician
from wavediff.modalities.mri.files import MRImage, read_mri
from wavediff.modalities.mri.metrics import foreground_mask, volume_metrics

from wavediff import Restorer, get_modality
from wavediff.errors import (
    DataNotFoundError,
    InvalidInputError,
    NonFiniteError,
    OutputExistsError,
    ShapeError,
    UnsupportedFormatError,
)
from wavediff.learning import train


def _head(shape=(40, 36, 6), seed=0, sigma=0.05):
    """A bright block in a Rayleigh background: the noise level is known."""
    rng = np.random.default_rng(seed)
    vol = np.zeros(shape)
    vol[8:32, 8:28] = (1.0 + 0.2 * np.sin(np.arange(shape[1])[8:28] / 3.0))[:, None]
    return rician(vol, sigma, rng, reference=1.0)


def _nifti(path, data, zooms=(1.0, 1.0, 3.0)):
    img = nib.Nifti1Image(data.astype(np.float32), np.diag([*zooms, 1.0]))
    nib.save(img, path)
    return path


def test_registered_with_its_settings():
    room = get_modality("mri")
    assert isinstance(room, MRI) and room.spatial_dims == 2
    assert room.settings() == {"channels": 1, "context_channels": 3, "multiple": 16, "dims": 2, "cube": 48}  # 2.5-D
    assert type(room)(**room.settings()).settings() == room.settings()
    with pytest.raises(InvalidInputError, match="power of two"):
        MRI(multiple=12)
    with pytest.raises(InvalidInputError, match="noise level map"):
        MRI(context_channels=2)


@pytest.mark.parametrize("shape", [(40, 36), (40, 36, 6), (24, 20, 5, 3)], ids=["slice", "volume", "4-D"])
def test_tensor_round_trip_is_exact(shape):
    room = MRI()
    rng = np.random.default_rng(1)
    data = rng.rayleigh(0.05, shape)
    data[5:20, 5:15] += 1.0
    data[(10, 10, *([0] * (len(shape) - 2)))] = (
        40.0  # a bright outlier above the clipping percentile comes back too
    )
    before = data.copy()
    tensor, ctx = room.to_tensor(data)
    assert tensor.shape[1] == 4 and tensor.shape[-1] % 16 == 0 and tensor.shape[-2] % 16 == 0
    assert float(tensor[:, 0].max()) <= 1.0 and float(tensor[:, 0].min()) >= 0.0
    back = room.from_tensor(tensor, ctx)
    np.testing.assert_allclose(back, data, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(data, before)  # the input is never modified


def test_slices_are_cut_along_the_largest_spacing_and_keep_the_image_type(tmp_path):
    data = _head()
    image = read_mri(_nifti(tmp_path / "a.nii.gz", data, zooms=(1.0, 3.0, 1.0)))
    room = MRI()
    tensor, ctx = room.to_tensor(image)
    assert ctx["axis"] == 1 and tensor.shape[0] == data.shape[1]  # 36 slices of 40 x 6 (padded)
    back = room.from_tensor(tensor, ctx)
    assert isinstance(back, MRImage) and back.source == "nifti"
    np.testing.assert_array_equal(back.affine, image.affine)
    np.testing.assert_allclose(back.data, image.data, rtol=0, atol=1e-6)
    assert room.to_tensor(image, axis=2)[1]["axis"] == 2
    with pytest.raises(InvalidInputError, match="axis"):
        room.to_tensor(image, axis=5)


def test_noise_level_channel_given_or_estimated():
    room = MRI()
    data = _head(sigma=0.05)
    tensor, ctx = room.to_tensor(data)
    norm = ctx["volumes"][0]["norm"]
    level = float(tensor[0, 1, 0, 0]) * (norm["high"] - norm["low"])
    assert level == pytest.approx(0.05, rel=0.05) and "estimated from the background" in ctx["report"]
    tensor, ctx = room.to_tensor(data, sigma=0.07)
    assert float(tensor[0, 1, 0, 0]) * (norm["high"] - norm["low"]) == pytest.approx(0.07, rel=1e-5)
    assert "(given)" in ctx["report"]
    cropped = data[8:32, 8:28]  # no background left: the MAD estimate, and the report says so
    assert (
        "MAD inside the object: the background is not Rayleigh noise" in room.to_tensor(cropped)[1]["report"]
    )
    with pytest.raises(InvalidInputError, match="pass sigma="):
        room.to_tensor(data[10:16, 10:16])  # neither estimate works: the user is told what to give
    with pytest.raises(InvalidInputError, match="sigma"):
        room.to_tensor(data, sigma=-1.0)


def test_blind_room_has_no_level_channel():
    assert MRI(context_channels=0).to_tensor(_head())[0].shape[1] == 1


def test_uncertainty_is_scaled_back_to_image_units():
    room = MRI()
    data = _head()
    tensor, ctx = room.to_tensor(data)
    std = room.uncertainty_from_tensor(torch.ones_like(tensor[:, :1]) * 0.1, ctx)
    norm = ctx["volumes"][0]["norm"]
    np.testing.assert_allclose(std, 0.1 * (norm["high"] - norm["low"]), rtol=1e-6)


@pytest.mark.parametrize(
    "bad, error",
    [
        (np.full((20, 20, 3), np.nan), NonFiniteError),
        (-np.ones((20, 20, 3)), InvalidInputError),
        (np.ones((2, 2, 2, 2, 2)), ShapeError),
        (np.ones(10), ShapeError),
        (np.zeros((20, 20, 3)) + 0j, InvalidInputError),
    ],
    ids=["nan", "negative", "5-D", "1-D", "complex"],
)
def test_bad_input_gets_a_clear_error(bad, error):
    with pytest.raises(error):
        MRI().to_tensor(bad)


def test_read_write_through_the_engine_guards(tmp_path):
    room = MRI()
    src = _nifti(tmp_path / "in.nii.gz", _head())
    image = room.read(src)
    out = room.write(image, tmp_path / "out.nii.gz")
    assert nib.load(out).shape == image.data.shape
    with pytest.raises(OutputExistsError):
        room.write(image, out)
    room.write(image, out, overwrite=True)
    with pytest.raises(UnsupportedFormatError):
        room.read(tmp_path / "x.png")
    with pytest.raises(DataNotFoundError):
        room.read(tmp_path / "missing.nii")
    assert "MR image (nifti)" in room.describe(image)


def test_dicom_series_folder_reads_and_writes_a_derived_series(tmp_path):
    pixels, _ = _series(tmp_path / "series", n=5, shape=(12, 10))
    room = MRI()
    image = room.read(tmp_path / "series")  # a folder: the engine guard lets the MRI room read it
    np.testing.assert_array_equal(image.data, pixels)
    restored = room.from_tensor(*room.to_tensor(image, sigma=1.0))
    out = room.write(restored, tmp_path / "derived")
    again = read_mri(out)
    np.testing.assert_allclose(again.affine, image.affine, atol=1e-4)
    assert again.header[0].SeriesInstanceUID != image.header[0].SeriesInstanceUID
    with pytest.raises(OutputExistsError):
        room.write(restored, out)


def test_degrade_is_reproducible_and_defined_as_the_field_defines_it():
    room = MRI()
    clean = np.zeros((64, 64, 2))
    clean[16:48, 16:48] = 1.0
    a = room.degrade(clean, np.random.default_rng(3), level=0.05)
    b = room.degrade(clean, np.random.default_rng(3), level=0.05)
    np.testing.assert_array_equal(a, b)
    background = a[:8, :8].ravel()
    assert np.sqrt(np.mean(background**2) / 2) == pytest.approx(
        0.05, rel=0.15
    )  # Rayleigh: sigma = level x max
    k = room.degrade(clean, np.random.default_rng(3), level=0.0, kind="kspace", acceleration=4)
    assert k["kspace"].shape == (2, 64, 64) and k["image"].shape == clean.shape and k["slice_axis"] == 2
    assert k["mask"].shape == (64, 64) and k["mask"].mean() == pytest.approx(0.25, abs=0.03)  # a quarter of the lines
    assert np.all(k["kspace"][:, ~k["mask"]] == 0)
    with pytest.raises(InvalidInputError, match="kind"):
        room.degrade(clean, np.random.default_rng(0), kind="motion")


def test_metrics_are_fastmri_metrics_with_the_foreground():
    room = MRI()
    clean = _head(sigma=0.0)
    noisy = _head(sigma=0.05, seed=4)
    m = room.metrics(clean, noisy)
    slices = (
        np.moveaxis(clean, -1, 0),
        np.moveaxis(noisy, -1, 0),
    )  # a plain array: slices along its last axis
    assert m == volume_metrics(*slices, foreground_mask(slices[0]))
    with pytest.raises(ShapeError):
        room.metrics(clean, noisy[:-1])


# --------------------------------------------------------------------------------- training pairs
def test_training_pairs_match_the_restore_time_scaling():
    room = MRI()
    recipe = room.default_recipe()
    recipe["train"].update(phantoms=1, phantom_size=48, patch=32)
    batch = room.training_data(recipe, seed=0)
    clean, noisy = batch(torch.Generator().manual_seed(0), 6)
    assert clean.shape == (6, 1, 32, 32) and noisy.shape == (6, 4, 32, 32)  # slice, level, neighbours
    assert float(noisy[:, 0].max()) <= 1.0  # the observation is clipped as restoring clips it
    levels = noisy[:, 1].reshape(6, -1)
    assert torch.all(levels == levels[:, :1])  # one level per crop, in the recipe's range times the gain
    lo, hi = recipe["train"]["noise"]
    assert float(levels.max()) <= hi * recipe["train"]["gain"][1] + 1e-6
    again = room.training_data(recipe, seed=0)(torch.Generator().manual_seed(0), 6)
    torch.testing.assert_close(again[0], clean)


def _cube(n=40):
    """A smooth object in an empty field of view (not a label map: it has a ramp of grey levels)."""
    good = np.zeros((n, n, n), np.float32)
    good[8 : n - 8, 8 : n - 8, 8 : n - 8] = np.linspace(0.5, 1.0, n - 16)[None, None, :]
    return good


def test_volume_pool_holds_out_excluded_files_and_skips_noise(tmp_path):
    good = _cube()
    (tmp_path / "test").mkdir()
    _nifti(tmp_path / "a.nii.gz", good)
    _nifti(tmp_path / "test" / "b.nii.gz", good)
    _nifti(tmp_path / "noise.nii.gz", np.random.default_rng(0).random((40, 40, 40)))
    with pytest.warns(UserWarning, match="noise.nii.gz"):
        vols, names = mri_training.volume_pool(tmp_path, exclude=["test/*"])
    assert names == ["a.nii.gz"] and len(vols) == 1
    assert float(np.percentile(vols[0], 99.5)) == pytest.approx(1.0)
    with pytest.raises(DataNotFoundError):
        mri_training.volume_pool(tmp_path / "none")
    room = MRI()
    assert [p.name for p in room.data_files(tmp_path, exclude=["test/*", "noise*"])] == ["a.nii.gz"]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("mri") / "w.safetensors"
    folder = tmp_path_factory.mktemp("mri_data")
    vol = _cube(48)
    (folder / "held").mkdir()
    _nifti(folder / "train.nii.gz", vol)
    _nifti(folder / "held" / "test.nii.gz", vol)
    recipe = {
        "net": {"preset": "tiny"},
        "train": {"batch_size": 2, "patch": 32, "exclude": ["held/*"]},
        "sampler": {"steps": 2},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return train("mri", steps=2, out=out, recipe=recipe, data=folder, progress=False)


def test_training_records_the_held_out_files(tiny_model):
    data = json.loads(tiny_model.with_suffix(".json").read_text())["info"]["data"]
    assert data["excluded"] == ["held/*"]
    assert [f["path"] for f in data["files"]] == ["train.nii.gz"]


def test_restore_keeps_the_native_type_and_gives_an_uncertainty(tiny_model, tmp_path):
    image = read_mri(_nifti(tmp_path / "n.nii.gz", _head()))
    restorer = Restorer("mri", tiny_model)
    out = restorer.restore(image, sigma=0.05)
    assert isinstance(out, MRImage) and out.data.shape == image.data.shape
    np.testing.assert_array_equal(out.affine, image.affine)
    assert "(given)" in restorer.report
    mean, std = restorer.restore(image.data, n_draws=2, return_std=True)
    assert mean.shape == std.shape == image.data.shape and float(std.min()) >= 0
    with pytest.raises(InvalidInputError, match="unknown keyword"):
        restorer.restore(image, sfreq=100)


def test_demo_writes_its_figure(tiny_model, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(MRI, "weights_path", classmethod(lambda cls: tiny_model))
    result = MRI().demo(tmp_path / "demo")
    assert result["figure"].is_file() and result["figure"].stat().st_size > 1000
    methods = [r["method"] for r in result["table"]]
    assert methods[0] == "noisy input" and "wavediff (posterior mean)" in methods
    assert "benchmarks/results/mri.md" in capsys.readouterr().out


def test_cli_restores_a_dicom_folder_into_a_derived_series(tiny_model, tmp_path, capsys):
    from wavediff import cli

    pixels, _ = _series(tmp_path / "series", n=5, shape=(12, 10))
    out = tmp_path / "restored"
    argv = ["restore", "mri", str(tmp_path / "series"), str(out), "--model", str(tiny_model), "--quiet"]
    assert cli.main([*argv, "--sigma", "1.0"]) == 0
    assert read_mri(out).data.shape == pixels.shape
    assert cli.main(argv) == 2  # the output exists now
    assert "exists" in capsys.readouterr().err
    argv[3] = str(tmp_path / "again")
    assert cli.main(argv) == 2  # no background and no object: the level cannot be estimated, and it says so
    assert "pass sigma=" in capsys.readouterr().err
    npy = tmp_path / "x.npy"
    np.save(npy, np.ones((4, 4)))
    assert cli.main(["restore", "eeg", str(npy), str(tmp_path / "y.fif"), "--sigma", "1"]) == 2
    assert "--sigma applies to rooms with a noise level" in capsys.readouterr().err


def test_two_and_a_half_d_layout_carries_the_neighbouring_slices():
    room = MRI(context_channels=3)
    data = _head(shape=(40, 36, 5))
    tensor, ctx = room.to_tensor(data, sigma=0.05)
    assert tensor.shape == (5, 4, 48, 48)
    torch.testing.assert_close(tensor[1:, 2], tensor[:-1, 0])  # the slice before
    torch.testing.assert_close(tensor[:-1, 3], tensor[1:, 0])  # the slice after
    torch.testing.assert_close(tensor[0, 2], tensor[0, 0])  # the edges stand in for themselves
    torch.testing.assert_close(tensor[-1, 3], tensor[-1, 0])
    np.testing.assert_allclose(room.from_tensor(tensor[:, :1], ctx), data, rtol=0, atol=1e-12)


def test_two_and_a_half_d_training_pairs():
    room = MRI(context_channels=3)
    recipe = room.default_recipe()
    recipe["data"]["context_channels"] = 3
    recipe["train"].update(phantoms=1, phantom_size=48, patch=32, edge_fraction=0.0)
    clean, noisy = room.training_data(recipe, seed=0)(torch.Generator().manual_seed(0), 8)
    assert clean.shape == (8, 1, 32, 32) and noisy.shape == (8, 4, 32, 32)
    # the neighbours are other slices with their own noise: never the observed slice itself
    assert all(not torch.equal(noisy[k, 2], noisy[k, 0]) and not torch.equal(noisy[k, 3], noisy[k, 0]) for k in range(8))
    # and they are close to it (neighbouring anatomy), closer than a random other crop
    near = (noisy[:, 2] - noisy[:, 0]).abs().mean()
    far = (noisy[:, 2] - noisy[torch.arange(8).roll(1), 0]).abs().mean()
    assert near < far
