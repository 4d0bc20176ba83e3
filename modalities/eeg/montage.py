"""The EEG room's template head: MNE's built-in montages by either name, and template electrode positions.

MNE 1.13 renamed the ``standard_*`` template montages to ``colin27_*`` (same positions; the old names
warn, then go away in 1.14). :func:`resolve_montage_name` accepts either spelling and returns the one
the installed MNE provides, so the room, its baselines and the simulators in
:mod:`wavediff.datasets.eeg` name montages the same way whatever MNE is installed.

The room's template is the 10-05 montage (``colin27_1005``, formerly ``standard_1005``), in MNE head
coordinates (m; x right, y nose, z up). :func:`electrode_positions` looks channel names up in it
as :mod:`.channels` matches them (``Fp1.``, ``EEG FP1-REF``, ``T3`` -> ``T7`` ...); names it does not
know give a row of NaN.

This module imports only MNE and NumPy, so the data generators can use it without loading the room.

Examples
--------
>>> resolve_montage_name("standard_1020") in mne.channels.get_builtin_montages()
True
>>> electrode_positions(["Cz"]).shape
(1, 3)
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable, Sequence
from typing import Any

import mne
import numpy as np

from wavediff.errors import InvalidInputError, ShapeError

__all__ = [
    "TEMPLATE",
    "check_ch_names",
    "did_you_mean",
    "electrode_positions",
    "resolve_montage_name",
    "template_montage",
    "template_positions",
]

#: The room's template montage (10-05 system); MNE before 1.13 calls it ``standard_1005``.
TEMPLATE = "colin27_1005"

_ALIASES = {
    "standard_1005": "colin27_1005",
    "standard_1020": "colin27_1020",
    "standard_alphabetic": "colin27_alphabetic",
    "standard_postfixed": "colin27_postfixed",
    "standard_prefixed": "colin27_prefixed",
    "standard_primed": "colin27_primed",
}


def did_you_mean(name: str, choices: Sequence[str]) -> str:
    """A ``" (did you mean 'X'?)"`` hint for an unknown name, or ``""`` when nothing is close.

    Matching ignores case, so the hint also catches ``"cz"`` for ``"Cz"``.

    Examples
    --------
    >>> did_you_mean("Czz", ["Cz", "Pz", "O1"])
    " (did you mean 'Cz'?)"
    >>> did_you_mean("EOG", ["Cz", "Pz"])
    ''
    """
    lower = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(name.lower(), list(lower), n=3, cutoff=0.6)
    return f" (did you mean {', '.join(repr(lower[c]) for c in close)}?)" if close else ""


def resolve_montage_name(name: str) -> str:
    """The name under which the installed MNE knows a built-in montage (``standard_*`` or ``colin27_*``).

    Parameters
    ----------
    name : str
        A name from :func:`mne.channels.get_builtin_montages`, in either spelling.

    Returns
    -------
    str
        ``name`` itself when MNE knows it, else its other spelling.

    Raises
    ------
    InvalidInputError
        MNE knows the montage under neither spelling.

    Examples
    --------
    >>> resolve_montage_name("biosemi64")
    'biosemi64'
    >>> resolve_montage_name("colin27_1020") in ("colin27_1020", "standard_1020")
    True
    """
    builtin = mne.channels.get_builtin_montages()
    if name in builtin:
        return name
    alias = _ALIASES.get(name)
    if alias in builtin:
        return alias
    reverse = {v: k for k, v in _ALIASES.items()}.get(name)
    if reverse is not None:  # an older MNE that only knows the "standard_*" spelling
        return reverse
    raise InvalidInputError(
        f"unknown montage {name!r}{did_you_mean(name, [*builtin, *_ALIASES])}; use one of mne.channels.get_builtin_montages() "
        f"({', '.join(builtin[:6])}, ...), an mne.channels.DigMontage, or None for no positions"
    )


@functools.lru_cache(maxsize=1)
def _template_montage() -> mne.channels.DigMontage:
    return mne.channels.make_standard_montage(resolve_montage_name(TEMPLATE))


def template_montage() -> mne.channels.DigMontage:
    """A copy of the room's 10-05 template montage (``colin27_1005``, formerly ``standard_1005``).

    Examples
    --------
    >>> montage = template_montage()
    >>> "Cz" in montage.ch_names and "Iz" in montage.ch_names
    True
    """
    return _template_montage().copy()  # a copy: a caller may change it without changing everyone's


@functools.lru_cache(maxsize=1)
def _template() -> tuple[dict[str, np.ndarray], np.ndarray]:
    montage = _template_montage()
    info = mne.create_info(montage.ch_names, 100.0, "eeg")
    info.set_montage(montage)
    pos = {ch["ch_name"]: ch["loc"][:3].copy() for ch in info["chs"]}
    nasion = next(d["r"] for d in info["dig"] if int(d["ident"]) == mne.io.constants.FIFF.FIFFV_POINT_NASION)
    nasion = np.array(nasion, dtype=np.float64)
    for arr in (*pos.values(), nasion):
        arr.setflags(write=False)  # shared by every caller through the cache
    return pos, nasion


def template_positions() -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Head-coordinate positions (m) of every template electrode by name, and the template's nasion.

    The arrays are read-only (they are shared); copy one before changing it.

    Examples
    --------
    >>> positions, nasion = template_positions()
    >>> bool(positions["Cz"][2] > 0.05), bool(nasion[1] > 0.05)  # Cz on top, the nasion in front
    (True, True)
    """
    pos, nasion = _template()
    return dict(pos), nasion


def check_ch_names(ch_names: Any, n_channels: int | None = None) -> list[str] | None:
    """Channel names as a list of unique strings; None stays None (for callers where names are optional).

    Parameters
    ----------
    ch_names : sequence of str or None
        One name per channel.
    n_channels : int or None
        When given, the number of names required.

    Returns
    -------
    list of str or None

    Raises
    ------
    InvalidInputError
        Not a list of names, empty, or with duplicates.
    ShapeError
        Not ``n_channels`` names.

    Examples
    --------
    >>> check_ch_names(("Fp1", "Cz"))
    ['Fp1', 'Cz']
    """
    if ch_names is None:
        return None
    if isinstance(ch_names, (str, bytes)) or not isinstance(ch_names, Iterable):
        raise InvalidInputError("ch_names must be a list of channel names such as ['Fp1', 'Fp2', 'Cz']")
    names = [str(n) for n in ch_names]
    if not names:
        raise InvalidInputError("ch_names is empty; pass one name per channel, or None where names are optional")
    if len(set(names)) != len(names):
        raise InvalidInputError(f"ch_names has duplicates {sorted({n for n in names if names.count(n) > 1})}; names must be unique")
    if n_channels is not None and len(names) != n_channels:
        raise ShapeError(f"got {len(names)} channel names for {n_channels} channels; pass one name per row")
    return names


@functools.lru_cache(maxsize=128)
def _positions(names: tuple[str, ...]) -> np.ndarray:
    from .channels import standard_name  # channels builds on this module

    pos, _ = _template()
    return np.array([pos[std] if (std := standard_name(n)) is not None else [np.nan] * 3 for n in names], dtype=np.float64)


def electrode_positions(ch_names: Sequence[str]) -> np.ndarray:
    """Electrode positions (m, MNE head coordinates) of the 10-05 template for the given channel names.

    Names are matched as :func:`~wavediff.modalities.eeg.channels.standard_name` matches them (case,
    trailing dots, ``EEG``/``POL`` prefixes, reference suffixes, T3/T4/T5/T6); unknown names give a row of NaN.

    Examples
    --------
    >>> pos = electrode_positions(["Fp1", "Cz", "EOG"])
    >>> pos.shape, bool(pos[1, 2] > 0.1), bool(np.isnan(pos[2]).all())  # Cz is on top of the head
    ((3, 3), True, True)
    """
    if ch_names is None:
        raise InvalidInputError("ch_names is None; pass the channel names whose positions you want, e.g. ['Fp1', 'Cz']")
    names = check_ch_names(ch_names)
    return _positions(tuple(names)).copy()

