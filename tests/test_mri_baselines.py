"""MRI baselines are the field's libraries, called as their authors intend: the wrappers give what dipy,
sigpy, bm3d/bm4d give directly, zero-filling is numpy's inverse FFT, and each denoiser helps on a phantom."""

from __future__ import annotations

import numpy as np
import pytest
from wavediff.modalities.mri import baselines
from wavediff.modalities.mri.degrade import rician, simulate_kspace, undersample

from wavediff.errors import InvalidInputError, ShapeError


def _phantom(shape=(6, 48, 48)):
    zz, yy, xx = np.mgrid[: shape[0], : shape[1], : shape[2]]
    head = ((yy - shape[1] / 2) / (0.4 * shape[1])) ** 2 + ((xx - shape[2] / 2) / (0.35 * shape[2])) ** 2 < 1
    inner = ((yy - shape[1] / 2) / (0.15 * shape[1])) ** 2 + ((xx - shape[2] / 2) / (0.1 * shape[2])) ** 2 < 1
    return head * 0.8 - inner * 0.5 + 0.0 * zz


def test_nlm_is_dipys_rician_nlmeans_and_helps():
    from dipy.denoise.nlmeans import nlmeans

    clean = _phantom()
    noisy = rician(clean, 0.05, np.random.default_rng(0), reference=1.0)
    before = noisy.copy()
    out = baselines.nlm(
        noisy, 0.05, num_threads=1
    )  # one thread: dipy's blockwise sums are then deterministic
    np.testing.assert_array_equal(noisy, before)
    ref = nlmeans(noisy, 0.05, patch_radius=1, block_radius=5, rician=True, num_threads=1)
    np.testing.assert_allclose(out, ref)
    assert np.abs(out - clean).mean() < 0.9 * np.abs(noisy - clean).mean()
    one = baselines.nlm(noisy[2], 0.05)
    assert one.shape == noisy[2].shape


def test_wavelet_shrinkage_with_rician_bias_correction_helps():
    clean = _phantom()
    noisy = rician(clean, 0.05, np.random.default_rng(1), reference=1.0)
    out = baselines.wavelet(noisy, 0.05)
    assert out.shape == noisy.shape and (out >= 0).all()
    assert np.abs(out - clean).mean() < np.abs(noisy - clean).mean()
    # the bias correction lowers the background's Rayleigh floor
    bg = clean == 0
    assert out[bg].mean() < noisy[bg].mean()


def test_bm3d_and_bm4d_when_installed():
    bm3d = pytest.importorskip("bm3d")
    bm4d = pytest.importorskip("bm4d")
    clean = _phantom((8, 32, 32))
    noisy = rician(clean, 0.05, np.random.default_rng(2), reference=1.0)
    s = baselines.bm3d_slices(noisy, 0.05)
    np.testing.assert_allclose(
        s[3], np.sqrt(np.maximum(bm3d.bm3d(noisy[3], sigma_psd=0.05) ** 2 - 0.05**2, 0)), atol=1e-5
    )
    v = baselines.bm4d_volume(noisy, 0.05)
    np.testing.assert_allclose(
        v, np.sqrt(np.maximum(bm4d.bm4d(noisy, sigma_psd=0.05) ** 2 - 0.05**2, 0)), atol=1e-5
    )
    assert np.abs(v - clean).mean() < np.abs(noisy - clean).mean()


def test_mppca_and_patch2self_take_4d_data():
    rng = np.random.default_rng(3)
    base = _phantom((8, 16, 16)).transpose(1, 2, 0)[..., None]
    decay = np.exp(-np.linspace(0, 1.5, 12))
    clean = base * decay + 0.05
    noisy = np.abs(clean + 0.02 * rng.normal(size=clean.shape))
    out = baselines.mppca(noisy)
    assert out.shape == noisy.shape
    assert np.abs(out - clean).mean() < np.abs(noisy - clean).mean()
    bvals = np.r_[0, np.full(11, 1000.0)]
    p2s = baselines.patch2self(noisy, bvals)
    assert p2s.shape == noisy.shape and np.isfinite(p2s).all()
    with pytest.raises(ShapeError, match="one b-value per volume"):
        baselines.patch2self(noisy, bvals[:3])
    with pytest.raises(ShapeError, match="4-D"):
        baselines.mppca(noisy[..., 0])


def test_zero_filled_is_numpys_inverse_fft_and_combines_coils():
    rng = np.random.default_rng(4)
    mag = _phantom((2, 32, 32)) + 0.1
    single = simulate_kspace(mag, rng)
    ku, mask = undersample(single["kspace"], 4, seed=0)
    expected = np.abs(
        np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(ku, axes=(-2, -1)), norm="ortho"), axes=(-2, -1))
    )
    np.testing.assert_allclose(baselines.zero_filled(single["kspace"], mask), expected, rtol=1e-5, atol=1e-6)
    multi = simulate_kspace(mag, rng, coils=4)
    full = np.ones(mask.shape, bool)
    np.testing.assert_allclose(
        baselines.zero_filled(multi["kspace"], full, coils=True), mag, rtol=1e-4, atol=1e-5
    )
    np.testing.assert_allclose(
        baselines.zero_filled(multi["kspace"], full, multi["maps"]), mag, rtol=1e-4, atol=1e-5
    )


def test_sigpy_cs_is_sigpys_app_and_beats_zero_filling():
    import sigpy.mri.app as app

    rng = np.random.default_rng(5)
    mag = _phantom((1, 64, 64))[0] + 0.05
    k = simulate_kspace(mag, rng)["kspace"]
    ku, mask = undersample(k, 4, seed=1)
    lam = 1e-4 * float(np.abs(ku).max())
    ours = baselines.sigpy_cs(ku, mask, lam, iters=50)
    ref = app.L1WaveletRecon(
        ku[None], np.ones((1, 64, 64), complex), lam, weights=mask.astype(float), max_iter=50, show_pbar=False
    ).run()
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-8)
    zf = baselines.zero_filled(ku, mask)
    assert np.linalg.norm(np.abs(ours) - mag) < np.linalg.norm(zf - mag)
    tv = baselines.sigpy_cs(ku, mask, lam, kind="tv", iters=50)
    assert tv.shape == mag.shape
    multi = simulate_kspace(mag, rng, coils=4)
    km, mask8 = undersample(multi["kspace"], 4, seed=2)
    out = baselines.sigpy_cs(km, mask8, lam, maps=multi["maps"], iters=30)
    assert out.shape == mag.shape
    with pytest.raises(ShapeError, match="maps"):
        baselines.sigpy_cs(km, mask8, lam)
    with pytest.raises(InvalidInputError, match="kind"):
        baselines.sigpy_cs(ku, mask, lam, kind="l2")


def test_bad_input_says_what_to_do():
    with pytest.raises(InvalidInputError, match="sigma"):
        baselines.nlm(np.ones((8, 8)), 0.0)
    with pytest.raises(ShapeError, match="slice"):
        baselines.wavelet(np.ones(8), 0.1)
    with pytest.raises(ShapeError, match="complex k-space"):
        baselines.zero_filled(np.ones((8, 8)), np.ones((8, 8), bool))
    with pytest.raises(ShapeError, match="mask"):
        baselines.zero_filled(np.ones((8, 8), complex), np.ones((4, 4), bool))
