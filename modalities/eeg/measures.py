"""What EEG scientists measure on a recording, to check that cleaning keeps it: band power, ERPs, blinks.

Each function takes arrays in volts (``(n_channels, n_times)``, or one channel ``(n_times,)``) and a
sampling rate, never modifies its input, and raises a :mod:`wavediff.errors` exception on bad input.

* :func:`band_power` - Welch band power (the occipital alpha of resting EEG), optionally only on
  stretches a mask keeps (blink-free ones); :func:`relative_change` turns two values into a % change.
* :func:`average_epochs` and :func:`erp_peak` - the baseline-corrected event-locked average and the
  latency and amplitude of its peak (an ERP component such as the P300).
* :func:`detect_blinks`, :func:`blink_free_mask`, :func:`blink_free_times` and :func:`blink_amplitudes` -
  blink peaks on the frontal channels, the stretches around them to leave out, and the blink amplitude
  per blink and on the blink-locked average.
* :func:`channel_indices` - the rows of named channels, with an error that names what is missing.

Blink detection is a robust threshold (5 robust standard deviations, 1.4826 MAD) on the mean of Fp1
and Fp2 band-passed 1-10 Hz, in the polarity of its skew. ``mne.preprocessing.find_eog_events`` sets
its threshold at a quarter of the filtered signal's peak-to-peak range instead, so one large movement
artifact hides the ordinary blinks and a recording without blinks still yields events; the MAD
threshold depends on the background EEG only.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import mne
import numpy as np
from scipy import signal, stats

from wavediff._checks import check_sfreq
from wavediff.errors import InvalidInputError, NonFiniteError, ShapeError

from .channels import name_index

__all__ = [
    "ALPHA_BAND",
    "OCCIPITAL",
    "FRONTAL",
    "channel_indices",
    "band_power",
    "relative_change",
    "average_epochs",
    "erp_peak",
    "detect_blinks",
    "blink_free_mask",
    "blink_free_times",
    "blink_amplitudes",
]

ALPHA_BAND = (8.0, 12.0)  # Hz, the resting posterior rhythm
OCCIPITAL = ("O1", "Oz", "O2")
FRONTAL = ("Fp1", "Fp2")  # closest to the eyes: where blinks are largest


def _as_data(data: Any, name: str = "data") -> np.ndarray:
    """``data`` as a float64 ``(n_channels, n_times)`` view or copy (never written to), or an error."""
    try:
        x = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name} must be a numeric array (n_channels, n_times) in volts: {exc}") from None
    x = x[None] if x.ndim == 1 else x
    if x.ndim != 2 or x.size == 0:
        raise ShapeError(f"{name} has shape {np.shape(data)}; pass (n_channels, n_times) or one channel (n_times,)")
    if not np.isfinite(x).all():
        raise NonFiniteError(f"{name} holds NaN or infinite values; interpolate or drop those samples first")
    return x


def _as_samples(events: Any, name: str) -> np.ndarray:
    """Sample indices as int64 (a 1-D sequence of integers), or an error."""
    arr = np.asarray(events)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise InvalidInputError(f"{name} must be a 1-D sequence of sample indices (integers); got {arr.dtype} {arr.shape}")
    return arr.astype(np.int64)


def _window(lo: Any, hi: Any, name: str) -> tuple[float, float]:
    for v in (lo, hi):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not np.isfinite(v):
            raise InvalidInputError(f"{name}=({lo!r}, {hi!r}) must be two finite numbers")
    if lo >= hi:
        raise InvalidInputError(f"{name}=({lo!r}, {hi!r}): the first value must be below the second")
    return float(lo), float(hi)


def channel_indices(ch_names: Sequence[str], wanted: Sequence[str], what: str, require_all: bool = False) -> list[int]:
    """Indices of the ``wanted`` channels in ``ch_names`` (case-insensitive), in the order of ``wanted``.

    Parameters
    ----------
    ch_names : sequence of str
        The recording's channel names.
    wanted : sequence of str
        The channels to find.
    what : str
        What they are needed for, quoted in the error.
    require_all : bool
        Refuse when any is missing (default: refuse only when none is found).

    Raises
    ------
    InvalidInputError
        Naming the missing channels and the recording's own names.

    Examples
    --------
    >>> channel_indices(["Fp1", "Fp2", "O1", "O2"], OCCIPITAL, "alpha power")
    [2, 3]
    >>> channel_indices(["Fp1", "O1"], FRONTAL, "blink detection", require_all=True)
    Traceback (most recent call last):
    ...
    wavediff.errors.InvalidInputError: the recording has no Fp2 channel, needed for blink detection; ...
    """
    lower = name_index([str(c) for c in ch_names])  # labels such as 'Fp1.' or 'EEG FP1-REF' match too
    found = [lower[w.lower()] for w in wanted if w.lower() in lower]
    missing = [w for w in wanted if w.lower() not in lower]
    if (require_all and missing) or not found:
        shown = ", ".join(list(ch_names)[:12]) + (" ..." if len(ch_names) > 12 else "")
        raise InvalidInputError(
            f"the recording has no {'/'.join(missing)} channel{'s' if len(missing) > 1 else ''}, needed for "
            f"{what}; it has {shown}. Rename channels to 10-20 names "
            "(raw.rename_channels)"
        )
    return found


def band_power(
    data: Any,
    sfreq: float,
    picks: Sequence[int] | None = None,
    band: tuple[float, float] = ALPHA_BAND,
    keep: Any = None,
    segment: float = 2.0,
) -> float:
    """Band power (V^2) by Welch's method, averaged over the channels ``picks``.

    Parameters
    ----------
    data : array_like
        ``(n_channels, n_times)`` or ``(n_times,)`` in volts.
    sfreq : float
        Sampling rate in Hz.
    picks : sequence of int, optional
        Rows to average (default: all).
    band : (float, float)
        Band in Hz; the PSD is integrated over it, both edges included.
    keep : array_like of bool, optional
        One value per sample: only Welch segments lying wholly inside it are used, so masked samples
        (blinks, :func:`blink_free_mask`) never count.
    segment : float
        Hann segment length in seconds, half overlap (each segment's mean removed).

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(20 * 256) / 256.0
    >>> x = 20e-6 * np.sin(2 * np.pi * 10.0 * t)  # 10 Hz, 20 uV amplitude: a**2 / 2 = 2e-10 V^2
    >>> round(band_power(x, 256.0) / 2e-10, 2)
    1.0
    >>> band_power(x, 256.0, band=(20.0, 30.0)) < 1e-4 * band_power(x, 256.0)
    True
    """
    x = _as_data(data)
    sfreq = check_sfreq(sfreq)
    lo, hi = _window(*band, name="band")
    if lo < 0 or hi > sfreq / 2:
        raise InvalidInputError(f"band={band} Hz must lie within 0..{sfreq / 2:g} Hz (Nyquist)")
    if picks is not None:
        rows = list(picks)
        if not rows or any(isinstance(p, bool) or not isinstance(p, numbers.Integral) or not -len(x) <= p < len(x) for p in rows):
            raise InvalidInputError(f"picks={picks!r} must be row indices of the {len(x)} channels")
        x = x[rows]
    if isinstance(segment, bool) or not isinstance(segment, numbers.Real) or not segment > 0:
        raise InvalidInputError(f"segment={segment!r} must be a positive number of seconds")
    nper = int(round(segment * sfreq))
    if nper < 2 or x.shape[-1] < nper:
        raise InvalidInputError(f"{x.shape[-1]} samples are fewer than one {segment:g} s Welch segment; use a longer recording")
    starts = np.arange(0, x.shape[-1] - nper + 1, max(1, nper // 2))
    if keep is not None:
        mask = np.asarray(keep)
        if mask.shape != (x.shape[-1],) or mask.dtype != bool:
            raise ShapeError(f"keep must be a boolean mask of {x.shape[-1]} samples; got {mask.dtype} {mask.shape}")
        masked_before = np.concatenate([[0], np.cumsum(~mask)])  # masked samples before each index
        starts = starts[masked_before[starts + nper] - masked_before[starts] == 0]
        if starts.size == 0:
            raise InvalidInputError(f"no artifact-free stretch of {segment:g} s is left to measure band power on")
    segs = np.stack([x[:, s : s + nper] for s in starts])  # (n_seg, n_ch, nper)
    freqs, psd = signal.welch(segs, sfreq, window="hann", nperseg=nper, noverlap=0, detrend="constant", axis=-1)
    sel = (freqs >= lo) & (freqs <= hi)
    power = psd.mean(axis=0)[:, sel].sum(axis=-1) * (freqs[1] - freqs[0])
    return float(power.mean())


def relative_change(value: Any, reference: Any) -> float | np.ndarray:
    """``100 * (value - reference) / reference``: the change in % (0 for the reference itself).

    Works elementwise on arrays (a float for scalars).

    Examples
    --------
    >>> relative_change(110.0, 100.0)
    10.0
    >>> relative_change(np.array([0.0, 50.0]), np.array([100.0, 100.0]))
    array([-100.,  -50.])
    """
    v, r = np.asarray(value, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    if not (np.isfinite(v).all() and np.isfinite(r).all()):
        raise NonFiniteError("value and reference must be finite")
    if np.any(r == 0):
        raise InvalidInputError("the reference is 0: a relative change is undefined; compare differences instead")
    out = 100.0 * (v - r) / r
    return float(out) if out.ndim == 0 else out


def average_epochs(
    data: Any, events: Sequence[int], sfreq: float, tmin: float = -0.2, tmax: float = 0.8
) -> tuple[np.ndarray, np.ndarray, int]:
    """Baseline-corrected average of the epochs ``tmin..tmax`` s around ``events`` (sample indices).

    The baseline is the mean over ``tmin..0`` s (no correction when ``tmin >= 0``). Events whose
    epoch does not fit in the recording are left out.

    Returns
    -------
    average : numpy.ndarray
        ``(n_channels, n_lags)``.
    times : numpy.ndarray
        ``(n_lags,)`` seconds relative to the event.
    n_used : int
        Events averaged.

    Examples
    --------
    >>> x = np.zeros((1, 1000))
    >>> x[0, [230, 530]] = 1.0  # a unit spike 0.3 s after each event, at 100 Hz
    >>> avg, times, n = average_epochs(x, [200, 500, 950], 100.0, tmin=-0.2, tmax=0.8)  # 950: epoch cut off
    >>> n, float(times[np.argmax(avg[0])])
    (2, 0.3)
    """
    x = _as_data(data)
    sfreq = check_sfreq(sfreq)
    tmin, tmax = _window(tmin, tmax, name="(tmin, tmax)")
    lags = np.arange(int(round(tmin * sfreq)), int(round(tmax * sfreq)) + 1)
    ev = _as_samples(events, "events")
    ev = ev[(ev + lags[0] >= 0) & (ev + lags[-1] < x.shape[-1])]
    if ev.size == 0:
        raise InvalidInputError("no event has a complete epoch inside the recording; check the events and tmin/tmax")
    epochs = x[:, ev[:, None] + lags[None, :]]  # (n_ch, n_ev, n_lags)
    if lags[0] < 0:
        epochs = epochs - epochs[:, :, lags <= 0].mean(axis=-1, keepdims=True)
    return epochs.mean(axis=1), lags / sfreq, int(ev.size)


def erp_peak(wave: Any, times: Any, window: tuple[float, float], sign: float = 1.0) -> tuple[float, float]:
    """Latency (s) and amplitude of the largest ``sign``-ed value of ``wave`` within ``window`` (s).

    The latency is refined by a parabola through the peak sample and its neighbours (at most half a
    sample away); the amplitude is that of the peak sample. ``sign=-1`` finds a negative component.

    Examples
    --------
    >>> times = np.arange(-20, 81) / 100.0
    >>> wave = 5e-6 * np.exp(-0.5 * ((times - 0.3) / 0.05) ** 2)
    >>> latency, amplitude = erp_peak(wave, times, (0.15, 0.45))
    >>> round(latency, 3), round(amplitude * 1e6, 2)
    (0.3, 5.0)
    """
    w, t = np.asarray(wave, dtype=np.float64), np.asarray(times, dtype=np.float64)
    if w.ndim != 1 or w.shape != t.shape or w.size < 2:
        raise ShapeError(f"wave {w.shape} and times {t.shape} must be one channel's average and its times, of the same length")
    if not (np.isfinite(w).all() and np.isfinite(t).all()):
        raise NonFiniteError("wave and times must be finite")
    if sign not in (1.0, -1.0):
        raise InvalidInputError(f"sign={sign!r}; use 1 for a positive component, -1 for a negative one")
    lo, hi = _window(*window, name="window")
    sel = np.flatnonzero((t >= lo) & (t <= hi))
    if sel.size == 0:
        raise InvalidInputError(f"the peak window {window} s lies outside the epoch {t[0]:.3f}..{t[-1]:.3f} s")
    i = sel[np.argmax(sign * w[sel])]
    latency = float(t[i])
    if 0 < i < w.size - 1:
        a, b, c = w[i - 1], w[i], w[i + 1]
        denom = a - 2 * b + c
        if denom != 0:
            latency += float(np.clip(0.5 * (a - c) / denom, -0.5, 0.5)) * float(t[1] - t[0])
    return latency, float(w[i])


def detect_blinks(
    frontal: Any,
    sfreq: float,
    *,
    threshold: float = 5.0,
    min_gap: float = 0.4,
    band: tuple[float, float] = (1.0, 10.0),
) -> np.ndarray:
    """Sample indices of blink peaks in frontal EEG ``(n_channels, n_times)`` (e.g. Fp1 and Fp2), volts.

    The channels are averaged (blinks are symmetric; lateral saccades partly cancel), band-passed
    ``band`` Hz (zero-phase 4th-order Butterworth, as ``find_eog_events`` filters) and turned into
    robust z-scores (median, 1.4826 MAD); blink peaks are the local maxima above ``threshold`` in the
    polarity of the signal's skew (blinks are rare, large and one-sided), at least ``min_gap`` s apart.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(20 * 128) / 128.0
    >>> fp = rng.normal(0, 10e-6, (2, t.size))
    >>> fp = fp + sum(150e-6 * np.exp(-0.5 * ((t - t0) / 0.07) ** 2) for t0 in (3.0, 9.0, 15.0))
    >>> np.round(detect_blinks(fp, 128.0) / 128.0, 1)
    array([ 3.,  9., 15.])
    """
    x = _as_data(frontal, "frontal").mean(axis=0)
    sfreq = check_sfreq(sfreq)
    lo, hi = _window(*band, name="band")
    if lo <= 0 or hi >= sfreq / 2:
        raise InvalidInputError(f"band={band} Hz must lie strictly within 0..{sfreq / 2:g} Hz (Nyquist)")
    if x.size < int(2 * sfreq):
        raise InvalidInputError(f"frontal data of shape {np.shape(frontal)} is too short to find blinks; pass >= 2 s")
    iir = {"order": 4, "ftype": "butter", "output": "sos"}
    f = mne.filter.filter_data(x, sfreq, lo, hi, method="iir", iir_params=iir, verbose=False)
    sign = 1.0 if stats.skew(f) >= 0 else -1.0
    centred = sign * (f - np.median(f))
    spread = 1.4826 * np.median(np.abs(centred))
    if spread == 0:
        return np.zeros(0, dtype=np.int64)
    peaks, _ = signal.find_peaks(centred / spread, height=threshold, distance=max(1, int(round(min_gap * sfreq))))
    return peaks.astype(np.int64)


def blink_free_mask(n_times: int, blinks: Sequence[int], sfreq: float, margin: float = 0.6) -> np.ndarray:
    """Boolean mask of ``n_times`` samples, False within ``margin`` s of every blink peak.

    A blink lasts 200-400 ms; the default margin also leaves out the slow reopening.

    Examples
    --------
    >>> keep = blink_free_mask(1000, [300, 700], 100.0, margin=0.5)
    >>> int(keep.sum()), bool(keep[250]), bool(keep[249])
    (798, False, True)
    """
    if isinstance(n_times, bool) or not isinstance(n_times, numbers.Integral) or n_times < 1:
        raise InvalidInputError(f"n_times={n_times!r} must be a positive number of samples")
    sfreq = check_sfreq(sfreq)
    if isinstance(margin, bool) or not isinstance(margin, numbers.Real) or not margin >= 0:
        raise InvalidInputError(f"margin={margin!r} must be a non-negative number of seconds")
    keep = np.ones(int(n_times), dtype=bool)
    m = int(round(margin * sfreq))
    for b in _as_samples(blinks, "blinks"):
        keep[max(0, int(b) - m) : max(0, int(b) + m + 1)] = False
    return keep


def blink_free_times(keep: Any, sfreq: float, *, before: float = 0.5, after: float = 0.3, step: float = 0.25) -> np.ndarray:
    """Sample indices, one per ``step`` s, whose epoch ``-before..+after`` s lies wholly where ``keep`` is True.

    Used as fake blink peaks: :func:`blink_amplitudes` at these times measures the background EEG
    alone, the floor a single-blink measure never goes below.

    Examples
    --------
    >>> keep = np.ones(1000, dtype=bool)
    >>> keep[400:600] = False  # a blink's stretch, at 100 Hz
    >>> times = blink_free_times(keep, 100.0, step=1.0)
    >>> times.tolist()
    [50, 150, 250, 350, 650, 750, 850, 950]
    """
    mask = np.asarray(keep)
    if mask.ndim != 1 or mask.dtype != bool or mask.size == 0:
        raise ShapeError(f"keep must be a 1-D boolean mask (blink_free_mask); got {mask.dtype} {mask.shape}")
    sfreq = check_sfreq(sfreq)
    for name, v in (("before", before), ("after", after), ("step", step)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not v >= 0 or (name == "step" and v == 0):
            raise InvalidInputError(f"{name}={v!r} must be a {'positive' if name == 'step' else 'non-negative'} number of seconds")
    lead, lag = int(round(before * sfreq)), int(round(after * sfreq))
    masked_before = np.concatenate([[0], np.cumsum(~mask)])
    times = np.arange(lead, mask.size - lag - 1, max(1, int(round(step * sfreq))))
    return times[masked_before[times + lag + 1] - masked_before[times - lead] == 0].astype(np.int64)


def blink_amplitudes(
    data: Any,
    blinks: Sequence[int],
    sfreq: float,
    half: float = 0.3,
    baseline: tuple[float, float] = (-0.5, -0.3),
) -> tuple[np.ndarray, np.ndarray]:
    """Blink peak amplitude per channel: median over blinks, and of the blink-locked average.

    Each blink epoch is corrected by its mean over ``baseline`` (s before the blink peak); its
    amplitude is the largest absolute value within ``+-half`` s of the peak. The average cancels the
    background EEG, which alone keeps a per-blink maximum away from zero (:func:`blink_free_times`).

    Returns
    -------
    per_blink : numpy.ndarray
        ``(n_channels,)``: median over blinks of the per-blink amplitudes, volts.
    averaged : numpy.ndarray
        ``(n_channels,)``: amplitude of the average over blinks, volts.

    Examples
    --------
    >>> t = np.arange(10 * 100) / 100.0
    >>> bells = [a * np.exp(-0.5 * ((t - t0) / 0.05) ** 2) for a, t0 in ((100e-6, 2.0), (200e-6, 5.0), (150e-6, 8.0))]
    >>> per_blink, averaged = blink_amplitudes(np.sum(bells, axis=0), [200, 500, 800], 100.0)
    >>> np.round(per_blink * 1e6, 1), np.round(averaged * 1e6, 1)
    (array([150.]), array([150.]))
    """
    x = _as_data(data)
    sfreq = check_sfreq(sfreq)
    b0, b1 = _window(*baseline, name="baseline")
    if isinstance(half, bool) or not isinstance(half, numbers.Real) or not half > 0:
        raise InvalidInputError(f"half={half!r} must be a positive number of seconds")
    if b1 > 0:
        raise InvalidInputError(f"baseline={baseline} s must lie before the blink peak (negative times)")
    lags = np.arange(int(round(b0 * sfreq)), int(round(half * sfreq)) + 1)
    b = _as_samples(blinks, "blinks")
    b = b[(b + lags[0] >= 0) & (b + lags[-1] < x.shape[-1])]
    if b.size == 0:
        raise InvalidInputError("no blink has a complete epoch inside the recording")
    epochs = x[:, b[:, None] + lags[None, :]]  # (n_ch, n_blinks, n_lags)
    t = lags / sfreq
    epochs = epochs - epochs[:, :, (t >= b0) & (t <= b1)].mean(axis=-1, keepdims=True)
    win = np.abs(t) <= half
    per_blink = np.abs(epochs[:, :, win]).max(axis=-1)
    averaged = np.abs(epochs.mean(axis=1)[:, win]).max(axis=-1)
    return np.median(per_blink, axis=1), averaged
