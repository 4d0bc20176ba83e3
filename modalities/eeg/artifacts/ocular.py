"""Ocular artifacts: blinks and horizontal saccades, spread over the scalp by two eye dipoles.

Each eye is a current dipole in a homogeneous medium, placed 19 mm behind and 30 mm below the
template's nasion and 32 mm to either side (template: :mod:`wavediff.modalities.eeg.montage`); a
regularisation length of 25 mm stands for the eyeball and orbit, so no electrode sees a singularity.
A blink is a vertical (upward) dipole: Fp1/Fp2 = 1, Fz ~ 0.35, Cz ~ 0.2, Pz ~ 0.1, Oz ~ 0.08. A horizontal
saccade is a left-right dipole: F8 = +1 and F7 = -1 for a rightward gaze, largest at F9/F10 and AF9/AF10
(next to the outer canthi), zero on the midline.

Fallback: without ``ch_names`` :func:`eog` returns a single source, shape ``(1, n_times)``, at its
amplitude at the reference site (Fp1/Fp2 for blinks, F8 for saccades); it broadcasts against any
``(n_channels, n_times)`` array, which is EEGdenoiseNet's single-channel convention. A channel whose
name is not in the template gets the same full-amplitude source (with a warning); rename channels to
10-05 names (``raw.rename_channels``) for a real topography.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from wavediff._checks import check_sfreq
from wavediff.errors import InvalidInputError

from ..montage import check_ch_names, template_positions
from .common import _UV, _check_count, _check_rng, _event_times, _known

__all__ = ["EOG_KINDS", "eog"]

EOG_KINDS = ("blink", "saccade", "mixed")

# eye centres relative to the template's nasion (m, head coordinates: x right, y nose, z up)
_EYE_OFFSET = np.array([0.032, -0.019, -0.030])
_EYE_REG = 0.025  # dipole regularisation length (m): eyeball radius plus orbit


def _eyes() -> np.ndarray:
    _, nasion = template_positions()
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
    tpl, _ = template_positions()
    up, right = np.array([0.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0])
    blink = float(np.mean(_eye_potential(np.stack([tpl["Fp1"], tpl["Fp2"]]), up)))
    sacc = float(np.mean(np.abs(_eye_potential(np.stack([tpl["F7"], tpl["F8"]]), right))))
    return blink, sacc


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
    sfreq = check_sfreq(sfreq)
    rng = _check_rng(rng)
    names = check_ch_names(ch_names)
    if kind not in EOG_KINDS:
        raise InvalidInputError(f"kind={kind!r}; use one of {EOG_KINDS}")
    out = np.zeros((1 if names is None else len(names), n_times))
    if kind in ("blink", "mixed"):
        out += _blink_topography(names)[:, None] * _blinks(n_times, sfreq, rng)[None, :]
    if kind in ("saccade", "mixed"):
        out += _saccade_topography(names)[:, None] * _saccades(n_times, sfreq, rng)[None, :]
    return out

