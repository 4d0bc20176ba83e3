"""Safety every room inherits: outputs that never destroy data, degenerate data passed through, the
format library's warnings surfaced, implausible inputs reported.

* :func:`check_output` refuses an output that is one of the inputs (same resolved path or inode), one
  that exists (unless ``overwrite``), a missing or read-only folder and an unknown format, before any
  computation. :meth:`wavediff.Modality.write` runs it for every room.
* :func:`write_together` writes several outputs (a restoration and its uncertainty) all or nothing.
* :func:`degenerate` marks flat windows (no spread, or most samples equal): restoring divides each
  window by its spread, which would blow a dead channel's noise up to unit scale, so such windows are
  passed through unchanged (:class:`wavediff.Restorer` honours a room's ``context["unchanged"]``).
* :func:`library_warnings` turns what a format library warns while reading (a truncated file) into a
  :class:`~wavediff.errors.DataWarning` naming the file, or an error with ``strict``.
* :func:`plausible` warns, with the numbers, when a rate, length or amplitude is outside a room's range.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import (
    CorruptFileError,
    DataWarning,
    OutputError,
    OutputExistsError,
    UnsupportedFormatError,
    WavediffError,
)

__all__ = ["check_output", "write_together", "degenerate", "library_warnings", "plausible", "same_file", "warn"]


def warn(message: str) -> None:
    """Emit a :class:`~wavediff.errors.DataWarning` pointing at the caller's caller."""
    warnings.warn(message, DataWarning, stacklevel=3)


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths name one file: the same resolved path, or (both existing) the same inode."""
    pa, pb = Path(a), Path(b)
    if pa.resolve() == pb.resolve():
        return True
    try:
        return os.path.samefile(pa, pb)
    except OSError:  # one of them does not exist
        return False


def check_output(
    path: str | os.PathLike,
    *,
    formats: Sequence[str],
    inputs: Iterable[str | os.PathLike] = (),
    overwrite: bool = False,
    files: Callable[[Path], Iterable[Path]] | None = None,
    label: str = "output",
) -> Path:
    """Check that ``path`` can be written without destroying anything; returns it as a Path.

    Parameters
    ----------
    formats : sequence of str
        Suffixes that can be written (lower case with the dot; ``".fif.gz"`` matches the name's end).
    inputs : paths
        Files the data came from: the output may be none of them, even with ``overwrite``.
    overwrite : bool
        Replace an existing output (never an input).
    files : callable, optional
        The files a write to ``path`` creates (a BrainVision header also writes ``.vmrk`` and ``.eeg``);
        default: ``path`` alone.
    label : str
        How the message names the path (``"output"``, ``"--std"``).

    Raises
    ------
    UnsupportedFormatError
        The suffix is not one of ``formats``.
    OutputError
        The path is an input or a folder, or its folder is missing or not writable.
    OutputExistsError
        The output exists and ``overwrite`` is false.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> check_output(folder / "out.npy", formats=[".npy"]).name
    'out.npy'
    >>> check_output(folder / "out.csv", formats=[".npy"])
    Traceback (most recent call last):
    ...
    wavediff.errors.UnsupportedFormatError: output out.csv: cannot write '.csv' files; use one of .npy
    """
    target = Path(path)
    name = target.name.lower()
    if not any(name.endswith(f) for f in formats):
        suffix = "".join(target.suffixes[-2:]) if name.endswith(".gz") else target.suffix
        raise UnsupportedFormatError(f"{label} {target.name}: cannot write {suffix or 'files without a suffix'!r} files; use one of {', '.join(formats)}")
    folder = target.parent
    if not folder.is_dir():
        raise OutputError(f"{label} {target}: folder {folder} does not exist; create it first")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"{label} {target}: folder {folder} is not writable; choose another folder")
    written = [target, *[Path(p) for p in (files(target) if files else ()) if Path(p) != target]]
    sources = [Path(p) for p in inputs]
    for out in written:
        for src in sources:
            if same_file(out, src):
                raise OutputError(f"{label} {out} is the input file {src}; write the result to another file (inputs are never replaced)")
        if out.is_dir():
            raise OutputError(f"{label} {out} is a folder; give a file name")
        if out.exists() and not overwrite:
            raise OutputExistsError(f"{label} {out} exists; pass --overwrite (overwrite=True) to replace it, or choose another name")
    return target


def write_together(writes: Sequence[tuple[Callable[[Path], Any], str | os.PathLike]]) -> list[Path]:
    """Run ``write(tmp_path)`` for each ``(write, path)`` into a temporary folder beside ``path``, then move
    every produced file into place: if any write fails, no output is left, not even the earlier ones.

    Each ``write`` receives the path to write to (same name, in the temporary folder) and may create
    several files there (BrainVision's three). Returns the paths moved into place.
    """
    with contextlib.ExitStack() as stack:
        staged: list[tuple[Path, Path]] = []
        for write, path in writes:
            target = Path(path)
            tmpdir = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.stem}.")))
            try:
                write(tmpdir / target.name)
            except WavediffError:
                raise
            except OSError as exc:  # a full disk, a quota, a vanished folder
                raise OutputError(f"writing {target} failed ({exc.strerror or exc}); nothing was written") from exc
            staged.append((tmpdir, target.parent))
        moved = []
        for tmpdir, folder in staged:
            for item in sorted(tmpdir.iterdir()):
                os.replace(item, folder / item.name)
                moved.append(folder / item.name)
        return moved


def degenerate(windows: np.ndarray, axes: int | tuple[int, ...] = -1, relative: float = 1e-6, repeated: float = 0.5) -> np.ndarray:
    """Mask of windows with nothing to restore: flat, or most samples at one value.

    A window is degenerate when its standard deviation is at most ``relative`` times the median
    standard deviation of the non-flat windows (a dead electrode, a constant image patch, digital
    silence, a dead trace; all windows when every one is flat), or when at least a fraction
    ``repeated`` of its samples equal its median (a flat line with a single spike or a few glitches).

    Parameters
    ----------
    windows : ndarray
        Windows of any leading shape; ``axes`` are the axes of one window.

    Returns
    -------
    ndarray of bool
        The leading shape (``axes`` reduced).

    Examples
    --------
    >>> w = np.random.default_rng(0).normal(size=(4, 64))
    >>> w[1] = 0.0            # flat
    >>> w[2] = 0.0; w[2, 7] = 5.0   # one spike on a flat line
    >>> degenerate(w).tolist()
    [False, True, True, False]
    """
    x = np.asarray(windows, dtype=np.float64)
    spread = x.std(axis=axes)
    positive = spread[spread > 0]
    typical = float(np.median(positive)) if positive.size else 0.0
    flat = spread <= relative * typical
    centre = np.median(x, axis=axes, keepdims=True)
    same = (x == centre).mean(axis=axes) >= repeated
    return flat | same


@contextlib.contextmanager
def library_warnings(path: str | os.PathLike, *, strict: bool = False, ignore: Sequence[str] = ()) -> Iterator[None]:
    """Collect the warnings a format library emits while reading ``path`` and re-emit each as a
    :class:`~wavediff.errors.DataWarning` that names the file; with ``strict`` raise
    :class:`~wavediff.errors.CorruptFileError` instead. Messages containing one of ``ignore`` (notes about
    the file's name, not its content) are dropped.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    notes = []
    for w in caught:
        text = str(w.message)
        if issubclass(w.category, DataWarning):
            notes.append(text)  # already ours (and already names the file)
        elif not any(s in text for s in ignore):
            notes.append(f"{Path(path).name}: {text}")
    notes = list(dict.fromkeys(notes))
    if strict and notes:
        raise CorruptFileError(f"{notes[0]} (refused because of --strict / strict=True; without it this is a warning)")
    for note in notes:
        warnings.warn(note, DataWarning, stacklevel=3)


def plausible(value: float, low: float | None, high: float | None, what: str, hint: str) -> bool:
    """Warn (:class:`~wavediff.errors.DataWarning`) when ``value`` is outside ``[low, high]``; returns whether it is inside.

    ``what`` names the quantity with its value and unit (``"sampling rate 50 Hz"``); ``hint`` says
    what the range is and what to do.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     plausible(50.0, 100.0, None, "sampling rate 50 Hz", "the model was trained on 256 Hz EEG")
    False
    >>> str(w[0].message)
    'sampling rate 50 Hz is below 100: the model was trained on 256 Hz EEG'
    """
    if low is not None and value < low:
        warn(f"{what} is below {low:g}: {hint}")
        return False
    if high is not None and value > high:
        warn(f"{what} is above {high:g}: {hint}")
        return False
    return True
