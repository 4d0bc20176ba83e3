"""Filtering baselines: MNE's band-pass and notch, and per-channel wavelet shrinkage."""

from __future__ import annotations

from typing import Any

import mne
import numpy as np

from wavediff._checks import check_sfreq
from wavediff.classical import denoise_wavelet
from wavediff.errors import InvalidInputError, SampleRateError

from .common import _check_data, _check_freq

__all__ = ["bandpass_notch", "wavelet_denoise"]


def bandpass_notch(
    data: Any,
    sfreq: float,
    l_freq: float | None = 1.0,
    h_freq: float | None = 40.0,
    line_freq: float | None = 50.0,
    method: str = "fir",
) -> np.ndarray:
    """Notch the mains frequency and its harmonics, then band-pass (MNE's zero-phase filters).

    Parameters
    ----------
    data : array_like
        ``(n_channels, n_times)`` or ``(n_times,)`` in volts.
    sfreq : float
        Sampling rate in Hz.
    l_freq, h_freq : float or None
        Pass band edges in Hz; None skips the high-pass (``l_freq``) or the low-pass (``h_freq``).
        ``h_freq`` must lie below Nyquist.
    line_freq : float or None
        Mains frequency (50 or 60 Hz); every multiple below Nyquist (less 1 Hz) is notched. Skipped when
        None or when the mains frequency is at or above Nyquist (nothing to remove).
    method : {'fir', 'iir'}
        MNE filter kind: a windowed-sinc FIR (MNE's default) or a 4th-order Butterworth applied forward
        and backward. A 1 Hz FIR high-pass is about 3.3 s long; MNE warns and pads shorter segments, for
        which ``'iir'`` is the usual choice.

    Returns
    -------
    numpy.ndarray
        Filtered float64 data of the input's shape.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(10 * 256) / 256.0
    >>> x = 20e-6 * np.sin(2 * np.pi * 10 * t) + 20e-6 * np.sin(2 * np.pi * 50 * t)
    >>> y = bandpass_notch(x, 256.0)
    >>> bool(np.std(y[256:-256] - 20e-6 * np.sin(2 * np.pi * 10 * t[256:-256])) < 1e-6)
    True
    """
    arr = _check_data(data)
    sfreq = check_sfreq(sfreq)
    l_freq = _check_freq(l_freq, "l_freq")
    h_freq = _check_freq(h_freq, "h_freq")
    line_freq = _check_freq(line_freq, "line_freq")
    if method not in ("fir", "iir"):
        raise InvalidInputError(f"method={method!r}; use 'fir' or 'iir'")
    nyquist = sfreq / 2
    if h_freq is not None and h_freq >= nyquist:
        raise SampleRateError(f"h_freq={h_freq} Hz is at or above Nyquist ({nyquist} Hz); pick h_freq < {nyquist}")
    if l_freq is not None and l_freq >= nyquist:
        raise SampleRateError(f"l_freq={l_freq} Hz is at or above Nyquist ({nyquist} Hz)")
    if l_freq is not None and h_freq is not None and l_freq >= h_freq:
        raise InvalidInputError(f"l_freq={l_freq} must be below h_freq={h_freq}")
    iir = {"order": 4, "ftype": "butter", "output": "sos"} if method == "iir" else None
    out = arr
    if line_freq is not None and line_freq < nyquist - 1.0:
        freqs = np.arange(line_freq, nyquist - 1.0, line_freq)
        if method == "fir":
            out = mne.filter.notch_filter(out, sfreq, freqs, method="fir", verbose=False)
        else:  # MNE's IIR notch takes one stop band at a time
            for f in freqs:
                out = mne.filter.notch_filter(out, sfreq, f, method="iir", iir_params=iir, verbose=False)
    if l_freq is not None or h_freq is not None:
        out = mne.filter.filter_data(out, sfreq, l_freq, h_freq, method=method, iir_params=iir, verbose=False)
    return np.asarray(out, dtype=np.float64).reshape(arr.shape)


def wavelet_denoise(
    data: Any,
    sfreq: float,
    wavelet: str = "sym4",
    method: str = "SureShrink",
    mode: str = "soft",
    wavelet_levels: int | None = None,
) -> np.ndarray:
    """Wavelet shrinkage of every channel separately (its own MAD noise estimate).

    A thin wrapper over :func:`wavediff.classical.denoise_wavelet` with ``channel_axis=0``; ``sym4`` and
    SureShrink are the usual choices for EEG. The default depth is three less than the deepest level the
    segment allows (at 256 Hz and 512 samples: 3 levels, so only content above 16 Hz is thresholded).

    Parameters
    ----------
    data : array_like
        ``(n_channels, n_times)`` or ``(n_times,)`` in volts.
    sfreq : float
        Sampling rate in Hz (checked; the shrinkage itself is rate-free).
    wavelet, method, mode, wavelet_levels
        As in :func:`wavediff.classical.denoise_wavelet`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(1024) / 256.0
    >>> clean = np.stack([20e-6 * np.sin(2 * np.pi * 3 * t), 10e-6 * np.sin(2 * np.pi * 6 * t)])
    >>> noisy = clean + rng.normal(0, 5e-6, clean.shape)
    >>> out = wavelet_denoise(noisy, 256.0)
    >>> bool(np.sqrt(np.mean((out - clean) ** 2)) < 0.6 * np.sqrt(np.mean((noisy - clean) ** 2)))
    True
    """
    arr = _check_data(data)
    check_sfreq(sfreq)
    x = arr if arr.ndim == 2 else arr[None, :]
    out = denoise_wavelet(x, wavelet=wavelet, method=method, mode=mode, wavelet_levels=wavelet_levels, channel_axis=0)
    return np.asarray(out, dtype=np.float64).reshape(arr.shape)
