"""Classical reconstructions against closed forms and the field's libraries (pywt, scikit-image)."""

import numpy as np
import pytest
import pywt
import scipy.ndimage
import torch
from skimage.restoration import denoise_tv_chambolle
from skimage.transform import iradon_sart

from wavediff.errors import InvalidInputError
from wavediff.operators import (
    Mask,
    Radon,
    SubsampledFourier,
    fastmri_mask,
    fista,
    sart,
    sirt,
    total_variation,
    wavelet_l1,
    zero_filled,
)


def _img(n=16, seed=0, batch=2):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, n, n, generator=g, dtype=torch.float64)


def test_zero_filled_is_the_adjoint():
    m = torch.rand(8, 8, generator=torch.Generator().manual_seed(1)) < 0.5
    x = _img(8)
    y = Mask(m)(x)
    assert torch.equal(zero_filled(Mask(m), y), torch.where(m, x, torch.zeros_like(x)))


@pytest.mark.parametrize("complex_", [False, True])
def test_wavelet_prox_is_pywt_soft_thresholding_of_the_details(complex_):
    x = _img(16)
    if complex_:
        x = torch.complex(x, _img(16, seed=5))
    out = wavelet_l1(0.3, "db2", 2, approximation=False)(x, 1.0)
    for i in range(x.shape[0]):
        v = x[i].numpy()
        c = pywt.wavedecn(v, "db2", mode="periodization", level=2)
        arr, sl = pywt.coeffs_to_array(c)
        a_shape = c[0].shape
        shrunk = pywt.threshold(arr, 0.3, "soft")
        shrunk[: a_shape[0], : a_shape[1]] = arr[: a_shape[0], : a_shape[1]]
        ref = pywt.waverecn(
            pywt.array_to_coeffs(shrunk, sl, output_format="wavedecn"), "db2", mode="periodization"
        )
        assert np.allclose(out[i].numpy(), ref, atol=1e-10)


def test_fista_with_the_identity_returns_the_prox():
    # min 1/2 ||x - y||^2 + g(x) is solved by prox_g(y): soft thresholding, and Chambolle's TV denoiser
    y = _img(16)
    ident = Mask(torch.ones(16, 16, dtype=torch.bool))
    prox = wavelet_l1(0.5, "haar", 3)  # every coefficient penalised
    assert torch.allclose(fista(ident, y, prox, 30), prox(y, 1.0), atol=1e-10)
    tv = fista(ident, y, total_variation(0.2, n_iter=2000), 5, step=1.0)
    ref = np.stack([denoise_tv_chambolle(v, weight=0.2, eps=1e-5, max_num_iter=2000) for v in y.numpy()])
    assert np.allclose(tv.numpy(), ref, atol=1e-6)


def test_fista_meets_its_convergence_bound_on_least_squares():
    # Beck & Teboulle (2009, Thm 4.4): F(x_k) - F* <= 2 L ||x_0 - x*||^2 / (k + 1)^2, L = ||A||^2
    op = Radon(8, torch.linspace(0, 180, 31, dtype=torch.float64)[:-1])
    x = _img(8, batch=1).unsqueeze(1)
    noise = 0.01 * torch.randn(op(x).shape, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    y = (op(x) + noise).reshape(-1).numpy()
    A = op.matrix((8, 8)).numpy()
    ls = np.linalg.lstsq(A, y, rcond=None)[0]
    L = np.linalg.norm(A, 2) ** 2
    F = lambda v: 0.5 * np.sum((A @ v - y) ** 2)  # noqa: E731
    for k in (10, 100, 1000):
        out = fista(op, torch.from_numpy(y).reshape(1, 1, 30, 8), lambda v, t: v, k, x0=torch.zeros_like(x))
        gap = F(out.reshape(-1).numpy()) - F(ls)
        assert -1e-9 <= gap <= 2 * L * np.sum(ls**2) / (k + 1) ** 2


def test_sirt_never_increases_its_weighted_residual_and_fills_masks_at_once():
    op = Radon(8, torch.linspace(0, 180, 31, dtype=torch.float64)[:-1])
    x = _img(8, batch=1).unsqueeze(1)
    y = op(x)
    rows = op(torch.ones_like(x))
    r = torch.where(rows > 1e-8, 1.0 / rows.clamp_min(1e-8), 0.0)  # rays that miss the image weigh nothing
    resid = [float((r * (op(sirt(op, y, k)) - y) ** 2).sum()) for k in (1, 10, 100, 1000)]
    assert all(b <= a for a, b in zip(resid, resid[1:])) and resid[-1] < 1e-3 * resid[0]
    m = torch.rand(8, 8, generator=torch.Generator().manual_seed(0)) < 0.6
    z = sirt(Mask(m), Mask(m)(x), 1)  # one SIRT step fills the observed pixels exactly
    assert torch.allclose(z[..., m], x[..., m])


def test_sart_is_scikit_image_for_the_operators_geometry():
    op = Radon(16, torch.linspace(0, 180, 21, dtype=torch.float64)[:-1])
    x = torch.zeros(1, 16, 16, dtype=torch.float64)
    x[0, 5:11, 4:9] = 1.0
    sino = op(x)
    out = sart(sino, op, iters=2)
    ref = iradon_sart(sino[0].numpy().T, theta=op.angles.numpy())
    ref = iradon_sart(sino[0].numpy().T, theta=op.angles.numpy(), image=ref)
    assert np.allclose(out[0].numpy(), ref)
    assert float((out - x).norm()) < float((zero_filled(op, sino) - x).norm())


def test_compressed_sensing_beats_zero_filling_on_a_piecewise_constant_image():
    n = 32
    x = torch.zeros(1, n, n, dtype=torch.complex128)
    x[0, 8:24, 10:20] = 1.0
    x[0, 12:16, 4:28] += 0.5
    # a random (incoherent) 4x mask: compressed sensing's setting; equispaced aliasing is coherent
    op = SubsampledFourier(fastmri_mask((n, n), 4, 0.08, "random", seed=0))
    y = op(x)
    err = lambda r: float((r - x).norm() / x.norm())  # noqa: E731
    zf = err(zero_filled(op, y))
    assert err(fista(op, y, wavelet_l1(0.01, "haar", 3), 200)) < 0.5 * zf  # the image is Haar-sparse
    assert err(fista(op, y, total_variation(0.01), 100)) < 0.5 * zf


def test_recon_rejects_bad_requests():
    op = Radon(8, [0.0, 90.0])
    with pytest.raises(InvalidInputError, match="sinogram"):
        sart(torch.zeros(1, 3, 8), op)
    with pytest.raises(InvalidInputError, match="multiple of"):
        wavelet_l1(0.1, "haar", 3)(torch.zeros(1, 12, 12), 1.0)
    with pytest.raises(InvalidInputError, match="iters"):
        fista(op, torch.zeros(1, 2, 8), lambda v, t: v, 0)
    with pytest.raises(InvalidInputError, match="non-negative entries"):
        sirt(-1.0 * op, torch.zeros(1, 2, 8))


def test_fista_wavelet_l1_is_sigpys_l1_wavelet_recon():
    """Same objective (Haar at sigpy's full depth is orthonormal in its zero mode): same minimiser."""
    app = pytest.importorskip("sigpy.mri.app")
    n = 32
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(2, n, n))
    x = scipy.ndimage.gaussian_filter(noise[0], 2) + 1j * scipy.ndimage.gaussian_filter(noise[1], 2)
    mask = fastmri_mask((n, n), 4, 0.08, seed=1)
    op = SubsampledFourier(mask)
    y = op.forward(torch.from_numpy(x)[None])
    lam = 0.01 * float(op.adjoint(y).abs().max())
    ours = fista(op, y, wavelet_l1(lam, "haar", level=5), iters=1500)[0].numpy()
    ref = app.L1WaveletRecon(
        y.numpy(),
        np.ones((1, n, n), complex),
        lam,
        weights=mask.numpy().astype(float),
        wave_name="haar",
        max_iter=1500,
        show_pbar=False,
    ).run()
    assert np.linalg.norm(ours - ref) / np.linalg.norm(ref) < 1e-6
