"""Input checks and helpers shared by the classical EEG methods (one wording for each error)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import mne
import numpy as np

from wavediff.errors import InvalidInputError, NonFiniteError, SampleRateError, ShapeError


def _check_data(data: Any, ndims: tuple[int, ...] = (1, 2)) -> np.ndarray:
    if isinstance(data, np.ndarray) and data.dtype.kind not in "biuf":
        raise InvalidInputError(f"data has dtype {data.dtype}; pass real-valued EEG in volts")
    try:
        arr = np.array(data, dtype=np.float64)  # always a copy: the caller's array is never touched
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"data must be a numeric array (n_channels, n_times): {exc}") from None
    if arr.ndim not in ndims:
        want = "(n_channels, n_times)" if ndims == (2,) else "(n_channels, n_times) or (n_times,)"
        raise ShapeError(f"data has shape {arr.shape}; pass {want} (loop over epochs for 3-D data)")
    if arr.size == 0 or arr.shape[-1] < 2:
        raise ShapeError(f"data has shape {arr.shape}; it needs channels with at least two samples")
    if not np.all(np.isfinite(arr)):
        raise NonFiniteError("data holds NaN or infinite values; interpolate or drop those samples first")
    return arr


def _check_freq(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, (bool, str, bytes)) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise InvalidInputError(f"{name}={value!r} must be a positive frequency in Hz, or None to skip it")
    return float(value)


def _check_names(ch_names: Any, n_channels: int) -> list[str]:
    """One unique channel name per row of the data, as strings."""
    if isinstance(ch_names, (str, bytes)) or not isinstance(ch_names, Iterable):
        raise InvalidInputError("ch_names must be a list of channel names, one per row of data")
    names = [str(c) for c in ch_names]
    if len(names) != n_channels:
        raise ShapeError(f"got {len(names)} channel names for {n_channels} channels; pass one name per row")
    if len(set(names)) != len(names):
        raise InvalidInputError("ch_names has duplicates; channel names must be unique")
    return names


def _check_fit_l_freq(fit_l_freq: Any, sfreq: float) -> float | None:
    fit_l_freq = _check_freq(fit_l_freq, "fit_l_freq")
    if fit_l_freq is not None and fit_l_freq >= sfreq / 2:
        raise SampleRateError(f"fit_l_freq={fit_l_freq} Hz is at or above Nyquist ({sfreq / 2} Hz)")
    return fit_l_freq


def _fit_copy(raw: mne.io.BaseRaw, fit_l_freq: float | None) -> mne.io.BaseRaw:
    """The copy a decomposition is fitted on: high-passed at ``fit_l_freq`` (IIR when too short for the FIR)."""
    fit_raw = raw.copy()
    if fit_l_freq is not None:
        short = raw.n_times < 3.3 / fit_l_freq * raw.info["sfreq"]
        fit_raw.filter(fit_l_freq, None, picks="all", method="iir" if short else "fir", verbose=False)
    return fit_raw
