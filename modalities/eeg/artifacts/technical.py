"""Technical artifacts: mains interference, electrode pops and slow baseline drift.

These come from the recording chain rather than the body, so they have no scalp topography: each
channel gets its own draw (:func:`line_noise`, :func:`drift`) or only one or two channels are hit
(:func:`electrode_pops`).
"""

from __future__ import annotations

import math

import numpy as np

from wavediff._checks import check_sfreq
from wavediff.errors import InvalidInputError, SampleRateError

from .common import _UV, _check_count, _check_real, _check_rng

__all__ = ["line_noise", "electrode_pops", "drift"]


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
    sfreq = check_sfreq(sfreq)
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
    sfreq = check_sfreq(sfreq)
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
    sfreq = check_sfreq(sfreq)
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
