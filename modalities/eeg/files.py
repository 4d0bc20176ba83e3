"""EEG files: MNE's readers made safe (results checked, EEGLAB parsed in a child process), the
exporters' padding undone, and writing through MNE's exporters with every file moved in place at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import mne
import numpy as np

from wavediff.errors import CorruptFileError, NonFiniteError, UnsupportedFormatError
from wavediff.modality import atomic_output

_READERS = {
    ".edf": mne.io.read_raw_edf,
    ".bdf": mne.io.read_raw_bdf,
    ".vhdr": mne.io.read_raw_brainvision,
    ".set": mne.io.read_raw_eeglab,
    ".gdf": mne.io.read_raw_gdf,
}
_EXPORT_FORMATS = {".edf": "edf", ".bdf": "bdf", ".vhdr": "brainvision", ".set": "eeglab"}


def _checked_recording(obj: Any, path: Path) -> Any:
    """``obj`` if MNE gave a usable recording: samples, a positive finite rate, finite values."""
    sfreq = float(obj.info["sfreq"])
    if not np.isfinite(sfreq) or sfreq <= 0:
        raise CorruptFileError(f"{path} declares a sampling rate of {sfreq} Hz; its header is damaged")
    data = obj.get_data()
    if data.size == 0:
        raise CorruptFileError(f"{path} holds no samples; the recording was not written completely")
    bad = ~np.isfinite(data)
    if bad.any():
        rows = bad.any(axis=-1) if data.ndim == 2 else bad.any(axis=(0, -1))
        names = [obj.ch_names[i] for i in np.flatnonzero(rows)]
        raise NonFiniteError(
            f"{path} holds {int(bad.sum())} NaN or infinite sample(s) in {', '.join(names[:8])}{'...' if len(names) > 8 else ''}; "
            "interpolate them or mark the channels bad, then save the recording again"
        )
    return obj


_EEGLAB_CHILD = """
import json, sys, warnings
import mne
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    raw = mne.io.read_raw_eeglab(sys.argv[1], preload=True, verbose="warning")
    raw.save(sys.argv[2], fmt="double", overwrite=True, verbose="error")
with open(sys.argv[3], "w") as fh:
    json.dump([str(w.message) for w in caught], fh)
"""


def _read_eeglab_isolated(path: Path) -> mne.io.BaseRaw:
    """Read an EEGLAB ``.set`` in a child process (SciPy's MATLAB reader can segfault on damaged files)
    and load the result from a FIF file of double precision the child writes."""
    with tempfile.TemporaryDirectory(prefix="wavediff-set-") as tmpdir:
        fif, notes = Path(tmpdir) / "read_raw.fif", Path(tmpdir) / "warnings.json"
        try:
            done = subprocess.run(
                [sys.executable, "-c", _EEGLAB_CHILD, str(path), str(fif), str(notes)],
                capture_output=True, text=True, timeout=600,
            )
        except subprocess.TimeoutExpired:
            raise CorruptFileError(f"reading {path} took more than 10 minutes; the file is damaged") from None
        if done.returncode < 0:
            raise CorruptFileError(f"the MATLAB reader crashed on {path} (signal {-done.returncode}); the file is damaged")
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise CorruptFileError(f"MNE could not read {path} ({last}); the file is truncated, damaged or not an EEGLAB file")
        for note in json.loads(notes.read_text()):
            warnings.warn(note, RuntimeWarning, stacklevel=2)  # surfaced as a DataWarning by the engine
        raw = mne.io.read_raw_fif(fif, preload=True, verbose="error")
    raw._filenames = [path]  # the file it came from, which writing never replaces
    return raw


def _drop_export_padding(raw: mne.io.BaseRaw) -> mne.io.BaseRaw:
    """Undo the padding MNE's EDF/BDF exporter adds to fill the last data record.

    The exporter appends edge values and marks them with a ``BAD_ACQ_SKIP`` annotation that ends the
    recording; cropping exactly that span gives back the samples that were written.
    """
    ann = raw.annotations
    if len(ann) == 0:
        return raw
    last = int(np.argmax(ann.onset + ann.duration))
    onset = ann.onset[last] - raw.first_time
    end = onset + ann.duration[last]
    dt = 1.0 / raw.info["sfreq"]
    if ann.description[last] == "BAD_ACQ_SKIP" and abs(end - raw.n_times * dt) < dt and onset > 0:
        raw.annotations.delete(last)
        raw.crop(tmax=onset - dt, include_tmax=True)
    return raw


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return ".fif.gz" if name.endswith(".fif.gz") else path.suffix.lower()


def _is_epochs_fif(path: Path) -> bool:
    stem = path.name.lower().removesuffix(".gz").removesuffix(".fif")
    return stem.endswith(("-epo", "_epo"))


def read_eeg(path: Path, extensions: tuple[str, ...]) -> Any:
    """Read an EEG file with MNE (data in memory; ``*-epo.fif`` as ``mne.Epochs``), checked by :func:`_checked_recording`."""
    suffix = _suffix(path)
    if suffix in (".fif", ".fif.gz"):
        if _is_epochs_fif(path):
            obj = mne.read_epochs(path, preload=True, verbose="warning")
        else:
            obj = mne.io.read_raw_fif(path, preload=True, verbose="warning")
    elif suffix == ".set":
        obj = _read_eeglab_isolated(path)
    elif suffix in _READERS:
        obj = _READERS[suffix](path, preload=True, verbose="warning")
        if suffix in (".edf", ".bdf"):
            obj = _drop_export_padding(obj)
    else:
        raise UnsupportedFormatError(f"{path.name}: unsupported EEG format {suffix!r}; use one of {', '.join(extensions)}")
    return _checked_recording(obj, path)


def write_eeg(obj: Any, path: Path) -> Path:
    """Write a Raw or Epochs as FIF or through MNE's exporters, every file moved in place only when all are complete."""
    suffix = _suffix(path)
    is_epochs = isinstance(obj, mne.BaseEpochs)
    if not isinstance(obj, (mne.io.BaseRaw, mne.BaseEpochs)):
        raise UnsupportedFormatError(f"cannot write a {type(obj).__name__}; pass an mne Raw or Epochs object")
    if suffix in (".fif", ".fif.gz"):
        if is_epochs and not _is_epochs_fif(path):
            raise UnsupportedFormatError(f"MNE requires epochs files to end in -epo.fif; rename {path.name}")
        with atomic_output(path) as tmp:
            obj.save(tmp, overwrite=True, verbose="error")
        return path
    if suffix not in _EXPORT_FORMATS:
        raise UnsupportedFormatError(f"cannot write EEG as {suffix!r}; use .fif, .edf, .bdf, .vhdr or .set")
    if is_epochs and suffix != ".set":
        raise UnsupportedFormatError(f"epochs can be written as -epo.fif or .set, not {suffix!r}")
    # Exporters may write several files (BrainVision: .vhdr/.vmrk/.eeg); build them in a temporary
    # folder beside the target and move them in place only when all are complete.
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=f".{path.stem}.") as tmpdir:
        tmp = Path(tmpdir) / path.name
        export = mne.export.export_epochs if is_epochs else mne.export.export_raw
        try:
            export(tmp, obj, fmt=_EXPORT_FORMATS[suffix], overwrite=True, verbose="error")
        except ImportError as exc:
            raise UnsupportedFormatError(f"writing {suffix} needs an extra package: {exc}") from exc
        produced = sorted(Path(tmpdir).iterdir(), key=lambda p: p.suffix.lower() == suffix)  # header last
        for item in produced:
            os.replace(item, path.parent / item.name)
    return path
