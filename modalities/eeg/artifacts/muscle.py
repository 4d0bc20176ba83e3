"""Muscle artifacts: non-stationary broadband bursts, focal over the temporal muscles.

The sources are Gaussian blobs (35 mm) on the template scalp (:mod:`wavediff.modalities.eeg.montage`)
over the left and right temporalis, with occasional frontalis and neck activity. Without ``ch_names``
:func:`emg` returns ``n_channels`` rows (default 1) at the temporalis amplitude, sharing one burst
envelope; a channel whose name is not in the template gets the left temporalis at full amplitude (with
a warning).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np

from wavediff._checks import check_sfreq
from wavediff.errors import SampleRateError, ShapeError

from ..montage import check_ch_names, template_positions
from .common import _UV, _check_count, _check_rng, _event_times, _known

__all__ = ["emg"]

_EMG_WIDTH = 0.035  # spatial spread (m) of a muscle source on the scalp


def _band_noise(shape: tuple[int, ...], sfreq: float, lo: float, hi: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise with a flat spectrum between lo and hi Hz (raised-cosine edges inside the band), unit std."""
    n = shape[-1]
    spec = np.fft.rfft(rng.standard_normal(shape), axis=-1)
    f = np.fft.rfftfreq(n, 1.0 / sfreq)
    edge = min(3.0, (hi - lo) / 4)
    gain = np.zeros_like(f)
    inside = (f >= lo) & (f <= hi)
    gain[inside] = 1.0
    up = (f >= lo) & (f < lo + edge)
    gain[up] = 0.5 - 0.5 * np.cos(np.pi * (f[up] - lo) / edge)
    down = (f > hi - edge) & (f <= hi)
    gain[down] = 0.5 - 0.5 * np.cos(np.pi * (hi - f[down]) / edge)
    out = np.fft.irfft(spec * gain, n=n, axis=-1)
    std = out.std(axis=-1, keepdims=True)
    return out / np.where(std > 0, std, 1.0)


def _burst_envelope(n_times: int, sfreq: float, rng: np.random.Generator, force: bool) -> np.ndarray:
    t = np.arange(n_times) / sfreq
    duration = n_times / sfreq
    env = np.full(n_times, rng.uniform(0.03, 0.12))  # tonic activity between bursts
    rate = rng.uniform(0.4, 1.2)
    times = _event_times(duration, rate, rng, min_gap=0.2, margin=0.1)
    if not force and rng.random() < 0.3:
        times = times[:0]  # this muscle stays quiet
    for t0 in times:
        length = math.exp(rng.uniform(math.log(0.1), math.log(1.5)))
        edge = 0.25 * length
        d = t - t0
        shape = np.clip(np.minimum(d, length - d) / edge, 0.0, 1.0)
        env += rng.lognormal(0.0, 0.4) * (0.5 - 0.5 * np.cos(np.pi * shape))
    return env


@functools.lru_cache(maxsize=1)
def _emg_sources() -> tuple[np.ndarray, ...]:
    tpl, _ = template_positions()
    down = np.array([0.0, 0.0, -0.015])
    left = 0.5 * (tpl["FT7"] + tpl["T7"]) + down
    right = 0.5 * (tpl["FT8"] + tpl["T8"]) + down
    frontalis = 0.5 * (tpl["AF3"] + tpl["AF4"])
    neck = 0.5 * (tpl["O9"] + tpl["O10"]) if "O9" in tpl else tpl["Iz"]
    return left, right, frontalis, neck


def _emg_weights(pos: np.ndarray, source: np.ndarray) -> np.ndarray:
    d2 = np.sum((pos - source) ** 2, axis=1)
    tpl, _ = template_positions()
    all_pos = np.stack(list(tpl.values()))
    peak = np.max(np.exp(-np.sum((all_pos - source) ** 2, axis=1) / (2 * _EMG_WIDTH**2)))
    return np.exp(-d2 / (2 * _EMG_WIDTH**2)) / peak


def emg(
    n_times: int,
    sfreq: float,
    rng: np.random.Generator,
    ch_names: Sequence[str] | None = None,
    n_channels: int | None = None,
) -> np.ndarray:
    """Muscle artifact: non-stationary broadband bursts, focal over the temporal muscles.

    Each muscle (left and right temporalis always, frontalis and neck sometimes, weaker) has a bursty
    envelope (Poisson bursts of 0.1-1.5 s with smooth edges over a small tonic level; the two temporalis
    muscles often fire together, as in a jaw clench) and drives band-limited Gaussian noise with a flat
    spectrum from 20 Hz to ``min(200, sfreq / 2 - 1)`` Hz (20-127 Hz at 256 Hz). Half of each channel's
    noise is shared by the muscle, half is the channel's own. The strongest 250 ms of a 10 s segment
    typically reach 30-130 uV RMS at T7/T8 and FT7/FT8; F7/F8 and TP7/TP8 see about 40 % of that, and the
    vertex almost nothing (a 35 mm Gaussian fall-off).

    Parameters
    ----------
    n_times, sfreq, rng, ch_names
        As in :func:`eog`.
    n_channels : int, optional
        Only without ``ch_names``: number of channels sharing one burst envelope, each with its own noise
        (default 1).

    Returns
    -------
    numpy.ndarray
        ``(n_channels, n_times)`` in volts.

    Examples
    --------
    >>> import numpy as np
    >>> art = emg(2048, 256.0, np.random.default_rng(0), ["T7", "Cz", "T8"])
    >>> power = (art**2).mean(axis=1)
    >>> bool(power[1] < power[0] and power[1] < power[2])  # weakest at the vertex
    True
    """
    n_times = _check_count(n_times, "n_times")
    sfreq = check_sfreq(sfreq)
    rng = _check_rng(rng)
    names = check_ch_names(ch_names)
    if names is not None and n_channels is not None and n_channels != len(names):
        raise ShapeError(f"n_channels={n_channels} does not match {len(names)} ch_names; pass only one of them")
    lo, hi = 20.0, min(200.0, sfreq / 2 - 1.0)
    if hi <= lo + 5.0:
        raise SampleRateError(
            f"sfreq={sfreq} Hz cannot carry muscle activity (20 Hz and above); use a rate of at least 64 Hz"
        )
    if names is None:
        n_ch = 1 if n_channels is None else _check_count(n_channels, "n_channels")
        env = _burst_envelope(n_times, sfreq, rng, force=True)
        amp = rng.uniform(20.0, 60.0) * _UV
        common = _band_noise((1, n_times), sfreq, lo, hi, rng)
        own = _band_noise((n_ch, n_times), sfreq, lo, hi, rng)
        return amp * env[None, :] * np.sqrt(0.5) * (common + own)

    pos, known = _known(names, "muscle")
    n_ch = len(names)
    out = np.zeros((n_ch, n_times))
    left_env = _burst_envelope(n_times, sfreq, rng, force=True)
    right_env = left_env.copy() if rng.random() < 0.5 else _burst_envelope(n_times, sfreq, rng, force=False)
    envelopes = [left_env, right_env, _burst_envelope(n_times, sfreq, rng, force=False),
                 _burst_envelope(n_times, sfreq, rng, force=False)]
    gains = [rng.uniform(20.0, 60.0), rng.uniform(20.0, 60.0), rng.uniform(5.0, 15.0), rng.uniform(5.0, 15.0)]
    active = [True, True, rng.random() < 0.3, rng.random() < 0.2]
    for source, env, gain, on in zip(_emg_sources(), envelopes, gains, active):
        if not on:
            continue
        w = np.where(known, 0.0, 1.0 if source is _emg_sources()[0] else 0.0)  # unknown names: the left muscle
        w[known] = _emg_weights(pos[known], source)
        common = _band_noise((1, n_times), sfreq, lo, hi, rng)
        own = _band_noise((n_ch, n_times), sfreq, lo, hi, rng)
        out += gain * _UV * w[:, None] * env[None, :] * np.sqrt(0.5) * (common + own)
    return out

