"""The simulator's head model: montage layout, a sphere fitted to it, MNE forward-model gains, dipole sources.

Topographies come from MNE's forward model of a three-shell spherical head fitted to the montage
(:func:`mne.make_sphere_model`, :func:`mne.setup_volume_source_space` with a discrete source space and
:func:`mne.make_forward_solution`); nothing is downloaded. The gain matrix is cached per channel set.
Built-in montages are named as in :func:`wavediff.modalities.eeg.montage.resolve_montage_name`
(``standard_*`` or ``colin27_*``, whichever the installed MNE knows). The rhythm generators sit under
10-20 anchors of the template head (occipital alpha under O1/PO3 and O2/PO4, frontal-midline theta under
Fz/FCz, sensorimotor beta under C3 and C4); about 60 background dipoles are spread over the cortex.
With ``montage=None`` there are no positions: channels are placed on a virtual hemisphere in the order
given and the topographies are random smooth bumps on it (same spectra, no anatomical meaning).

Examples
--------
>>> len(DEFAULT_CH_NAMES), DEFAULT_CH_NAMES[:3]
(19, ('Fp1', 'Fp2', 'F7'))
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from typing import Any

import mne
import numpy as np
from wavediff.modalities.eeg.montage import did_you_mean, resolve_montage_name

from wavediff.errors import InvalidInputError

__all__ = ["DEFAULT_CH_NAMES"]

#: The 19 electrodes of the international 10-20 system (modern names: T7/T8/P7/P8 for T3/T4/T5/T6).
DEFAULT_CH_NAMES: tuple[str, ...] = (
    "Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "T7", "C3", "Cz",
    "C4", "T8", "P7", "P3", "Pz", "P4", "P8", "O1", "O2",
)  # fmt: skip

_N_BACKGROUND_DIPOLES = 60
_SOURCE_DEPTH = 0.78  # dipole distance from the sphere centre, in head radii (inner skull at 0.90)
_DEEP_SOURCE_DEPTH = {
    "theta": 0.6,
    "alpha_left": 0.7,
    "alpha_right": 0.7,
}  # medial frontal, parieto-occipital
# Rhythm generators as 10-20 anchors on the template head: the dipole sits under the anchor(s).
_RHYTHM_ANCHORS = {
    "alpha_left": ("O1", "PO3"),
    "alpha_right": ("O2", "PO4"),
    "theta": ("Fz", "FCz"),
    "beta_left": ("C3",),
    "beta_right": ("C4",),
}


def _fit_sphere(pos: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares sphere through electrode positions: ``|p|^2 = 2 p.c + (R^2 - |c|^2)``."""
    a = np.c_[2 * pos, np.ones(len(pos))]
    sol, *_ = np.linalg.lstsq(a, (pos**2).sum(1), rcond=None)
    centre = sol[:3]
    return centre, float(np.sqrt(sol[3] + centre @ centre))


def _montage_positions(montage: mne.channels.DigMontage) -> tuple[tuple[str, ...], np.ndarray]:
    """EEG channel names of a montage and their positions in head coordinates (m)."""
    names = [n for n in montage.ch_names]
    info = mne.create_info(names, 1000.0, "eeg")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. a montage without fiducials
        info.set_montage(montage, on_missing="ignore", verbose=False)
    pos = np.array([ch["loc"][:3] for ch in info["chs"]], dtype=float)
    keep = np.isfinite(pos).all(1) & (np.linalg.norm(pos, axis=1) > 0)
    return tuple(n for n, k in zip(names, keep) if k), pos[keep]


@functools.lru_cache(maxsize=16)
def _builtin_layout(name: str) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, float]:
    names, pos = _montage_positions(mne.channels.make_standard_montage(name))
    centre, radius = _fit_sphere(pos)
    pos.setflags(write=False)
    centre.setflags(write=False)
    return names, pos, centre, radius


def _layout(
    montage: str | mne.channels.DigMontage,
) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, float, Any]:
    """(names, positions, sphere centre, sphere radius, montage object) of a montage name or object."""
    if isinstance(montage, str):
        resolved = resolve_montage_name(montage)
        names, pos, centre, radius = _builtin_layout(resolved)
        return names, pos, centre, radius, resolved
    if isinstance(montage, mne.channels.DigMontage):
        names, pos = _montage_positions(montage)
        if len(names) < 8:
            raise InvalidInputError(
                f"the montage has {len(names)} EEG positions; at least 8 are needed to fit the spherical head "
                "model (pass a full-cap montage and choose channels with ch_names)"
            )
        centre, radius = _fit_sphere(pos)
        return names, pos, centre, radius, montage
    raise InvalidInputError(
        f"montage={montage!r} must be a built-in montage name (e.g. 'standard_1020'), an mne.channels.DigMontage, "
        "or None for no positions"
    )


def _template_directions() -> dict[str, np.ndarray]:
    """Unit vectors (head coordinates) from the template sphere centre to the rhythm anchors."""
    names, pos, centre, _ = _builtin_layout(resolve_montage_name("standard_1020"))
    out = {}
    for key, anchors in _RHYTHM_ANCHORS.items():
        v = np.mean([pos[names.index(a)] - centre for a in anchors], axis=0)
        out[key] = v / np.linalg.norm(v)
    return out


def _fibonacci_directions(n: int, min_z: float = -1.0) -> np.ndarray:
    """About ``n`` near-uniform unit vectors with z >= min_z (golden-angle spiral)."""
    total = int(np.ceil(n * 2 / (1 - min_z)))
    i = np.arange(total) + 0.5
    z = 1 - 2 * i / total
    r = np.sqrt(1 - z**2)
    phi = i * np.pi * (3 - np.sqrt(5))
    d = np.c_[r * np.cos(phi), r * np.sin(phi), z]
    return d[z >= min_z]


@functools.lru_cache(maxsize=64)
def _gain(
    pos_key: tuple[tuple[float, float, float], ...], sphere_key: tuple[float, ...], dip_key: tuple
) -> np.ndarray:
    """Free-orientation EEG gain ``(n_channels, 3 n_dipoles)`` (V per A m, infinity reference)."""
    pos = np.asarray(pos_key, dtype=float)
    names = [f"E{i:03d}" for i in range(len(pos))]
    info = mne.create_info(names, 1000.0, "eeg")
    info.set_montage(
        mne.channels.make_dig_montage(ch_pos=dict(zip(names, pos)), coord_frame="head"), verbose=False
    )
    centre, radius = np.asarray(sphere_key[:3]), sphere_key[3]
    sphere = mne.make_sphere_model(r0=centre, head_radius=radius, verbose=False)
    rr = np.asarray(dip_key, dtype=float)
    nn = (rr - centre) / np.linalg.norm(rr - centre, axis=1, keepdims=True)
    src = mne.setup_volume_source_space(pos=dict(rr=rr, nn=nn), sphere=sphere, mindist=2.0, verbose=False)
    if src[0]["nuse"] != len(rr):  # pragma: no cover - guarded by the depths chosen above
        raise InvalidInputError("internal: a simulated dipole fell outside the spherical head model")
    fwd = mne.make_forward_solution(info, trans=None, src=src, bem=sphere, eeg=True, meg=False, verbose=False)
    g = np.array(fwd["sol"]["data"], dtype=float)
    g.setflags(write=False)
    return g


def _key(a: np.ndarray) -> tuple:
    return tuple(tuple(round(float(v), 7) for v in row) for row in np.atleast_2d(a))


def _dipole_gains(
    pos: np.ndarray, centre: np.ndarray, radius: float, directions: np.ndarray, depths: np.ndarray
) -> np.ndarray:
    """Gain ``(n_channels, n_dipoles, 3)`` of dipoles at ``centre + depth * radius * direction``."""
    rr = centre + (depths * radius)[:, None] * directions
    g = _gain(_key(pos), (*map(float, centre), float(radius)), _key(rr))
    return g.reshape(len(pos), len(rr), 3)


def _pseudo_positions(n: int) -> np.ndarray:
    """Channels on a unit upper hemisphere in the order given (spiral from the vertex down)."""
    i = np.arange(n) + 0.5
    z = 1 - i / max(n, 1)
    r = np.sqrt(1 - z**2)
    phi = i * np.pi * (3 - np.sqrt(5))
    return np.c_[r * np.cos(phi), r * np.sin(phi), z]


def _bump(points: np.ndarray, centre: np.ndarray, width: float = 0.5) -> np.ndarray:
    return np.exp(-((points - centre) ** 2).sum(1) / (2 * width**2))


def _resolve_channels(
    montage: str | mne.channels.DigMontage | None, ch_names: Sequence[str] | None
) -> tuple[list[str], np.ndarray | None, np.ndarray | None, float, Any]:
    """(names, positions or None, sphere centre or None, sphere radius, montage for set_montage)."""
    if ch_names is not None:
        if isinstance(ch_names, str) or not isinstance(ch_names, (Sequence, np.ndarray)):
            raise InvalidInputError(
                f"ch_names={ch_names!r} must be a list of channel names, e.g. ['Fp1', 'Cz', 'O1']"
            )
        ch_names = list(ch_names)
        if not ch_names:
            raise InvalidInputError(
                "ch_names is empty; give at least one channel name or None for the 19 10-20 channels"
            )
        bad = [c for c in ch_names if not isinstance(c, str) or not c]
        if bad:
            raise InvalidInputError(f"channel names must be non-empty strings, got {bad[:5]!r}")
        dupes = sorted({c for c in ch_names if ch_names.count(c) > 1})
        if dupes:
            raise InvalidInputError(f"duplicate channel names {dupes}; each channel must appear once")
    if montage is None:
        names = list(DEFAULT_CH_NAMES) if ch_names is None else ch_names
        return names, None, None, 1.0, None
    all_names, all_pos, centre, radius, montage_obj = _layout(montage)
    if ch_names is None:
        names = [c for c in DEFAULT_CH_NAMES if c in all_names]
        if len(names) < len(DEFAULT_CH_NAMES):
            names = list(all_names)
    else:
        names = ch_names
        unknown = [c for c in names if c not in all_names]
        if unknown:
            label = montage if isinstance(montage, str) else "the montage"
            hints = "".join(f"\n  {c!r}{did_you_mean(c, all_names)}" for c in unknown[:5])
            raise InvalidInputError(
                f"{len(unknown)} channel name(s) not in {label}:{hints}\nchoose from its {len(all_names)} positions "
                f"({', '.join(all_names[:8])}, ...) or pass montage=None to simulate without positions"
            )
    index = {n: i for i, n in enumerate(all_names)}
    pos = all_pos[[index[c] for c in names]]
    return names, pos, centre, radius, montage_obj

