"""The EEGdenoiseNet contamination protocol: an artifact added to clean EEG at a given SNR.

:func:`contaminate` draws one artifact of a named type (``'eog'``, ``'emg'``, ``'line'``, ``'pop'``,
``'drift'``, or ``'mix'``: ocular plus muscle, sometimes mains, with random weights) and scales it as
EEGdenoiseNet does (Zhang et al. 2021); :func:`power_snr_db` converts that SNR to the usual power
convention and :func:`rms` is the RMS the protocol uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from wavediff._checks import check_sfreq
from wavediff.errors import InvalidInputError, NonFiniteError, ShapeError

from ..montage import check_ch_names
from .common import _check_real, _check_rng
from .muscle import emg
from .ocular import EOG_KINDS, eog
from .technical import drift, electrode_pops, line_noise
from .variety import wide_drift, wide_emg, wide_eog

__all__ = ["ARTIFACTS", "contaminate", "power_snr_db", "rms"]

ARTIFACTS = ("eog", "emg", "line", "pop", "drift", "mix")


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
    wide: bool = False,
) -> np.ndarray:
    if wide and kind in ("eog", "emg", "drift", "mix") and rng.random() < 0.5:  # the wide families (.variety), half the draws
        return _wide(kind, n_channels, n_times, sfreq, rng, names)
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


def _wide(kind: str, n_channels: int, n_times: int, sfreq: float, rng: np.random.Generator, names: list[str] | None) -> np.ndarray:
    if kind == "eog":
        return wide_eog(n_times, sfreq, rng, names)
    if kind == "emg":
        return wide_emg(n_times, sfreq, rng, names, n_channels=None if names else n_channels)
    if kind == "drift":
        return wide_drift(n_times, sfreq, rng, n_channels=n_channels)
    parts = [wide_eog(n_times, sfreq, rng, names), wide_emg(n_times, sfreq, rng, names, n_channels=None if names else n_channels)]
    if rng.random() < 0.5:
        parts.append(wide_drift(n_times, sfreq, rng, n_channels=n_channels))
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
    variety: str = "standard",
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
    variety : {'standard', 'wide'}
        ``'wide'``: in half the draws of ``'eog'``, ``'emg'``, ``'drift'`` and ``'mix'``, the wider
        families of :mod:`.variety` (other blink shapes, spectra, burst envelopes, per-electrode
        drifts) instead of the room's own; what training uses so as to learn the artifact, not one
        generator.

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
    sfreq = check_sfreq(sfreq)
    rng = _check_rng(rng)
    if artifact not in ARTIFACTS:
        raise InvalidInputError(f"artifact={artifact!r}; use one of {ARTIFACTS}")
    snr = _check_real(snr_db, "snr_db")
    if eog_kind not in EOG_KINDS:
        raise InvalidInputError(f"eog_kind={eog_kind!r}; use one of {EOG_KINDS}")
    line_freq = _check_real(line_freq, "line_freq")
    if variety not in ("standard", "wide"):
        raise InvalidInputError(f"variety={variety!r}; use 'standard' or 'wide'")
    x2 = x if x.ndim == 2 else x[None, :]
    n_channels, n_times = x2.shape
    names = check_ch_names(ch_names, n_channels)
    signal_rms = rms(x2)
    if signal_rms == 0:
        raise InvalidInputError("clean is all zeros, so an SNR cannot be set; pass real EEG")

    n = np.array(np.broadcast_to(_artifact(artifact, n_channels, n_times, sfreq, rng, names, eog_kind, line_freq, variety == "wide"),
                                 x2.shape), dtype=np.float64)
    noise_rms = rms(n)
    if noise_rms == 0:  # pragma: no cover - every generator draws at least one event
        raise InvalidInputError(f"the {artifact!r} generator returned silence; use a longer segment")
    lam = signal_rms / (noise_rms * 10.0 ** (snr / 10.0))
    noise = (lam * n).reshape(x.shape)
    return x + noise, noise
