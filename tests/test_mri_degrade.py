"""MRI degradations against closed forms: Rician statistics (scipy.stats.rice), exact k-space round trips,
SENSE-normalised coil maps, fastMRI mask fractions, and the noise estimators on known sigma."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats
from wavediff.modalities.mri.degrade import (
    coil_maps,
    estimate_sigma,
    rician,
    simulate_kspace,
    smooth_phase,
    undersample,
)

from wavediff.errors import InvalidInputError, ShapeError
from wavediff.operators import SubsampledFourier, ifftc


def test_rician_noise_follows_scipys_rice_distribution():
    rng = np.random.default_rng(0)
    x = np.full((4000,), 0.3)
    x[:2000] = 0.0  # background: Rayleigh, the Rice distribution with b = 0
    y = rician(x.reshape(40, 100), 0.05, rng, reference=1.0).ravel()
    sigma = 0.05
    for part, nu in ((y[:2000], 0.0), (y[2000:], 0.3)):
        ks = stats.kstest(part, stats.rice(b=nu / sigma, scale=sigma).cdf)
        assert ks.pvalue > 0.01
    assert y[:2000].mean() == pytest.approx(sigma * np.sqrt(np.pi / 2), rel=0.05)


def test_rician_level_is_a_fraction_of_the_maximum_and_reproducible():
    x = np.linspace(0, 2.0, 10000).reshape(100, 100)
    x0 = x.copy()
    a = rician(x, 0.09, np.random.default_rng(5))
    b = rician(x, 0.09, np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(x, x0)
    bright = x > 1.5  # high SNR: the noise is nearly Gaussian with std sigma = 0.09 * 2
    assert np.std(a[bright] - x[bright]) == pytest.approx(0.18, rel=0.08)
    # complex input: the noise is added before the magnitude
    z = x * np.exp(1j * 0.7)
    assert rician(z, 0.0, np.random.default_rng(0)) == pytest.approx(x)


def test_simulated_kspace_inverts_to_the_image_single_and_multi_coil():
    rng = np.random.default_rng(1)
    mag = rng.uniform(0.1, 1.0, size=(2, 24, 32))
    single = simulate_kspace(mag, rng)
    img = ifftc(torch.from_numpy(single["kspace"].astype(np.complex128))).numpy()
    np.testing.assert_allclose(np.abs(img), mag, rtol=1e-5, atol=1e-6)
    assert np.ptp(np.angle(img)) > 0.5  # the phase is not constant
    multi = simulate_kspace(mag, rng, coils=4)
    assert multi["kspace"].shape == (2, 4, 24, 32)
    coil_imgs = ifftc(torch.from_numpy(multi["kspace"].astype(np.complex128))).numpy()
    rss = np.sqrt((np.abs(coil_imgs) ** 2).sum(axis=1))  # sum |S_c|^2 = 1: RSS is the magnitude
    np.testing.assert_allclose(rss, mag, rtol=1e-5, atol=1e-6)
    # the engine's operator with these maps gives the same k-space
    op = SubsampledFourier(torch.ones(24, 32), coil_maps=torch.from_numpy(multi["maps"]))
    k = op.forward(torch.from_numpy(multi["image"]))
    np.testing.assert_allclose(k.numpy(), multi["kspace"], rtol=1e-4, atol=1e-5)


def test_kspace_noise_is_white_with_the_stated_std():
    mag = np.zeros((64, 64))
    mag[20:40, 20:40] = 1.0
    out = simulate_kspace(mag, np.random.default_rng(2), phase=False, noise=0.02)
    clean = simulate_kspace(mag, np.random.default_rng(2), phase=False)["kspace"]
    diff = out["kspace"] - clean
    assert np.std(diff.real) == pytest.approx(0.02, rel=0.05)
    assert np.std(diff.imag) == pytest.approx(0.02, rel=0.05)


def test_coil_maps_and_phase_are_smooth_and_normalised():
    maps = coil_maps((48, 40), 8)
    np.testing.assert_allclose((np.abs(maps) ** 2).sum(axis=0), 1.0, rtol=1e-10)
    p = smooth_phase((3, 64, 64), np.random.default_rng(0))
    assert p.shape == (3, 64, 64) and np.abs(p).max() <= np.pi + 1e-12
    spectrum = np.abs(np.fft.fftshift(np.fft.fft2(np.exp(1j * p[0])))) ** 2
    centre = spectrum[24:40, 24:40].sum()
    assert centre / spectrum.sum() > 0.95  # nearly all energy at low spatial frequencies


@pytest.mark.parametrize("acc,kind", [(4, "equispaced"), (8, "equispaced"), (4, "random"), (8, "random")])
def test_undersampling_keeps_fastmris_fraction_and_whole_lines(acc, kind):
    k = (np.random.default_rng(0).normal(size=(2, 96, 368)) * (1 + 1j)).astype(np.complex64)
    fractions = []
    for seed in range(20):
        ku, mask = undersample(k, acc, kind=kind, seed=seed)
        assert (mask == mask[:1]).all()  # whole lines along the phase-encoding axis
        np.testing.assert_array_equal(ku[:, mask], k[:, mask])
        assert (ku[:, ~mask] == 0).all()
        n_low = round(368 * {4: 0.08, 8: 0.04}[acc])
        centre = (368 - n_low + 1) // 2
        assert mask[0, centre : centre + n_low].all()
        fractions.append(mask.mean())
    assert np.mean(fractions) == pytest.approx(1 / acc, abs=0.015)


def test_noise_estimators_recover_a_known_sigma():
    rng = np.random.default_rng(3)
    zz, yy, xx = np.mgrid[:16, :96, :96]
    head = ((yy - 48) / 36) ** 2 + ((xx - 48) / 30) ** 2 < 1
    vol = head * (0.6 + 0.3 * np.sin(xx / 9.0))  # smooth anatomy
    for level in (0.03, 0.05, 0.09):
        y = rician(vol, level, rng, reference=1.0)
        assert estimate_sigma(y, "background") == pytest.approx(level, rel=0.05)
        assert estimate_sigma(y, "mad", mask=head) == pytest.approx(level, rel=0.1)
    reps = np.stack([rician(vol, 0.05, rng, reference=1.0) for _ in range(8)], axis=-1)
    reps = np.moveaxis(reps, 0, 2)  # (x, y, z, repetitions)
    assert estimate_sigma(reps, "piesno") == pytest.approx(0.05, rel=0.15)


def test_bad_input_says_what_to_do():
    rng = np.random.default_rng(0)
    with pytest.raises(InvalidInputError, match="magnitude"):
        rician(-np.ones((8, 8)), 0.05, rng)
    with pytest.raises(InvalidInputError, match=r"\[0, 1\)"):
        rician(np.ones((8, 8)), 5, rng)
    with pytest.raises(InvalidInputError, match="default_rng"):
        rician(np.ones((8, 8)), 0.05, 0)
    with pytest.raises(ShapeError, match="complex k-space"):
        undersample(np.ones((8, 8)), 4)
    with pytest.raises(InvalidInputError, match="center_fraction"):
        undersample(np.ones((8, 64), complex), 6)
    with pytest.raises(ShapeError, match="PIESNO"):
        estimate_sigma(np.ones((8, 8, 8)) + 0.1, "piesno")
    with pytest.raises(InvalidInputError, match="cropped"):
        estimate_sigma(rician(np.ones((32, 32)), 0.05, rng), "background", mask=np.ones((32, 32), bool))
    with pytest.raises(InvalidInputError, match="method"):
        estimate_sigma(np.ones((16, 16)), "guess")
