"""N-D overlap-add patches: exact identity, partition of unity, pointwise maps commute, a filter's
error obeys a bound derived from the kernel and the taper, bounded batches and memory, out-of-core I/O."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import scipy.ndimage
import torch

from wavediff.errors import InvalidInputError
from wavediff.tiling import apply_patched, patch_starts, taper, taper_nd, unit_scale, window_starts

# (shape, size, hop): 1-D, 2-D and 3-D, odd shapes the patches do not divide evenly, leading axes
CASES = [
    ((3, 101), 16, None),
    ((101,), (16,), (5,)),
    ((37, 45), (16, 8), None),
    ((2, 3, 37, 45), (16, 16), (7, 16)),
    ((19, 23, 17), (8, 8, 8), None),
    ((2, 19, 23, 17), (8, 5, 6), (3, 5, 2)),
]


def _data(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape) * 3.0 + 1.5


@pytest.mark.parametrize("scale", [None, "std"])
@pytest.mark.parametrize("shape,size,hop", CASES)
def test_identity_round_trip_is_exact_numpy_and_torch(shape, size, hop, scale):
    x = _data(shape)
    y = apply_patched(lambda b: b, x, size, hop, batch=5, scale=scale)
    assert isinstance(y, np.ndarray) and y.shape == x.shape and y.dtype == np.float64
    np.testing.assert_allclose(y, x, rtol=1e-12, atol=1e-12)
    xt = torch.from_numpy(x)
    yt = apply_patched(lambda b: b, xt, size, hop, batch=5, scale=scale)
    assert isinstance(yt, torch.Tensor) and yt.dtype == torch.float64 and yt.device == xt.device
    np.testing.assert_allclose(yt.numpy(), x, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", ["tukey", "hann", "boxcar"])
def test_identity_holds_for_every_taper_and_float32_keeps_dtype(kind):
    x = _data((2, 33, 50)).astype(np.float32)
    y = apply_patched(lambda b: b, x, (16, 16), kind=kind)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, x, rtol=1e-5, atol=1e-5)
    yt = apply_patched(lambda b: b, torch.from_numpy(x), (16, 16), kind=kind)
    assert yt.dtype == torch.float32


def test_std_scaling_divides_each_patch_by_its_own_std_and_guards_zero():
    x = _data((2, 40, 40))
    x[:, :16, :16] = 7.0  # one patch is constant: std 0 must be replaced by 1, not give nan
    seen = []

    def fn(b):
        seen.append(b.copy())
        return b

    y = apply_patched(fn, x, (16, 16), (16, 16), scale="std")
    np.testing.assert_allclose(y, x, rtol=1e-12)
    first = seen[0]
    np.testing.assert_array_equal(first[0], x[:, :16, :16])  # constant patch unscaled
    for patch in first[1:]:
        assert patch.std() == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("shape,size,hop", CASES)
def test_constant_output_is_constant_partition_of_unity(shape, size, hop):
    c = -2.75
    x = _data(shape)
    y = apply_patched(lambda b: np.full_like(b, c), x, size, hop, batch=7)
    np.testing.assert_allclose(y, c, rtol=1e-12)
    yt = apply_patched(lambda b: torch.full_like(b, c), torch.from_numpy(x), size, hop, batch=7)
    np.testing.assert_allclose(yt.numpy(), c, rtol=1e-12)


@pytest.mark.parametrize("shape,size,hop", CASES)
def test_pointwise_map_commutes_with_patching(shape, size, hop):
    x = _data(shape)
    y = apply_patched(lambda b: 2 * b**2 + 1, x, size, hop)
    np.testing.assert_allclose(y, 2 * x**2 + 1, rtol=1e-12)
    ys = apply_patched(lambda b: 2 * b**2 + 1, x, size, hop, scale="std")  # fn sees scaled patches
    assert not np.allclose(ys, 2 * x**2 + 1)


def _kernel_tail(sigma: float, truncate: float) -> np.ndarray:
    """tail[t] = mass of scipy's 1-D Gaussian kernel more than t samples to one side of the centre."""
    radius = int(truncate * sigma + 0.5)
    j = np.arange(-radius, radius + 1)
    k = np.exp(-0.5 * (j / sigma) ** 2)
    k /= k.sum()
    return np.array([k[j > t].sum() for t in range(radius + 1)] + [0.0])


def _blend_error_bound(n: int, size: int, hop: int, tail: np.ndarray, kind: str = "tukey") -> np.ndarray:
    """Per index of one axis: sum over patches of (normalised blend weight) x (kernel mass beyond an
    edge of that patch which lies inside the image; edges on the image border reflect like the
    whole-image filter does, so they cost nothing)."""
    w = taper(size, kind)
    starts = window_starts(n, size, hop)
    norm = np.zeros(n)
    for s in starts:
        norm[s : s + size] += w
    bound = np.zeros(n)
    t = np.arange(size)
    left = tail[np.minimum(t, len(tail) - 1)]
    right = left[::-1]
    for s in starts:
        mass = left * (s > 0) + right * (s + size < n)
        bound[s : s + size] += w * mass / norm[s : s + size]
    return bound


def test_linear_filter_per_patch_error_obeys_derived_bound():
    # Filtering a patch with mode='reflect' differs from filtering the whole image only through the
    # kernel taps falling outside the patch: |error| <= 2 max|x| * (kernel mass outside). For the
    # separable Gaussian the mass outside a rectangle is at most the sum over axes of the 1-D mass
    # beyond each edge, and the blend weights are separable with per-axis sums 1, so
    #   |blended - whole| <= 2 max|x| * (B_rows[i] + B_cols[j]),   B = _blend_error_bound.
    # Patch 32, hop 16, sigma 1 (radius 4): one-sided tail mass is 0.30, 0.059, 0.0046, 1.3e-4 at
    # 0..3 samples from an edge, where the tukey weight is 0.001, 0.04, 0.16, 0.33 against ~1 for the
    # overlapping patch, so max B ~ 0.04/1.04 * 0.059 = 2.3e-3 and the worst-case bound is
    # 2 * 2 * 2.3e-3 * max|x| ~ 9e-3 * max|x| ~ 0.037 std for white noise (max|x| ~ 4 std): < 0.05 std.
    # The typical error is smaller: at 1 sample from an edge the error of white noise has std
    # ~ sqrt(2) * |(k(2), k(3))| * |k|_2 (other axis) ~ 0.041 std, times the weight share 0.039 ->
    # 1.6e-3 std; the max over the few thousand such pixels (~4 std of that) is ~ 6.5e-3 std < 1e-2 std.
    sigma, size, hop = 1.0, 32, 16
    x = np.random.default_rng(3).normal(size=(150, 133))  # white noise: the hardest signal
    whole = scipy.ndimage.gaussian_filter(x, sigma, mode="reflect")
    got = apply_patched(
        lambda b: np.stack([scipy.ndimage.gaussian_filter(p, sigma, mode="reflect") for p in b]),
        x,
        (size, size),
        (hop, hop),
    )
    tail = _kernel_tail(sigma, 4.0)
    bound = (
        2
        * np.abs(x).max()
        * (
            _blend_error_bound(x.shape[0], size, hop, tail)[:, None]
            + _blend_error_bound(x.shape[1], size, hop, tail)[None, :]
        )
    )
    err = np.abs(got - whole)
    assert (err <= bound + 1e-12).all(), (err.max(), bound.max())
    # the bound itself is small (derived above: ~0.037 std)
    assert bound.max() < 0.05 * x.std(), bound.max()
    interior = err[8:-8, 8:-8]
    assert interior.max() < 1e-2 * x.std(), interior.max()
    # filter the whole image with the patch edges at the border: no interior edges, no error
    exact = apply_patched(lambda b: b * 0 + whole[None], x, x.shape, x.shape)
    np.testing.assert_allclose(exact, whole, rtol=1e-12)


@pytest.mark.parametrize("factor", [1, 2, 4])  # side x1, x2, x4: area x1, x4, x16
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_batches_are_bounded_by_patch_size_and_batch(factor, backend):
    leading, size, batch = (2,), (16, 12), 6
    x = _data((*leading, 40 * factor, 36 * factor))
    if backend == "torch":
        x = torch.from_numpy(x)
    shapes = []

    def fn(b):
        shapes.append(tuple(b.shape))
        return b

    apply_patched(fn, x, size, batch=batch)
    assert max(s[0] for s in shapes) <= batch
    assert {s[1:] for s in shapes} == {(*leading, *size)}
    assert sum(s[0] for s in shapes) == len(patch_starts(x.shape, size))


def _peak_bytes(n: int) -> int:
    x = np.random.default_rng(0).normal(size=(n, n))
    out = np.zeros_like(x)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        apply_patched(lambda b: b, x, (32, 32), batch=16, out=out)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    np.testing.assert_allclose(out, x, rtol=1e-12)
    return peak


def test_peak_memory_does_not_grow_with_input_size():
    small, large = _peak_bytes(256), _peak_bytes(1024)  # 0.5 MB and 8 MB inputs
    # one batch is 16 x 32 x 32 x 8 B = 128 kB; the large input is 16x bigger but the peak is not
    assert large < 2 * small, (small, large)
    assert large < 8 * 1024**2 / 4, large  # far below one full-size (8 MB) temporary


def test_memmap_input_and_output(tmp_path):
    shape = (2, 45, 39)
    x = _data(shape)
    xin = np.memmap(tmp_path / "in.dat", dtype=np.float64, mode="w+", shape=shape)
    xin[...] = x
    out = np.memmap(tmp_path / "out.dat", dtype=np.float64, mode="w+", shape=shape)
    out[...] = 123.0  # stale content must be cleared
    res = apply_patched(lambda b: 3 * b, xin, (16, 16), out=out)
    assert res is out
    out.flush()
    back = np.memmap(tmp_path / "out.dat", dtype=np.float64, mode="r", shape=shape)
    np.testing.assert_allclose(back, 3 * x, rtol=1e-12)


def test_h5py_datasets_in_and_out(tmp_path):
    h5py = pytest.importorskip("h5py")
    x = _data((21, 30, 26))
    with h5py.File(tmp_path / "v.h5", "w") as f:
        din = f.create_dataset("x", data=x)
        dout = f.create_dataset("y", data=np.full(x.shape, 9.0))
        apply_patched(lambda b: b, din, (8, 8, 8), out=dout, scale="std")
        np.testing.assert_allclose(dout[...], x, rtol=1e-12)


def test_patch_starts_cover_every_element_and_taper_nd_is_separable():
    shape, size, hop = (3, 29, 31), (8, 10), (3, 4)
    covered = np.zeros(shape[-2:], int)
    starts = patch_starts(shape, size, hop)
    for r, c in starts:
        assert r + size[0] <= shape[1] and c + size[1] <= shape[2]
        covered[r : r + size[0], c : c + size[1]] += 1
    assert covered.min() >= 1
    assert starts == [(r, c) for r in window_starts(29, 8, 3) for c in window_starts(31, 10, 4)]
    assert patch_starts((29,), 8, 3) == [(s,) for s in window_starts(29, 8, 3)]
    w = taper_nd((8, 5, 6), "hann")
    assert w.shape == (8, 5, 6)
    np.testing.assert_allclose(
        w, np.einsum("i,j,k->ijk", taper(8, "hann"), taper(5, "hann"), taper(6, "hann"))
    )
    np.testing.assert_array_equal(taper_nd(7), taper(7))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(size=(64, 8)), "pad"),
        (dict(size=50), "pad"),
        (dict(size=(8, 8), hop=(9, 4)), "hop"),
        (dict(size=(8, 8), hop=0), "hop"),
        (dict(size=(8, 8), hop=(4, 4, 4)), "hop"),
        (dict(size=(2, 8, 8, 8)), "axes"),
        (dict(size=(8, 8), kind="gauss"), "taper"),
        (dict(size=(8, 8), scale="max"), "scale"),
        (dict(size=(8, 8), batch=0), "batch"),
        (dict(size=(8, 8), out=np.zeros((3, 20, 40))), "out"),
    ],
)
def test_invalid_arguments_raise(kwargs, match):
    x = _data((20, 40))
    with pytest.raises(InvalidInputError, match=match):
        apply_patched(lambda b: b, x, **kwargs)


def test_fn_changing_shape_raises_naming_shapes():
    with pytest.raises(InvalidInputError, match=r"\(3, 2, 8, 8\).*\(3, 2, 8, 8\)|shape"):
        apply_patched(lambda b: b[..., :4], _data((2, 16, 16)), (8, 8), batch=3)
    with pytest.raises(InvalidInputError, match="pad"):
        patch_starts((10, 10), (11, 4))


def test_unit_scale_floor_excludes_marked_windows_and_matches_torch():
    rng = np.random.default_rng(3)
    w = rng.normal(size=(3, 5, 64)) * rng.uniform(0.5, 2.0, size=(3, 5, 1))
    w[0, 1] *= 1e-9  # near flat: scaled by the floor, not to unit spread
    w[2, 4] = 0.0  # flat and excluded: not part of the median
    exclude = np.zeros((3, 5), dtype=bool)
    exclude[2, 4] = True
    spread = w.std(axis=-1, keepdims=True)
    level = 1e-6 * np.median(spread[~exclude])
    expected = np.where(spread > level, spread, level)
    got = unit_scale(w, floor=1e-6, exclude=exclude)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert got[0, 1, 0] == pytest.approx(level) and got[2, 4, 0] == pytest.approx(level)
    got_t = unit_scale(torch.from_numpy(w), floor=1e-6, exclude=torch.from_numpy(exclude))
    np.testing.assert_allclose(got_t.numpy(), expected, rtol=1e-12)
    # over two axes (image patches), and without a floor only constant patches get 1
    p = rng.normal(size=(4, 8, 8))
    p[1] = 3.0
    s = unit_scale(p, ndim=2)
    assert s.shape == (4, 1, 1) and s[1, 0, 0] == 1.0
    np.testing.assert_allclose(s[[0, 2, 3], 0, 0], p[[0, 2, 3]].reshape(3, -1).std(axis=1))
