"""Markdown tables and report files, shared by the CLI demo, the rooms' demos and the benchmarks."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import InvalidInputError
from .modality import atomic_output

__all__ = ["markdown_table", "write_report"]


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
