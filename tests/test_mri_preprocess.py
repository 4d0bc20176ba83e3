"""MRI preprocessing inverts exactly, and a model's change passes through the inverse unaltered."""

from __future__ import annotations

import numpy as np
import pytest
from wavediff.modalities.mri.preprocess import (
    crop_to,
    denormalise,
    from_slices,
    normalise,
    pad_to,
    slice_axis,
    stack_volumes,
    to_slices,
    volumes,
)

from wavediff.errors import InvalidInputError, NonFiniteError, ShapeError


def _volume(seed=0, shape=(12, 20, 16)):
    rng = np.random.default_rng(seed)
    x = rng.gamma(2.0, 100.0, size=shape)
    x[rng.uniform(size=shape) < 0.01] *= 20  # bright outliers (vessels, fat)
    return x.astype(np.int16).astype(np.float64)


def test_normalise_round_trip_and_percentiles():
    x = _volume()
    x0 = x.copy()
    y, ctx = normalise(x, 0.0, 99.5)
    np.testing.assert_array_equal(x, x0)
    assert y.dtype == np.float32 and y.min() == 0.0 and y.max() == 1.0
    assert ctx["low"] == np.percentile(x, 0.0) and ctx["high"] == pytest.approx(np.percentile(x, 99.5))
    np.testing.assert_allclose(denormalise(y, ctx), x, rtol=1e-12, atol=1e-9)
    # about 0.5 % of the voxels are clipped, and they come back
    assert 0.002 < (y == 1.0).mean() < 0.01


def test_a_models_change_passes_through_and_outliers_are_kept():
    x = _volume(1)
    y, ctx = normalise(x, 1.0, 99.5)
    change = np.zeros_like(y)
    change[2:4, 5:9, 3:7] = 0.01
    back = denormalise(y + change, ctx)
    np.testing.assert_allclose(back - x, change * (ctx["high"] - ctx["low"]), rtol=1e-6, atol=1e-6)
    bright = x > ctx["high"]
    assert bright.any()
    np.testing.assert_allclose(back[bright & (change == 0)], x[bright & (change == 0)], rtol=1e-12)


def test_normalise_over_a_mask():
    x = _volume(2)
    mask = np.zeros(x.shape, bool)
    mask[:, 5:15, 4:12] = True
    _, ctx = normalise(x, 0.0, 99.0, mask=mask)
    assert ctx["high"] == pytest.approx(np.percentile(x[mask], 99.0))


def test_slices_along_the_largest_spacing_round_trip():
    x = _volume(3)
    assert slice_axis((0.9, 0.9, 4.0)) == 2 and slice_axis((3.0, 1.0, 1.0)) == 0
    assert slice_axis((1.0, 1.0, 1.0)) == 2
    for axis in range(3):
        s = to_slices(x, axis)
        assert s.shape[0] == x.shape[axis]
        np.testing.assert_array_equal(s[4], np.take(x, 4, axis=axis))
        np.testing.assert_array_equal(from_slices(s, axis), x)


def test_pad_and_crop_invert_for_any_size():
    rng = np.random.default_rng(4)
    for shape in [(3, 30, 17), (2, 32, 32), (1, 5, 3)]:
        x = rng.normal(size=shape)
        p, sizes = pad_to(x, 8)
        assert all(n % 8 == 0 for n in p.shape[-2:])
        np.testing.assert_array_equal(crop_to(p, sizes), x)
    p3, s3 = pad_to(rng.normal(size=(9, 10, 11)), 4, dims=3)
    assert p3.shape == (12, 12, 12) and crop_to(p3, s3).shape == (9, 10, 11)


def test_4d_data_volume_by_volume():
    data = np.random.default_rng(5).normal(size=(6, 7, 8, 3))
    vols = list(volumes(data))
    assert len(vols) == 3 and vols[1].shape == (6, 7, 8)
    np.testing.assert_array_equal(stack_volumes(vols, four_d=True), data)
    np.testing.assert_array_equal(stack_volumes(list(volumes(data[..., 0])), four_d=False), data[..., 0])


def test_bad_input_says_what_to_do():
    with pytest.raises(NonFiniteError, match="fill them"):
        normalise(np.full((4, 4, 4), np.nan))
    with pytest.raises(InvalidInputError, match="constant"):
        normalise(np.ones((4, 4, 4)))
    with pytest.raises(InvalidInputError, match="percentiles"):
        normalise(_volume(), 50, 10)
    with pytest.raises(InvalidInputError, match="magnitude"):
        normalise(np.ones((4, 4, 4), complex))
    y, ctx = normalise(_volume())
    with pytest.raises(ShapeError, match="normalised from"):
        denormalise(y[:2], ctx)
    with pytest.raises(ShapeError, match="volume by volume"):
        to_slices(np.ones((2, 3, 4, 5)), 0)
    with pytest.raises(ShapeError, match="4-D"):
        list(volumes(np.ones((2, 3))))
    with pytest.raises(InvalidInputError, match="voxel sizes"):
        slice_axis((1.0, 0.0, 1.0))
