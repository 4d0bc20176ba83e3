"""What the artifact generators share: argument checks, the Poisson event clock, named-channel lookup.

Every generator in :mod:`.ocular`, :mod:`.muscle` and :mod:`.technical` checks its arguments with the
helpers here (so they all word a bad argument the same way), draws its events from
:func:`_event_times`, and finds the template positions of named channels with :func:`_known`. The
sampling rate is checked by :func:`wavediff._checks.check_sfreq`, shared with the rest of the room.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np

from wavediff.errors import InvalidInputError

from ..montage import electrode_positions

_UV = 1e-6


def _check_count(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < minimum:
        raise InvalidInputError(f"{name}={value!r} must be an integer >= {minimum}")
    return int(value)


def _check_rng(rng: Any) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise InvalidInputError(
        f"rng={rng!r} must be a numpy.random.Generator (e.g. numpy.random.default_rng(0)) or an integer seed"
    )


def _check_real(value: Any, name: str) -> float:
    if isinstance(value, (bool, str, bytes)) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise InvalidInputError(f"{name}={value!r} must be a finite number")
    return float(value)


def _event_times(duration: float, rate: float, rng: np.random.Generator, min_gap: float, margin: float) -> np.ndarray:
    """Poisson event times in [0, duration) with a refractory gap; at least one, placed inside the segment."""
    times: list[float] = []
    t = rng.exponential(1.0 / rate) - rng.uniform(0.0, 1.0 / rate)  # the process may start before the segment
    while t < duration:
        if t >= 0 and (not times or t - times[-1] >= min_gap):
            times.append(t)
        t += max(rng.exponential(1.0 / rate), min_gap)
    if not times:
        lo, hi = min(margin, duration / 2), max(duration - margin, duration / 2)
        times.append(rng.uniform(lo, hi))
    return np.asarray(times)


def _known(names: list[str] | None, what: str) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Positions of the named channels (None without names) and the mask of the known ones."""
    if names is None:
        return None, None
    pos = electrode_positions(names)
    known = np.all(np.isfinite(pos), axis=1)
    if not known.all():
        missing = [n for n, k in zip(names, known) if not k]
        warnings.warn(
            f"{len(missing)} channel name(s) are not in the 10-05 template ({missing[:5]}...); they receive the "
            f"full {what} source. Rename them to standard names (raw.rename_channels) for a realistic topography.",
            UserWarning,
            stacklevel=3,
        )
    return pos, known
