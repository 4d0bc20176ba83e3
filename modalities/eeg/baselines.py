"""Classical EEG artifact removal, as practitioners do it today, with MNE.

* :func:`bandpass_notch` - zero-phase FIR band-pass (1-40 Hz) and a notch at the mains frequency and its
  harmonics (``mne.filter.filter_data`` / ``mne.filter.notch_filter``): the first step of every pipeline.
* :func:`wavelet_denoise` - wavelet shrinkage per channel (SureShrink on ``sym4`` by default), the
  single-channel method of the EEG denoising literature, through :func:`wavediff.classical.denoise_wavelet`.
* :func:`ica_clean` - independent component analysis (FastICA, or extended Infomax as EEGLAB's ``runica``)
  with automatic rejection of ocular components (``ICA.find_bads_eog`` with frontal EEG channels standing
  in for vertical and horizontal EOG electrodes) and of muscle components (``ICA.find_bads_muscle``,
  Dharmaprani et al. 2016).
* :func:`eog_regression` - Gratton et al. (1983) regression of ocular activity out of every channel
  (``mne.preprocessing.EOGRegression``), with frontal channels standing in for vertical and horizontal EOG.

Every function takes ``(n_channels, n_times)`` float arrays in volts (the filters also take a single
channel ``(n_times,)``) and returns a new float64 array of the same shape; the input is never modified.
"""

from __future__ import annotations

import importlib.util
import inspect
import math
import numbers
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import mne
import numpy as np

from wavediff._checks import check_sfreq
from wavediff.classical import denoise_wavelet
from wavediff.errors import InvalidInputError, NonFiniteError, SampleRateError, ShapeError

from .montage import template_montage

__all__ = ["bandpass_notch", "wavelet_denoise", "ica_clean", "eog_regression", "ICAReport", "MIN_ICA_CHANNELS"]

MIN_ICA_CHANNELS = 3


def _check_data(data: Any, ndims: tuple[int, ...] = (1, 2)) -> np.ndarray:
    if isinstance(data, np.ndarray) and data.dtype.kind not in "biuf":
        raise InvalidInputError(f"data has dtype {data.dtype}; pass real-valued EEG in volts")
    try:
        arr = np.array(data, dtype=np.float64)  # always a copy: the caller's array is never touched
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"data must be a numeric array (n_channels, n_times): {exc}") from None
    if arr.ndim not in ndims:
        want = "(n_channels, n_times)" if ndims == (2,) else "(n_channels, n_times) or (n_times,)"
        raise ShapeError(f"data has shape {arr.shape}; pass {want} (loop over epochs for 3-D data)")
    if arr.size == 0 or arr.shape[-1] < 2:
        raise ShapeError(f"data has shape {arr.shape}; it needs channels with at least two samples")
    if not np.all(np.isfinite(arr)):
        raise NonFiniteError("data holds NaN or infinite values; interpolate or drop those samples first")
    return arr


def _check_freq(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, (bool, str, bytes)) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise InvalidInputError(f"{name}={value!r} must be a positive frequency in Hz, or None to skip it")
    return float(value)


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


@dataclass
class ICAReport:
    """What :func:`ica_clean` removed and why.

    Attributes
    ----------
    exclude : list of int
        Components removed (union of ``eog`` and ``muscle``), sorted.
    eog, muscle : list of int
        Components flagged as ocular / muscular.
    eog_channels : list of str
        The frontal EEG channels used as EOG proxies (empty when ocular detection was skipped).
    eog_scores, muscle_scores : numpy.ndarray or None
        MNE's scores (correlation with each proxy; muscle score), None when skipped.
    method : str
        The ICA algorithm that ran (``'fastica'`` or ``'infomax'``).
    ica : mne.preprocessing.ICA
        The fitted decomposition, for plotting (``report.ica.plot_components()``).
    """

    exclude: list[int]
    eog: list[int]
    muscle: list[int]
    eog_channels: list[str]
    method: str = "fastica"
    eog_scores: Any = None
    muscle_scores: Any = None
    ica: Any = field(default=None, repr=False)


def _check_names(ch_names: Any, n_channels: int) -> list[str]:
    """One unique channel name per row of the data, as strings."""
    if isinstance(ch_names, (str, bytes)) or not isinstance(ch_names, Iterable):
        raise InvalidInputError("ch_names must be a list of channel names, one per row of data")
    names = [str(c) for c in ch_names]
    if len(names) != n_channels:
        raise ShapeError(f"got {len(names)} channel names for {n_channels} channels; pass one name per row")
    if len(set(names)) != len(names):
        raise InvalidInputError("ch_names has duplicates; channel names must be unique")
    return names


def _check_fit_l_freq(fit_l_freq: Any, sfreq: float) -> float | None:
    fit_l_freq = _check_freq(fit_l_freq, "fit_l_freq")
    if fit_l_freq is not None and fit_l_freq >= sfreq / 2:
        raise SampleRateError(f"fit_l_freq={fit_l_freq} Hz is at or above Nyquist ({sfreq / 2} Hz)")
    return fit_l_freq


def _fit_copy(raw: mne.io.BaseRaw, fit_l_freq: float | None) -> mne.io.BaseRaw:
    """The copy a decomposition is fitted on: high-passed at ``fit_l_freq`` (IIR when too short for the FIR)."""
    fit_raw = raw.copy()
    if fit_l_freq is not None:
        short = raw.n_times < 3.3 / fit_l_freq * raw.info["sfreq"]
        fit_raw.filter(fit_l_freq, None, picks="all", method="iir" if short else "fir", verbose=False)
    return fit_raw


def _ica_kwargs(rng: int | None) -> dict[str, Any]:
    params = inspect.signature(mne.preprocessing.ICA.__init__).parameters
    return {"rng": rng} if "rng" in params else {"random_state": rng}  # MNE renamed random_state to rng in 1.11


def _effective_rank(x: np.ndarray) -> int:
    """Number of principal components above 1e-6 of the largest variance (MNE's limit for a stable ICA).

    Average-referenced data lose one; components dropped here stay in the data untouched (MNE keeps the
    residual principal components when applying the ICA).
    """
    centered_cov = (x @ x.T) / x.shape[1] - np.outer(x.mean(axis=1), x.mean(axis=1))
    eig = np.linalg.eigvalsh(centered_cov)
    return int(np.sum(eig > eig.max() * 1e-6)) if eig.max() > 0 else 0


def ica_clean(
    data: Any,
    sfreq: float,
    ch_names: Sequence[str],
    n_components: int | float | None = None,
    eog_channels: Sequence[str] = ("Fp1", "Fp2"),
    rng: int | None = 0,
    reject_emg: bool = True,
    *,
    heog: Sequence[str] | None = ("F7", "F8"),
    method: str = "auto",
    fit_l_freq: float | None = 1.0,
    eog_threshold: float = 3.0,
    eog_min_corr: float | None = 0.8,
    muscle_threshold: float = 0.5,
    decim: int | None = None,
    return_report: bool = False,
) -> np.ndarray | tuple[np.ndarray, ICAReport]:
    """Remove ocular (and muscle) components found by ICA, the standard multichannel EEG cleaning.

    The recording is wrapped in an ``mne.io.RawArray`` with the 10-05 template montage (names matched
    case-insensitively and through MNE's aliases); ICA is fitted on a 1 Hz high-passed copy (drifts ruin
    the unmixing) and applied to the data as given. Ocular components are those whose time course
    correlates with the frontal channels in ``eog_channels`` or with the horizontal EOG proxy ``heog[0] -
    heog[1]`` (``ICA.find_bads_eog``, 1-10 Hz, z-score above ``eog_threshold``); muscle components are
    found by ``ICA.find_bads_muscle`` (positive spectral slope over 7-45 Hz, peripheral and focal
    topography), which needs every channel's position.

    Parameters
    ----------
    data : array_like
        ``(n_channels, n_times)`` in volts; at least :data:`MIN_ICA_CHANNELS` channels and, for a stable
        decomposition, about ``20 * n_channels**2`` samples.
    sfreq : float
        Sampling rate in Hz.
    ch_names : sequence of str
        Channel names, one per row (10-20/10-10 names enable the montage and muscle detection).
    n_components : int, float or None
        ICA components; None uses the effective rank of the high-passed data (principal components above
        1e-6 of the largest variance, so average-referenced data lose one); a float in (0, 1) keeps that
        fraction of variance (MNE's convention). Components left out stay in the data untouched.
    eog_channels : sequence of str
        Frontal EEG channels that stand in for EOG electrodes (any of them present is used; when none
        is, the two most anterior channels of the montage are taken; real EOG channels work as well).
    heog : (str, str) or None
        The (left, right) frontal pair whose difference stands in for a horizontal EOG electrode, so that
        saccades, which the vertical proxies barely see, are found too (used when both are present; F7 -
        F8 on a 10-20 montage, as :func:`eog_regression` does). None: vertical proxies only.
    rng : int or None
        Seed of the ICA initialisation.
    reject_emg : bool
        Also remove muscle components (skipped, with a warning, when channel positions are unknown).
    method : {'auto', 'fastica', 'infomax'}
        ``'fastica'`` (needs scikit-learn; seconds for a few minutes of 19-channel data) or extended
        Infomax, EEGLAB's ``runica`` default (pure MNE, but about ten times slower); ``'auto'`` takes
        FastICA when scikit-learn is installed, else Infomax. ``report.method`` says which ran.
    fit_l_freq : float or None
        High-pass applied to the copy used for fitting; None fits on the data as given.
    eog_threshold : float
        z-score threshold of ``find_bads_eog`` (MNE's default 3).
    eog_min_corr : float or None
        A component is also ocular when the absolute correlation of its (1-10 Hz) time course with a
        proxy reaches this; with fewer than 11 components no z-score can exceed 3, so this rule is what
        finds blinks in low-density montages. None uses the z-score alone.
    muscle_threshold : float
        Threshold of ``find_bads_muscle`` (MNE's default 0.5).
    decim : int or None
        Fit the unmixing on every ``decim``-th sample only (``ICA.fit(decim=)``; the unmixing is spatial,
        so a long recording needs only part of its samples); None uses them all.
    return_report : bool
        Also return an :class:`ICAReport` with the excluded components and the fitted ICA.

    Returns
    -------
    numpy.ndarray or (numpy.ndarray, ICAReport)
        Cleaned float64 data of the input's shape (and the report).

    Raises
    ------
    InvalidInputError
        Fewer than :data:`MIN_ICA_CHANNELS` channels (use :func:`wavelet_denoise` or
        :func:`bandpass_notch`), fewer samples than components, or a bad parameter.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> names = ["Fp1", "Fp2", "F3", "F4", "C3", "C4", "P3", "P4", "O1", "O2"]
    >>> brain = rng.normal(size=(10, 10)) @ rng.laplace(size=(10, 60 * 128)) * 5e-6
    >>> blink = np.zeros(60 * 128)
    >>> for t0 in range(200, 60 * 128, 400):
    ...     blink[t0:t0 + 40] = 150e-6 * np.hanning(40)
    >>> topo = np.array([1.0, 1.0, 0.5, 0.5, 0.2, 0.2, 0.1, 0.1, 0.05, 0.05])
    >>> cleaned, report = ica_clean(brain + topo[:, None] * blink, 128.0, names, reject_emg=False, return_report=True)
    >>> len(report.eog) >= 1 and bool(np.abs(cleaned - brain).max() < 0.3 * 150e-6)
    True
    """
    arr = _check_data(data, ndims=(2,))
    sfreq = check_sfreq(sfreq)
    n_channels, n_times = arr.shape
    if n_channels < MIN_ICA_CHANNELS:
        raise InvalidInputError(
            f"ICA needs at least {MIN_ICA_CHANNELS} channels, got {n_channels}; use a single-channel method "
            "such as wavelet_denoise() or bandpass_notch()"
        )
    names = _check_names(ch_names, n_channels)
    if method not in ("auto", "infomax", "fastica"):
        raise InvalidInputError(f"method={method!r}; use 'auto', 'fastica' or 'infomax'")
    if method == "auto":
        method = "fastica" if importlib.util.find_spec("sklearn") is not None else "infomax"
    if eog_min_corr is not None and (isinstance(eog_min_corr, bool) or not isinstance(eog_min_corr, numbers.Real)
                                     or not 0 < eog_min_corr <= 1):
        raise InvalidInputError(f"eog_min_corr={eog_min_corr!r} must lie in (0, 1], or be None")
    fit_l_freq = _check_fit_l_freq(fit_l_freq, sfreq)
    if heog is not None and (isinstance(heog, str) or len(heog) != 2 or not all(isinstance(c, str) for c in heog)):
        raise InvalidInputError(f"heog={heog!r} must be a (left, right) pair of channel names, e.g. ('F7', 'F8'), or None")
    if decim is not None and (isinstance(decim, bool) or not isinstance(decim, numbers.Integral) or decim < 1):
        raise InvalidInputError(f"decim={decim!r} must be a positive integer or None")
    n_fit = -(-n_times // (decim or 1))  # samples the unmixing is fitted on

    if isinstance(eog_channels, str):
        eog_channels = (eog_channels,)
    info = mne.create_info(names, sfreq, "eeg")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        info.set_montage(template_montage(), match_case=False, match_alias=True, on_missing="ignore", verbose=False)
    locs = np.array([ch["loc"][:3] for ch in info["chs"]])
    has_pos = bool(np.all(np.isfinite(locs)) and not np.any(np.all(locs == 0, axis=1)))
    raw = mne.io.RawArray(arr, info, verbose=False)
    fit_raw = _fit_copy(raw, fit_l_freq)

    rank = _effective_rank(fit_raw.get_data())
    if rank < 2:
        raise InvalidInputError(f"the data have rank {rank}; ICA needs at least two independent channels")
    if n_components is None:
        n_comp: int | float = rank
    elif isinstance(n_components, bool) or not isinstance(n_components, numbers.Real):
        raise InvalidInputError(f"n_components={n_components!r} must be an int, a float in (0, 1), or None")
    elif isinstance(n_components, numbers.Integral):
        if not 2 <= int(n_components) <= rank:
            raise InvalidInputError(f"n_components={n_components} must lie between 2 and the data rank {rank}")
        n_comp = int(n_components)
    elif not 0 < float(n_components) < 1:
        raise InvalidInputError(f"n_components={n_components} as a float must lie in (0, 1) (a variance fraction)")
    else:
        n_comp = float(n_components)
    n_max = n_comp if isinstance(n_comp, int) else rank
    if n_fit <= 2 * n_max:
        raise InvalidInputError(
            f"{n_fit} samples are too few for {n_max} ICA components; use a longer recording "
            f"(about {20 * n_max**2} samples), a smaller decim or a single-channel method"
        )
    if n_fit < 20 * n_max**2:
        warnings.warn(
            f"{n_fit} samples for {n_max} ICA components is short (rule of thumb: {20 * n_max**2}); "
            "the decomposition may be unreliable",
            UserWarning,
            stacklevel=2,
        )

    fit_params = {"extended": True} if method == "infomax" else None
    ica = mne.preprocessing.ICA(
        n_components=n_comp, method=method, fit_params=fit_params, max_iter="auto", verbose=False,
        **_ica_kwargs(rng),
    )
    ica.fit(fit_raw, picks="eeg", decim=decim, verbose=False)

    # ocular components: correlation with frontal channels standing in for EOG electrodes
    lower = {n.lower(): n for n in names}
    proxies = [lower[c.lower()] for c in eog_channels if c.lower() in lower]
    if not proxies and has_pos:
        proxies = [names[i] for i in np.argsort(locs[:, 1])[-2:]]  # the two most anterior channels
    if heog is not None and all(c.lower() in lower for c in heog):
        left, right = (lower[c.lower()] for c in heog)
        name = f"{left}-{right}"
        bipolar = fit_raw.get_data(picks=[left]) - fit_raw.get_data(picks=[right])
        fit_raw.add_channels([mne.io.RawArray(bipolar, mne.create_info([name], sfreq, "eog"), verbose=False)], force_update_info=True)
        proxies.append(name)
    eog_inds: list[int] = []
    eog_scores = None
    if proxies:
        eog_inds, eog_scores = ica.find_bads_eog(
            fit_raw, ch_name=proxies, threshold=eog_threshold, measure="zscore", verbose=False
        )
        eog_inds = [int(i) for i in eog_inds]
        if eog_min_corr is not None:
            corr = np.max(np.abs(np.atleast_2d(np.asarray(eog_scores, dtype=np.float64))), axis=0)
            eog_inds = sorted(set(eog_inds) | {int(i) for i in np.flatnonzero(corr >= eog_min_corr)})
    else:
        warnings.warn(
            f"none of eog_channels={tuple(eog_channels)} is in ch_names and positions are unknown; "
            "ocular components were not searched for. Pass the names of frontal channels.",
            UserWarning,
            stacklevel=2,
        )

    muscle_inds: list[int] = []
    muscle_scores = None
    if reject_emg and hasattr(ica, "find_bads_muscle"):
        if has_pos:
            h_freq = min(45.0, sfreq / 2 - 1.0)
            if h_freq > 7.0 + 5.0:
                muscle_inds, muscle_scores = ica.find_bads_muscle(
                    fit_raw, threshold=muscle_threshold, l_freq=7.0, h_freq=h_freq, verbose=False
                )
        else:
            warnings.warn(
                "muscle components were not searched for: some channel names are not 10-05 names, so "
                "their positions are unknown; rename them (raw.rename_channels) or pass reject_emg=False",
                UserWarning,
                stacklevel=2,
            )

    muscle_inds = [int(i) for i in muscle_inds]
    if len(muscle_inds) > ica.n_components_ // 2:
        warnings.warn(
            f"find_bads_muscle flagged {len(muscle_inds)} of {ica.n_components_} components; spatially smooth or "
            "white-noise-like data can look muscular to it. Check report.muscle_scores, raise muscle_threshold "
            "or pass reject_emg=False",
            UserWarning,
            stacklevel=2,
        )
    exclude = sorted(set(eog_inds) | set(muscle_inds))
    if len(exclude) >= ica.n_components_:  # never remove everything
        exclude = sorted(eog_inds)[: ica.n_components_ - 1]
    cleaned = ica.apply(raw.copy(), exclude=exclude, verbose=False).get_data()
    cleaned = np.asarray(cleaned, dtype=np.float64)
    if not return_report:
        return cleaned
    report = ICAReport(
        exclude=exclude,
        eog=sorted(int(i) for i in eog_inds),
        muscle=sorted(int(i) for i in muscle_inds),
        eog_channels=proxies,
        method=method,
        eog_scores=None if eog_scores is None else np.asarray(eog_scores),
        muscle_scores=None if muscle_scores is None else np.asarray(muscle_scores),
        ica=ica,
    )
    return cleaned, report


def eog_regression(
    data: Any,
    sfreq: float,
    ch_names: Sequence[str],
    veog: Sequence[str] = ("Fp1", "Fp2"),
    heog: Sequence[str] = ("F7", "F8"),
    fit_l_freq: float | None = 1.0,
) -> np.ndarray:
    """Regress ocular activity out of every channel (Gratton et al. 1983) through ``mne.preprocessing.EOGRegression``.

    Without EOG electrodes, frontal channels stand in for them: a vertical EOG, the mean of the ``veog``
    channels present, and a horizontal one, ``heog[0] - heog[1]`` when both are present. Each channel's
    coefficients on them are fitted by least squares over the whole recording (on a copy high-passed at
    ``fit_l_freq`` Hz, so that drifts do not bias them) and the fitted ocular part is subtracted from the
    data as given. The proxies carry brain activity too, which the regression removes with the
    artifact: the frontal channels themselves lose most of their content (the method's known weakness
    without real EOG electrodes).

    Parameters
    ----------
    data : array_like
        ``(n_channels, n_times)`` in volts, at least 2 channels.
    sfreq : float
        Sampling rate in Hz.
    ch_names : sequence of str
        Channel names, one per row (matched case-insensitively).
    veog, heog : sequence of str
        Channels averaged into the vertical EOG proxy; the (left, right) pair whose difference is the
        horizontal one.
    fit_l_freq : float or None
        High-pass of the copy the coefficients are fitted on; None fits on the data as given.

    Returns
    -------
    numpy.ndarray
        Cleaned float64 data of the input's shape.

    Raises
    ------
    InvalidInputError
        Fewer than 2 channels, or none of the ``veog`` / ``heog`` channels present.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> names = ["Fp1", "Fp2", "F7", "F8", "Cz", "O1"]
    >>> brain = rng.normal(0, 5e-6, (6, 30 * 128))
    >>> blink = np.zeros(30 * 128)
    >>> blink[::300] = 1.0
    >>> blink = np.convolve(blink, 150e-6 * np.hanning(40), mode="same")
    >>> topo = np.array([1.0, 1.0, 0.6, 0.6, 0.2, 0.05])
    >>> cleaned = eog_regression(brain + topo[:, None] * blink, 128.0, names)
    >>> bool(np.abs(cleaned[4] - brain[4]).max() < 0.1 * 0.2 * 150e-6 + 4 * 5e-6)  # Cz: its share of the blinks removed
    True
    """
    arr = _check_data(data, ndims=(2,))
    sfreq = check_sfreq(sfreq)
    n_channels = arr.shape[0]
    if n_channels < 2:
        raise InvalidInputError("EOG regression needs at least 2 channels (proxies and the channels to clean)")
    names = _check_names(ch_names, n_channels)
    lower = {n.lower(): i for i, n in enumerate(names)}
    vertical = [lower[c.lower()] for c in veog if c.lower() in lower]
    pair = [lower[c.lower()] for c in heog if c.lower() in lower]
    proxies = {}
    if vertical:
        proxies["_veog"] = arr[vertical].mean(axis=0)
    if len(pair) == 2:
        proxies["_heog"] = arr[pair[0]] - arr[pair[1]]
    if not proxies:
        raise InvalidInputError(
            f"none of veog={tuple(veog)} nor the pair heog={tuple(heog)} is in ch_names; pass the names of frontal channels"
        )
    fit_l_freq = _check_fit_l_freq(fit_l_freq, sfreq)
    info = mne.create_info(names + list(proxies), sfreq, ["eeg"] * n_channels + ["eog"] * len(proxies))
    raw = mne.io.RawArray(np.concatenate([arr, np.stack(list(proxies.values()))]), info, verbose=False)
    raw.set_eeg_reference([], verbose=False)  # the data keep the reference they were recorded with
    model = mne.preprocessing.EOGRegression(picks="eeg", picks_artifact="eog", proj=False).fit(_fit_copy(raw, fit_l_freq))
    cleaned = model.apply(raw, copy=True).get_data(picks="eeg")
    return np.asarray(cleaned, dtype=np.float64)
