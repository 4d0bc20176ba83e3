"""Procedural MRI phantoms, offline and reproducible from a numpy Generator.

Volumes are indexed ``(z, y, x)``: axis 0 runs inferior to superior, axis 1 (image rows) anterior to
posterior, axis 2 (image columns) along x, so ``volume[k]`` is an axial slice shown as an image.

* :func:`shepp_logan_3d`: the 3-D Shepp-Logan head of ellipsoids, with the geometry of Schabel's
  ``phantom3d`` (the 3-D extension of Kak & Slaney's ellipses, "Principles of Computerized Tomographic
  Imaging", 1988) and the "modified" contrast of Toft ("The Radon Transform", 1996), values in [0, 1].
* :func:`brain_phantom`: a BrainWeb-like head (labels 0 background, 1 CSF, 2 grey matter, 3 white
  matter, 4 fat, 5 muscle/skin, 6 skull; 7 is reserved for vessels and not generated). Skin, fat and
  skull are shells of set thickness in mm; the cortex is a grey-matter ribbon folded by sulci that follow
  the nodal lines of a random-wave field on the brain surface; CSF fills the sulci, the interhemispheric
  fissure, two crescent lateral ventricles and a third ventricle; thalami, caudate and putamen are grey
  blobs. A smooth random deformation per seed changes the anatomy but hardly the tissue volumes. Tissue
  fractions are anti-aliased analytically (a one-voxel linear ramp across every boundary), so boundary
  voxels mix tissues (partial volume). The image is the spin-echo signal
  ``S = PD (1 - exp(-TR/T1)) exp(-TE/T2)`` of each tissue, mixed by fraction, times a mild correlated
  texture and a smooth multiplicative bias field.
* :func:`brain_slices`: random axial slices of random phantoms, for training data.

Tissue parameters (T1, T2 in ms, PD) at 1.5 T are BrainWeb's ("tissue_mr_parameters.txt" of the
BrainWeb simulator; Cocosco et al. 1997, NeuroImage 5:S425; Kwan et al. 1999, IEEE TMI 18:1085). BrainWeb
gives skull no signal; here skull has PD 0.05 and T2 1 ms (cortical bone's sub-millisecond T2*), so its
spin-echo signal is zero to ~1e-5. At 3 T the values are those of the 3-T extension of Fessler's MIRT
``mri_brainweb_params`` (Nataraj, 2015): grey and white matter from Wansapura et al. 1999 (JMRI 9:531),
muscle from Stanisz et al. 2005 (MRM 54:507), CSF an order-of-magnitude estimate, fat extrapolated
from 1.5 T by sqrt(2). The 'T2' sequence is TR 4000 / TE 100; 'PD' uses BrainWeb's dual-echo early echo
(TR 3300 / TE 35), since with TR 3000 / TE 15 grey matter would out-shine CSF (CSF T1 2569 ms).

Examples
--------
>>> sl = shepp_logan_3d((32, 32, 32))
>>> sl.shape, float(sl.max()), float(sl.min())
((32, 32, 32), 1.0, 0.0)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import numpy as np
from scipy import ndimage

from wavediff.errors import InvalidInputError, ShapeError

__all__ = [
    "LABELS",
    "TISSUE_PARAMETERS",
    "SEQUENCES",
    "spin_echo_signal",
    "tissue_signals",
    "shepp_logan_3d",
    "brain_phantom",
    "brain_slices",
    "head_mask",
]

#: Tissue class of each label of :func:`brain_phantom` (7 is reserved: vessels are not generated).
LABELS: dict[int, str] = {
    0: "background", 1: "CSF", 2: "grey matter", 3: "white matter",
    4: "fat", 5: "muscle/skin", 6: "skull", 7: "vessels",
}  # fmt: skip

#: ``{field strength in T: {label: (T1 ms, T2 ms, PD)}}`` (sources in the module docstring).
TISSUE_PARAMETERS: dict[float, dict[int, tuple[float, float, float]]] = {
    1.5: {1: (2569.0, 329.0, 1.0), 2: (833.0, 83.0, 0.86), 3: (500.0, 70.0, 0.77),
          4: (350.0, 70.0, 1.0), 5: (900.0, 47.0, 1.0), 6: (250.0, 1.0, 0.05)},
    3.0: {1: (3000.0, 350.0, 1.0), 2: (1331.0, 110.0, 0.86), 3: (832.0, 79.6, 0.77),
          4: (495.0, 99.0, 1.0), 5: (1412.0, 50.0, 1.0), 6: (350.0, 1.0, 0.05)},
}  # fmt: skip

#: Spin-echo timings ``(TR ms, TE ms)`` of the named contrasts.
SEQUENCES: dict[str, tuple[float, float]] = {"T1": (500.0, 12.0), "T2": (4000.0, 100.0), "PD": (3300.0, 35.0)}

# Shepp-Logan ellipsoids (Schabel's phantom3d table): intensity, semi-axes a b c (x y z), centre x y z,
# in-plane angle phi (deg). Schabel's third Euler angle (psi = 10 deg on the two ventricles, theta = 0)
# only adds to phi about the same axis; it is left out so the central slice is Toft's 2-D phantom.
_SL3D = np.array([
    [1.0, 0.69, 0.92, 0.81, 0.0, 0.0, 0.0, 0.0],
    [-0.8, 0.6624, 0.874, 0.78, 0.0, -0.0184, 0.0, 0.0],
    [-0.2, 0.11, 0.31, 0.22, 0.22, 0.0, 0.0, -18.0],
    [-0.2, 0.16, 0.41, 0.28, -0.22, 0.0, 0.0, 18.0],
    [0.1, 0.21, 0.25, 0.41, 0.0, 0.35, -0.15, 0.0],
    [0.1, 0.046, 0.046, 0.05, 0.0, 0.1, 0.25, 0.0],
    [0.1, 0.046, 0.046, 0.05, 0.0, -0.1, 0.25, 0.0],
    [0.1, 0.046, 0.023, 0.05, -0.08, -0.605, 0.0, 0.0],
    [0.1, 0.023, 0.023, 0.02, 0.0, -0.606, 0.0, 0.0],
    [0.1, 0.023, 0.046, 0.02, 0.06, -0.605, 0.0, 0.0],
])  # fmt: skip
_SL_ORIGINAL = np.array([2.0, -0.98, -0.02, -0.02, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01])

# Brain geometry: a real head's semi-axes (z, y, x) in mm, the share of the field of view it may fill,
# shell thicknesses in mm (skin/muscle, fat, skull, subarachnoid CSF) and the cortical ribbon.
_REAL_HEAD_MM = np.array([74.0, 96.0, 76.0])
_FOV_SHARE = np.array([0.45, 0.43, 0.40])
_SHELLS_MM = (2.5, 3.0, 6.5, 1.5)
_CORTEX_MM, _SULCUS_DEPTH_MM, _GYRAL_WAVELENGTH_MM = 3.0, 18.0, 15.0
# deep grey nuclei, one per hemisphere: centre (z, y, |x|) and semi-axes as fractions of the head's
_NUCLEI = (
    ((-0.02, -0.10, 0.12), (0.11, 0.16, 0.10)),  # thalamus
    ((0.10, 0.22, 0.15), (0.09, 0.12, 0.07)),  # head of the caudate nucleus
    ((0.00, 0.06, 0.30), (0.12, 0.17, 0.06)),  # putamen
)


def _as_rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, numbers.Integral) and not isinstance(rng, bool) and rng >= 0):
        return np.random.default_rng(rng)
    raise InvalidInputError(f"rng={rng!r} must be a numpy Generator, a non-negative integer seed, or None")


def _check_shape(shape, ndim: int, example: tuple[int, ...]) -> tuple[int, ...]:
    try:
        dims = tuple(shape)
    except TypeError:
        dims = ()
    if len(dims) != ndim or not all(
        isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 16 for s in dims
    ):
        raise ShapeError(f"shape={shape!r} must be {ndim} integers >= 16, e.g. shape={example}")
    return tuple(int(s) for s in dims)


def _check_number(name: str, value, low: float, high: float, low_open: bool = False) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value > high or value < low or (low_open and value == low):
        side = "(" if low_open else "["
        raise InvalidInputError(f"{name}={value!r} must be a number in {side}{low}, {high}]")
    return float(value)


def _sequence(contrast) -> tuple[float, float]:
    if isinstance(contrast, Mapping):
        if set(contrast) != {"TR", "TE"}:
            raise InvalidInputError(
                f"contrast dict {dict(contrast)!r} must have exactly the keys 'TR' and 'TE' (ms)"
            )
        tr = _check_number("TR", contrast["TR"], 0.0, 1e6, low_open=True)
        return tr, _check_number("TE", contrast["TE"], 0.0, 1e6)
    if isinstance(contrast, str) and contrast.upper() in SEQUENCES:
        return SEQUENCES[contrast.upper()]
    raise InvalidInputError(
        f"unknown contrast {contrast!r}; choose one of {sorted(SEQUENCES)} or pass {{'TR': ms, 'TE': ms}}"
    )


def spin_echo_signal(pd: float, t1: float, t2: float, tr: float, te: float) -> float:
    """Spin-echo magnitude ``PD (1 - exp(-TR/T1)) exp(-TE/T2)`` (times in ms; zero where PD is zero).

    Examples
    --------
    >>> round(spin_echo_signal(0.77, 500.0, 70.0, 500.0, 12.0), 6)
    0.410053
    """
    if pd == 0:
        return 0.0
    return float(pd * (1.0 - math.exp(-tr / t1)) * math.exp(-te / t2))


def tissue_signals(contrast="T1", field_strength: float = 1.5) -> dict[int, float]:
    """Unscaled spin-echo signal of every tissue label (0 for background).

    Examples
    --------
    >>> s = tissue_signals("T2")
    >>> s[1] > s[2] > s[3]
    True
    """
    tr, te = _sequence(contrast)
    table = TISSUE_PARAMETERS.get(float(field_strength)) if isinstance(field_strength, numbers.Real) else None
    if table is None:
        raise InvalidInputError(
            f"field_strength={field_strength!r} must be one of {sorted(TISSUE_PARAMETERS)}"
        )
    return {0: 0.0, **{k: spin_echo_signal(pd, t1, t2, tr, te) for k, (t1, t2, pd) in table.items()}}


def shepp_logan_3d(shape=(64, 64, 64), *, modified: bool = True) -> np.ndarray:
    """3-D Shepp-Logan phantom of ten ellipsoids on ``[-1, 1]^3`` (float64, axes ``(z, y, x)``).

    Parameters
    ----------
    shape : 3 ints >= 16
        Voxels along (z, y, x); anisotropic shapes stretch the normalised cube. Row 0 is ``y = +1``.
    modified : bool
        Toft's higher-contrast intensities (values in [0, 1]); ``False`` gives the original ones
        (2, -0.98, -0.02, ..., values in [0, 2]).

    Examples
    --------
    >>> p = shepp_logan_3d((16, 20, 20))
    >>> p.shape, p.dtype.name, round(float(p[8, 10, 10]), 2)
    ((16, 20, 20), 'float64', 0.2)
    """
    nz, ny, nx = _check_shape(shape, 3, (64, 64, 64))
    z = (np.arange(nz) + 0.5) / nz * 2 - 1
    y = 1 - (np.arange(ny) + 0.5) / ny * 2
    x = (np.arange(nx) + 0.5) / nx * 2 - 1
    out = np.zeros((nz, ny, nx))
    values = _SL3D[:, 0] if modified else _SL_ORIGINAL
    for value, (a, b, c, x0, y0, z0, phi) in zip(values, _SL3D[:, 1:]):
        cos, sin = math.cos(math.radians(phi)), math.sin(math.radians(phi))
        dz = (z - z0)[:, None, None]
        dy, dx = (y - y0)[None, :, None], (x - x0)[None, None, :]
        xr, yr = dx * cos + dy * sin, -dx * sin + dy * cos
        out += value * ((xr / a) ** 2 + (yr / b) ** 2 + (dz / c) ** 2 <= 1.0)
    return np.clip(out, 0.0, None) if modified else out


def _ramp(depth: np.ndarray, width: float) -> np.ndarray:
    """Fraction of a voxel on the inner side of a boundary at signed ``depth`` (mm, > 0 inside)."""
    return np.clip(0.5 + depth / width, 0.0, 1.0)


def _lowpass(rng: np.random.Generator, zn, yn, xn, n_terms: int = 6, max_cycles: float = 1.0) -> np.ndarray:
    """Smooth random field of about unit std: a sum of separable random cosines of normalised coordinates."""
    factors = []
    for c in (zn, yn, xn):
        freq = rng.uniform(0.1, max_cycles, n_terms)
        phase = rng.uniform(0.0, 2 * np.pi, n_terms)
        factors.append(np.cos(np.pi * freq[:, None] * c[None, :] + phase[:, None]).astype(np.float32))
    w = rng.standard_normal(n_terms).astype(np.float32)
    field = np.einsum("k,ki,kj,kl->ijl", w, *factors, optimize=True)
    return field / np.float32(np.sqrt(np.sum(w**2) / 8.0))


def _ellipsoid_sdf(z, y, x, centre, radii) -> np.ndarray:
    """First-order signed distance (mm, < 0 inside) to an axis-aligned ellipsoid, ``(rho - 1) / |grad rho|``."""
    u = [(c - c0) / r for c, c0, r in zip((z, y, x), centre, radii)]
    rho2 = u[0] ** 2 + u[1] ** 2 + u[2] ** 2 + 1e-12
    grad2 = (u[0] / radii[0]) ** 2 + (u[1] / radii[1]) ** 2 + (u[2] / radii[2]) ** 2 + 1e-12 / max(radii) ** 2
    return (np.sqrt(rho2) - 1.0) * np.sqrt(rho2 / grad2)


def _fractions(rng: np.random.Generator, z, y, x, head_mm, ramp: float, texture_sigma) -> tuple:
    """Tissue fractions ``(7, nz, ny, nx)``, bias field (unit amplitude) and texture of one random head.

    ``z, y, x`` are 1-D coordinates in mm. Every random draw happens in a fixed order and, except the
    texture (last), does not depend on the grid, so slices of a seed match its volume.
    """
    sc = float(np.min(head_mm / _REAL_HEAD_MM))  # anatomy shrinks with a head smaller than a real one
    a = head_mm * (1 + 0.03 * np.clip(rng.standard_normal(3), -2, 2))
    zn, yn, xn = z / head_mm[0], y / head_mm[1], x / head_mm[2]
    warp = [_lowpass(rng, zn, yn, xn) * np.float32(0.025 * ai) for ai in a]
    zd = (z[:, None, None] + warp[0]).astype(np.float32)
    yd = (y[None, :, None] + warp[1]).astype(np.float32)
    xd = (x[None, None, :] + warp[2]).astype(np.float32)
    thick_field = np.tanh(_lowpass(rng, zn, yn, xn))
    depth_field = np.tanh(_lowpass(rng, zn, yn, xn))
    # head: approximate inward distance to the ellipsoid surface, (1 - r) / |grad r|
    q1 = (zd / a[0]) ** 2 + (yd / a[1]) ** 2 + (xd / a[2]) ** 2 + 1e-12
    q2 = (zd / a[0] ** 2) ** 2 + (yd / a[1] ** 2) ** 2 + (xd / a[2] ** 2) ** 2 + 1e-12 / a.max() ** 2
    r = np.sqrt(q1)
    d_in = (1.0 - r) * np.sqrt(q1 / q2)
    skin, fat, skull, csf_outer = (t * sc for t in _SHELLS_MM)
    fat, skull = fat * (1 + 0.25 * thick_field), skull * (1 + 0.2 * thick_field)
    head, below_skin = _ramp(d_in, ramp), _ramp(d_in - skin, ramp)
    below_fat, intracranial = _ramp(d_in - skin - fat, ramp), _ramp(d_in - skin - fat - skull, ramp)
    delta = d_in - (skin + fat + skull + csf_outer)  # depth below the brain surface
    # sulci: nodal lines of random waves on the surface, extended radially, CSF core lined by cortex
    n_waves, k = 48, 2 * np.pi / (_GYRAL_WAVELENGTH_MM * sc)
    dirs = rng.standard_normal((3, n_waves))
    kvec = (k * dirs / np.linalg.norm(dirs, axis=0)).astype(np.float32)
    phases = rng.uniform(0, 2 * np.pi, n_waves).astype(np.float32)
    depth = _SULCUS_DEPTH_MM * sc * (1 + 0.25 * depth_field)
    cortex = _CORTEX_MM * sc * (1 + 0.15 * thick_field)
    sulcus = np.full(d_in.shape, np.inf, dtype=np.float32)
    shell = (delta > -ramp) & (delta < depth + cortex + ramp)
    ps = np.stack([zd[shell], yd[shell], xd[shell]], axis=1) / r[shell][:, None]
    arg, amp = ps @ kvec + phases, np.float32(np.sqrt(2.0 / n_waves))
    wave = np.cos(arg).sum(axis=1) * amp
    grad = -(np.sin(arg) @ kvec.T) * amp  # gradient on the surface, radial part removed below
    normal = ps / np.linalg.norm(ps, axis=1, keepdims=True)
    grad -= np.sum(grad * normal, axis=1, keepdims=True) * normal
    slope = np.maximum(np.linalg.norm(grad, axis=1), np.float32(0.3 * k))
    to_node = np.abs(wave) / slope  # first-order distance (mm) to the nodal line
    ds, dd = delta[shell], depth[shell]
    half_width = sc * (0.4 + 0.03 * np.clip(dd - ds, 0, None))
    sulcus[shell] = np.maximum(to_node - half_width, ds - dd)
    # interhemispheric fissure: everywhere outside the arch of the corpus callosum and the diencephalon
    callosum = _ellipsoid_sdf(zd, yd, 0.0, a * [-0.12, -0.02, 0], a * [0.40, 0.45, 1])
    fissure = np.maximum(np.abs(xd) - 1.0 * sc, -callosum)
    pial = np.minimum(np.minimum(delta, sulcus), fissure)  # depth below the nearest CSF
    csf, gm, wm = (
        1.0 - _ramp(pial, ramp),
        _ramp(pial, ramp) - _ramp(pial - cortex, ramp),
        _ramp(pial - cortex, ramp),
    )
    # deep grey nuclei and ventricles (crescents bent down at both ends, a thin third ventricle)
    nuclei = np.full(d_in.shape, np.inf, dtype=np.float32)
    for (cz, cy, cx), radii in _NUCLEI:
        for side in (-1.0, 1.0):
            centre = a * (np.array([cz, cy, side * cx]) + 0.015 * rng.standard_normal(3))
            radii_mm = a * np.array(radii) * (1 + 0.06 * np.clip(rng.standard_normal(), -2, 2))
            nuclei = np.minimum(nuclei, _ellipsoid_sdf(zd, yd, xd, centre, radii_mm))
    n = _ramp(-nuclei, ramp)
    gm, wm = gm + wm * n, wm * (1 - n)
    vent_scale = 1 + 0.12 * np.clip(rng.standard_normal(2), -2, 2)
    bend = rng.uniform(0.8, 1.2)
    radii_v = a * np.array([0.075, 0.40, 0.06]) * vent_scale[0]
    y0, drop = -0.02 * a[1], bend * 0.15 * a[0] * ((yd + 0.02 * a[1]) / radii_v[1]) ** 2
    vent = np.maximum(
        np.abs(xd) - 1.5 * sc, _ellipsoid_sdf(zd, yd, 0.0, a * [-0.02, -0.08, 0], a * [0.09, 0.13, 1])
    )
    for side in (-1.0, 1.0):
        centre = (0.12 * a[0], y0, side * 0.085 * a[2] * vent_scale[1])
        vent = np.minimum(vent, _ellipsoid_sdf(zd + drop, yd, xd, centre, radii_v))
    v = _ramp(-vent, ramp)
    csf, gm, wm = csf + (gm + wm) * v, gm * (1 - v), wm * (1 - v)
    frac = np.stack([1 - head, csf * intracranial, gm * intracranial, wm * intracranial,
                     below_skin - below_fat, head - below_skin, below_fat - intracranial]).astype(np.float32)  # fmt: skip
    bias = np.tanh(_lowpass(rng, zn, yn, xn, n_terms=4, max_cycles=0.6))
    noise = ndimage.gaussian_filter(rng.standard_normal(d_in.shape).astype(np.float32), texture_sigma)
    return frac, bias, noise / max(float(noise.std()), 1e-12)


def _render(frac, bias_field, noise, signals, bias: float, texture: float) -> np.ndarray:
    img = np.tensordot(np.array([signals[k] for k in range(7)], dtype=np.float32), frac, axes=1)
    img = np.clip(img * (1 + np.float32(texture) * noise) * (1 + np.float32(bias) * bias_field), 0, None)
    return img.astype(np.float32)


def _check_common(contrast, field_strength, bias, texture) -> dict[int, float]:
    _check_number("bias", bias, 0.0, 0.5)
    _check_number("texture", texture, 0.0, 0.2)
    return tissue_signals(contrast, field_strength)


def brain_phantom(
    shape=(96, 112, 96),
    *,
    rng: np.random.Generator | int | None = None,
    contrast="T1",
    field_strength: float = 1.5,
    voxel_mm: float = 2.0,
    bias: float = 0.1,
    texture: float = 0.025,
    return_labels: bool = False,
):
    """BrainWeb-like procedural head: magnitude image (float32, max 1) and optionally its tissue labels.

    Parameters
    ----------
    shape : 3 ints >= 16
        Voxels along (z, y, x). The head spans 90 / 86 / 80 % of the field of view ``shape * voxel_mm``
        along z / y / x, up to a real head's size (148 x 192 x 152 mm); in a smaller field of view it
        shrinks with its shells, cortex and sulci (a 16-voxel head has almost no cortex).
    rng : numpy Generator, int seed or None
        Source of the anatomy, bias field and texture; the same seed gives the same volume.
    contrast : 'T1', 'T2', 'PD' or {'TR': ms, 'TE': ms}
        Spin-echo timing (see :data:`SEQUENCES`).
    field_strength : 1.5 or 3.0
        Selects the tissue table (:data:`TISSUE_PARAMETERS`).
    voxel_mm : float
        Isotropic voxel size in mm, in (0.25, 10].
    bias : float
        Amplitude of the smooth multiplicative bias field, in [0, 0.5] (0.1: within +-10 %).
    texture : float
        Standard deviation of the within-tissue texture (correlated over about a voxel), in [0, 0.2].
    return_labels : bool
        Also return the ``uint8`` label volume (the tissue with the largest fraction in each voxel).

    Returns
    -------
    image : ndarray of float32, or (image, labels)

    Examples
    --------
    >>> img, lab = brain_phantom((32, 36, 32), rng=0, voxel_mm=6.0, return_labels=True)
    >>> img.shape, img.dtype.name, float(img.max()), lab.dtype.name
    ((32, 36, 32), 'float32', 1.0, 'uint8')
    >>> [int(v) for v in np.unique(lab)]
    [0, 1, 2, 3, 4, 5, 6]
    """
    nz, ny, nx = _check_shape(shape, 3, (96, 112, 96))
    vox = _check_number("voxel_mm", voxel_mm, 0.25, 10.0, low_open=True)
    signals = _check_common(contrast, field_strength, bias, texture)
    gen = _as_rng(rng)
    fov = np.array([nz, ny, nx], dtype=float) * vox
    head_mm = np.minimum(_FOV_SHARE * fov, _REAL_HEAD_MM)
    z, y, x = ((np.arange(n) - (n - 1) / 2) * vox for n in (nz, ny, nx))
    frac, bias_field, noise = _fractions(gen, z, -y, x, head_mm, vox, 1.0)
    img = _render(frac, bias_field, noise, signals, bias, texture)
    img /= max(float(img.max()), 1e-12)
    if return_labels:
        return img, np.argmax(frac, axis=0).astype(np.uint8)
    return img


def brain_slices(
    n: int,
    *,
    rng: np.random.Generator | int | None,
    shape=(128, 128),
    contrast="T1",
    field_strength: float = 1.5,
    bias: float = 0.1,
    texture: float = 0.025,
    slices_per_phantom: int = 8,
) -> np.ndarray:
    """``n`` axial slices ``(n, H, W)`` (float32, each scaled to max 1) of random heads at random levels.

    Each random head is evaluated only at ``slices_per_phantom`` random axial levels between the skull
    base region and near the vertex (-30 % to +70 % of the head's half-height), on a ``224 mm`` field of
    view along the longer image side; slices come out in random order.

    Examples
    --------
    >>> s = brain_slices(3, rng=1, shape=(32, 32))
    >>> s.shape, s.dtype.name, [float(v) for v in s.max(axis=(1, 2))]
    ((3, 32, 32), 'float32', [1.0, 1.0, 1.0])
    """
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
        raise InvalidInputError(f"n={n!r} must be a positive integer (number of slices)")
    if not isinstance(slices_per_phantom, numbers.Integral) or slices_per_phantom < 1:
        raise InvalidInputError(f"slices_per_phantom={slices_per_phantom!r} must be a positive integer")
    h, w = _check_shape(shape, 2, (128, 128))
    signals = _check_common(contrast, field_strength, bias, texture)
    gen = _as_rng(rng)
    vox = 224.0 / max(h, w)
    head_mm = np.minimum(_FOV_SHARE * np.array([224.0, h * vox, w * vox]), _REAL_HEAD_MM)
    y, x = ((np.arange(m) - (m - 1) / 2) * vox for m in (h, w))
    out = np.empty((n, h, w), dtype=np.float32)
    done = 0
    while done < n:
        k = min(int(slices_per_phantom), n - done)
        z = np.sort(gen.uniform(-0.3, 0.7, k)) * head_mm[0]
        frac, bias_field, noise = _fractions(gen, z, -y, x, head_mm, vox, (0.0, 1.0, 1.0))
        img = _render(frac, bias_field, noise, signals, bias, texture)
        out[done : done + k] = img / np.maximum(img.max(axis=(1, 2), keepdims=True), 1e-12)
        done += k
    return out[gen.permutation(n)]


def head_mask(image_or_labels: np.ndarray, threshold: float = 0.05) -> np.ndarray:
    """Head mask: ``labels > 0`` for an integer or boolean volume, else ``image > threshold * max``
    with enclosed holes (dark skull, CSF) filled.

    Examples
    --------
    >>> lab = np.zeros((3, 4, 4), dtype=np.uint8); lab[1, 1:3, 1:3] = 2
    >>> int(head_mask(lab).sum())
    4
    """
    arr = np.asarray(image_or_labels)
    if arr.size == 0 or arr.ndim not in (2, 3):
        raise ShapeError(f"expected a non-empty 2-D or 3-D array, got shape {arr.shape}")
    if arr.dtype == bool or np.issubdtype(arr.dtype, np.integer):
        return arr > 0
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError("image holds NaN or infinite values")
    return ndimage.binary_fill_holes(arr > threshold * float(arr.max()))
