"""EEG denoising metrics as EEGdenoiseNet reports them (Zhang et al. 2021, J. Neural Eng. 18 056057).

All functions take arrays ``(..., n_times)``: one segment, or any stack of segments (channels, epochs,
test examples) along the leading axes. ``rrmse_temporal``, ``rrmse_spectral``, ``cc`` and ``snr_gain_db``
return one value per segment (a float for a single segment, else an array of the leading shape);
:func:`eeg_metrics` averages the per-segment values (the mean over every leading index), which is how
EEGdenoiseNet averages over its test segments. :func:`summarise` turns per-example rows into the paper's
table: one row per artifact type and SNR level, plus the average over all levels.

* ``RRMSE_t = RMS(estimate - reference) / RMS(reference)``
* ``RRMSE_s = RMS(PSD(estimate) - PSD(reference)) / RMS(PSD(reference))`` with Welch PSDs
  (``scipy.signal.welch``: Hann window of ``nperseg = min(256, n_times)`` samples, 50 % overlap, each
  segment's mean removed, one-sided density); 256 samples is one second at EEGdenoiseNet's 256 Hz.
* ``CC``: Pearson correlation between estimate and reference.
* ``SNR_gain_dB = SNR(estimate) - SNR(noisy)`` with ``SNR = 10 log10(sum(reference**2) / sum(error**2))``.

Inputs are never modified.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import scipy.signal

from wavediff._checks import check_sfreq
from wavediff.errors import InvalidInputError, NonFiniteError, ShapeError
from wavediff.metrics import pearson, rrmse, snr_db
from wavediff.report import markdown_table

__all__ = [
    "METRIC_KEYS",
    "rrmse_temporal",
    "rrmse_spectral",
    "cc",
    "snr_gain_db",
    "welch_psd",
    "eeg_metrics",
    "summarise",
    "to_markdown",
]

METRIC_KEYS = ("RRMSE_t", "RRMSE_s", "CC", "SNR_gain_dB")


def _as_array(x: Any, name: str) -> np.ndarray:
    if isinstance(x, np.ndarray) and x.dtype.kind not in "biuf":
        raise InvalidInputError(f"{name} has dtype {x.dtype}; pass real-valued EEG")
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name} must be a numeric array (..., n_times): {exc}") from None
    if arr.ndim == 0:
        raise ShapeError(f"{name} is a scalar; pass a segment (n_times,) or a stack (..., n_times)")
    if arr.shape[-1] < 2:
        raise ShapeError(f"{name} has shape {arr.shape}; the last axis is time and needs at least 2 samples")
    if arr.size == 0:
        raise ShapeError(f"{name} has shape {arr.shape} and is empty")
    if not np.all(np.isfinite(arr)):
        raise NonFiniteError(f"{name} holds NaN or infinite values; the metrics are undefined there")
    return arr


def _arrays(**named: Any) -> list[np.ndarray]:
    arrays = [_as_array(v, k) for k, v in named.items()]
    shapes = {k: a.shape for k, a in zip(named, arrays)}
    if len(set(shapes.values())) > 1:
        raise ShapeError(f"shapes differ: {shapes}; pass arrays of the same shape (..., n_times)")
    return arrays


def _out(value: Any) -> float | np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    return float(arr) if arr.ndim == 0 else arr


def rrmse_temporal(reference: Any, estimate: Any) -> float | np.ndarray:
    """Relative RMS error in time, ``RMS(estimate - reference) / RMS(reference)``, per segment.

    Examples
    --------
    >>> rrmse_temporal([1.0, -1.0, 1.0, -1.0], [1.5, -1.5, 1.5, -1.5])
    0.5
    """
    x, y = _arrays(reference=reference, estimate=estimate)
    return _out(rrmse(x, y, axis=-1))


def welch_psd(x: Any, sfreq: float, nperseg: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Welch power spectral density along the last axis, with the settings used by :func:`rrmse_spectral`.

    Returns ``(freqs, psd)``; ``psd`` has shape ``(..., n_freqs)`` in V**2/Hz for data in volts.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(512) / 256.0
    >>> freqs, psd = welch_psd(np.sin(2 * np.pi * 10 * t), 256.0)
    >>> float(freqs[np.argmax(psd)])
    10.0
    """
    arr = _as_array(x, "x")
    sfreq = check_sfreq(sfreq)
    n = arr.shape[-1]
    if nperseg is None:
        nperseg = min(256, n)
    if isinstance(nperseg, bool) or not isinstance(nperseg, numbers.Integral) or not 2 <= nperseg <= n:
        raise InvalidInputError(f"nperseg={nperseg!r} must be an integer between 2 and n_times={n}")
    return scipy.signal.welch(arr, fs=sfreq, nperseg=int(nperseg), axis=-1)


def rrmse_spectral(reference: Any, estimate: Any, sfreq: float, nperseg: int | None = None) -> float | np.ndarray:
    """Relative RMS error of the Welch PSD, ``RMS(PSD(estimate) - PSD(reference)) / RMS(PSD(reference))``, per segment.

    Parameters
    ----------
    reference, estimate : array_like
        Arrays ``(..., n_times)`` of the same shape: the clean EEG and the cleaned one.
    sfreq : float
        Sampling rate in Hz.
    nperseg : int, optional
        Welch segment length; default ``min(256, n_times)`` (EEGdenoiseNet: 1 s at 256 Hz).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=512)
    >>> round(rrmse_spectral(x, 2 * x, 256.0), 12)  # the PSD is four times larger: error 3 x PSD
    3.0
    """
    x, y = _arrays(reference=reference, estimate=estimate)
    _, px = welch_psd(x, sfreq, nperseg)
    _, py = welch_psd(y, sfreq, nperseg)
    return _out(rrmse(px, py, axis=-1))


def cc(reference: Any, estimate: Any) -> float | np.ndarray:
    """Pearson correlation coefficient between reference and estimate, per segment.

    Examples
    --------
    >>> round(cc([1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0, 8.5]), 4)
    0.9984
    """
    x, y = _arrays(reference=reference, estimate=estimate)
    return _out(pearson(x, y, axis=-1))


def snr_gain_db(reference: Any, estimate: Any, noisy: Any) -> float | np.ndarray:
    """SNR improvement in dB, ``SNR(estimate) - SNR(noisy)``, per segment.

    ``SNR = 10 log10(sum(reference**2) / sum((estimate - reference)**2))`` (:func:`wavediff.metrics.snr_db`); a
    perfect reconstruction gives ``inf``.

    Examples
    --------
    >>> import numpy as np
    >>> clean = np.array([1.0, -1.0, 1.0, -1.0])
    >>> round(snr_gain_db(clean, clean + 0.1, clean + 1.0), 6)  # error amplitude / 10: +20 dB
    20.0
    """
    x, y, n = _arrays(reference=reference, estimate=estimate, noisy=noisy)
    with np.errstate(invalid="ignore"):
        return _out(np.asarray(snr_db(x, y, axis=-1)) - np.asarray(snr_db(x, n, axis=-1)))


def eeg_metrics(
    reference: Any, estimate: Any, sfreq: float, noisy: Any = None, nperseg: int | None = None
) -> dict[str, float]:
    """EEGdenoiseNet's metrics, computed per segment (last axis) and averaged over all segments.

    Parameters
    ----------
    reference, estimate : array_like
        ``(..., n_times)``, the clean EEG and the cleaned one: each 1-D slice along the last axis is a segment.
    sfreq : float
        Sampling rate in Hz (for the Welch PSD of ``RRMSE_s``).
    noisy : array_like, optional
        The input of the denoiser; adds ``"SNR_gain_dB"``.
    nperseg : int, optional
        Welch segment length (default ``min(256, n_times)``).

    Returns
    -------
    dict
        ``{"RRMSE_t", "RRMSE_s", "CC"}`` and ``"SNR_gain_dB"`` when ``noisy`` is given: means of the
        per-segment values.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> clean = rng.normal(size=(4, 512))
    >>> out = eeg_metrics(clean, clean + 0.1 * rng.normal(size=clean.shape), 256.0, noisy=clean + rng.normal(size=clean.shape))
    >>> sorted(out)
    ['CC', 'RRMSE_s', 'RRMSE_t', 'SNR_gain_dB']
    >>> round(out["SNR_gain_dB"])
    20
    """
    arrays = {"reference": reference, "estimate": estimate} if noisy is None else {"reference": reference, "estimate": estimate, "noisy": noisy}
    checked = _arrays(**arrays)
    x, y = checked[0], checked[1]
    out = {
        "RRMSE_t": float(np.mean(rrmse_temporal(x, y))),
        "RRMSE_s": float(np.mean(rrmse_spectral(x, y, sfreq, nperseg))),
        "CC": float(np.mean(cc(x, y))),
    }
    if noisy is not None:
        out["SNR_gain_dB"] = float(np.mean(snr_gain_db(x, y, checked[2])))
    return out


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def summarise(
    rows: Iterable[Mapping[str, Any]],
    by: Sequence[str] | None = None,
    overall: bool = True,
) -> list[dict[str, Any]]:
    """Average per-example metric rows into a table per artifact type and SNR level (EEGdenoiseNet style).

    Parameters
    ----------
    rows : iterable of dict
        One dict per evaluated example, e.g. ``{"method": "ica", "artifact": "eog", "snr_db": -7.0,
        "RRMSE_t": 0.41, "RRMSE_s": 0.33, "CC": 0.9}``.
    by : sequence of str, optional
        Grouping keys; default those of ``("method", "artifact", "snr_db")`` that the rows have.
        Every other numeric key is averaged.
    overall : bool
        Also add, per group of the other keys, a row with ``snr_db="all"``: the average over every row
        of all SNR levels (the numbers EEGdenoiseNet's tables give; equal to the mean of the per-level
        means when every level has the same number of examples, as in its test set).

    Returns
    -------
    list of dict
        The grouping keys, the mean of every metric and ``"n"`` (number of rows averaged). Text keys keep
        their order of first appearance, numeric ones are sorted.

    Examples
    --------
    >>> rows = [{"artifact": "eog", "snr_db": -7.0, "CC": 0.5}, {"artifact": "eog", "snr_db": -7.0, "CC": 0.75},
    ...         {"artifact": "eog", "snr_db": 2.0, "CC": 1.0}, {"artifact": "eog", "snr_db": 2.0, "CC": 0.75}]
    >>> for row in summarise(rows):
    ...     print(row)
    {'artifact': 'eog', 'snr_db': -7.0, 'CC': 0.625, 'n': 2}
    {'artifact': 'eog', 'snr_db': 2.0, 'CC': 0.875, 'n': 2}
    {'artifact': 'eog', 'snr_db': 'all', 'CC': 0.75, 'n': 4}
    """
    if isinstance(rows, Mapping):
        raise InvalidInputError("rows must be a list of dicts (one per example), not a single dict")
    rows = list(rows)
    if not rows:
        raise InvalidInputError("rows is empty; pass one dict of metrics per evaluated example")
    if not all(isinstance(r, Mapping) for r in rows):
        raise InvalidInputError("every row must be a dict such as {'artifact': 'eog', 'snr_db': -7.0, 'CC': 0.9}")
    if by is None:
        by = tuple(k for k in ("method", "artifact", "snr_db") if any(k in r for r in rows))
    else:
        if isinstance(by, str):
            by = (by,)
        by = tuple(by)
    for i, r in enumerate(rows):
        missing = [k for k in by if k not in r]
        if missing:
            raise InvalidInputError(f"row {i} lacks the grouping key(s) {missing}; add them or pass by=...")
    metric_keys: list[str] = []
    for r in rows:
        for k, v in r.items():
            if k not in by and k not in metric_keys and _is_number(v):
                metric_keys.append(k)
    if not metric_keys:
        raise InvalidInputError("the rows hold no numeric metric to average")

    first_seen: dict[str, dict[Any, int]] = {k: {} for k in by}
    for r in rows:
        for k in by:
            first_seen[k].setdefault(r[k], len(first_seen[k]))

    def order(key: tuple[Any, ...]) -> tuple[Any, ...]:
        out: list[Any] = []
        for k, v in zip(by, key):
            if v == "all":
                out.append((2, 0.0))
            elif _is_number(v) and all(_is_number(u) for u in first_seen[k]):
                out.append((0, float(v)))
            else:
                out.append((1, first_seen[k][v]))
        return tuple(out)

    def average(members: list[Mapping[str, Any]], key: tuple[Any, ...]) -> dict[str, Any]:
        row: dict[str, Any] = dict(zip(by, key))
        for m in metric_keys:
            values = [float(r[m]) for r in members if m in r and _is_number(r[m])]
            if values:
                row[m] = float(np.mean(values))
        row["n"] = len(members)
        return row

    groups: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
    for r in rows:
        groups.setdefault(tuple(r[k] for k in by), []).append(r)
    if overall and "snr_db" in by:
        i = by.index("snr_db")
        for key, members in list(groups.items()):
            pooled = key[:i] + ("all",) + key[i + 1:]
            groups.setdefault(pooled, []).extend(members)
    return [average(groups[key], key) for key in sorted(groups, key=order)]


def to_markdown(table: Sequence[Mapping[str, Any]], digits: int = 4) -> str:
    """Format a :func:`summarise` table (any list of dicts) as a markdown table.

    Examples
    --------
    >>> print(to_markdown([{"artifact": "eog", "snr_db": -7.0, "CC": 0.71234, "n": 2}], digits=3))
    | artifact | snr_db | CC | n |
    |---|---|---|---|
    | eog | -7.0 | 0.712 | 2 |
    """
    return markdown_table(table, digits=digits)
