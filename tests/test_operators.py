"""Forward operators: adjoint identities, agreement with scikit-image and fastMRI's mask conventions,
and the regularised solve against dense linear algebra.

Truth: the adjoint identity ``<A x, y> = <x, A^H y>``; scikit-image's ``radon``/``iradon``; fastMRI's
mask definitions (their documented line counts); numpy's dense solves and pseudo-inverses.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage.transform import iradon, radon

from wavediff.errors import InvalidInputError, MissingDependencyError, ShapeError
from wavediff.operators import (
    Downsample,
    Mask,
    Radon,
    SubsampledFourier,
    espirit_maps,
    fastmri_mask,
    fbp,
    inner,
)


def _rng_tensor(shape, dtype, seed):
    g = torch.Generator().manual_seed(seed)
    if dtype.is_complex:
        real = torch.float64 if dtype == torch.complex128 else torch.float32
        return torch.complex(
            torch.randn(shape, generator=g, dtype=real), torch.randn(shape, generator=g, dtype=real)
        )
    return torch.randn(shape, generator=g, dtype=dtype)


def _coil_maps(coils, shape, seed):
    maps = _rng_tensor((coils, *shape), torch.complex128, seed)
    return maps / (maps.abs() ** 2).sum(0).sqrt()  # normalised: sum |S_c|^2 = 1


def _cases():
    g = torch.Generator().manual_seed(0)
    yield "mask 1-D", Mask(torch.rand(64, generator=g) < 0.5), (3, 2, 64), False
    yield "mask 2-D", Mask(torch.rand(16, 12, generator=g) < 0.3), (2, 1, 16, 12), False
    yield "mask 3-D per item", Mask(torch.rand(2, 1, 6, 8, 10, generator=g) < 0.5), (2, 1, 6, 8, 10), False
    yield "downsample 1-D x4", Downsample(4, dims=1), (2, 3, 64), False
    yield "downsample 2-D x2", Downsample(2, dims=2, sigma=1.5), (2, 1, 16, 20), False
    yield "downsample 3-D x2", Downsample(2, dims=3), (1, 1, 8, 12, 8), False
    mask2 = fastmri_mask((24, 20), 4, 0.08, "random", seed=1)
    yield "fourier 2-D", SubsampledFourier(mask2), (2, 1, 24, 20), True
    yield "fourier 2-D, real images", SubsampledFourier(mask2, real=True), (2, 1, 24, 20), False
    yield (
        "fourier 2-D, 4 coils",
        SubsampledFourier(mask2, coil_maps=_coil_maps(4, (24, 20), 3)),
        (2, 1, 24, 20),
        True,
    )
    yield (
        "fourier 3-D",
        SubsampledFourier(fastmri_mask((6, 8, 10), 4, 0.1, "equispaced", seed=2), dims=3),
        (1, 1, 6, 8, 10),
        True,
    )
    yield "radon 30 views", Radon(24, np.linspace(0, 180, 30, endpoint=False)), (2, 1, 24, 24), False
    yield (
        "radon 7 random views",
        Radon(17, np.random.default_rng(4).uniform(0, 180, 7), chunk=3),
        (1, 2, 17, 17),
        False,
    )
    yield (
        "radon without the sparse matrix (grid_sample + vjp)",
        Radon(17, np.random.default_rng(4).uniform(0, 180, 7), chunk=3, max_entries=0),
        (1, 2, 17, 17),
        False,
    )
    yield (
        "composed, scaled",
        0.5 * (Mask(torch.rand(24, 24, generator=g) < 0.5) @ Downsample(2, dims=2)),
        (2, 1, 48, 48),
        False,
    )


CASES = list(_cases())


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("name, op, shape, complex_in", CASES, ids=[c[0] for c in CASES])
def test_adjoint_identity(name, op, shape, complex_in, dtype):
    cdtype = torch.complex128 if dtype == torch.float64 else torch.complex64
    x = _rng_tensor(shape, cdtype if complex_in else dtype, 10)
    ax = op(x)
    y = _rng_tensor(tuple(ax.shape), ax.dtype, 11)
    lhs, rhs = inner(ax, y), inner(x, op.adjoint(y))
    scale = inner(ax, ax).sqrt() * inner(y, y).sqrt()
    assert op.adjoint(y).shape == x.shape
    tol = 1e-12 if dtype == torch.float64 else 1e-5
    assert torch.all((lhs - rhs).abs() <= tol * scale), (lhs, rhs)


def _phantom(n):
    from skimage.data import shepp_logan_phantom
    from skimage.transform import resize

    img = resize(shepp_logan_phantom(), (n, n), anti_aliasing=True)
    c = n // 2
    yy, xx = np.mgrid[:n, :n] - c
    circle = yy**2 + xx**2 <= c**2
    return img * circle, circle


@pytest.mark.parametrize("n", [32, 33])
@pytest.mark.parametrize("angles", ["60 even", "13 random"])
def test_radon_and_fbp_agree_with_scikit_image(n, angles):
    theta = (
        np.linspace(0, 180, 60, endpoint=False)
        if angles == "60 even"
        else np.random.default_rng(5).uniform(0, 180, 13)
    )
    img, circle = _phantom(n)
    op = Radon(n, theta, chunk=7)
    ref = radon(img, theta, circle=True)
    for path in (op, Radon(n, theta, chunk=7, max_entries=0)):  # the sparse matrix and grid_sample
        sino = path(torch.from_numpy(img)[None, None])[0, 0].numpy()
        assert np.linalg.norm(sino.T - ref) <= 1e-9 * np.linalg.norm(ref), path.sparse
    for name in ("ramp", "hann"):
        want = iradon(ref, theta, circle=True, filter_name=name)
        got = fbp(torch.from_numpy(ref.T.copy())[None, None], op, name)[0, 0].numpy()
        assert np.linalg.norm((got - want)[circle]) <= 1e-9 * np.linalg.norm(want[circle]), name
        assert not got[~circle].any()


@pytest.mark.parametrize("acceleration, center_fraction", [(4, 0.08), (8, 0.04)])
def test_fastmri_masks_sample_the_stated_fraction(acceleration, center_fraction):
    n = 368  # fastMRI knee width
    n_low = round(n * center_fraction)
    pad = (n - n_low + 1) // 2
    random_fracs = []
    for seed in range(200):
        m = fastmri_mask((8, n), acceleration, center_fraction, "random", seed=seed)
        assert m.shape == (8, n) and bool((m == m[0]).all())  # whole lines
        assert bool(m[0, pad : pad + n_low].all())  # the centre is fully sampled
        random_fracs.append(float(m[0].float().mean()))
    # n / acceleration lines on average (fastMRI's RandomMaskFunc): mean of 200 draws within 4 standard errors
    assert abs(np.mean(random_fracs) - 1 / acceleration) < 4 * np.std(random_fracs) / np.sqrt(200)
    for seed in range(5):
        m = fastmri_mask((n,), acceleration, center_fraction, "equispaced", seed=seed)[...]
        assert bool(m[pad : pad + n_low].all())
        assert (
            abs(float(m.float().mean()) - 1 / acceleration) <= 0.01
        )  # adjusted spacing; the centre overlaps a few lines


def test_fastmri_mask_rejects_impossible_settings():
    with pytest.raises(InvalidInputError, match="center_fraction"):
        fastmri_mask((32, 32), 4, 0.3)
    with pytest.raises(InvalidInputError, match="acceleration"):
        fastmri_mask((32, 32), 1, 0.1)
    with pytest.raises(InvalidInputError, match="kind"):
        fastmri_mask((32, 32), 4, 0.08, kind="poisson")


def _dense(op, shape, dtype=torch.float64):
    """The operator's matrix, column by column."""
    n = int(np.prod(shape))
    cols = [op(torch.eye(n, dtype=dtype)[i].reshape(1, *shape)).reshape(-1) for i in range(n)]
    return torch.stack(cols, 1).numpy()


@pytest.mark.parametrize("which", ["radon", "downsample", "mask", "fourier real"])
def test_regularised_solve_matches_dense_linear_algebra(which):
    rng = np.random.default_rng(6)
    if which == "radon":
        op, shape = Radon(9, rng.uniform(0, 180, 5)), (1, 9, 9)
    elif which == "downsample":
        op, shape = Downsample(2, dims=2), (1, 8, 8)
    elif which == "mask":
        op, shape = Mask(torch.from_numpy(rng.uniform(size=(6, 6)) < 0.5)), (1, 6, 6)
    else:
        op, shape = SubsampledFourier(fastmri_mask((6, 6), 3, 0.2, seed=1), real=True), (1, 6, 6)
    A = _dense(op, shape)
    if np.iscomplexobj(A):  # real images, complex data: stack real and imaginary rows
        A = np.vstack([A.real, A.imag])
    x_true = rng.normal(size=A.shape[1])
    x0 = rng.normal(size=A.shape[1])
    y = op(torch.from_numpy(x_true).reshape(1, *shape))
    b = (
        np.concatenate([y.real.reshape(-1).numpy(), y.imag.reshape(-1).numpy()])
        if y.is_complex()
        else y.reshape(-1).numpy()
    )
    lam = 0.3
    want = np.linalg.solve(A.T @ A + lam * np.eye(A.shape[1]), A.T @ b + lam * x0)
    got = op.solve(y, lam, torch.from_numpy(x0).reshape(1, *shape), iters=500, tol=1e-12).reshape(-1).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9)
    pinv = np.linalg.pinv(A) @ b  # from zero, least squares converges to the minimum-norm solution
    np.testing.assert_allclose(
        op.dagger(y, iters=500, tol=1e-13).reshape(-1).numpy(), pinv, rtol=1e-6, atol=1e-7
    )


def test_closed_form_solves_equal_conjugate_gradients():
    from wavediff.operators import LinearOperator

    mask = fastmri_mask((16, 16), 4, 0.08, seed=3)
    x = _rng_tensor((2, 1, 16, 16), torch.complex128, 1)
    x0 = _rng_tensor((2, 1, 16, 16), torch.complex128, 2)
    lam = torch.tensor([0.05, 2.0], dtype=torch.float64)
    for op, xin, ref in ((SubsampledFourier(mask), x, x0), (Mask(mask), x.real, x0.real)):
        y = op(xin)
        fast = op.solve(y, lam, ref)
        slow = LinearOperator.solve(op, y, lam, ref, iters=300, tol=1e-13)
        assert torch.allclose(fast, slow, atol=1e-10)
        # with lam = 0 the observed elements are the data and the rest keep the start
        kept = op.solve(y, 0.0, init=ref)
        assert torch.allclose(op(kept), y, atol=1e-12)


def test_fully_sampled_fourier_is_unitary_and_coils_sum_back():
    x = _rng_tensor((1, 1, 12, 10), torch.complex128, 4)
    assert torch.allclose(
        SubsampledFourier(torch.ones(12, 10)).adjoint(SubsampledFourier(torch.ones(12, 10))(x)), x
    )
    maps = _coil_maps(3, (12, 10), 5)
    op = SubsampledFourier(torch.ones(12, 10), coil_maps=maps)
    assert op(x).shape == (1, 1, 3, 12, 10)
    assert torch.allclose(op.adjoint(op(x)), x)  # sum_c |S_c|^2 = 1


def test_solve_is_differentiable_in_the_measurements():
    op = Radon(8, [0.0, 45.0, 90.0, 135.0])
    y = torch.randn(1, 1, 4, 8, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v: op.solve(v, 0.5, iters=200, tol=1e-14), (y,))


def test_operator_norm_by_power_iteration():
    op = Downsample(2, dims=1, sigma=1.0)
    A = _dense(op, (1, 32))
    got = op.norm(torch.randn(1, 1, 32, dtype=torch.float64), iters=300)
    assert float(got) == pytest.approx(np.linalg.norm(A, 2), rel=1e-4)


def test_bad_input_gets_clear_errors():
    with pytest.raises(InvalidInputError, match="only 0 and 1"):
        Mask(torch.tensor([0.5, 1.0]))
    with pytest.raises(ShapeError, match="does not match"):
        Mask(torch.ones(5))(torch.ones(2, 4))
    with pytest.raises(ShapeError, match="expected"):
        Radon(16, [0.0, 90.0])(torch.ones(1, 1, 15, 16))
    with pytest.raises(ShapeError, match="multiples of factor"):
        Downsample(2, dims=2)(torch.ones(1, 1, 9, 8))
    with pytest.raises(InvalidInputError, match="non-negative"):
        Radon(8, [0.0]).solve(torch.ones(1, 1, 1, 8), lam=-1.0)
    with pytest.raises(InvalidInputError, match="filter"):
        fbp(torch.ones(1, 1, 2, 8), Radon(8, [0.0, 90.0]), "shepp")
    with pytest.raises(InvalidInputError, match="one value per batch item"):
        Downsample(2, dims=1).solve(torch.ones(2, 1, 4), lam=torch.ones(3))


def test_espirit_needs_sigpy_or_says_so():
    try:
        import sigpy  # noqa: F401
    except ImportError:
        with pytest.raises(MissingDependencyError, match="pip install sigpy"):
            espirit_maps(np.ones((2, 8, 8), dtype=complex))
        return
    # with sigpy: maps of one smooth coil profile pair are unit-norm where the object is
    x = np.zeros((32, 32), complex)
    x[8:24, 8:24] = 1
    yy, xx = np.mgrid[:32, :32] / 32
    coils = np.stack([np.exp(1j * xx), np.exp(-1j * yy) * 0.5 + 0.5])
    from wavediff.operators import fftc

    k = fftc(torch.from_numpy(coils * x)).numpy()
    maps = espirit_maps(k, calib_width=12)
    assert maps.shape == (2, 32, 32)
    norm = np.sqrt((np.abs(maps) ** 2).sum(0))[12:20, 12:20]
    assert np.allclose(norm, 1.0, atol=0.05)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_operators_run_on_cuda():
    x = torch.randn(2, 1, 16, 16, device="cuda")
    for op in (
        Radon(16, [0.0, 60.0, 120.0]),
        SubsampledFourier(fastmri_mask((16, 16), 4, 0.08, seed=0), real=True),
        Downsample(2),
    ):
        y = op(x)
        assert y.device.type == "cuda" and op.adjoint(y).device.type == "cuda"


@pytest.mark.parametrize(
    "op",
    [
        Mask(torch.rand(6, 6, generator=torch.Generator().manual_seed(0)) < 0.5),
        SubsampledFourier(torch.tensor([1.0, 0, 0, 1, 1, 1, 0, 0]).expand(8, 8), real=True),
        SubsampledFourier(torch.tensor([0.0, 0, 1, 1, 1, 0, 0]).expand(7, 7), real=True),
        SubsampledFourier(torch.tensor([0.0, 0, 0, 1, 1, 0, 0, 0]).expand(8, 8), real=True),
        SubsampledFourier(fastmri_mask((8, 8), 4, 0.125, "random", seed=1), real=True),
        Radon(8, [0.0, 90.0]),
    ],
    ids=["mask", "fourier symmetric", "fourier odd", "fourier lone k", "fourier random", "radon"],
)
def test_isometric_range_says_whether_AhA_is_a_projection(op):
    shape = (
        (6, 6)
        if isinstance(op, Mask)
        else (op.size, op.size)
        if isinstance(op, Radon)
        else tuple(op.mask.shape)
    )
    A = op.matrix(shape)
    P = (A.conj().T @ A).real
    assert op.isometric_range == bool(torch.allclose(P @ P, P, atol=1e-10))
