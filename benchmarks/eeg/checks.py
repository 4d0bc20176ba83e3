"""EEG benchmark: does cleaning keep what scientists measure? Downstream and real-blink checks.

Usage::

    python3 -m benchmarks.eeg.checks [--edf ../shared/data/eeg/S001R01.edf] [--seed 12345] [--quick]

Three checks, each a function that returns a list of dict rows and a ``*_table(rows)`` formatter
(``python3 -m benchmarks.eeg`` puts them in ``benchmarks/results/eeg.md``). Every check reports the
untouched input, the room's classical cleaners (:data:`~wavediff.modalities.eeg.cleaners.CLEANERS`)
and wavediff on the *same* data; wavediff is skipped, with a note, when no restorer is passed. The
measurements are the room's own (:mod:`wavediff.modalities.eeg.measures`).

* :func:`alpha_check` - simulated resting EEG (alpha 8-12 Hz from parieto-occipital sources) is
  contaminated with EOG and with EMG; the occipital alpha-band power (Welch, 2 s Hann segments, mean
  of O1/Oz/O2) of every cleaned version is compared with that of the *clean* recording, in %.
* :func:`erp_check` - simulated EEG with a known event-related component (P300-like: Gaussian,
  300 ms, 10 uV at Pz) after ~60 events is contaminated; epochs -0.2..0.8 s (baseline -0.2..0 s) are
  averaged and the peak latency and amplitude at Pz are compared with the truth and with the clean
  average, together with the RMSE of the averaged waveform against the clean average.
* :func:`blink_check` - a real recording (PhysioNet EEGMMIDB S001R01, eyes open): blinks are detected
  on the frontal channels of the input; the blink peak amplitude on Fp1 and Fp2 (largest
  baseline-corrected excursion within +-0.3 s of the blink peak, on the blink-locked average and as
  the median over single blinks) and the occipital alpha power on blink-free stretches are compared
  before and after each cleaning, against the bars of the issue: blinks reduced by >= 80 % while
  alpha changes by < 10 %. The bar is judged on the blink-locked average, because a single-blink
  maximum also picks up the background EEG (the table prints that floor) and cannot reach 100 %.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import mne
import numpy as np
from wavediff.datasets.eeg import ERP, simulate_raw
from wavediff.modalities.eeg.cleaners import Cleaner, classical_cleaners
from wavediff.modalities.eeg.measures import (
    FRONTAL,
    OCCIPITAL,
    average_epochs,
    band_power,
    blink_amplitudes,
    blink_free_mask,
    blink_free_times,
    channel_indices,
    detect_blinks,
    erp_peak,
    relative_change,
)

from wavediff import get_modality
from wavediff.errors import InvalidInputError, UnsupportedFormatError
from wavediff.report import markdown_table, provenance

from .protocol import WAVEDIFF, methods

__all__ = [
    "BLINK_REDUCTION_BAR",
    "ALPHA_CHANGE_BAR",
    "UNTOUCHED",
    "default_restorer",
    "alpha_check",
    "alpha_table",
    "erp_check",
    "erp_table",
    "blink_check",
    "blink_table",
    "main",
]

BLINK_REDUCTION_BAR = 80.0  # %: blink peak amplitude on Fp1/Fp2 must drop at least this much
ALPHA_CHANGE_BAR = 10.0  # %: occipital alpha power must change by less than this
DEFAULT_EDF = Path(__file__).resolve().parents[3] / "shared" / "data" / "eeg" / "S001R01.edf"
UNTOUCHED = "untouched input"
_SKIPPED = "skipped: no shipped model (train one with `wavediff train eeg`)"


def default_restorer() -> Any:
    """The room's shipped model as a :class:`~wavediff.pipeline.Restorer`, or None when there is none."""
    if not get_modality("eeg").weights_path().is_file():
        return None
    from wavediff.pipeline import Restorer

    return Restorer("eeg")


def _run(fn: Callable[[], np.ndarray]) -> tuple[np.ndarray, float, str]:
    """Call a cleaning method; its output, seconds and the warnings it raised, shortened, as a note."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        out = np.asarray(fn(), dtype=np.float64)
        seconds = time.perf_counter() - t0
    notes = sorted({str(w.message).split(";")[0].split(".")[0] for w in caught if issubclass(w.category, UserWarning)})
    return out, seconds, "; ".join(notes)


def _methods(raw: mne.io.BaseRaw, restorer: Any, cleaners: Mapping[str, Cleaner]) -> dict[str, Callable[[], np.ndarray] | None]:
    """The untouched input, ``cleaners`` and wavediff (None: skipped, no restorer) on ``raw``'s EEG channels."""
    y = raw.get_data(mne.pick_types(raw.info, eeg=True, exclude=[]))
    return {UNTOUCHED: lambda: y, **methods(raw, restorer, cleaners), **({WAVEDIFF: None} if restorer is None else {})}


def _fmt(value: Any, spec: str) -> str:
    return "" if value is None else format(value, spec)


# ----------------------------------------------------------------------------- 1. alpha power


def alpha_check(
    restorer: Any,
    *,
    seed: int,
    seconds: float = 60.0,
    snr_db: float = 0.0,
    sfreq: float = 256.0,
    artifacts: Sequence[str] = ("eog", "emg"),
    line_freq: float | None = 50.0,
    cleaners: Mapping[str, Cleaner] | None = None,
) -> list[dict[str, Any]]:
    """Occipital alpha power of each cleaned version against the clean simulated recording.

    Parameters
    ----------
    restorer : Restorer or None
        What wavediff runs (:func:`default_restorer`); None skips wavediff with a note.
    seed : int
        Seeds the simulation (``seed``) and the contamination (``seed + 1``).
    seconds, sfreq : float
        Length and rate of the simulated 19-channel recording.
    snr_db : float
        Contamination SNR (EEGdenoiseNet definition).
    artifacts : sequence of {'eog', 'emg', ...}
        One contaminated copy per artifact, the same one for every method.
    line_freq : float or None
        Mains frequency of the band-pass's notch.
    cleaners : mapping, optional
        The classical methods compared (default: the room's, ``classical_cleaners(line_freq=line_freq)``).

    Returns
    -------
    list of dict
        One row per artifact and method (``'clean recording'`` first, the reference, 0 % by
        construction): ``alpha_uv2`` (mean O1/Oz/O2 power in 8-12 Hz, uV^2) and ``alpha_change_pct``.
    """
    cleaners = classical_cleaners(line_freq=line_freq) if cleaners is None else cleaners
    room = get_modality("eeg")
    clean = simulate_raw(n_seconds=seconds, sfreq=sfreq, rng=seed)
    occ = channel_indices(clean.ch_names, OCCIPITAL, "occipital alpha power")
    ref = band_power(clean.get_data(), sfreq, occ)
    rng = np.random.default_rng(seed + 1)
    rows: list[dict[str, Any]] = []
    for artifact in artifacts:
        noisy = room.degrade(clean, rng, artifact=artifact, snr_db=snr_db)
        rows.append({"artifact": artifact.upper(), "method": "clean recording", "alpha_uv2": ref * 1e12,
                     "alpha_change_pct": relative_change(ref, ref), "seconds": 0.0, "note": "reference"})  # fmt: skip
        for name, fn in _methods(noisy, restorer, cleaners).items():
            if fn is None:
                rows.append({"artifact": artifact.upper(), "method": name, "alpha_uv2": None, "alpha_change_pct": None,
                             "seconds": None, "note": _SKIPPED})  # fmt: skip
                continue
            est, secs, note = _run(fn)
            p = band_power(est, sfreq, occ)
            rows.append({"artifact": artifact.upper(), "method": name, "alpha_uv2": p * 1e12,
                         "alpha_change_pct": relative_change(p, ref), "seconds": secs, "note": note})  # fmt: skip
    return rows


def alpha_table(rows: Sequence[dict[str, Any]]) -> str:
    """Markdown table of :func:`alpha_check` rows."""
    body = [
        {
            "artifact": r["artifact"],
            "method": r["method"],
            "alpha O1/Oz/O2 (uV^2)": _fmt(r["alpha_uv2"], ".2f"),
            "change vs clean (%)": _fmt(r["alpha_change_pct"], "+.1f"),
            "note": r.get("note") or "",
        }
        for r in rows
    ]
    return markdown_table(body)


# ----------------------------------------------------------------------------- 2. averaged ERP


def erp_check(
    restorer: Any,
    *,
    seed: int,
    seconds: float = 60.0,
    snr_db: float = 0.0,
    sfreq: float = 256.0,
    erp: ERP | None = None,
    artifacts: Sequence[str] = ("eog", "emg"),
    tmin: float = -0.2,
    tmax: float = 0.8,
    line_freq: float | None = 50.0,
    cleaners: Mapping[str, Cleaner] | None = None,
) -> list[dict[str, Any]]:
    """Averaged ERP (latency, amplitude, waveform) of each cleaned version against truth and clean average.

    Parameters
    ----------
    restorer : Restorer or None
        What wavediff runs; None skips wavediff with a note.
    seed : int
        Seeds the simulation (``seed``) and the contamination (``seed + 1``).
    seconds, sfreq : float
        Recording length (one event per ``erp.interval`` s) and rate.
    erp : ERP, optional
        The component (default: 300 ms, 10 uV, 50 ms wide, at Pz, one event per 1 +- 0.1 s).
    tmin, tmax : float
        Epoch around each event (baseline ``tmin..0``); the peak is searched in latency +- 150 ms.
    line_freq, cleaners
        As for :func:`alpha_check`.

    Returns
    -------
    list of dict
        A ``'truth (simulated)'`` row, then per artifact the ``'clean recording'`` average and each
        method: ``latency_ms``, ``amplitude_uv``, ``latency_vs_clean_ms``, ``amplitude_vs_clean_pct``,
        ``rmse_vs_clean_uv`` (averaged waveform at the ERP channel over the epoch) and ``trials``.
    """
    cleaners = classical_cleaners(line_freq=line_freq) if cleaners is None else cleaners
    spec = erp if erp is not None else ERP(latency=0.3, amplitude_uv=10.0, width=0.05, channel="Pz")
    room = get_modality("eeg")
    clean = simulate_raw(n_seconds=seconds, sfreq=sfreq, rng=seed, erp=spec)
    ch = channel_indices(clean.ch_names, [spec.channel], "the ERP")[0]
    events = np.round(clean.annotations.onset * sfreq).astype(np.int64)
    window = (max(0.0, spec.latency - 0.15), spec.latency + 0.15)
    sign = 1.0 if spec.amplitude_uv >= 0 else -1.0
    ref_avg, times, n_used = average_epochs(clean.get_data(), events, sfreq, tmin, tmax)
    ref_lat, ref_amp = erp_peak(ref_avg[ch], times, window, sign)

    def row(artifact: str, method: str, avg: np.ndarray | None, secs: float | None, note: str) -> dict[str, Any]:
        if avg is None:
            return {"artifact": artifact, "method": method, "latency_ms": None, "amplitude_uv": None, "latency_vs_clean_ms": None,
                    "amplitude_vs_clean_pct": None, "rmse_vs_clean_uv": None, "trials": n_used, "seconds": secs, "note": note}  # fmt: skip
        lat, amp = erp_peak(avg[ch], times, window, sign)
        return {
            "artifact": artifact,
            "method": method,
            "latency_ms": lat * 1e3,
            "amplitude_uv": amp * 1e6,
            "latency_vs_clean_ms": (lat - ref_lat) * 1e3,
            "amplitude_vs_clean_pct": relative_change(amp, ref_amp),
            "rmse_vs_clean_uv": float(np.sqrt(np.mean((avg[ch] - ref_avg[ch]) ** 2))) * 1e6,
            "trials": n_used,
            "seconds": secs,
            "note": note,
        }

    rows: list[dict[str, Any]] = [
        {"artifact": "", "method": "truth (simulated)", "latency_ms": spec.latency * 1e3, "amplitude_uv": spec.amplitude_uv,
         "latency_vs_clean_ms": None, "amplitude_vs_clean_pct": None, "rmse_vs_clean_uv": None, "trials": n_used,
         "seconds": None, "note": f"Gaussian, width {spec.width * 1e3:g} ms, at {spec.channel}"}  # fmt: skip
    ]
    rng = np.random.default_rng(seed + 1)
    for artifact in artifacts:
        noisy = room.degrade(clean, rng, artifact=artifact, snr_db=snr_db)
        rows.append(row(artifact.upper(), "clean recording", ref_avg, 0.0, "reference"))
        for name, fn in _methods(noisy, restorer, cleaners).items():
            if fn is None:
                rows.append(row(artifact.upper(), name, None, None, _SKIPPED))
                continue
            est, secs, note = _run(fn)
            rows.append(row(artifact.upper(), name, average_epochs(est, events, sfreq, tmin, tmax)[0], secs, note))
    return rows


def erp_table(rows: Sequence[dict[str, Any]]) -> str:
    """Markdown table of :func:`erp_check` rows."""
    body = [
        {
            "artifact": r["artifact"],
            "method": r["method"],
            "latency (ms)": _fmt(r["latency_ms"], ".1f"),
            "amplitude (uV)": _fmt(r["amplitude_uv"], ".2f"),
            "latency - clean (ms)": _fmt(r["latency_vs_clean_ms"], "+.1f"),
            "amplitude vs clean (%)": _fmt(r["amplitude_vs_clean_pct"], "+.1f"),
            "RMSE vs clean average (uV)": _fmt(r["rmse_vs_clean_uv"], ".2f"),
            "note": r.get("note") or "",
        }
        for r in rows
    ]
    trials = rows[0]["trials"] if rows else 0
    return f"Averages of {trials} trials, epochs -200..800 ms, baseline -200..0 ms.\n\n" + markdown_table(body)


# ----------------------------------------------------------------------------- 3. real blinks


def _load(source: Any) -> mne.io.BaseRaw:
    if isinstance(source, mne.io.BaseRaw):
        raw = source.copy().load_data(verbose=False)
    elif isinstance(source, (str, Path)):
        raw = get_modality("eeg").read(source)
        if not isinstance(raw, mne.io.BaseRaw):
            raise UnsupportedFormatError(f"{source} holds epochs; the blink check needs a continuous recording")
    else:
        raise UnsupportedFormatError(f"cannot read blinks from a {type(source).__name__}; pass a path or an mne Raw")
    mne.datasets.eegbci.standardize(raw)  # 'Fp1.' -> 'Fp1' (PhysioNet); harmless for standard names
    raw.pick("eeg", exclude="bads")
    return raw


def blink_check(
    source: Any,
    restorer: Any,
    *,
    l_freq: float | None = 0.5,
    line_freq: float | None = 60.0,
    threshold: float = 5.0,
    margin: float = 0.6,
    cleaners: Mapping[str, Cleaner] | None = None,
) -> list[dict[str, Any]]:
    """Blink amplitude on Fp1/Fp2 and occipital alpha power of a real recording, before and after cleaning.

    Parameters
    ----------
    source : path or mne.io.Raw
        The recording (any format ``wavediff`` reads); channel names are standardised with
        ``mne.datasets.eegbci.standardize`` and only EEG channels are kept.
    restorer : Restorer or None
        What wavediff runs; None skips wavediff with a note.
    l_freq : float or None
        High-pass (Hz) applied to the recording before anything else (slow drifts), so every method,
        the untouched input included, starts from the same data; None skips it.
    line_freq : float or None
        Mains frequency notched by the band-pass cleaner (EEGMMIDB was recorded in the US: 60 Hz).
    threshold, margin
        Blink detection threshold (robust z, :func:`~wavediff.modalities.eeg.measures.detect_blinks`)
        and the half-width (s) of the stretch around each blink left out of the alpha measurement.
    cleaners : mapping, optional
        The classical methods compared (default: the room's, ``classical_cleaners(line_freq=line_freq)``).

    Returns
    -------
    list of dict
        One row per method: ``avg_fp1_uv``, ``avg_fp2_uv`` (peak of the blink-locked average),
        ``reduction_avg_fp1_pct``, ``reduction_avg_fp2_pct``; ``fp1_uv``, ``fp2_uv`` (median over blinks of
        the per-blink peak), ``reduction_fp1_pct``, ``reduction_fp2_pct``; ``alpha_uv2``, ``alpha_change_pct``
        (vs the input, blink-free stretches); ``meets_bars`` (blink-average reductions on Fp1 and Fp2
        >= 80 % and |alpha change| < 10 %), ``meets_bars_per_blink`` (the same with the per-blink
        reductions); ``blinks``, ``blink_free_s``, ``margin_s``; ``floor_fp1_uv``, ``floor_fp2_uv``,
        ``floor_reduction_pct``: the per-blink measure at blink-free times of the input (background EEG
        alone), i.e. about what a cleaner that removes the blinks and nothing else would score.

    Raises
    ------
    InvalidInputError
        Fp1 or Fp2 missing, no occipital channel (O1/Oz/O2), or no blink found.
    """
    cleaners = classical_cleaners(line_freq=line_freq) if cleaners is None else cleaners
    raw = _load(source)
    names, sfreq = raw.ch_names, raw.info["sfreq"]
    fp = channel_indices(names, FRONTAL, "blink detection and blink amplitude", require_all=True)
    occ = channel_indices(names, OCCIPITAL, "occipital alpha power")
    if l_freq is not None:
        raw.filter(l_freq, None, verbose="error")
    data = raw.get_data()
    blinks = detect_blinks(data[fp], sfreq, threshold=threshold)
    if blinks.size == 0:
        raise InvalidInputError(f"no blink found on {'/'.join(FRONTAL)} (robust z > {threshold:g}); the check needs a recording with blinks")
    keep = blink_free_mask(data.shape[1], blinks, sfreq, margin)
    ref_med, ref_avg = blink_amplitudes(data[fp], blinks, sfreq)
    ref_alpha = band_power(data, sfreq, occ, keep=keep)
    # the same measure at blink-free times: the background EEG alone, what a perfect cleaner leaves
    quiet = blink_free_times(keep, sfreq)
    floor = blink_amplitudes(data[fp], quiet, sfreq)[0] if quiet.size else np.full(2, np.nan)
    common = {
        "blinks": int(blinks.size),
        "blink_free_s": float(keep.sum() / sfreq),
        "margin_s": float(margin),
        "floor_fp1_uv": float(floor[0]) * 1e6,
        "floor_fp2_uv": float(floor[1]) * 1e6,
        "floor_reduction_pct": float(np.min(0.0 - relative_change(floor, ref_med))),
    }
    keys = ("fp1_uv", "fp2_uv", "reduction_fp1_pct", "reduction_fp2_pct", "avg_fp1_uv", "avg_fp2_uv",
            "reduction_avg_fp1_pct", "reduction_avg_fp2_pct", "alpha_uv2", "alpha_change_pct", "above_background_fp1_pct",
            "above_background_fp2_pct", "blink_free_change_pct", "meets_bars", "meets_bars_per_blink")  # fmt: skip
    rows: list[dict[str, Any]] = []
    for name, fn in _methods(raw, restorer, cleaners).items():
        if fn is None:
            rows.append({"method": name, **dict.fromkeys(keys), "seconds": None, "note": _SKIPPED, **common})
            continue
        est, secs, note = _run(fn)
        med, avg = blink_amplitudes(est[fp], blinks, sfreq)
        red = 0.0 - relative_change(med, ref_med)  # 0.0 - : no '-0.0' for the untouched input
        red_avg = 0.0 - relative_change(avg, ref_avg)
        alpha = band_power(est, sfreq, occ, keep=keep)
        change = relative_change(alpha, ref_alpha)
        alpha_ok = abs(change) < ALPHA_CHANGE_BAR
        # against the background: how much of each blink is left above what blink-free EEG reads (0 %: none,
        # 100 %: untouched; below 0: the background itself was removed), and how much blink-free EEG changed
        above = 100.0 * (med - floor) / (ref_med - floor)
        quiet_change = 100.0 * np.sqrt(np.mean((est[:, keep] - data[:, keep]) ** 2) / np.mean(data[:, keep] ** 2))
        values = (med[0] * 1e6, med[1] * 1e6, red[0], red[1], avg[0] * 1e6, avg[1] * 1e6, red_avg[0], red_avg[1],
                  alpha * 1e12, change, above[0], above[1], quiet_change)  # fmt: skip
        rows.append({
            "method": name,
            **{k: float(v) for k, v in zip(keys, values)},
            "meets_bars": bool(red_avg.min() >= BLINK_REDUCTION_BAR and alpha_ok),
            "meets_bars_per_blink": bool(red.min() >= BLINK_REDUCTION_BAR and alpha_ok),
            "seconds": secs,
            "note": note,
            **common,
        })  # fmt: skip
    return rows


def _pair(r: dict[str, Any], a: str, b: str, spec: str = ".1f") -> str:
    return "" if r[a] is None else f"{r[a]:{spec}} / {r[b]:{spec}}"


def _yes(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def blink_table(rows: Sequence[dict[str, Any]]) -> str:
    """Markdown table of :func:`blink_check` rows, with the bars of the issue as the first row."""
    bar = f">= {BLINK_REDUCTION_BAR:g}"
    body = [{
        "method": "bar (issue)", "blink-locked average Fp1 / Fp2 (uV)": "", "reduction (%)": f"{bar} / {bar}",
        "per-blink median Fp1 / Fp2 (uV)": "", "reduction per blink (%)": f"{bar} / {bar}",
        "alpha O1/Oz/O2 (uV^2)": "", "alpha change (%)": f"< {ALPHA_CHANGE_BAR:g} (abs)",
        "blink left above background Fp1 / Fp2 (%)": "", "blink-free EEG changed (% RMS)": "",
        "meets bars (average / per blink)": "", "note": "",
    }]  # fmt: skip
    for r in rows:
        body.append({
            "method": r["method"],
            "blink-locked average Fp1 / Fp2 (uV)": _pair(r, "avg_fp1_uv", "avg_fp2_uv"),
            "reduction (%)": _pair(r, "reduction_avg_fp1_pct", "reduction_avg_fp2_pct"),
            "per-blink median Fp1 / Fp2 (uV)": _pair(r, "fp1_uv", "fp2_uv"),
            "reduction per blink (%)": _pair(r, "reduction_fp1_pct", "reduction_fp2_pct"),
            "alpha O1/Oz/O2 (uV^2)": _fmt(r["alpha_uv2"], ".2f"),
            "alpha change (%)": _fmt(r["alpha_change_pct"], "+.1f"),
            "blink left above background Fp1 / Fp2 (%)": _pair(r, "above_background_fp1_pct", "above_background_fp2_pct"),
            "blink-free EEG changed (% RMS)": _fmt(r["blink_free_change_pct"], ".1f"),
            "meets bars (average / per blink)": "" if r["meets_bars"] is None
            else f"{_yes(r['meets_bars'])} / {_yes(r['meets_bars_per_blink'])}",
            "note": r.get("note") or "",
        })  # fmt: skip
    head = ""
    if rows:
        r0 = rows[0]
        head = (
            f"{r0['blinks']} blinks detected on the input (Fp1/Fp2). Blink amplitude: largest baseline-corrected "
            "(-0.5..-0.3 s) excursion within +-0.3 s of each blink peak, on the blink-locked average (the bar is judged "
            "on it: averaging cancels the background EEG) and as the median over single blinks. A single-blink reading "
            "never reaches zero: at blink-free times of the input it is "
            f"{r0['floor_fp1_uv']:.1f} / {r0['floor_fp2_uv']:.1f} uV on Fp1 / Fp2 (background EEG alone), so a perfect "
            f"cleaner would score about {r0['floor_reduction_pct']:.0f} % there, and one that also removed brain activity "
            "more. Measured against that background instead, \"blink left above background\" is the per-blink "
            "reading less the background's, as a share of the input's (0 %: the blinks are gone and the background "
            "kept; below 0: background removed too), and \"blink-free EEG changed\" the RMS change of the blink-free "
            "stretches, all channels, relative to their RMS. Alpha: 2 s Welch segments within the "
            f"{r0['blink_free_s']:.0f} s of blink-free signal (+-{r0['margin_s']:g} s around each blink left out).\n\n"
        )
    return head + markdown_table(body)


# ----------------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> str:
    """Run the three checks and print their report (it opens with its provenance); returns the text."""
    parser = argparse.ArgumentParser(prog="python3 -m benchmarks.eeg.checks", description=__doc__.splitlines()[0])
    parser.add_argument("--edf", type=Path, default=DEFAULT_EDF, help="real recording with blinks (S001R01.edf)")
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--quick", action="store_true", help="30 s simulations instead of 60 s")
    args = parser.parse_args(argv)
    seconds = 30.0 if args.quick else 60.0
    restorer = default_restorer()
    command = ["python3", "-m", "benchmarks.eeg.checks", *(sys.argv[1:] if argv is None else argv)]
    parts = ["# EEG room: downstream and real-blink checks\n",
             provenance(command, data=[args.edf] if args.edf.is_file() else [], libraries=["mne", "scikit-learn"])]  # fmt: skip
    if restorer is None:
        parts.append(f"wavediff {_SKIPPED}.\n")
    parts += [f"## Occipital alpha power, simulated ({seconds:g} s, 0 dB, seed {args.seed})\n",
              alpha_table(alpha_check(restorer, seed=args.seed, seconds=seconds)), ""]  # fmt: skip
    parts += [f"## Averaged ERP at Pz, simulated ({seconds:g} s, 0 dB, seed {args.seed})\n",
              erp_table(erp_check(restorer, seed=args.seed, seconds=seconds)), ""]  # fmt: skip
    if args.edf.is_file():
        parts += [f"## Real blinks: {args.edf.name}\n", blink_table(blink_check(args.edf, restorer)), ""]
    else:
        parts.append(f"Real blinks: {args.edf} not found; skipped.\n")
    text = "\n".join(parts)
    print(text)
    return text


if __name__ == "__main__":
    main()
