"""Plug-and-play k-space reconstruction: the low-resolution phase, the centre block, and PnP-HQS with an
oracle prior (which must return the truth exactly) and shape checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from wavediff.modalities.mri import recon

from wavediff.errors import InvalidInputError, ShapeError
from wavediff.operators.fourier import fftc


def _image(phase):
    img = np.zeros((2, 32, 32))
    img[:, 8:24, 8:24] = np.linspace(0.5, 1.0, 16)[None, None, :]
    return img, torch.as_tensor(img) * torch.exp(1j * torch.as_tensor(phase, dtype=torch.float64))


def _mask():
    m = np.zeros((32, 32), bool)
    m[:, 14:19] = True  # the fully sampled centre
    m[:, ::4] = True
    return m


def test_centre_block_and_its_error():
    assert recon.centre_block(_mask()) == (14, 19)
    m = _mask()
    m[:, 16] = False
    with pytest.raises(InvalidInputError, match="centre"):
        recon.centre_block(m)


def test_low_resolution_phase_recovers_a_constant_and_a_smooth_phase():
    m = _mask()
    _, x = _image(0.7)
    ph = recon.low_resolution_phase(fftc(x) * torch.as_tensor(m), m)
    assert float((ph[:, 10:22, 10:22].angle() - 0.7).abs().max()) < 1e-12
    yy, xx = np.meshgrid(np.linspace(-1, 1, 32), np.linspace(-1, 1, 32), indexing="ij")
    smooth = 0.8 * xx + 0.5 * yy**2
    _, x = _image(smooth)
    ph = recon.low_resolution_phase(fftc(x) * torch.as_tensor(m), m)
    err = torch.angle(ph * torch.exp(-1j * torch.as_tensor(smooth, dtype=torch.float64)))[:, 10:22, 10:22]
    assert float(err.abs().max()) < 0.15  # radians, from 5 of 32 lines


class _Oracle:
    """A 'restorer' that knows the clean magnitude."""

    def __init__(self, clean):
        self.clean = clean

    def restore(self, vol, sigma, axis):
        assert axis == 0 and sigma > 0
        return self.clean.reshape(vol.shape)


def test_pnp_with_an_oracle_prior_returns_the_truth():
    m = _mask()
    clean, x = _image(0.3)
    k = fftc(x) * torch.as_tensor(m)
    out = recon.pnp_hqs(k.numpy(), m, _Oracle(clean), iters=2)
    np.testing.assert_allclose(out, clean, atol=1e-10)
    zero_filled = np.abs(
        np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(k.numpy(), axes=(-2, -1)), norm="ortho"), axes=(-2, -1))
    )
    assert np.abs(zero_filled - clean).max() > 0.05  # the mask does alias: the prior is what removed it


def test_pnp_refuses_bad_shapes():
    m = _mask()
    with pytest.raises(ShapeError):
        recon.pnp_hqs(np.ones((2, 32, 32)), m, None)  # real, not k-space
    with pytest.raises(ShapeError):
        recon.pnp_hqs(np.ones((2, 32, 32), complex), m[:16], None)
    with pytest.raises(InvalidInputError):
        recon.pnp_hqs(np.ones((2, 32, 32), complex), m, None, iters=0)


def _coils(x, n=4):
    from wavediff.modalities.mri.degrade import coil_maps

    maps = coil_maps(x.shape[-2:], n)
    return maps, fftc(x.unsqueeze(1) * torch.as_tensor(maps))  # (slices, coils, H, W)


def test_multicoil_pnp_with_full_sampling_and_an_identity_prior_is_the_sense_image():
    """With every line sampled and maps of unit sum of squares, A^H A = I: the image comes back exactly."""
    clean, x = _image(0.4)
    maps, k = _coils(x)

    class Identity:
        def restore(self, vol, sigma, axis):
            return vol

    out = recon.pnp_hqs(k.numpy(), np.ones((32, 32), bool), Identity(), iters=2, maps=maps)
    np.testing.assert_allclose(out, clean, atol=1e-8)


def test_multicoil_pnp_with_an_oracle_prior_removes_the_aliasing():
    m = _mask()
    clean, x = _image(0.3)
    maps, k = _coils(x)
    k = k * torch.as_tensor(m)
    out = recon.pnp_hqs(k.numpy(), m, _Oracle(clean), iters=3, maps=np.stack([maps, maps]), cg_iters=30)
    zero_filled = np.abs((np.conj(maps) * np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(k.numpy(), axes=(-2, -1)), norm="ortho"), axes=(-2, -1))).sum(1))
    assert np.abs(zero_filled - clean).max() > 0.05
    assert np.abs(out - clean).max() < 1e-3  # the data step keeps the truth the prior gives (30 CG steps)


def test_multicoil_pnp_needs_maps_of_the_right_shape():
    m = _mask()
    _, x = _image(0.0)
    maps, k = _coils(x)
    with pytest.raises(ShapeError, match="sensitivity maps"):
        recon.pnp_hqs(k.numpy(), m, None)
    with pytest.raises(ShapeError, match="sensitivity maps"):
        recon.pnp_hqs(k.numpy(), m, None, maps=maps[:2])
    with pytest.raises(ShapeError, match="no coil axis"):
        recon.pnp_hqs(k[:, 0].numpy(), m, None, maps=maps)
