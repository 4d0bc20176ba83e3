"""The MRI room's 3-D layout (cWDM's packing on cubes): exact cut and blend, the adapter's cubes and their
inverse, 3-D training pairs, and a 3-D model built, trained and used through the engine like the 2-D one."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from wavediff.modalities.mri.adapter import MRI
from wavediff.modalities.mri.degrade import rician
from wavediff.modalities.mri.training import crop3d
from wavediff.modalities.mri.volume3d import blend, cubes

from wavediff import Restorer, get_modality
from wavediff.errors import ConfigError, InvalidInputError
from wavediff.learning import train


@pytest.mark.parametrize("shape", [(40, 20, 7), (16, 16, 16), (5, 70, 33), (1, 30, 30)])
def test_cubes_cover_every_voxel_and_blend_back_exactly(shape):
    vol = np.random.default_rng(1).random(shape)
    rows, geom = cubes(vol, 16, 12)
    assert rows.shape[1:] == (16, 16, 16)
    np.testing.assert_allclose(blend(rows, geom), vol, rtol=0, atol=1e-12)
    # a change to one cube reaches only the voxels it covers, weighted by the taper
    changed = rows.copy()
    changed[0] += 1.0
    diff = blend(changed, geom) - vol
    a, b, c = geom["starts"][0]
    outside = np.ones(geom["padded"], bool)
    outside[a : a + 16, b : b + 16, c : c + 16] = False
    assert np.abs(diff[outside[: shape[0], : shape[1], : shape[2]]]).max(initial=0) < 1e-12
    assert 0.5 < diff.max() <= 1 + 1e-12


def test_cubes_refuse_what_they_cannot_cut():
    with pytest.raises(InvalidInputError, match="3-D"):
        cubes(np.zeros((8, 8)), 4, 2)
    with pytest.raises(InvalidInputError, match="hop"):
        cubes(np.zeros((8, 8, 8)), 4, 5)
    rows, geom = cubes(np.zeros((8, 8, 8)), 4, 4)
    with pytest.raises(InvalidInputError, match="cubes"):
        blend(rows[1:], geom)


def test_training_crops_are_cubes_of_the_volume_resized_and_turned():
    vol = np.arange(40 * 30 * 20, dtype=np.float32).reshape(40, 30, 20) / 24000.0
    rng = np.random.default_rng(0)
    crops = [crop3d(vol, 16, rng, (1.0, 1.0)) for _ in range(6)]
    assert all(c.shape == (16, 16, 16) and c.dtype == np.float32 for c in crops)
    # without resizing a crop is a block of the volume's values, only flipped and transposed
    values = set(np.round(vol.ravel() * 24000).astype(int))
    assert all(set(np.round(c.ravel() * 24000).astype(int)) <= values for c in crops)
    assert len({c.tobytes() for c in crops}) == 6
    small = crop3d(vol[:10], 16, rng, (0.3, 0.5))  # thinner than the crop: mirrored, never an error
    assert small.shape == (16, 16, 16)


def test_the_room_cuts_cubes_for_a_three_d_model_and_inverts_exactly():
    room = get_modality("mri", dims=3, cube=32)
    assert room.spatial_dims == 3 and room.context_channels == 1 and MRI().spatial_dims == 2
    assert room.settings()["dims"] == 3
    vol = rician(np.pad(np.ones((30, 40, 20)), 8), 0.05, np.random.default_rng(0), reference=1.0)
    unit = np.percentile(vol, 99.5) - vol.min()  # the volume's scaling (its 0 and 99.5th percentiles)
    tensor, ctx = room.to_tensor(vol, sigma=0.05)
    assert tensor.shape[1:] == (2, 32, 32, 32) and "cube(s) of 32^3" in ctx["report"]
    assert torch.allclose(tensor[:, 1], torch.tensor(0.05 / unit, dtype=torch.float32))  # the level map
    np.testing.assert_allclose(room.from_tensor(tensor, ctx), vol, rtol=0, atol=1e-10)
    std = room.uncertainty_from_tensor(torch.ones_like(tensor[:, :1]), ctx)
    assert std.shape == vol.shape and np.allclose(std, unit)
    with pytest.raises(InvalidInputError, match="3-D model takes 0 or 1"):
        MRI(dims=3, context_channels=3)
    with pytest.raises(InvalidInputError, match="multiple"):
        MRI(dims=3, cube=40)
    with pytest.raises(InvalidInputError, match="dims"):
        MRI(dims=4)


def test_three_d_training_pairs_carry_the_level_map():
    room = MRI(dims=3)
    recipe = room.default_recipe()
    recipe["data"].update(dims=3, context_channels=1)
    recipe["train"].update(phantoms=1, phantom_size=48, patch=16)
    clean, noisy = room.training_data(recipe, seed=0)(torch.Generator().manual_seed(0), 4)
    assert clean.shape == (4, 1, 16, 16, 16) and noisy.shape == (4, 2, 16, 16, 16)
    levels = noisy[:, 1].reshape(4, -1)
    assert torch.all(levels == levels[:, :1]) and float(noisy[:, 0].max()) <= 1.0
    again = room.training_data(recipe, seed=0)(torch.Generator().manual_seed(0), 4)
    torch.testing.assert_close(again[1], noisy)


def test_a_three_d_model_trains_records_its_layout_and_restores_a_volume(tmp_path):
    recipe = {
        "data": {"dims": 3, "context_channels": 1, "cube": 16},
        "net": {"preset": "tiny"},
        "train": {"phantoms": 1, "phantom_size": 32, "patch": 16, "batch_size": 2, "warmup_steps": 1},
    }
    path = train("mri", steps=2, out=tmp_path / "w3.safetensors", recipe=recipe, progress=False)
    restorer = Restorer("mri", path)  # the room is built from the model's layout: dims 3
    assert restorer.model.net.config["dims"] == 3 and restorer.modality.dims == 3
    vol = rician(np.pad(np.ones((12, 20, 18)), 4), 0.05, np.random.default_rng(1), reference=1.0)
    out, std = restorer.restore(vol, n_draws=2, return_std=True, sigma=0.05)
    assert out.shape == vol.shape and std.shape == vol.shape and np.all(out >= 0)
    with pytest.raises(ConfigError, match="'dims': 3"):
        Restorer(MRI(), path)  # a 2-D room refuses a 3-D model
