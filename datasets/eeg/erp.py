"""Event-related potentials: a component of known latency, amplitude and topography after each event.

:class:`ERP` describes the component that :func:`~wavediff.datasets.eeg.simulate_raw` injects
(``erp=ERP(...)``); :func:`add_erp` adds one to any recording. The events are stored as annotations,
so a test can find them with :func:`mne.events_from_annotations` and measure the component back.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Mapping
from typing import Any

import mne
import numpy as np
from wavediff.modalities.eeg.montage import did_you_mean

from wavediff.errors import InvalidInputError, UnsupportedFormatError

from .head import _bump, _dipole_gains, _fit_sphere, _pseudo_positions

__all__ = ["ERP", "add_erp"]


@dataclasses.dataclass(frozen=True)
class ERP:
    """An event-related component injected by :func:`simulate_raw` (``erp=ERP(...)``).

    The waveform is ``amplitude_uv * exp(-(t - latency)**2 / (2 width**2))`` after each event, with a
    smooth topography whose value at ``channel`` is exactly ``amplitude_uv`` (after the average
    reference). Events are placed every ``interval +- jitter/2`` seconds and stored as annotations
    named ``description``: ``mne.events_from_annotations(raw)`` gives them back.

    Examples
    --------
    >>> ERP(latency=0.3, amplitude_uv=8.0, channel="Pz").width
    0.05
    """

    latency: float = 0.3
    amplitude_uv: float = 10.0
    width: float = 0.05
    channel: str = "Pz"
    interval: float = 1.0
    jitter: float = 0.2
    description: str = "stimulus"


def _erp_topography(
    info: mne.Info,
    picks: np.ndarray,
    channel_index: int,
    average: bool,
    sphere: tuple[np.ndarray, float] | None = None,
) -> np.ndarray:
    """Topography over ``picks`` with value 1 at ``picks[channel_index]``."""
    pos = np.array([info["chs"][p]["loc"][:3] for p in picks], dtype=float)
    have_pos = np.isfinite(pos).all() and (np.linalg.norm(pos, axis=1) > 0).all() and len(picks) >= 2
    if have_pos and (sphere is not None or len(picks) >= 8):
        centre, radius = sphere if sphere is not None else _fit_sphere(pos)
        direction = pos[channel_index] - centre
        direction = direction / np.linalg.norm(direction)
        g = _dipole_gains(pos, np.asarray(centre), radius, direction[None], np.array([0.7]))
        topo = g[:, 0] @ direction
    else:
        points = _pseudo_positions(len(picks))
        topo = _bump(points, points[channel_index], width=0.5)
    if average:
        topo = topo - topo.mean()
    if abs(topo[channel_index]) < 1e-12 * np.abs(topo).max():
        raise InvalidInputError(
            "the ERP topography vanishes at the requested channel (a single-channel average reference); "
            "add channels or use a recording that is not average-referenced"
        )
    return topo / topo[channel_index]


def _event_samples(events: Any, raw: mne.io.BaseRaw) -> np.ndarray:
    arr = np.asarray(events)
    if arr.ndim == 2 and arr.shape[1] == 3:
        arr = arr[:, 0]
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise InvalidInputError(
            f"events must be an MNE events array (n_events, 3) or 1-D integer sample indices, got shape "
            f"{np.shape(events)} dtype {arr.dtype}; get them with mne.find_events or mne.events_from_annotations"
        )
    idx = arr.astype(np.int64) - raw.first_samp
    if idx.size and (idx.min() < 0 or idx.max() >= raw.n_times):
        raise InvalidInputError(
            f"event samples must lie within the recording (first_samp={raw.first_samp}, n_times={raw.n_times}); "
            f"got {arr.min()}..{arr.max()}"
        )
    return idx


def add_erp(
    raw: mne.io.BaseRaw,
    events: Any,
    *,
    latency: float = 0.3,
    amplitude_uv: float = 10.0,
    width: float = 0.05,
    channel: str = "Pz",
    description: str | None = "stimulus",
) -> mne.io.BaseRaw:
    """A copy of ``raw`` with a known event-related component added after every event.

    The component is ``amplitude_uv * exp(-(t - latency)**2 / (2 width**2))`` microvolts at
    ``channel`` (``t`` in seconds after the event), spread over the other EEG channels by the
    topography of a radial dipole under ``channel`` (spherical head, needs positions for all EEG
    channels and at least 8 of them) or by a smooth bump when there are no positions. If the EEG
    channels are average-referenced (zero mean across channels), so is the topography. The events are
    appended to the annotations as ``description`` (unless None) so ``mne.events_from_annotations``
    finds them. ``raw`` itself is not modified.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        Recording with EEG channels.
    events : array
        MNE events ``(n_events, 3)`` or 1-D sample indices (MNE convention: including ``first_samp``).
    latency, width : float
        Peak latency and Gaussian standard deviation, in seconds.
    amplitude_uv : float
        Peak amplitude at ``channel`` in microvolts (negative for a negative component).
    channel : str
        EEG channel where the amplitude is exact.
    description : str or None
        Annotation label for the events.

    Returns
    -------
    mne.io.BaseRaw
        New recording, same class and info.

    Examples
    --------
    >>> from wavediff.datasets.eeg import simulate_raw
    >>> raw = simulate_raw(n_seconds=4.0, rng=1, alpha=False, theta=False, beta=False, noise_uv=0.0)
    >>> out = add_erp(raw, [256, 512], latency=0.25, amplitude_uv=5.0, channel="Cz")
    >>> diff = (out.get_data(picks="Cz") - raw.get_data(picks="Cz"))[0]
    >>> round(float(diff[256 + 64]) * 1e6, 6)  # 0.25 s after the first event
    5.0
    """
    if not isinstance(raw, mne.io.BaseRaw):
        raise UnsupportedFormatError(f"raw must be an mne.io.Raw, got {type(raw).__name__}")
    for name, value in (("latency", latency), ("width", width), ("amplitude_uv", amplitude_uv)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise InvalidInputError(f"{name}={value!r} must be a finite number")
    if latency < 0 or width <= 0:
        raise InvalidInputError(f"latency={latency} must be >= 0 s and width={width} > 0 s")
    picks = mne.pick_types(raw.info, eeg=True, exclude=[])
    eeg_names = [raw.ch_names[p] for p in picks]
    if channel not in eeg_names:
        raise InvalidInputError(
            f"channel {channel!r} is not an EEG channel of the recording{did_you_mean(channel, eeg_names)}; "
            f"choose one of {eeg_names[:10]}{' ...' if len(eeg_names) > 10 else ''}"
        )
    idx = _event_samples(events, raw)
    out = raw.copy().load_data(verbose=False)
    data = out.get_data(picks=picks)
    scale = np.abs(data).max() if data.size else 0.0
    average = data.shape[0] > 1 and bool(np.abs(data.mean(0)).max() <= 1e-9 * max(scale, 1e-30))
    topo = _erp_topography(out.info, picks, eeg_names.index(channel), average)
    _add_waveform(data, topo, idx, out.info["sfreq"], latency, amplitude_uv * 1e-6, width)
    out._data[picks] = data
    if description is not None and idx.size:
        onsets = out.times[idx] + (out.first_time if out.annotations.orig_time is not None else 0.0)
        out.annotations.append(onsets, 0.0, description)
    return out


def _add_waveform(
    data: np.ndarray,
    topo: np.ndarray,
    idx: np.ndarray,
    sfreq: float,
    latency: float,
    amplitude_v: float,
    width: float,
) -> None:
    half = int(np.ceil((latency + 5 * width) * sfreq))
    lags = np.arange(max(0, int(np.floor((latency - 5 * width) * sfreq))), half + 1)
    wave = amplitude_v * np.exp(-((lags / sfreq - latency) ** 2) / (2 * width**2))
    for s in idx:
        t = s + lags
        ok = t < data.shape[1]
        data[:, t[ok]] += topo[:, None] * wave[ok]


def _as_erp(erp: Any) -> ERP | None:
    if erp is None or erp is False:
        return None
    if erp is True:
        return ERP()
    if isinstance(erp, ERP):
        return erp
    if isinstance(erp, Mapping):
        try:
            return ERP(**erp)
        except TypeError as exc:
            fields = [f.name for f in dataclasses.fields(ERP)]
            raise InvalidInputError(f"erp={dict(erp)!r}: {exc}; allowed keys are {fields}") from None
    raise InvalidInputError(
        f"erp={erp!r} must be None, True, a dict of ERP fields or a wavediff.datasets.eeg.ERP"
    )


def _check_erp_spec(spec: ERP, names: list[str], duration: float) -> None:
    if spec.channel not in names:
        raise InvalidInputError(
            f"ERP channel {spec.channel!r} is not simulated{did_you_mean(spec.channel, names)}; add it to ch_names"
        )
    for field in ("latency", "amplitude_uv", "width", "interval", "jitter"):
        value = getattr(spec, field)
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise InvalidInputError(f"ERP {field}={value!r} must be a finite number")
    if spec.latency < 0 or spec.width <= 0 or spec.interval <= 0 or not 0 <= spec.jitter < spec.interval:
        raise InvalidInputError(
            f"ERP needs latency >= 0, width > 0, interval > 0 and 0 <= jitter < interval; got {spec}"
        )
    if 0.5 + spec.latency + 5 * spec.width >= duration:
        raise InvalidInputError(
            f"n_seconds={duration:g} is too short for one ERP event (0.5 s lead + latency {spec.latency:g} s + "
            f"5 widths); simulate longer"
        )
