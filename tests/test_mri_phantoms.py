"""Tests of wavediff.datasets.mri.phantoms: 3-D Shepp-Logan and the procedural BrainWeb-like head.

References: scikit-image's 2-D modified Shepp-Logan phantom, and the spin-echo equation
``PD (1 - exp(-TR/T1)) exp(-TE/T2)`` evaluated by hand with BrainWeb's 1.5 T tissue parameters.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage
from skimage.data import shepp_logan_phantom
from skimage.transform import resize
from wavediff.datasets.mri import phantoms as ph

from wavediff.errors import InvalidInputError, ShapeError

CSF, GM, WM, FAT = 1, 2, 3, 4


# --------------------------------------------------------------------------- Shepp-Logan 3-D


def test_shepp_logan_central_slice_matches_2d_modified_phantom():
    vol = ph.shepp_logan_3d((65, 128, 128))
    ref = resize(shepp_logan_phantom(), (128, 128), order=1, anti_aliasing=True)
    assert np.corrcoef(vol[32].ravel(), ref.ravel())[0, 1] > 0.9
    assert vol.dtype == np.float64 and vol.min() >= 0.0 and vol.max() <= 1.0
    assert set(np.round(np.unique(vol), 6)) <= {0.0, 0.1, 0.2, 0.3, 1.0}


def test_shepp_logan_symmetric_where_the_phantom_is():
    vol = ph.shepp_logan_3d((64, 48, 48))
    z = (np.arange(64) + 0.5) / 64 * 2 - 1
    top, bottom = vol[z > 0.6], vol[z < -0.6]  # only the two outer ellipsoids reach |z| > 0.6
    np.testing.assert_array_equal(top, top[:, :, ::-1])  # left-right
    np.testing.assert_array_equal(top, bottom[::-1])  # superior-inferior
    assert top.max() == 1.0  # the skull is there


def test_shepp_logan_original_contrast_and_anisotropic_shape():
    vol = ph.shepp_logan_3d((16, 40, 24), modified=False)
    assert vol.shape == (16, 40, 24)
    assert math.isclose(vol.max(), 2.0) and math.isclose(vol[8, 20, 12], 1.02)


# --------------------------------------------------------------------------- brain phantom


@pytest.fixture(scope="module")
def t1():
    return ph.brain_phantom(rng=0, return_labels=True)


@pytest.fixture(scope="module")
def clean():
    """Seed 0 without bias and texture: a pure mixture of tissue signals (custom TR/TE)."""
    return ph.brain_phantom(rng=0, contrast={"TR": 600, "TE": 20}, bias=0.0, texture=0.0)


def _means(img, lab):
    return {k: float(img[lab == k].mean()) for k in (CSF, GM, WM)}


def test_same_seed_same_volume_other_seed_other_anatomy(t1):
    img, lab = t1
    again, lab_again = ph.brain_phantom(rng=np.random.default_rng(0), return_labels=True)
    np.testing.assert_array_equal(img, again)
    np.testing.assert_array_equal(lab, lab_again)
    other, lab_other = ph.brain_phantom(rng=1, return_labels=True)
    assert np.mean(lab != lab_other) > 0.02
    assert img.shape == (96, 112, 96) and img.dtype == np.float32 and img.max() == 1.0 and img.min() >= 0


def _brain_fractions(lab):
    n = np.bincount(lab.ravel(), minlength=8)
    brain = n[CSF] + n[GM] + n[WM]
    return n[GM] / n[WM], n[CSF] / brain, n / lab.size


def test_tissue_volume_fractions_plausible_and_stable_across_seeds(t1):
    ratios = []
    for seed in (0, 1):
        lab = t1[1] if seed == 0 else ph.brain_phantom(rng=seed, return_labels=True)[1]
        gm_wm, csf, fractions = _brain_fractions(lab)
        assert 0.8 < gm_wm < 1.6
        assert 0.05 < csf < 0.25
        assert set(np.unique(lab)) == set(range(7))  # every class but the optional vessels
        ratios.append(fractions)
    for k in range(1, 7):
        assert abs(ratios[1][k] / ratios[0][k] - 1) < 0.2, ph.LABELS[k]


def test_contrast_orderings(t1):
    img, lab = t1
    m = _means(img, lab)
    assert m[WM] > m[GM] > m[CSF]
    m = _means(ph.brain_phantom(rng=0, contrast="T2"), lab)
    assert m[CSF] > m[GM] > m[WM]
    m = _means(ph.brain_phantom(rng=0, contrast="pd"), lab)
    assert m[CSF] >= m[GM] >= m[WM]


def test_contrast_orderings_at_3t():
    img, lab = ph.brain_phantom((48, 56, 48), rng=2, voxel_mm=4.0, field_strength=3.0, return_labels=True)
    m = _means(img, lab)
    assert m[WM] > m[GM] > m[CSF]


def _pure(lab, k):
    """Voxels of class k whose 26 neighbours are all class k: no boundary within half a voxel."""
    return ndimage.binary_erosion(lab == k, np.ones((3, 3, 3)))


def test_signal_equation_for_single_tissue_voxels(t1, clean):
    lab = t1[1]
    # TR 600, TE 20 by hand: S = PD (1 - exp(-TR/T1)) exp(-TE/T2); fat is the brightest tissue
    s_fat = 1.0 * (1 - math.exp(-600 / 350)) * math.exp(-20 / 70)
    s_wm = 0.77 * (1 - math.exp(-600 / 500)) * math.exp(-20 / 70)
    s_gm = 0.86 * (1 - math.exp(-600 / 833)) * math.exp(-20 / 83)
    assert clean.max() == 1.0 and lab[np.unravel_index(np.argmax(clean), clean.shape)] == FAT
    # "pure" by labels; a few are not: sub-voxel CSF sheets, the cortical ribbon's first-order distances
    for k, expected, share in ((WM, s_wm / s_fat, 0.99), (GM, s_gm / s_fat, 0.85)):
        values = clean[_pure(lab, k)]
        exact = np.isclose(values, expected, rtol=1e-6, atol=0)
        assert values.size > 100 and exact.mean() > share
        assert math.isclose(float(np.median(values)), expected, rel_tol=1e-6)
    assert math.isclose(ph.spin_echo_signal(0.77, 500, 70, 600, 20), s_wm, rel_tol=1e-12)


def test_partial_volume_between_pure_tissue_values(t1, clean):
    lab = t1[1]
    gm, wm = (float(np.median(clean[_pure(lab, k)])) for k in (GM, WM))
    brain = clean[(lab == GM) | (lab == WM)]
    between = (brain > gm + 1e-3) & (brain < wm - 1e-3)
    assert between.mean() > 0.02  # mixed grey/white voxels at the cortical ribbon


def _high_frequency_share(ratio):
    """Share of the (Hann-windowed) spectral energy above a quarter cycle per voxel, inside the brain."""
    core = ratio[34:62, 42:70, 34:62].astype(np.float64)  # inside the brain, where the ratio is defined
    window = np.hanning(28)
    core = (core - core.mean()) * window[:, None, None] * window[None, :, None] * window[None, None, :]
    power = np.abs(np.fft.fftn(core)) ** 2
    f = np.sqrt(sum(g**2 for g in np.meshgrid(*(np.fft.fftfreq(28),) * 3, indexing="ij")))
    return float(power[f > 0.25].sum() / power.sum())


def test_bias_field_is_smooth_and_bounded(clean):
    biased = ph.brain_phantom(rng=0, contrast={"TR": 600, "TE": 20}, bias=0.1, texture=0.0)
    head = clean > 0.05
    ratio = np.where(head, biased / np.where(head, clean, 1), 1.0)
    rel = ratio[head] / np.median(ratio[head])
    assert rel.std() > 0.01 and rel.min() > 0.8 and rel.max() < 1.25
    assert _high_frequency_share(ratio) < 1e-3
    textured = ph.brain_phantom(rng=0, contrast={"TR": 600, "TE": 20}, bias=0.0, texture=0.025)
    assert _high_frequency_share(np.where(head, textured / np.where(head, clean, 1), 1.0)) > 0.1


def test_head_mask(t1):
    img, lab = t1
    np.testing.assert_array_equal(ph.head_mask(lab), lab > 0)
    mask = ph.head_mask(img)
    dice = 2 * np.sum(mask & (lab > 0)) / (mask.sum() + np.sum(lab > 0))
    assert dice > 0.95


# --------------------------------------------------------------------------- slices


def test_brain_slices_shape_scale_and_reproducibility():
    s = ph.brain_slices(11, rng=3, shape=(64, 48), contrast="T2", slices_per_phantom=4)
    assert s.shape == (11, 64, 48) and s.dtype == np.float32
    np.testing.assert_allclose(s.max(axis=(1, 2)), 1.0)
    assert np.all(s[:, 0, :] == 0) and np.all((s > 0.05).mean(axis=(1, 2)) > 0.2)  # a head in air
    np.testing.assert_array_equal(
        s, ph.brain_slices(11, rng=3, shape=(64, 48), contrast="T2", slices_per_phantom=4)
    )
    assert not np.array_equal(
        s, ph.brain_slices(11, rng=4, shape=(64, 48), contrast="T2", slices_per_phantom=4)
    )


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("shape", [(64, 64), (8, 64, 64), (64.0, 64, 64), (True, 64, 64), 64, (16, 16, -1)])
def test_bad_shape(shape):
    with pytest.raises(ShapeError, match="3 integers >= 16"):
        ph.brain_phantom(shape)
    with pytest.raises(ShapeError, match="shape="):
        ph.shepp_logan_3d(shape)


def test_bad_slice_shape_and_count():
    with pytest.raises(ShapeError, match="2 integers >= 16"):
        ph.brain_slices(2, rng=0, shape=(10, 10))
    with pytest.raises(InvalidInputError, match="positive integer"):
        ph.brain_slices(0, rng=0)


@pytest.mark.parametrize("contrast", ["FLAIR", 3, {"TR": 500}, {"TR": -1, "TE": 10}])
def test_bad_contrast(contrast):
    with pytest.raises(InvalidInputError, match="TR|PD"):
        ph.brain_phantom((16, 16, 16), rng=0, contrast=contrast)


def test_unknown_contrast_lists_valid_ones():
    with pytest.raises(InvalidInputError, match=r"\['PD', 'T1', 'T2'\]"):
        ph.brain_slices(1, rng=0, contrast="FLAIR")


@pytest.mark.parametrize(
    "kwargs", [{"field_strength": 7.0}, {"bias": -0.1}, {"texture": 1.0}, {"voxel_mm": 0}, {"rng": "a"}]
)
def test_bad_parameters(kwargs):
    with pytest.raises(InvalidInputError):
        ph.brain_phantom((16, 16, 16), **{"rng": 0, **kwargs})
