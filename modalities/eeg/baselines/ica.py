"""ICA with automatic rejection of ocular and muscle components (MNE's ``ICA``, FastICA or extended Infomax)."""

from __future__ import annotations

import importlib.util
import inspect
import numbers
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import mne
import numpy as np

from wavediff._checks import check_sfreq
from wavediff.errors import InvalidInputError

from ..channels import name_index, standard_names
from ..montage import template_montage
from .common import _check_data, _check_fit_l_freq, _check_names, _fit_copy

__all__ = ["MIN_ICA_CHANNELS", "ICAReport", "ica_clean"]

MIN_ICA_CHANNELS = 3


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


def _eog_rows(eog_signals: Mapping[str, Any] | None, n_times: int, names: Sequence[str]) -> dict[str, np.ndarray]:
    """The recorded EOG channels as float64 rows of the data's length, under labels that do not clash."""
    out: dict[str, np.ndarray] = {}
    for label, values in dict(eog_signals or {}).items():
        row = _check_data(values, ndims=(1,))
        if row.shape[0] != n_times:
            raise InvalidInputError(f"eog_signals[{label!r}] has {row.shape[0]} samples; the data have {n_times}")
        key = str(label) if str(label) not in names else f"{label} (EOG)"
        out[key] = row
    return out


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
    eog_signals: Mapping[str, Any] | None = None,
    bad_spans: Sequence[tuple[float, float]] = (),
    max_iter: int | str = "auto",
) -> np.ndarray | tuple[np.ndarray, ICAReport]:
    """Remove ocular (and muscle) components found by ICA, the standard multichannel EEG cleaning.

    The recording is wrapped in an ``mne.io.RawArray`` with the 10-05 template montage (names matched
    as :func:`~wavediff.modalities.eeg.channels.standard_name` matches them: ``Fp1.``, ``EEG FP1-REF``,
    ``T3`` ...); ICA is fitted on a 1 Hz high-passed copy (drifts ruin
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
    eog_signals : mapping of str to array, optional
        Recorded EOG channels (label -> ``(n_times,)`` samples in volts), kept out of the decomposition
        and used as EOG references beside the ``eog_channels`` found in ``ch_names``; pass
        ``eog_channels=()`` and ``heog=None`` to let them alone decide which components are ocular.
    bad_spans : sequence of (onset, duration)
        Spans (s from the first sample) left out of the fit, as MNE leaves out ``BAD_`` annotations:
        the unmixing is learnt without them and applied to every sample.
    max_iter : int or 'auto'
        Iterations the unmixing may take (MNE's ``max_iter``; ``'auto'``: 1000 for FastICA, 500 for
        Infomax). FastICA warns when it stops before converging; benchmarks allow more, so that ICA is
        compared at its best.

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
    if max_iter != "auto" and (isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral) or max_iter < 1):
        raise InvalidInputError(f"max_iter={max_iter!r} must be a positive number of iterations, or 'auto'")
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

    if isinstance(eog_channels, str):
        eog_channels = (eog_channels,)
    eog_rows = _eog_rows(eog_signals, n_times, names)
    spans = [(float(a), float(b)) for a, b in bad_spans]
    good = np.ones(n_times, bool)
    for onset, duration in spans:
        good[max(0, int(onset * sfreq)) : max(0, int(np.ceil((onset + duration) * sfreq)))] = False
    n_fit = -(-int(good.sum()) // (decim or 1))  # samples the unmixing is fitted on
    info = mne.create_info(standard_names(names), sfreq, "eeg")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        info.set_montage(template_montage(), match_case=False, match_alias=True, on_missing="ignore", verbose=False)
    locs = np.array([ch["loc"][:3] for ch in info["chs"]])
    has_pos = bool(np.all(np.isfinite(locs)) and not np.any(np.all(locs == 0, axis=1)))
    raw = mne.io.RawArray(arr, info, verbose=False)
    if eog_rows:
        eog_info = mne.create_info(list(eog_rows), sfreq, "eog")
        raw.add_channels([mne.io.RawArray(np.stack(list(eog_rows.values())), eog_info, verbose=False)], force_update_info=True)
    if spans:
        raw.set_annotations(mne.Annotations([a for a, _ in spans], [b for _, b in spans], ["BAD_span"] * len(spans)))
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
        n_components=n_comp, method=method, fit_params=fit_params, max_iter=max_iter, verbose=False,
        **_ica_kwargs(rng),
    )
    ica.fit(fit_raw, picks="eeg", decim=decim, verbose=False)

    # ocular components: correlation with EOG electrodes, or frontal channels standing in for them
    inner = info["ch_names"]  # the template's spelling where matched
    lower = {k: inner[i] for k, i in name_index(names).items()}
    proxies = list(eog_rows) + [lower[c.lower()] for c in eog_channels if c.lower() in lower]
    if not proxies and has_pos:
        proxies = [inner[i] for i in np.argsort(locs[:, 1])[-2:]]  # the two most anterior channels
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
    cleaned = ica.apply(raw.copy(), exclude=exclude, verbose=False).get_data(picks="eeg")
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
