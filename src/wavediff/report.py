"""Markdown tables and report files, shared by the CLI demo, the rooms' demos and the benchmarks.

Every results file of ``benchmarks/results/`` opens with :func:`provenance`: the commit, the library
versions, the sha256 of the data files and the exact command that made it.
"""

from __future__ import annotations

import datetime
import hashlib
import importlib.metadata
import math
import os
import platform
import shlex
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import InvalidInputError
from .modality import atomic_output

__all__ = ["markdown_table", "write_report", "provenance", "sha256sum"]

#: Libraries whose versions every provenance block lists (those installed), beside any a benchmark adds.
CORE_LIBRARIES = ("wavediff", "torch", "numpy", "scipy", "pywavelets", "ptwt")


def _cell(value: Any, digits: int) -> str:
    if isinstance(value, float) and math.isfinite(value) and not value.is_integer():
        return f"{value:.{digits}f}"
    return "" if value is None else str(value)


def markdown_table(rows: Sequence[Mapping[str, Any] | Sequence[Any]], header: Sequence[str] | None = None, digits: int = 2) -> str:
    """A markdown table from dicts (columns: their keys, in order of appearance) or from sequences with ``header``.

    Non-integer finite floats are printed with ``digits`` decimals; everything else as ``str``.

    Examples
    --------
    >>> print(markdown_table([{"method": "noisy", "SNR": 16.8712}, {"method": "Wiener", "SNR": 23.0}]))
    | method | SNR |
    |---|---|
    | noisy | 16.87 |
    | Wiener | 23.0 |
    """
    rows = list(rows)
    if not rows:
        raise InvalidInputError("the table is empty; nothing to format")
    if header is None:
        if not all(isinstance(r, Mapping) for r in rows):
            raise InvalidInputError("rows that are not dicts need a header")
        columns: list[str] = []
        for row in rows:
            columns.extend(k for k in row if k not in columns)
        cells = [[row.get(c) for c in columns] for row in rows]
    else:
        columns, cells = list(header), [list(r.values()) if isinstance(r, Mapping) else list(r) for r in rows]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(v, digits) for v in row) + " |" for row in cells]
    return "\n".join(lines)


def write_report(path: str | os.PathLike, text: str) -> Path:
    """Write a report atomically, creating its folder; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path) as tmp:
        tmp.write_text(text)
    return path


def sha256sum(path: str | os.PathLike) -> str:
    """The sha256 of a file's bytes, as ``sha256sum`` prints it.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "empty.bin")
    >>> open(path, "wb").close()
    >>> sha256sum(path)[:16]
    'e3b0c44298fc1c14'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _git(*args: str, cwd: Path) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _commit(cwd: Path) -> str:
    head = _git("rev-parse", "HEAD", cwd=cwd)
    if head is None:
        return "not a git checkout"
    changed = _git("status", "--porcelain", "--untracked-files=no", cwd=cwd) or ""
    # the results folder itself is what a run rewrites: changes there do not make the code differ
    dirty = [ln for ln in changed.splitlines() if "benchmarks/results/" not in ln]
    return f"{head}" + (f" with uncommitted changes to {len(dirty)} file(s)" if dirty else "")


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _files(data: Iterable[str | os.PathLike]) -> list[Path]:
    out: list[Path] = []
    for item in data:
        path = Path(item)
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        elif path.is_file():
            out.append(path)
    return out


def provenance(
    command: str | Sequence[str] | None = None,
    data: Iterable[str | os.PathLike] = (),
    libraries: Sequence[str] = (),
    cwd: str | os.PathLike | None = None,
) -> str:
    """A markdown block saying what made a results file: commit, date, machine, versions, data, command.

    Parameters
    ----------
    command : str or sequence of str, optional
        The exact command; default ``python3`` followed by this process's ``sys.argv``.
    data : iterable of paths
        Data files (or folders, taken whole) the results were computed on; each is listed with its
        size and sha256. Generated data has no file: say how it was generated in the report.
    libraries : sequence of str
        Distributions whose versions matter beside :data:`CORE_LIBRARIES` (``"mne"``, ``"scikit-image"``).
    cwd : path, optional
        Where to ask git for the commit (default: the current directory).

    Examples
    --------
    >>> text = provenance("python3 benchmarks/x.py --quick", libraries=["numpy"])
    >>> text.splitlines()[0]
    '**Provenance.**'
    >>> "`python3 benchmarks/x.py --quick`" in text and "numpy " in text
    True
    """
    if command is None:
        command = ["python3", *sys.argv]
    if not isinstance(command, str):
        command = shlex.join(str(c) for c in command)
    where = Path.cwd() if cwd is None else Path(cwd)
    versions = []
    for name in dict.fromkeys([*CORE_LIBRARIES, *libraries]):
        v = _version(name)
        if v is not None:
            versions.append(f"{name} {v}")
    try:
        import torch

        threads = f", {torch.get_num_threads()} torch threads"
    except ImportError:  # pragma: no cover - torch is a core dependency
        threads = ""
    lines = [
        "**Provenance.**",
        f"- command: `{command}`",
        f"- commit: {_commit(where)}",
        f"- date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {platform.machine()}, {os.cpu_count()} CPUs{threads}, Python {platform.python_version()}",
        f"- libraries: {', '.join(versions)}",
    ]
    files = _files(data)
    if files:
        lines.append("- data:")
        lines += [f"  - `{p}` ({p.stat().st_size} bytes, sha256 `{sha256sum(p)}`)" for p in files]
    else:
        lines.append("- data: generated by the benchmark itself (no input files)")
    return "\n".join(lines) + "\n"
