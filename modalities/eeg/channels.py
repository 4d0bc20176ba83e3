"""Channels as files have them: names matched to electrode positions, channel types guessed from names,
positions from the recording's own montage or from one the user names.

Exporters spell the same electrode many ways: ``Fp1.`` and ``C5..`` (BCI2000 / PhysioNet EEGMMIDB),
``EEG Fp1-REF`` and ``EEG FP1-LE`` (Nihon Kohden, the TUH corpus), ``POL Fp1`` (Nihon Kohden through
EDF), ``FP1-A1``, ``Fp1-Ref``, ``FP1`` and the old 10-20 names ``T3 T4 T5 T6`` (``T7 T8 P7 P8`` today).
:func:`standard_name` undoes those spellings the way MNE matches montages (case, trailing dots, the
``EEG``/``POL`` prefixes and reference suffixes, aliases) and returns the 10-05 template's spelling.

EDF has no channel types: MNE reads every signal as EEG, the EOG, ECG, EMG and trigger channels too.
:func:`likely_type` names those from their labels, so that the room leaves them unchanged and uses real
EOG electrodes for the ocular estimate.

:func:`channel_layout` gives, for the EEG channels of a recording, positions (m, MNE head coordinates)
in this order of preference: a montage the user passes (``montage=``, a built-in name, a file or a
``DigMontage``), the recording's own digitisation (``raw.info``), the template position of the matched
name. It says where each came from, for the room's report.

Examples
--------
>>> standard_name("Fp1."), standard_name("EEG FP1-REF"), standard_name("T3"), standard_name("E12")
('Fp1', 'Fp1', 'T7', None)
>>> likely_type("EEG EKG1-REF"), likely_type("VEOG"), likely_type("Fp1")
('ecg', 'eog', None)
"""

from __future__ import annotations

import functools
import os
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mne
import numpy as np

from wavediff.errors import DataNotFoundError, InvalidInputError

from .montage import resolve_montage_name, template_montage, template_positions

__all__ = ["ChannelLayout", "channel_layout", "eog_roles", "likely_type", "name_index", "read_montage", "standard_name", "standard_names"]

# 10-20 names replaced in the 10-10 system (MNE's own alias table maps T5/T6 to T9/T10, not to P7/P8)
_OLD_NAMES = {"t3": "T7", "t4": "T8", "t5": "P7", "t6": "P8", "t1": "T9", "t2": "T10", "cb1": "POO7", "cb2": "POO8"}
_NEW_TO_OLD = {v.lower(): k for k, v in _OLD_NAMES.items()}
_PREFIX = re.compile(r"^(?:EEG|POL|EEG_|EEG-)[\s:_-]*(?=\S)", re.IGNORECASE)
# referential suffixes: the electrode against a reference (not a bipolar pair such as Fz-Cz or Fp1-F7)
_REF_SUFFIX = re.compile(r"[\s_-]+(?:REF|REFERENCE|LE|RE|AR|AV|AVG|AVE|CAR|A1|A2|A12|A1A2|M1|M2|M12|M1M2|LM|RM|LINKED|LNK|MAST)$", re.IGNORECASE)
_TYPES = (  # label pattern -> MNE channel type, tried on the label without prefix and suffix
    ("eog", re.compile(r"EOG|^[LR]OC$|^(?:LEFT|RIGHT)[\s_-]*EYE|^EYE", re.IGNORECASE)),
    ("ecg", re.compile(r"ECG|EKG", re.IGNORECASE)),
    ("emg", re.compile(r"EMG|^CHIN", re.IGNORECASE)),
    ("stim", re.compile(r"^(?:STI\b|STI\s?\d|STATUS$|TRIG|TRIGGER|EVENT|MARKER|DC\d*$)", re.IGNORECASE)),
    ("resp", re.compile(r"^(?:RESP|THOR|ABDO|AIRFLOW|NASAL|SNORE)", re.IGNORECASE)),
    ("misc", re.compile(r"^(?:PHOTIC|IBI|BURSTS|SUPPR|SPO2|SAO2|PULSE|PLETH|TEMP|HR$|POSITION|LIGHT|EDF ANNOTATIONS)", re.IGNORECASE)),
)
_VERTICAL = re.compile(r"VEOG|EOG[\s_-]*V|VERT|UP|DOWN|ABOVE|BELOW|INF|SUP", re.IGNORECASE)
_HORIZONTAL = re.compile(r"HEOG|EOG[\s_-]*H|HOR|^[LR]OC$|LEFT|RIGHT|EOG[\s_-]*[LR]$|^[LR][\s_-]*EOG|EOG[LR]$", re.IGNORECASE)


def _core(name: str) -> str:
    """The label without surrounding blanks, trailing dots, an ``EEG``/``POL`` prefix or a reference suffix."""
    s = str(name).strip().rstrip(".").strip()
    s = _PREFIX.sub("", s)
    return _REF_SUFFIX.sub("", s).strip().rstrip(".")


@functools.lru_cache(maxsize=1)
def _template_names() -> dict[str, str]:
    return {n.lower(): n for n in template_positions()[0]}


@functools.lru_cache(maxsize=4096)
def standard_name(name: str) -> str | None:
    """The 10-05 template's name of the electrode a channel label stands for, or None.

    Matching ignores case, blanks and trailing dots, an ``EEG``/``POL`` prefix and a reference suffix
    (``-REF``, ``-LE``, ``-A1``, ``-M2``, ``-AVG`` ...), and maps the old 10-20 names T3/T4/T5/T6 to
    T7/T8/P7/P8. Bipolar labels (``Fp1-F7``) and unknown ones give None.

    Examples
    --------
    >>> [standard_name(n) for n in ("Fcz.", "EEG C3-LE", "POL Fp2", "FP1-A1", "t5", "Fp1-F7")]
    ['FCz', 'C3', 'Fp2', 'Fp1', 'P7', None]
    """
    core = _core(name).lower()
    if not core:
        return None
    if core in _OLD_NAMES:
        return _OLD_NAMES[core]
    return _template_names().get(core)


def standard_names(ch_names: Sequence[str]) -> list[str]:
    """Each label replaced by its template name (:func:`standard_name`) where it has one and the result
    stays unique; other labels are kept as they are.

    Examples
    --------
    >>> standard_names(["Fp1.", "EEG Cz-REF", "EOG", "Fp1"])
    ['Fp1.', 'Cz', 'EOG', 'Fp1']
    """
    names = [str(n) for n in ch_names]
    taken = {n for n in names if standard_name(n) == n}  # a label already in standard spelling keeps it
    out = []
    for n in names:
        std = standard_name(n)
        if std is not None and (std == n or std not in taken):
            taken.add(std)
            out.append(std)
        else:
            out.append(n)
    return out


def name_index(ch_names: Sequence[str]) -> dict[str, int]:
    """Lower-case lookup ``name -> row`` that finds a channel by its label or by its template name.

    The classical methods look electrodes up with it (``Fp1``, ``F7`` ...), so ``Fp1.`` or
    ``EEG FP1-REF`` are found as well.

    Examples
    --------
    >>> name_index(["Fp1.", "EEG F7-REF"])["f7"]
    1
    """
    out: dict[str, int] = {}
    for i, n in enumerate(ch_names):
        std = standard_name(str(n))
        if std is not None:
            out.setdefault(std.lower(), i)
    for i, n in enumerate(ch_names):
        out[str(n).lower()] = i  # an exact label wins over a matched one
    return out


def likely_type(name: str) -> str | None:
    """The channel type (``'eog'``, ``'ecg'``, ``'emg'``, ``'stim'``, ``'resp'``, ``'misc'``) that a
    label names, or None for electrode names and labels that say nothing.

    EDF files carry no channel types, so MNE reads every signal as EEG; this is how the room tells an
    EOG or ECG channel from the electrodes.

    Examples
    --------
    >>> [likely_type(n) for n in ("EOG L", "LOC", "ECG", "EMG chin", "STI 014", "Status", "C3", "E12")]
    ['eog', 'eog', 'ecg', 'emg', 'stim', 'stim', None, None]
    """
    if standard_name(name) is not None:
        return None
    core = _core(name)
    for kind, pattern in _TYPES:
        if pattern.search(core):
            return kind
    return None


def eog_roles(ch_names: Sequence[str]) -> tuple[list[int], list[int]]:
    """Rows of EOG channels that record vertical eye movement (blinks), and horizontal ones (saccades).

    Labels with ``V``/``VEOG``/``up``/``below`` are vertical; ``HEOG``, ``LOC``/``ROC``, ``left``/``right``
    horizontal; a label that says neither is taken as vertical (blinks are the largest ocular
    artifact and reach every EOG electrode).

    Examples
    --------
    >>> eog_roles(["VEOG", "HEOG L", "HEOG R", "EOG"])
    ([0, 3], [1, 2])
    """
    vertical, horizontal = [], []
    for i, n in enumerate(ch_names):
        core = _core(n)
        if _HORIZONTAL.search(core) and not _VERTICAL.search(core.replace("EOG", "")):
            horizontal.append(i)
        else:
            vertical.append(i)
    return vertical, horizontal


_CUSTOM = (".loc", ".locs", ".eloc", ".sfp", ".csd", ".elc", ".txt", ".elp", ".hpts", ".bvef", ".csv", ".tsv", ".xyz")


def read_montage(montage: Any) -> mne.channels.DigMontage:
    """A montage from a built-in name (``'standard_1020'``, ``'biosemi64'`` ...), a file or a ``DigMontage``.

    Files: everything :func:`mne.channels.read_custom_montage` reads (``.elc .sfp .loc .locs .eloc .csd
    .elp .hpts .bvef`` ...) and digitisation FIF files (:func:`mne.channels.read_dig_fif`).

    Examples
    --------
    >>> "Cz" in read_montage("standard_1020").ch_names
    True
    """
    if isinstance(montage, mne.channels.DigMontage):
        return montage.copy()
    if not isinstance(montage, (str, os.PathLike)):
        raise InvalidInputError(
            f"montage={montage!r}: pass a built-in montage name (mne.channels.get_builtin_montages()), a "
            "montage file (.elc, .sfp, .loc, .bvef, ... or a -dig.fif) or an mne.channels.DigMontage"
        )
    path = Path(montage)
    suffix = path.suffix.lower()
    if suffix in _CUSTOM or suffix == ".fif" or path.is_file():
        if not path.is_file():
            raise DataNotFoundError(f"montage file {path}: no such file; check the path")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if suffix == ".fif":
                    return mne.channels.read_dig_fif(path, verbose="error")
                return mne.channels.read_custom_montage(path, verbose="error")
        except Exception as exc:  # the reader's own error says what it could not parse
            raise InvalidInputError(f"montage file {path} could not be read by MNE ({exc}); use a format of mne.channels.read_custom_montage") from None
    name = resolve_montage_name(str(montage))
    return template_montage() if name in ("colin27_1005", "standard_1005") else mne.channels.make_standard_montage(name)


@dataclass
class ChannelLayout:
    """Where the EEG channels of a recording are, and how that was found.

    Attributes
    ----------
    names : list of str
        The channels' labels, as in the file.
    standard : list of str
        Their template names where matched (:func:`standard_names`), else the label; unique.
    positions : numpy.ndarray
        ``(n_channels, 3)`` in m, MNE head coordinates; NaN rows for channels without a position.
    source : list of str
        Per channel: ``'montage'`` (the one passed), ``'recording'`` (the file's digitisation),
        ``'name'`` (the template position of the matched name) or ``''`` (none).
    montage : str or None
        What was passed as ``montage=`` (its name or file), for the report.
    """

    names: list[str]
    standard: list[str]
    positions: np.ndarray
    source: list[str]
    montage: str | None = None
    renamed: dict[str, str] = field(default_factory=dict)

    @property
    def placed(self) -> int:
        """How many channels have a position."""
        return int(np.isfinite(self.positions).all(axis=1).sum())

    def summary(self) -> str:
        """One phrase: how many channels were placed, and from what.

        Examples
        --------
        >>> channel_layout(["Fp1.", "Cz..", "X1"]).summary()
        "2 of 3 channels placed (2 by name: 'Fp1.' as Fp1, 'Cz..' as Cz; no position for X1)"
        """
        parts = []
        by = {k: [i for i, s in enumerate(self.source) if s == k] for k in ("montage", "recording", "name")}
        if by["montage"]:
            parts.append(f"{len(by['montage'])} from the montage {self.montage}")
        if by["recording"]:
            parts.append(f"{len(by['recording'])} from the recording's digitisation")
        if by["name"]:
            shown = [f"{self.names[i]!r} as {self.standard[i]}" for i in by["name"] if self.names[i] != self.standard[i]]
            extra = f": {', '.join(shown[:3])}{', ...' if len(shown) > 3 else ''}" if shown else ""
            parts.append(f"{len(by['name'])} by name{extra}")
        missing = [self.names[i] for i, s in enumerate(self.source) if not s]
        if missing:
            parts.append(f"no position for {', '.join(missing[:6])}{', ...' if len(missing) > 6 else ''}")
        return f"{self.placed} of {len(self.names)} channels placed ({'; '.join(parts)})"


def _valid(locs: np.ndarray) -> np.ndarray:
    return np.isfinite(locs).all(axis=1) & ~np.all(locs == 0, axis=1)


def _positions_from(montage: mne.channels.DigMontage, names: Sequence[str]) -> np.ndarray:
    """Positions of ``names`` in ``montage`` (head coordinates), matched by label, then by template name."""
    lower = {n.lower(): n for n in montage.ch_names}
    target = []
    for n in names:
        hit = lower.get(n.lower())
        std = standard_name(n)
        if hit is None and std is not None:
            hit = lower.get(std.lower())
        if hit is None and std is not None:  # a montage that still uses T3/T4/T5/T6
            hit = lower.get(_NEW_TO_OLD.get(std.lower(), ""))
        target.append(hit)
    used = [t for t in target if t is not None]
    if not used:
        return np.full((len(names), 3), np.nan)
    keep = sorted(set(used), key=used.index)
    info = mne.create_info(keep, 100.0, "eeg")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        info.set_montage(montage, match_case=True, on_missing="ignore", verbose=False)
    pos = {ch["ch_name"]: ch["loc"][:3].copy() for ch in info["chs"]}
    out = np.full((len(names), 3), np.nan)
    for i, t in enumerate(target):
        if t is not None and _valid(pos[t][None])[0]:
            out[i] = pos[t]
    return out


def channel_layout(ch_names: Sequence[str], info: mne.Info | None = None, montage: Any = None) -> ChannelLayout:
    """Positions of the channels ``ch_names``: from ``montage`` if given, else ``info``'s digitisation,
    else the 10-05 template by matched name (:func:`standard_name`).

    Parameters
    ----------
    ch_names : sequence of str
        The labels of the EEG channels, as in the file.
    info : mne.Info or None
        The recording's info; channel locations set there (a digitised or set montage) are used.
    montage : str, path, DigMontage or None
        Positions to use instead (:func:`read_montage`); channels it lacks fall back to the template.

    Examples
    --------
    >>> layout = channel_layout(["EEG Fp1-REF", "EEG T3-REF"])
    >>> layout.standard, layout.source
    (['Fp1', 'T7'], ['name', 'name'])
    """
    names = [str(n) for n in ch_names]
    standard = standard_names(names)
    n = len(names)
    positions = np.full((n, 3), np.nan)
    source = [""] * n
    label = None
    if montage is not None:
        mont = read_montage(montage)
        label = Path(montage).name if isinstance(montage, (str, os.PathLike)) else "passed as a DigMontage"
        got = _positions_from(mont, names)
        ok = _valid(got)
        positions[ok], source = got[ok], ["montage" if k else s for k, s in zip(ok, source)]
    if info is not None:
        index = {c: i for i, c in enumerate(info["ch_names"])}
        locs = np.array([info["chs"][index[c]]["loc"][:3] if c in index else [np.nan] * 3 for c in names], dtype=np.float64)
        ok = _valid(locs) & np.array([s == "" for s in source])
        positions[ok] = locs[ok]
        source = ["recording" if k else s for k, s in zip(ok, source)]
    template, _ = template_positions()
    for i, name in enumerate(names):
        key = standard_name(name)
        if source[i] == "" and key is not None:
            positions[i], source[i] = template[key], "name"
    renamed = {a: b for a, b in zip(names, standard) if a != b}
    return ChannelLayout(names, standard, positions, source, label, renamed)
