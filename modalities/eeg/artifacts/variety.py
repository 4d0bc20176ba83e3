"""Wider artifact families for training: the room's artifacts with their shapes, spectra, durations and
topographies drawn from broader ranges, so that a model learns the artifact rather than one generator.

The room's own generators (:mod:`.ocular`, :mod:`.muscle`, :mod:`.technical`) each draw from one
family: Gaussian-flanked blinks of 200-400 ms, flat 20-200 Hz muscle spectra, one baseline wander for
every channel. Labs and recordings differ in all of these, and a model trained on one family learns
the family. Here every family is widened (``variety="wide"`` in :func:`~.contamination.contaminate`
draws from these in half the draws):

* :func:`wide_eog` - blinks whose flanks follow a generalised Gaussian of exponent 1.2-3 (from
  peaked to flat-topped), 150-700 ms, 50-400 uV, 0.1-1 per second, a fifth of them doubled; saccades of
  20-120 ms and 10-150 uV with a 0-15 % overshoot, as single steps with a return or as staircases of
  fixations; in a third of the draws slow roving eye movements (below 0.5 Hz); the eye dipoles'
  topography with a left/right gain asymmetry and a per-channel jitter of about 10 %.
* :func:`wide_emg` - muscle noise whose band starts at 10-40 Hz and ends at 60-250 Hz (below Nyquist),
  tilted by ``f**-beta`` with beta in -1..1.5 (from rising, as in surface EMG, to falling), bursts of
  50 ms to 3 s over a tonic level of 0-0.3, from the temporal, frontalis or neck muscles.
* :func:`wide_drift` - a drift per electrode (each its own slow random walk below 0.5 Hz), sweat waves
  at 0.05-0.3 Hz on some electrodes, and sometimes an impedance step that settles exponentially.

Training imports these; the evaluation generator in ``benchmarks/eeg/heldout.py`` was written apart
from them and is never imported here.

Examples
--------
>>> import numpy as np
>>> art = wide_eog(2560, 256.0, np.random.default_rng(0), ["Fp1", "Cz", "O1"])
>>> art.shape, bool(np.abs(art[0]).max() > np.abs(art[2]).max())
((3, 2560), True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.signal import lfilter

from ..montage import check_ch_names
from .common import _UV, _event_times, _known
from .muscle import _emg_sources, _emg_weights
from .ocular import _blink_topography, _saccade_topography

__all__ = ["wide_drift", "wide_emg", "wide_eog"]


def _jitter(weights: np.ndarray, rng: np.random.Generator, names: list[str] | None) -> np.ndarray:
    """A topography with a left/right asymmetry (a head is not symmetric, nor are electrode contacts)
    and a per-channel gain jitter of about 10 %."""
    if names is None:
        return weights
    pos, known = _known(names, "ocular")
    out = weights * rng.lognormal(0.0, 0.1, size=weights.shape)
    if pos is not None:
        tilt = rng.uniform(-0.2, 0.2)
        side = np.where(known, np.sign(np.nan_to_num(pos[:, 0])), 0.0)
        out = out * (1.0 + tilt * side)
    return out


def _blinks(n_times: int, sfreq: float, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n_times) / sfreq
    out = np.zeros(n_times)
    power = rng.uniform(1.2, 3.0)  # flank shape: 2 is Gaussian, lower is peaked, higher flat-topped
    for t0 in _event_times(n_times / sfreq, rng.uniform(0.1, 1.0), rng, min_gap=0.4, margin=0.2):
        for k in range(2 if rng.random() < 0.2 else 1):  # double blinks
            start = t0 + k * rng.uniform(0.15, 0.35)
            length = rng.uniform(0.15, 0.7)
            rise = rng.uniform(0.25, 0.5)
            s_rise, s_fall = rise * length / 2.45, (1.0 - rise) * length / 2.45
            d = t - start
            amp = rng.uniform(50.0, 400.0) * _UV * (1.0 if k == 0 else rng.uniform(0.5, 1.0))
            out += amp * np.exp(-0.5 * np.abs(np.where(d < 0, d / s_rise, d / s_fall)) ** power)
    return out


def _saccades(n_times: int, sfreq: float, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n_times) / sfreq
    level = np.zeros(n_times)
    staircase = rng.random() < 0.5  # gaze wanders from target to target instead of returning to centre
    for t0 in _event_times(n_times / sfreq, rng.uniform(0.1, 1.0), rng, min_gap=0.15, margin=0.05):
        width = rng.uniform(0.02, 0.12)
        amp = rng.choice([-1.0, 1.0]) * rng.uniform(10.0, 150.0) * _UV
        x = np.clip((t - t0) / width, 0.0, 1.0)
        step = 0.5 - 0.5 * np.cos(np.pi * x)
        overshoot = rng.uniform(0.0, 0.15) * np.exp(-np.clip(t - t0 - width, 0.0, None) / 0.05) * (t > t0 + width)
        shape = step + overshoot
        if not staircase:
            hold = rng.uniform(0.1, 3.0)
            back = np.clip((t - t0 - width - hold) / width, 0.0, 1.0)
            shape = shape - (0.5 - 0.5 * np.cos(np.pi * back))
        level += amp * shape
    if staircase:  # an AC-coupled amplifier lets a sustained level decay
        tau = rng.uniform(1.0, 10.0)
        level = level - _lowpass_decay(level, sfreq, tau)
    return level


def _lowpass_decay(x: np.ndarray, sfreq: float, tau: float) -> np.ndarray:
    """The slow part an RC high-pass of time constant ``tau`` removes (one-pole low-pass, causal)."""
    a = math.exp(-1.0 / (tau * sfreq))
    return lfilter([1.0 - a], [1.0, -a], x)


def _slow(n_times: int, sfreq: float, rng: np.random.Generator, f_max: float, rows: int = 1) -> np.ndarray:
    """Smooth random waves below ``f_max`` Hz, unit std per row."""
    spec = np.fft.rfft(rng.standard_normal((rows, n_times)), axis=-1)
    f = np.fft.rfftfreq(n_times, 1.0 / sfreq)
    spec *= (f <= f_max) / np.maximum(f, 1.0 / (n_times / sfreq)) ** 0.5
    spec[:, 0] = 0.0
    out = np.fft.irfft(spec, n=n_times, axis=-1)
    std = out.std(axis=-1, keepdims=True)
    return out / np.where(std > 0, std, 1.0)


def wide_eog(n_times: int, sfreq: float, rng: np.random.Generator, ch_names: Sequence[str] | None = None) -> np.ndarray:
    """Blinks, saccades and slow eye movements from the wide families (module notes), ``(n_channels, n_times)`` V.

    Without ``ch_names`` a single source ``(1, n_times)`` (the single-channel convention of :func:`~.ocular.eog`).
    """
    names = check_ch_names(ch_names)
    out = np.zeros((1 if names is None else len(names), n_times))
    kind = rng.choice(["blink", "saccade", "both"], p=[0.45, 0.2, 0.35])
    if kind in ("blink", "both"):
        out += _jitter(_blink_topography(names), rng, names)[:, None] * _blinks(n_times, sfreq, rng)[None, :]
    if kind in ("saccade", "both"):
        out += _jitter(_saccade_topography(names), rng, names)[:, None] * _saccades(n_times, sfreq, rng)[None, :]
    if rng.random() < 0.33:  # roving eye movements (drowsiness): slow, mostly horizontal
        slow = rng.uniform(20.0, 100.0) * _UV * _slow(n_times, sfreq, rng, rng.uniform(0.1, 0.5))[0]
        out += _jitter(_saccade_topography(names), rng, names)[:, None] * slow[None, :]
    return out


def _tilted_noise(shape: tuple[int, int], sfreq: float, lo: float, hi: float, beta: float, rng: np.random.Generator) -> np.ndarray:
    n = shape[-1]
    f = np.fft.rfftfreq(n, 1.0 / sfreq)
    gain = ((f >= lo) & (f <= hi)) * np.maximum(f, 1.0) ** (-beta / 2)
    edge = np.clip((f - lo) / 4.0, 0.0, 1.0) * np.clip((hi - f) / 4.0, 0.0, 1.0)
    out = np.fft.irfft(np.fft.rfft(rng.standard_normal(shape), axis=-1) * gain * edge, n=n, axis=-1)
    std = out.std(axis=-1, keepdims=True)
    return out / np.where(std > 0, std, 1.0)


def _envelope(n_times: int, sfreq: float, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n_times) / sfreq
    env = np.full(n_times, rng.uniform(0.0, 0.3))
    for t0 in _event_times(n_times / sfreq, rng.uniform(0.2, 2.0), rng, min_gap=0.1, margin=0.05):
        length = math.exp(rng.uniform(math.log(0.05), math.log(3.0)))
        edge = rng.uniform(0.1, 0.5) * length
        d = t - t0
        ramp = np.clip(np.minimum(d, length - d) / edge, 0.0, 1.0)
        env += rng.lognormal(0.0, 0.5) * (0.5 - 0.5 * np.cos(np.pi * ramp))
    return env


def wide_emg(n_times: int, sfreq: float, rng: np.random.Generator, ch_names: Sequence[str] | None = None, n_channels: int | None = None) -> np.ndarray:
    """Muscle noise from the wide families (module notes), ``(n_channels, n_times)`` V."""
    names = check_ch_names(ch_names)
    nyquist = sfreq / 2
    lo = rng.uniform(10.0, min(40.0, 0.4 * nyquist))
    hi = min(rng.uniform(60.0, 250.0), 0.95 * nyquist)
    hi = max(hi, lo + 8.0)
    beta = rng.uniform(-1.0, 1.5)
    n_ch = (1 if n_channels is None else n_channels) if names is None else len(names)
    share = rng.uniform(0.2, 0.8)  # how much of a channel's noise the muscle shares with its neighbours
    if names is None:
        env = _envelope(n_times, sfreq, rng)
        noise = math.sqrt(share) * _tilted_noise((1, n_times), sfreq, lo, hi, beta, rng) + math.sqrt(1 - share) * _tilted_noise(
            (n_ch, n_times), sfreq, lo, hi, beta, rng
        )
        return rng.uniform(10.0, 80.0) * _UV * env[None, :] * noise
    pos, known = _known(names, "muscle")
    left, right, frontalis, neck = _emg_sources()
    groups = [[left, right], [frontalis], [neck], [left], [right]]
    chosen = groups[rng.choice(len(groups), p=[0.45, 0.15, 0.15, 0.125, 0.125])]
    out = np.zeros((n_ch, n_times))
    for source in chosen:
        w = np.where(known, 0.0, 1.0)
        w[known] = _emg_weights(pos[known], source)
        env = _envelope(n_times, sfreq, rng)
        noise = math.sqrt(share) * _tilted_noise((1, n_times), sfreq, lo, hi, beta, rng) + math.sqrt(1 - share) * _tilted_noise(
            (n_ch, n_times), sfreq, lo, hi, beta, rng
        )
        out += rng.uniform(10.0, 80.0) * _UV * _jitter(w, rng, names)[:, None] * env[None, :] * noise
    return out


def wide_drift(n_times: int, sfreq: float, rng: np.random.Generator, n_channels: int = 1) -> np.ndarray:
    """Electrode drifts from the wide families (module notes), ``(n_channels, n_times)`` V."""
    t = np.arange(n_times) / sfreq
    out = rng.uniform(5.0, 40.0) * _UV * _slow(n_times, sfreq, rng, rng.uniform(0.05, 0.5), rows=n_channels)
    out *= rng.lognormal(0.0, 0.5, size=(n_channels, 1))  # electrodes differ
    if rng.random() < 0.5:  # sweat: slow waves on a group of electrodes
        hit = rng.random(n_channels) < rng.uniform(0.2, 1.0)
        f = rng.uniform(0.05, 0.3)
        out[hit] += rng.uniform(10.0, 60.0) * _UV * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
    if rng.random() < 0.3:  # an impedance change: a step that settles
        ch = rng.integers(n_channels)
        t0, tau = rng.uniform(0.1, 0.9) * t[-1], rng.uniform(0.5, 5.0)
        out[ch] += rng.choice([-1.0, 1.0]) * rng.uniform(20.0, 150.0) * _UV * (t >= t0) * np.exp(-np.clip(t - t0, 0, None) / tau)
    return out
