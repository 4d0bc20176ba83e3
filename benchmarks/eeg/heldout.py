"""A second EEG artifact generator, for evaluation only: artifacts the EEG model has never seen.

The model trains on the room's generator (``wavediff.modalities.eeg.artifacts``, with its wider
families in ``artifacts/variety.py``); scored with that same generator it looks better than it is.
This one is written apart from it and lives here, outside the package, so that ``modalities/`` and
``datasets/`` can never import it (``tests/test_eeg_heldout.py`` checks). Its families differ in what
varies between labs and recordings:

* EOG: blinks shaped as gamma densities (shape 2-6: a rise and a longer tail, not two Gaussian
  flanks), 150-600 ms, in bursts and with lone blinks; saccades as rotations of the corneo-retinal
  dipole, i.e. level shifts held for a fixation time (0.2-2 s) with a small overshoot, the gaze
  returning to centre only sometimes; slow roving eye movements as a leaky random walk. The
  topography is an exponential decay with the distance from each eye (decay length 3-8 cm, drawn per
  recording), with a left/right gain asymmetry; horizontal movements have opposite polarity on the two
  sides. Without channel names every channel gets the same source (EEGdenoiseNet's convention).
* EMG: noise shaped by one or two second-order resonances (AR(2) filters, peak 30-120 Hz and width
  drawn per recording, kept below Nyquist; high-passed at 15 Hz, as biphasic motor-unit potentials are), under log-normal burst envelopes with gamma-distributed
  gaps and sometimes tonic activity; from the jaw (temporal sites), the neck (occipital) or the
  forehead (frontopolar), with each channel's own noise weighted by its distance to the muscle.
* Drift: each electrode its own leaky random walk (an Ornstein-Uhlenbeck process with a time constant
  of 2-20 s, smoothed once more by the same pole), sweat waves on a random group, and electrode-impedance steps that settle exponentially.

:func:`heldout_contaminate` scales the artifact as the room's ``contaminate`` does (EEGdenoiseNet's
``y = x + lambda * n``, SNR = ``10 log10(RMS(x) / RMS(lambda n))`` over the whole array).

Examples
--------
>>> import numpy as np
>>> clean = np.random.default_rng(0).normal(0, 10e-6, (3, 2560))
>>> noisy, noise = heldout_contaminate(clean, 256.0, 1, "eog", -3.0, ["Fp1", "Cz", "O1"])
>>> round(float(10 * np.log10(np.sqrt(np.mean(clean**2)) / np.sqrt(np.mean(noise**2)))), 9)
-3.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.signal import lfilter
from wavediff.modalities.eeg.montage import electrode_positions

from wavediff.errors import InvalidInputError, NonFiniteError, ShapeError

__all__ = ["HELDOUT_ARTIFACTS", "heldout_contaminate", "heldout_drift", "heldout_emg", "heldout_eog"]

HELDOUT_ARTIFACTS = ("eog", "emg", "drift", "mix")
_UV = 1e-6
_EYES = np.array([[-0.032, 0.105, -0.02], [0.032, 0.105, -0.02]])  # m, head coordinates (x right, y nose, z up)


def _rng(rng: Any) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise InvalidInputError(f"rng={rng!r}: pass a numpy Generator or an integer seed")


def _positions(names: Sequence[str] | None, n_channels: int) -> np.ndarray | None:
    if names is None:
        return None
    if len(names) != n_channels:
        raise ShapeError(f"got {len(names)} channel names for {n_channels} channels; pass one name per row")
    return electrode_positions(list(names))


def _onsets(duration: float, rate: float, rng: np.random.Generator, gap_shape: float) -> np.ndarray:
    """Event times with gamma-distributed gaps of mean ``1 / rate`` (shape ``gap_shape``: 1 is Poisson)."""
    times, t = [], rng.uniform(0.0, 1.0 / rate)
    while t < duration:
        times.append(t)
        t += rng.gamma(gap_shape, 1.0 / (rate * gap_shape))
    return np.array(times)


def _ocular_weights(pos: np.ndarray | None, rng: np.random.Generator, horizontal: bool) -> np.ndarray:
    if pos is None:
        return np.ones(1)
    decay = rng.uniform(0.03, 0.08)
    gain = rng.uniform(0.7, 1.3, size=2)
    known = np.isfinite(pos).all(axis=1)
    w = np.zeros(len(pos))
    for eye, g, sign in zip(_EYES, gain, (-1.0, 1.0)):
        d = np.linalg.norm(pos[known] - eye, axis=1)
        w[known] += g * np.exp(-(d - d.min()) / decay) * (sign if horizontal else 1.0)
    w[~known] = 1.0 if not horizontal else 0.0
    peak = np.abs(w[known]).max() if known.any() else 1.0
    return w / peak


def heldout_eog(n_channels: int, n_times: int, sfreq: float, rng: Any, ch_names: Sequence[str] | None = None) -> np.ndarray:
    """Gamma-shaped blinks, held saccades and roving movements (module notes), ``(n_channels, n_times)`` V.

    Examples
    --------
    >>> art = heldout_eog(3, 2560, 256.0, 0, ["Fp1", "Cz", "O1"])
    >>> art.shape, bool(np.abs(art[0]).max() > np.abs(art[2]).max())
    ((3, 2560), True)
    """
    rng = _rng(rng)
    pos = _positions(ch_names, n_channels)
    t = np.arange(n_times) / sfreq
    duration = n_times / sfreq
    vertical = np.zeros(n_times)
    shape = rng.uniform(2.0, 6.0)
    for t0 in _onsets(duration, rng.uniform(0.1, 0.8), rng, gap_shape=rng.uniform(0.5, 3.0)):
        length = rng.uniform(0.15, 0.6)
        scale = length / (shape + 3 * math.sqrt(shape))  # most of the density within the blink's length
        d = np.clip(t - t0, 0.0, None) / scale
        bump = np.where(t > t0, d ** (shape - 1) * np.exp(-d), 0.0)
        vertical += rng.uniform(60.0, 350.0) * _UV * bump / max(bump.max(), 1e-30)
    horizontal = np.zeros(n_times)
    level = 0.0
    t_next = rng.uniform(0.0, 1.0)
    while t_next < duration:
        target = 0.0 if rng.random() < 0.3 else rng.uniform(-120.0, 120.0) * _UV
        jump = target - level
        settle = np.clip((t - t_next) / rng.uniform(0.02, 0.07), 0.0, 1.0)
        overshoot = rng.uniform(0.0, 0.1) * np.exp(-np.clip(t - t_next, 0.0, None) / 0.04) * (t > t_next)
        horizontal += jump * (settle + overshoot)
        level = target
        t_next += rng.uniform(0.2, 2.0)
    if rng.random() < 0.4:  # roving eye movements: a leaky random walk, seconds long
        a = math.exp(-1.0 / (rng.uniform(1.0, 4.0) * sfreq))
        walk = lfilter([1.0], [1.0, -a], rng.standard_normal(n_times))
        horizontal += rng.uniform(15.0, 80.0) * _UV * walk / max(walk.std(), 1e-30)
    out = _ocular_weights(pos, rng, False)[:, None] * vertical + _ocular_weights(pos, rng, True)[:, None] * horizontal
    return np.broadcast_to(out, (n_channels, n_times)).copy()


def _resonant_noise(rows: int, n_times: int, sfreq: float, peaks: Sequence[tuple[float, float]], rng: np.random.Generator) -> np.ndarray:
    out = np.zeros((rows, n_times))
    for freq, width in peaks:
        r = math.exp(-math.pi * width / sfreq)
        theta = 2 * math.pi * freq / sfreq
        out += lfilter([1.0], [1.0, -2 * r * math.cos(theta), r * r], rng.standard_normal((rows, n_times)), axis=-1)
    # motor-unit potentials are biphasic: little below ~15 Hz (a second-order high-pass there)
    a = math.exp(-2 * math.pi * 15.0 / sfreq)
    out = lfilter([1.0, -1.0], [1.0, -a], lfilter([1.0, -1.0], [1.0, -a], out, axis=-1), axis=-1)
    out -= out.mean(axis=-1, keepdims=True)
    return out / np.maximum(out.std(axis=-1, keepdims=True), 1e-30)


def _burst_envelope(n_times: int, sfreq: float, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n_times) / sfreq
    env = np.full(n_times, rng.uniform(0.05, 0.4) if rng.random() < 0.5 else 0.0)
    for t0 in _onsets(n_times / sfreq, rng.uniform(0.2, 1.5), rng, gap_shape=rng.uniform(1.0, 4.0)):
        length = rng.lognormal(math.log(0.4), 0.7)
        mid = t0 + length / 2
        env += rng.lognormal(0.0, 0.5) * np.exp(-0.5 * ((t - mid) / (length / 4)) ** 4)  # flat-topped burst
    return env


_MUSCLES = {"jaw": ("T7", "T8", "FT7", "FT8"), "neck": ("O1", "O2", "Iz"), "forehead": ("Fp1", "Fp2", "AF7", "AF8")}


def heldout_emg(n_channels: int, n_times: int, sfreq: float, rng: Any, ch_names: Sequence[str] | None = None) -> np.ndarray:
    """Resonant muscle noise under bursty envelopes (module notes), ``(n_channels, n_times)`` V.

    Examples
    --------
    >>> art = heldout_emg(3, 2560, 256.0, 0, ["T7", "Cz", "T8"])
    >>> art.shape, bool(np.std(art[1]) < max(np.std(art[0]), np.std(art[2])))
    ((3, 2560), True)
    """
    rng = _rng(rng)
    pos = _positions(ch_names, n_channels)
    nyquist = sfreq / 2
    peaks = [(min(rng.uniform(30.0, 120.0), 0.8 * nyquist), rng.uniform(10.0, 60.0)) for _ in range(int(rng.integers(1, 3)))]
    env = _burst_envelope(n_times, sfreq, rng)
    noise = _resonant_noise(n_channels, n_times, sfreq, peaks, rng)
    if pos is None:
        return rng.uniform(20.0, 70.0) * _UV * env * noise
    muscle = list(_MUSCLES)[int(rng.integers(len(_MUSCLES)))]
    sites = electrode_positions(list(_MUSCLES[muscle]))
    sites = sites[np.isfinite(sites).all(axis=1)]
    known = np.isfinite(pos).all(axis=1)
    w = np.full(n_channels, 0.2)
    if known.any():
        dist = np.min(np.linalg.norm(pos[known][:, None] - sites[None], axis=-1), axis=1)
        w[known] = np.exp(-dist / rng.uniform(0.02, 0.05))
    return rng.uniform(20.0, 70.0) * _UV * w[:, None] * env * noise


def heldout_drift(n_channels: int, n_times: int, sfreq: float, rng: Any, ch_names: Sequence[str] | None = None) -> np.ndarray:
    """Per-electrode leaky random walks, sweat waves and impedance steps (module notes), ``(n_channels, n_times)`` V.

    Examples
    --------
    >>> heldout_drift(2, 2560, 256.0, 0).shape
    (2, 2560)
    """
    rng = _rng(rng)
    t = np.arange(n_times) / sfreq
    a = math.exp(-1.0 / (rng.uniform(2.0, 20.0) * sfreq))
    walk = lfilter([1.0], [1.0, -a], rng.standard_normal((n_channels, n_times)), axis=-1)
    walk = lfilter([1.0 - a], [1.0, -a], walk, axis=-1)  # twice: a smooth walk, no 1/f^2 tail into the EEG band
    walk -= walk.mean(axis=-1, keepdims=True)
    out = rng.uniform(10.0, 50.0) * _UV * walk / np.maximum(walk.std(axis=-1, keepdims=True), 1e-30)
    if rng.random() < 0.5:
        group = rng.random(n_channels) < 0.5
        out[group] += rng.uniform(10.0, 40.0) * _UV * np.sin(2 * np.pi * rng.uniform(0.03, 0.2) * t + rng.uniform(0, 2 * np.pi))
    for _ in range(int(rng.poisson(0.5))):
        ch, t0 = int(rng.integers(n_channels)), rng.uniform(0.0, t[-1])
        out[ch] += rng.choice([-1.0, 1.0]) * rng.uniform(30.0, 200.0) * _UV * (t >= t0) * np.exp(-np.clip(t - t0, 0.0, None) / rng.uniform(1.0, 8.0))
    return out


def heldout_contaminate(
    clean: Any, sfreq: float, rng: Any, artifact: str, snr_db: float, ch_names: Sequence[str] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``clean + lambda * n`` with an artifact of this generator at the EEGdenoiseNet SNR ``snr_db``.

    Returns ``(noisy, noise)``, float64 arrays of ``clean``'s shape (``(n_times,)`` or
    ``(n_channels, n_times)``); ``clean`` is not modified.
    """
    x = np.array(clean, dtype=np.float64)
    if x.ndim not in (1, 2) or x.shape[-1] < 2:
        raise ShapeError(f"clean has shape {x.shape}; pass (n_times,) or (n_channels, n_times) with at least two samples")
    if not np.isfinite(x).all():
        raise NonFiniteError("clean holds NaN or infinite values; interpolate or drop those samples first")
    if not (isinstance(sfreq, (int, float)) and math.isfinite(sfreq) and sfreq > 0):
        raise InvalidInputError(f"sfreq={sfreq!r} must be a positive rate in Hz")
    if artifact not in HELDOUT_ARTIFACTS:
        raise InvalidInputError(f"artifact={artifact!r}; use one of {HELDOUT_ARTIFACTS}")
    if isinstance(snr_db, bool) or not isinstance(snr_db, (int, float)) or not math.isfinite(snr_db):
        raise InvalidInputError(f"snr_db={snr_db!r} must be a finite number (dB)")
    rng = _rng(rng)
    x2 = x if x.ndim == 2 else x[None]
    n_ch, n_times = x2.shape
    signal = math.sqrt(float(np.mean(x2**2)))
    if signal == 0:
        raise InvalidInputError("clean is all zeros, so an SNR cannot be set; pass real EEG")
    make = {"eog": heldout_eog, "emg": heldout_emg, "drift": heldout_drift}
    if artifact == "mix":
        parts = [heldout_eog(n_ch, n_times, sfreq, rng, ch_names), heldout_emg(n_ch, n_times, sfreq, rng, ch_names)]
        if rng.random() < 0.5:
            parts.append(heldout_drift(n_ch, n_times, sfreq, rng, ch_names))
        n = sum(rng.uniform(0.3, 1.0) * p / math.sqrt(float(np.mean(p**2))) for p in parts)
    else:
        n = make[artifact](n_ch, n_times, sfreq, rng, ch_names)
    lam = signal / (math.sqrt(float(np.mean(n**2))) * 10.0 ** (snr_db / 10.0))
    noise = (lam * n).reshape(x.shape)
    return x + noise, noise
