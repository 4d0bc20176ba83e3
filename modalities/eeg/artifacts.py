"""Realistic EEG artifacts and the EEGdenoiseNet contamination protocol.

Every generator returns an array ``(n_channels, n_times)`` in volts, drawn from a
:class:`numpy.random.Generator` so that the same seed gives the same artifact.

* :func:`eog` - ocular artifacts: blinks (asymmetric bell, 200-400 ms, 100-300 uV at Fp1/Fp2, 0.2-0.5 per
  second) and horizontal saccades (smoothed box-cars or steps with a slow return, 20-80 uV at F7/F8).
* :func:`emg` - muscle bursts: band-limited noise (20-200 Hz, capped below Nyquist) under a bursty
  envelope, focal over the temporal muscles (T7/T8, FT/TP, F7/F8).
* :func:`line_noise` - mains interference at 50 or 60 Hz and its harmonics.
* :func:`electrode_pops` - sudden steps or spikes with exponential recovery on one or two channels.
* :func:`drift` - slow baseline wander below 0.5 Hz plus a linear trend.
* :func:`contaminate` - ``y = x + lambda * n`` at a given SNR, exactly as EEGdenoiseNet (Zhang et al. 2021).

Topographies
------------
With ``ch_names`` the artifact is spread over the scalp from the electrode positions of MNE's 10-05
template (``colin27_1005``, formerly ``standard_1005``), in MNE head coordinates; names are matched
case-insensitively and through MNE's aliases (``T3`` -> ``T7`` ...). Each eye is a current dipole in a
homogeneous medium, placed 19 mm behind and 30 mm below the template's nasion and 32 mm to either side;
a regularisation length of 25 mm stands for the eyeball and orbit, so no electrode sees a singularity.
A blink is a vertical (upward) dipole: Fp1/Fp2 = 1, Fz ~ 0.35, Cz ~ 0.2, Pz ~ 0.1, Oz ~ 0.08. A horizontal
saccade is a left-right dipole: F8 = +1 and F7 = -1 for a rightward gaze, largest at F9/F10 and AF9/AF10
(next to the outer canthi), zero on the midline. Muscle sources are Gaussian blobs (35 mm) over the left
and right temporalis, with occasional frontalis and neck activity.

Fallback: without ``ch_names`` the ocular generator returns a single source, shape ``(1, n_times)``, at
its amplitude at the reference site (Fp1/Fp2 for blinks, F8 for saccades); it broadcasts against any
``(n_channels, n_times)`` array, which is EEGdenoiseNet's single-channel convention. :func:`emg` then
returns ``n_channels`` rows (default 1) at the temporalis amplitude, sharing one burst envelope. A channel whose name is not in the template gets the same full-amplitude
source (with a warning); rename channels to 10-05 names (``raw.rename_channels``) for a real topography.
"""

from __future__ import annotations

import functools
import math
import numbers
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import mne
import numpy as np

from wavediff.errors import InvalidInputError, NonFiniteError, SampleRateError, ShapeError

__all__ = [
    "ARTIFACTS",
    "EOG_KINDS",
    "electrode_positions",
    "eog",
    "emg",
    "line_noise",
    "electrode_pops",
    "drift",
    "contaminate",
    "power_snr_db",
    "rms",
]

ARTIFACTS = ("eog", "emg", "line", "pop", "drift", "mix")
EOG_KINDS = ("blink", "saccade", "mixed")

_UV = 1e-6
# eye centres relative to the template's nasion (m, head coordinates: x right, y nose, z up)
_EYE_OFFSET = np.array([0.032, -0.019, -0.030])
_EYE_REG = 0.025  # dipole regularisation length (m): eyeball radius plus orbit
_EMG_WIDTH = 0.035  # spatial spread (m) of a muscle source on the scalp


# ----------------------------------------------------------------------------- checks


def _check_sfreq(sfreq: Any) -> float:
    if isinstance(sfreq, (bool, str, bytes)) or not isinstance(sfreq, numbers.Real):
        raise SampleRateError(f"sfreq={sfreq!r} must be a positive number of samples per second, e.g. 256.0")
    value = float(sfreq)
    if not math.isfinite(value) or value <= 0:
        raise SampleRateError(f"sfreq={sfreq!r} must be a positive finite sampling rate in Hz, e.g. 256.0")
    return value


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


def _check_names(ch_names: Any, n_channels: int | None = None) -> list[str] | None:
    if ch_names is None:
        return None
    if isinstance(ch_names, (str, bytes)) or not isinstance(ch_names, Iterable):
        raise InvalidInputError("ch_names must be a list of channel names such as ['Fp1', 'Fp2', 'Cz']")
    names = [str(n) for n in ch_names]
    if not names:
        raise InvalidInputError("ch_names is empty; pass one name per channel, or None for a single source")
    if len(set(names)) != len(names):
        raise InvalidInputError(f"ch_names has duplicates {sorted({n for n in names if names.count(n) > 1})}; names must be unique")
    if n_channels is not None and len(names) != n_channels:
        raise ShapeError(f"got {len(names)} channel names for {n_channels} channels; pass one name per row")
    return names


def rms(x: Any) -> float:
    """Root mean square over the whole array (all channels and samples).

    Examples
    --------
    >>> rms([[3.0, -3.0], [3.0, 3.0]])
    3.0
    """
    arr = np.asarray(x, dtype=np.float64)
    if arr.size == 0:
        raise InvalidInputError("cannot take the RMS of an empty array")
    return float(np.sqrt(np.mean(arr * arr)))


# ----------------------------------------------------------------------------- geometry


@functools.lru_cache(maxsize=1)
def _montage() -> mne.channels.DigMontage:
    # 'standard_1005' was renamed 'colin27_1005' in MNE 1.13 (same positions); older MNE has only the former
    if "colin27_1005" in mne.channels.get_builtin_montages():
        return mne.channels.make_standard_montage("colin27_1005")
    return mne.channels.make_standard_montage("standard_1005")  # pragma: no cover - MNE < 1.13


@functools.lru_cache(maxsize=1)
def _template() -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Head-coordinate positions of every template electrode, and the nasion."""
    montage = _montage()
    info = mne.create_info(montage.ch_names, 100.0, "eeg")
    info.set_montage(montage)
    pos = {ch["ch_name"]: ch["loc"][:3].copy() for ch in info["chs"]}
    nasion = next(d["r"] for d in info["dig"] if int(d["ident"]) == mne.io.constants.FIFF.FIFFV_POINT_NASION)
    return pos, np.asarray(nasion, dtype=np.float64)


@functools.lru_cache(maxsize=128)
def _positions(names: tuple[str, ...]) -> np.ndarray:
    info = mne.create_info(list(names), 100.0, "eeg")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        info.set_montage(_montage(), match_case=False, match_alias=True, on_missing="ignore", verbose=False)
    out = np.array([ch["loc"][:3] for ch in info["chs"]], dtype=np.float64)
    out[~np.all(np.isfinite(out), axis=1) | np.all(out == 0, axis=1)] = np.nan
    return out


def electrode_positions(ch_names: Sequence[str]) -> np.ndarray:
    """Electrode positions (m, MNE head coordinates) of the 10-05 template for the given channel names.

    Names are matched case-insensitively and through MNE's aliases; unknown names give a row of NaN.

    Examples
    --------
    >>> pos = electrode_positions(["Fp1", "Cz", "EOG"])
    >>> pos.shape, bool(pos[1, 2] > 0.1), bool(np.isnan(pos[2]).all())  # Cz is on top of the head
    ((3, 3), True, True)
    """
    names = _check_names(ch_names)
    return _positions(tuple(names)).copy()


def _eyes() -> np.ndarray:
    _, nasion = _template()
    left = nasion + _EYE_OFFSET * np.array([-1.0, 1.0, 1.0])
    right = nasion + _EYE_OFFSET
    return np.stack([left, right])


def _eye_potential(pos: np.ndarray, moment: np.ndarray) -> np.ndarray:
    """Potential of two regularised eye dipoles with the given moment at positions (n, 3)."""
    total = np.zeros(pos.shape[0])
    for eye in _eyes():
        d = pos - eye
        total += (d @ moment) / (np.sum(d * d, axis=1) + _EYE_REG**2) ** 1.5
    return total


@functools.lru_cache(maxsize=1)
def _eog_reference() -> tuple[float, float]:
    tpl, _ = _template()
    up, right = np.array([0.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0])
    blink = float(np.mean(_eye_potential(np.stack([tpl["Fp1"], tpl["Fp2"]]), up)))
    sacc = float(np.mean(np.abs(_eye_potential(np.stack([tpl["F7"], tpl["F8"]]), right))))
    return blink, sacc


def _known(names: list[str] | None, what: str) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Positions of the named channels (None without names) and the mask of the known ones."""
    if names is None:
        return None, None
    pos = _positions(tuple(names))
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


def _blink_topography(names: list[str] | None) -> np.ndarray:
    pos, known = _known(names, "blink")
    if pos is None:
        return np.ones(1)
    w = np.ones(len(names))
    w[known] = _eye_potential(pos[known], np.array([0.0, 0.0, 1.0])) / _eog_reference()[0]
    return w


def _saccade_topography(names: list[str] | None) -> np.ndarray:
    pos, known = _known(names, "saccade")
    if pos is None:
        return np.ones(1)
    w = np.ones(len(names))
    w[known] = _eye_potential(pos[known], np.array([1.0, 0.0, 0.0])) / _eog_reference()[1]
    return w


# ----------------------------------------------------------------------------- waveforms


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


def _blinks(n_times: int, sfreq: float, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n_times) / sfreq
    out = np.zeros(n_times)
    rate = rng.uniform(0.2, 0.5)
    for t0 in _event_times(n_times / sfreq, rate, rng, min_gap=0.5, margin=0.25):
        length = rng.uniform(0.2, 0.4)  # seconds above ~5 % of the peak
        rise = rng.uniform(0.3, 0.45)  # fraction of the blink spent rising: fast closing, slow reopening
        s_rise, s_fall = rise * length / 2.45, (1.0 - rise) * length / 2.45
        amp = rng.uniform(100.0, 300.0) * _UV
        d = t - t0
        out += amp * np.where(d < 0, np.exp(-0.5 * (d / s_rise) ** 2), np.exp(-0.5 * (d / s_fall) ** 2))
    return out


def _smooth_step(d: np.ndarray, width: float) -> np.ndarray:
    """0 before 0, 1 after ``width``, raised-cosine in between (a saccade of ``width`` seconds)."""
    x = np.clip(d / width, 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * x)


def _saccades(n_times: int, sfreq: float, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n_times) / sfreq
    out = np.zeros(n_times)
    rate = rng.uniform(0.2, 0.8)
    for t0 in _event_times(n_times / sfreq, rate, rng, min_gap=0.3, margin=0.1):
        amp = rng.choice([-1.0, 1.0]) * rng.uniform(20.0, 80.0) * _UV  # sign: rightward gaze is positive at F8
        width = rng.uniform(0.03, 0.08)
        onset = _smooth_step(t - t0, width)
        hold = rng.uniform(0.2, 1.5)
        if rng.random() < 0.5:  # fixate, then a return saccade: a box-car with smoothed edges
            shape = onset - _smooth_step(t - t0 - width - hold, width)
        else:  # a step whose level decays back (AC-coupled amplifier, slow drift back to centre)
            tau = rng.uniform(0.3, 1.0)
            shape = onset * np.exp(-np.clip(t - t0 - width, 0.0, None) / tau)
        out += amp * shape
    return out


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
    tpl, _ = _template()
    down = np.array([0.0, 0.0, -0.015])
    left = 0.5 * (tpl["FT7"] + tpl["T7"]) + down
    right = 0.5 * (tpl["FT8"] + tpl["T8"]) + down
    frontalis = 0.5 * (tpl["AF3"] + tpl["AF4"])
    neck = 0.5 * (tpl["O9"] + tpl["O10"]) if "O9" in tpl else tpl["Iz"]
    return left, right, frontalis, neck


def _emg_weights(pos: np.ndarray, source: np.ndarray) -> np.ndarray:
    d2 = np.sum((pos - source) ** 2, axis=1)
    tpl, _ = _template()
    all_pos = np.stack(list(tpl.values()))
    peak = np.max(np.exp(-np.sum((all_pos - source) ** 2, axis=1) / (2 * _EMG_WIDTH**2)))
    return np.exp(-d2 / (2 * _EMG_WIDTH**2)) / peak


# ----------------------------------------------------------------------------- generators


def eog(
    n_times: int,
    sfreq: float,
    rng: np.random.Generator,
    ch_names: Sequence[str] | None = None,
    kind: str = "blink",
) -> np.ndarray:
    """Ocular artifact: blinks, horizontal saccades, or both.

    Blinks: Poisson onsets at a rate drawn in 0.2-0.5 Hz (at least one per call), each an asymmetric
    bell (fast closing, slower reopening) lasting 200-400 ms with a peak of 100-300 uV at Fp1/Fp2.
    Saccades: rate 0.2-0.8 Hz, 20-80 uV at F7/F8, either a box-car with raised-cosine edges (gaze to the
    side and back after 0.2-1.5 s) or a step with an exponential return (0.3-1 s).

    Parameters
    ----------
    n_times : int
        Number of samples.
    sfreq : float
        Sampling rate in Hz.
    rng : numpy.random.Generator
        Source of randomness (an integer seed is accepted too).
    ch_names : sequence of str, optional
        Channel names (10-20/10-10/10-05) for the topography; see the module notes for the fallback.
    kind : {'blink', 'saccade', 'mixed'}
        Which ocular artifact; ``'mixed'`` adds both.

    Returns
    -------
    numpy.ndarray
        ``(len(ch_names), n_times)`` in volts, or ``(1, n_times)`` without ``ch_names``.

    Examples
    --------
    >>> import numpy as np
    >>> art = eog(512, 256.0, np.random.default_rng(0), ["Fp1", "Cz", "Oz"])
    >>> art.shape
    (3, 512)
    >>> peak = np.abs(art).max(axis=1)
    >>> bool(peak[0] > 10 * peak[2])  # Fp1 >> Oz
    True
    """
    n_times = _check_count(n_times, "n_times")
    sfreq = _check_sfreq(sfreq)
    rng = _check_rng(rng)
    names = _check_names(ch_names)
    if kind not in EOG_KINDS:
        raise InvalidInputError(f"kind={kind!r}; use one of {EOG_KINDS}")
    out = np.zeros((1 if names is None else len(names), n_times))
    if kind in ("blink", "mixed"):
        out += _blink_topography(names)[:, None] * _blinks(n_times, sfreq, rng)[None, :]
    if kind in ("saccade", "mixed"):
        out += _saccade_topography(names)[:, None] * _saccades(n_times, sfreq, rng)[None, :]
    return out


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
    sfreq = _check_sfreq(sfreq)
    rng = _check_rng(rng)
    names = _check_names(ch_names)
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


def line_noise(
    n_times: int,
    sfreq: float,
    rng: np.random.Generator,
    freq: float = 50.0,
    harmonics: int = 2,
    n_channels: int = 1,
) -> np.ndarray:
    """Mains interference: ``freq`` and its multiples, slowly modulated, different on every electrode.

    The mains frequency wanders by about 0.02 Hz; each channel has its own amplitude (fundamental 2-20 uV,
    log-normal spread across channels: electrode impedances differ) and a phase close to a common one;
    the amplitude breathes by up to 10 % at 0.05-0.3 Hz.

    Parameters
    ----------
    freq : float
        Mains frequency in Hz (50 in Europe, Asia, Africa; 60 in the Americas).
    harmonics : int
        Number of multiples of ``freq`` counting the fundamental (2 gives 50 and 100 Hz); those at or
        above Nyquist are left out. Harmonic k has 10-50 % of the fundamental's amplitude divided by k - 1.
    n_channels : int
        Number of channels.

    Returns
    -------
    numpy.ndarray
        ``(n_channels, n_times)`` in volts.

    Examples
    --------
    >>> import numpy as np
    >>> art = line_noise(1000, 1000.0, np.random.default_rng(0), freq=60.0, n_channels=2)
    >>> spectrum = np.abs(np.fft.rfft(art[0]))
    >>> int(np.argmax(spectrum))  # 1 Hz per bin
    60
    """
    n_times = _check_count(n_times, "n_times")
    sfreq = _check_sfreq(sfreq)
    rng = _check_rng(rng)
    freq = _check_real(freq, "freq")
    harmonics = _check_count(harmonics, "harmonics")
    n_channels = _check_count(n_channels, "n_channels")
    if freq <= 0:
        raise InvalidInputError(f"freq={freq} must be positive (50.0 or 60.0)")
    if freq >= sfreq / 2:
        raise SampleRateError(
            f"line frequency {freq} Hz is at or above Nyquist ({sfreq / 2} Hz); data sampled at {sfreq} Hz "
            "cannot show it (the amplifier's anti-alias filter removed it)"
        )
    t = np.arange(n_times) / sfreq
    f0 = freq + rng.normal(0.0, 0.02)
    base = rng.uniform(2.0, 20.0) * _UV * rng.lognormal(0.0, 0.5, size=(n_channels, 1))
    phase0 = rng.uniform(0, 2 * np.pi)
    mod = 1.0 + rng.uniform(0.0, 0.1) * np.sin(2 * np.pi * rng.uniform(0.05, 0.3) * t + rng.uniform(0, 2 * np.pi))
    out = np.zeros((n_channels, n_times))
    for k in range(1, harmonics + 1):
        if k * f0 >= sfreq / 2:
            break
        rel = 1.0 if k == 1 else rng.uniform(0.1, 0.5) / (k - 1)
        phase = phase0 * k + rng.normal(0.0, 0.1, size=(n_channels, 1))
        out += base * rel * np.sin(2 * np.pi * k * f0 * t[None, :] + phase)
    return out * mod[None, :]


def electrode_pops(
    n_times: int,
    sfreq: float,
    rng: np.random.Generator,
    n_channels: int = 1,
    n_pops: int | None = None,
) -> np.ndarray:
    """Electrode pops: a sudden jump of 100-500 uV that recovers exponentially, on one or two channels.

    A drying or moving electrode changes its half-cell potential abruptly; the amplifier then recovers
    with a time constant drawn log-uniformly in 50 ms - 1 s. One channel is hit (two with probability 1/2
    when there are several), each with ``n_pops`` events (default one, plus a Poisson number at 0.2 Hz).

    Returns
    -------
    numpy.ndarray
        ``(n_channels, n_times)`` in volts; all but one or two rows are zero.

    Examples
    --------
    >>> import numpy as np
    >>> art = electrode_pops(1024, 256.0, np.random.default_rng(0), n_channels=19)
    >>> 1 <= int(np.count_nonzero(np.abs(art).max(axis=1))) <= 2
    True
    """
    n_times = _check_count(n_times, "n_times")
    sfreq = _check_sfreq(sfreq)
    rng = _check_rng(rng)
    n_channels = _check_count(n_channels, "n_channels")
    if n_pops is not None:
        n_pops = _check_count(n_pops, "n_pops")
    t = np.arange(n_times) / sfreq
    n_hit = 1 if n_channels == 1 or rng.random() < 0.5 else 2
    out = np.zeros((n_channels, n_times))
    for ch in rng.choice(n_channels, size=n_hit, replace=False):
        count = n_pops if n_pops is not None else 1 + rng.poisson(0.2 * n_times / sfreq)
        for _ in range(count):
            t0 = rng.uniform(0.0, 0.9) * n_times / sfreq
            tau = math.exp(rng.uniform(math.log(0.05), math.log(1.0)))
            amp = rng.choice([-1.0, 1.0]) * rng.uniform(100.0, 500.0) * _UV
            rise = rng.integers(1, 4) / sfreq  # one to three samples
            d = t - t0
            out[ch] += amp * np.clip(d / rise, 0.0, 1.0) * np.exp(-np.clip(d - rise, 0.0, None) / tau)
    return out


def drift(
    n_times: int,
    sfreq: float,
    rng: np.random.Generator,
    n_channels: int = 1,
    max_freq: float = 0.5,
) -> np.ndarray:
    """Slow baseline wander: sinusoids below ``max_freq`` (1/f amplitudes) plus a linear trend.

    Sweat, skin potentials and electrode polarisation move the baseline by tens of microvolts over
    seconds. Each channel gets a shared wander plus its own (five sinusoids each, 0.02 Hz to 0.8 ``max_freq``)
    and a trend of up to +-50 uV over the segment.

    Returns
    -------
    numpy.ndarray
        ``(n_channels, n_times)`` in volts.

    Examples
    --------
    >>> import numpy as np
    >>> art = drift(256 * 60, 256.0, np.random.default_rng(0), n_channels=2)
    >>> spectrum = np.abs(np.fft.rfft(art[0] - art[0].mean())) ** 2
    >>> freqs = np.fft.rfftfreq(art.shape[1], 1 / 256.0)
    >>> bool(spectrum[freqs < 0.5].sum() > 0.99 * spectrum.sum())
    True
    """
    n_times = _check_count(n_times, "n_times")
    sfreq = _check_sfreq(sfreq)
    rng = _check_rng(rng)
    n_channels = _check_count(n_channels, "n_channels")
    max_freq = _check_real(max_freq, "max_freq")
    if not 0.05 <= max_freq < sfreq / 2:
        raise InvalidInputError(f"max_freq={max_freq} must lie between 0.05 Hz and Nyquist ({sfreq / 2} Hz)")
    t = np.arange(n_times) / sfreq

    def wander(rows: int) -> np.ndarray:
        f = rng.uniform(0.02, 0.8 * max_freq, size=(rows, 5, 1))  # margin: no leakage past max_freq
        a = rng.uniform(0.5, 1.0, size=(rows, 5, 1)) * (0.02 / f) ** 0.5
        ph = rng.uniform(0, 2 * np.pi, size=(rows, 5, 1))
        return np.sum(a * np.sin(2 * np.pi * f * t + ph), axis=1)

    shared = wander(1)
    own = wander(n_channels)
    level = rng.uniform(10.0, 40.0) * _UV
    trend = rng.uniform(-50.0, 50.0, size=(n_channels, 1)) * _UV * (t / max(t[-1], 1.0 / sfreq) - 0.5)
    return level * (shared + own) / 2.0 + trend


# ----------------------------------------------------------------------------- protocol


def power_snr_db(snr_db: Any) -> Any:
    """The power SNR (``10 log10(P_signal / P_noise)``) equivalent to an EEGdenoiseNet SNR.

    EEGdenoiseNet defines ``SNR = 10 log10(RMS(x) / RMS(lambda n))``, a ratio of amplitudes under the
    factor 10, so its -7..2 dB are -14..4 dB in the usual power (or ``20 log10`` amplitude) convention.

    Examples
    --------
    >>> power_snr_db(-7.0)
    -14.0
    """
    if isinstance(snr_db, (bool, str, bytes)):
        raise InvalidInputError(f"snr_db={snr_db!r} must be a number or an array of numbers")
    out = 2.0 * np.asarray(snr_db, dtype=np.float64)
    return float(out) if out.ndim == 0 else out


def _artifact(
    kind: str,
    n_channels: int,
    n_times: int,
    sfreq: float,
    rng: np.random.Generator,
    names: list[str] | None,
    eog_kind: str,
    line_freq: float,
) -> np.ndarray:
    if kind == "eog":
        return eog(n_times, sfreq, rng, names, kind=eog_kind)
    if kind == "emg":
        return emg(n_times, sfreq, rng, names, n_channels=None if names else n_channels)
    if kind == "line":
        return line_noise(n_times, sfreq, rng, freq=line_freq, n_channels=n_channels)
    if kind == "pop":
        return electrode_pops(n_times, sfreq, rng, n_channels=n_channels)
    if kind == "drift":
        return drift(n_times, sfreq, rng, n_channels=n_channels)
    # "mix": ocular plus muscle, sometimes mains too, each at unit RMS with a random weight
    parts = [eog(n_times, sfreq, rng, names, kind=eog_kind),
             emg(n_times, sfreq, rng, names, n_channels=None if names else n_channels)]
    if line_freq < sfreq / 2 and rng.random() < 0.5:
        parts.append(line_noise(n_times, sfreq, rng, freq=line_freq, n_channels=n_channels))
    total = np.zeros((n_channels, n_times))
    for part in parts:
        total = total + rng.uniform(0.3, 1.0) * part / rms(part)
    return total


def contaminate(
    clean: Any,
    sfreq: float,
    rng: np.random.Generator,
    artifact: str,
    snr_db: float,
    ch_names: Sequence[str] | None = None,
    *,
    eog_kind: str = "mixed",
    line_freq: float = 50.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Add an artifact at a given SNR with the EEGdenoiseNet protocol (Zhang et al. 2021).

    ``y = x + lambda * n`` with ``lambda = RMS(x) / (RMS(n) * 10**(snr_db / 10))``, RMS taken over the
    whole array (all channels and samples), so that ``10 * log10(RMS(x) / RMS(lambda * n)) == snr_db``.
    EEGdenoiseNet uses -7..2 dB; see :func:`power_snr_db` for the usual power convention.

    Parameters
    ----------
    clean : array_like
        Clean EEG ``(n_channels, n_times)`` (or ``(n_times,)``) in volts; it is not modified.
    sfreq : float
        Sampling rate in Hz.
    rng : numpy.random.Generator
        Source of randomness (an integer seed is accepted too).
    artifact : {'eog', 'emg', 'line', 'pop', 'drift', 'mix'}
        ``'mix'`` adds ocular and muscle artifacts, and mains with probability 1/2, with random weights.
    snr_db : float
        Target SNR in dB (EEGdenoiseNet definition above).
    ch_names : sequence of str, optional
        Channel names for realistic topographies of ``'eog'``, ``'emg'`` and ``'mix'``; without them the
        ocular source is the same on every channel and muscle bursts share one envelope.
    eog_kind : {'mixed', 'blink', 'saccade'}
        Ocular artifact used by ``'eog'`` and ``'mix'``.
    line_freq : float
        Mains frequency for ``'line'`` and ``'mix'``.

    Returns
    -------
    noisy, noise : numpy.ndarray
        float64 arrays of the shape of ``clean``; ``noisy = clean + noise`` and ``noise = lambda * n``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> clean = rng.normal(0, 10e-6, (3, 512))
    >>> noisy, noise = contaminate(clean, 256.0, rng, "eog", -3.0, ["Fp1", "Cz", "O1"])
    >>> round(float(10 * np.log10(rms(clean) / rms(noisy - clean))), 10)
    -3.0
    """
    if isinstance(clean, np.ndarray) and clean.dtype.kind not in "biuf":
        raise InvalidInputError(f"clean has dtype {clean.dtype}; pass real-valued EEG in volts")
    try:
        x = np.array(clean, dtype=np.float64)  # a copy: the input is never touched
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"clean must be a numeric array (n_channels, n_times): {exc}") from None
    if x.ndim not in (1, 2):
        raise ShapeError(
            f"clean has shape {x.shape}; pass one recording (n_channels, n_times) or one segment (n_times,) "
            "and loop over epochs so each gets its own artifact"
        )
    if x.size == 0 or x.shape[-1] < 2:
        raise ShapeError(f"clean has shape {x.shape}; it needs at least two samples per channel")
    if not np.all(np.isfinite(x)):
        raise NonFiniteError("clean holds NaN or infinite values; interpolate or drop those samples first")
    sfreq = _check_sfreq(sfreq)
    rng = _check_rng(rng)
    if artifact not in ARTIFACTS:
        raise InvalidInputError(f"artifact={artifact!r}; use one of {ARTIFACTS}")
    snr = _check_real(snr_db, "snr_db")
    if eog_kind not in EOG_KINDS:
        raise InvalidInputError(f"eog_kind={eog_kind!r}; use one of {EOG_KINDS}")
    line_freq = _check_real(line_freq, "line_freq")
    x2 = x if x.ndim == 2 else x[None, :]
    n_channels, n_times = x2.shape
    names = _check_names(ch_names, n_channels)
    signal_rms = rms(x2)
    if signal_rms == 0:
        raise InvalidInputError("clean is all zeros, so an SNR cannot be set; pass real EEG")

    n = np.array(np.broadcast_to(_artifact(artifact, n_channels, n_times, sfreq, rng, names, eog_kind, line_freq),
                                 x2.shape), dtype=np.float64)
    noise_rms = rms(n)
    if noise_rms == 0:  # pragma: no cover - every generator draws at least one event
        raise InvalidInputError(f"the {artifact!r} generator returned silence; use a longer segment")
    lam = signal_rms / (noise_rms * 10.0 ** (snr / 10.0))
    noise = (lam * n).reshape(x.shape)
    return x + noise, noise
