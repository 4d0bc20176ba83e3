"""The EEG benchmark's sections on the shipped model: settings, speed, clean EEG in, generalisation, coverage.

Each section is a function returning a markdown block; all run on the contaminated data of
:func:`.protocol.cases`, so given the same recordings, SNR levels and seed they clean exactly the data
of the main tables.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import mne
import numpy as np
from scipy.stats import t as student_t
from wavediff.datasets.eeg import simulate_raw
from wavediff.modalities.eeg.adapter import EEG
from wavediff.modalities.eeg.cleaners import CLEANERS, WAVELET

from wavediff.pipeline import Restorer
from wavediff.report import markdown_table

from .protocol import NOISY, WAVEDIFF, cases, epoch_metrics, methods

__all__ = ["BANDS", "COVERAGE_LEVELS", "band_power_ratios", "settings", "speed", "clean_in", "anonymous", "generalisation", "interval_coverage", "coverage"]

COVERAGE_LEVELS = (0.5, 0.9, 0.95)
_ESTIMATORS = (
    ("posterior mean (1 evaluation)", {}),
    ("1 draw, DPM-Solver++ 6 steps", {"steps": 6, "n_draws": 1}),
    ("mean of 4 draws, 6 steps", {"steps": 6, "n_draws": 4}),
)


def settings(recordings: Sequence[mne.io.BaseRaw], snrs: Sequence[float], seed: int, overlaps: Sequence[float] = (0.0, 0.25, 0.5)) -> str:
    """RRMSE_t, window-seam error and real-time factor of the shipped model for window overlaps and estimators.

    The estimators (posterior mean, one draw, mean of four draws) are compared at the room's default
    overlap (0.25) only; the other overlaps use the posterior mean.
    """
    cs = cases(recordings, snrs, seed)
    duration = sum(rec.n_times / rec.info["sfreq"] for rec, *_ in cs)
    body = []
    for overlap in overlaps:
        for label, kwargs in _ESTIMATORS:
            restorer = Restorer(EEG(overlap=overlap), steps=kwargs.get("steps"), seed=seed)
            err: dict[str, list[float]] = {"eog": [], "emg": []}
            seam, elsewhere, seconds = [], [], 0.0
            for rec, artifact, _, noisy in cs:
                t0 = time.perf_counter()
                if "n_draws" in kwargs:  # draws, even for one
                    tensor, ctx = restorer.modality.to_tensor(noisy)
                    est = restorer.modality.from_tensor(restorer.restore_tensor(tensor, kwargs["n_draws"]).mean(0), ctx).get_data()
                else:
                    est = restorer.restore(noisy).get_data()
                seconds += time.perf_counter() - t0
                x = rec.get_data()
                err[artifact].append(epoch_metrics(x, est, rec.info["sfreq"])["RRMSE_t"])
                slope = np.abs(np.diff(est - x, axis=1))
                hop = restorer.modality.hop  # model rate == recording rate here (256 Hz)
                seam.append(slope[:, np.arange(hop, slope.shape[1], hop) - 1].mean())
                elsewhere.append(slope.mean())
            body.append([f"{overlap:g}", label, f"{np.mean(err['eog']):.3f}", f"{np.mean(err['emg']):.3f}", f"{np.mean(seam) / np.mean(elsewhere):.2f}", f"{seconds / duration:.4f}"])
            if overlap != 0.25:
                break  # the estimators are compared at the default overlap only
    header = ["overlap", "estimate", "RRMSE_t EOG", "RRMSE_t EMG", "error slope at window seams / elsewhere", "real-time factor"]
    return "### Settings (shipped model)\n\n" + markdown_table(body, header)


def speed(seed: int, minutes: float = 10.0, repeats: int = 3, restorer: Any = None, recordings: Sequence[Path] = ()) -> str:
    """Wall time of the default restore of a 64-channel recording at 160 Hz (EEGMMIDB's format), simulated
    and, for each file of ``recordings``, real (the file's EEG channels repeated end to end to ``minutes``).

    ``restorer`` defaults to the shipped model (``Restorer("eeg", seed=seed)``). The real-time factor
    is the median wall time over the recording's duration.
    """
    import torch
    from wavediff.modalities.eeg.files import read_eeg

    names = mne.channels.make_standard_montage("biosemi64").ch_names
    minute = simulate_raw(n_seconds=60.0, sfreq=160.0, montage="biosemi64", ch_names=names, rng=seed)
    inputs = [("simulated", mne.io.RawArray(np.tile(minute.get_data(), int(round(minutes))), minute.info, verbose="error"))]
    for path in recordings:
        raw = read_eeg(Path(path), (".edf", ".fif", ".bdf")).pick("eeg")
        n = int(round(minutes * 60 * raw.info["sfreq"]))
        data = np.tile(raw.get_data(), -(-n // raw.n_times))[:, :n]
        inputs.append((f"real ({Path(path).name}, {raw.n_times / raw.info['sfreq']:g} s repeated)", mne.io.RawArray(data, raw.info, verbose="error")))
    restorer = Restorer("eeg", seed=seed) if restorer is None else restorer
    body = []
    for label, raw in inputs:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            restorer.restore(raw)
            times.append(time.perf_counter() - t0)
        median = float(np.median(times))
        duration = raw.n_times / raw.info["sfreq"]
        body.append([label, len(raw.ch_names), f"{duration / 60:g} min at {raw.info['sfreq']:g} Hz", f"{median:.1f}",
                     ", ".join(f"{t:.1f}" for t in times), f"{median / duration:.4f}"])  # fmt: skip
    header = ["EEG", "channels", "duration", f"median of {repeats} runs (s)", "runs (s)", "real-time factor"]
    return (
        f"### Speed\n\nDefault settings, {torch.get_num_threads()} CPU threads. Bar: under 60 s.\n\n" + markdown_table(body, header) + "\n"
    )


def clean_in(recordings: Sequence[mne.io.BaseRaw], seed: int) -> str:
    """What each method does to EEG without any artifact: RRMSE_t and CC of its output against its input.

    A cleaner should hand artifact-free EEG back nearly unchanged; every error here adds to every
    contaminated case, most visibly at high SNR.
    """
    restorer = Restorer("eeg", seed=seed)
    body = []
    for rec in recordings:
        source = rec.info["description"].split(":")[0]
        label = "simulated" if source.startswith("wavediff.datasets") else source
        x = rec.get_data()
        sfreq = rec.info["sfreq"]
        for name, fn in methods(rec, restorer).items():
            est = fn()
            m = epoch_metrics(x, est, sfreq)
            ratios = band_power_ratios(x, est, sfreq)
            body.append([label, name, f"{m['RRMSE_t']:.3f}", f"{m['CC']:.3f}", *(f"{ratios[b]:.3f}" for b in BANDS)])
    header = ["data", "method", "RRMSE_t vs input", "CC vs input", *(f"power out/in {b} {lo:g}-{hi:g} Hz" for b, (lo, hi) in BANDS.items())]
    note = (
        "Band powers by Welch's method (4 s Hann segments), summed over channels; a cleaner that leaves brain "
        "rhythms alone keeps every ratio near 1.\n\n"
    )
    return "### Clean EEG in (no artifact added)\n\n" + note + markdown_table(body, header)


BANDS = {"delta": (0.5, 4.0), "theta": (4.0, 8.0), "alpha": (8.0, 13.0), "beta": (13.0, 30.0), "gamma": (30.0, 45.0)}


def band_power_ratios(reference: np.ndarray, estimate: np.ndarray, sfreq: float) -> dict[str, float]:
    """Output/input power in each band of :data:`BANDS` (Welch, 4 s Hann segments, summed over channels).

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(2, 2560))
    >>> round(band_power_ratios(x, 0.5 * x, 256.0)["alpha"], 6)
    0.25
    """
    from scipy.signal import welch

    nper = min(reference.shape[-1], int(4 * sfreq))
    f, p_ref = welch(reference, sfreq, nperseg=nper)
    _, p_est = welch(estimate, sfreq, nperseg=nper)
    out = {}
    for band, (lo, hi) in BANDS.items():
        sel = (f >= lo) & (f < hi)
        out[band] = float(p_est[..., sel].sum() / p_ref[..., sel].sum())
    return out


def anonymous(raw: mne.io.BaseRaw) -> mne.io.BaseRaw:
    """A copy of ``raw`` without montage and with channel names ``EEG 000``, ``EEG 001``, ..."""
    out = raw.copy().set_montage(None)
    mne.rename_channels(out.info, {c: f"EEG {i:03d}" for i, c in enumerate(out.ch_names)})
    return out


def generalisation(recordings: Sequence[mne.io.BaseRaw], snrs: Sequence[float], seed: int) -> str:
    """The shipped model on EEG unlike its training data: other rates, no montage, one channel.

    Each recording is contaminated as in the main protocol; then the clean and the contaminated
    versions undergo the same change (resampling, montage and names removed, one channel kept).
    """
    restorer = Restorer("eeg", seed=seed)
    variants = {f"resampled to {rate:g} Hz": (lambda r, rate=rate: r.copy().resample(rate, verbose="error")) for rate in (128.0, 160.0, 512.0)}
    variants["no montage, anonymous channel names"] = anonymous
    for ch in ("Fp1", "Cz", "O1"):
        variants[f"single channel ({ch} alone)"] = lambda r, ch=ch: r.copy().pick([ch])
    cs = cases(recordings, snrs, seed)
    wavelet = CLEANERS[WAVELET]
    body = []
    for label, change in variants.items():
        res: dict[tuple[str, str], list[float]] = {}
        for rec, artifact, _, noisy in cs:
            clean, degraded = change(rec), change(noisy)
            sfreq, x, y = clean.info["sfreq"], clean.get_data(), degraded.get_data()
            for name, est in ((NOISY, y), (WAVELET, wavelet(y, sfreq, degraded.ch_names)), (WAVEDIFF, restorer.restore(degraded).get_data())):
                res.setdefault((name, artifact), []).append(epoch_metrics(x, est, sfreq)["RRMSE_t"])
        for name in (NOISY, WAVELET, WAVEDIFF):
            body.append([label, name, f"{np.mean(res[(name, 'eog')]):.3f}", f"{np.mean(res[(name, 'emg')]):.3f}"])
    return "### Generalisation\n\n" + markdown_table(body, ["data", "method", "RRMSE_t EOG", "RRMSE_t EMG"])


def interval_coverage(
    clean: np.ndarray, mean: np.ndarray, std: np.ndarray, n_draws: int, levels: Sequence[float] = COVERAGE_LEVELS
) -> tuple[dict[float, float], float]:
    """Fraction of ``clean`` samples inside the draws' predictive intervals, and RMS error / RMS predicted spread.

    ``mean`` and ``std`` are the mean and (sample) standard deviation of ``n_draws`` posterior draws.
    A new draw lies around that mean with spread ``std * sqrt(1 + 1/n)`` and, for Gaussian draws,
    ``(x - mean) / (std sqrt(1 + 1/n))`` follows Student's t with ``n - 1`` degrees of freedom: the
    interval at level ``p`` is ``mean +- t_{n-1}(0.5 + p/2) * std * sqrt(1 + 1/n)``. Calibrated draws
    give fractions equal to the levels and a ratio of 1.
    """
    err = np.abs(np.asarray(clean) - np.asarray(mean))
    spread = np.asarray(std) * np.sqrt(1 + 1 / n_draws)
    inside = {p: float(np.mean(err <= student_t.ppf(0.5 + p / 2, n_draws - 1) * spread)) for p in levels}
    return inside, float(np.sqrt(np.mean(err**2)) / np.sqrt(np.mean(spread**2)))


def coverage(
    recordings: Sequence[mne.io.BaseRaw],
    snrs: Sequence[float],
    seed: int,
    n_draws: int = 6,
    steps: tuple[int | None, ...] = (6, None),
    channels: tuple[str, ...] = ("Fp1", "F7", "T7", "Cz", "O1", "O2"),
    seconds: float = 30.0,
) -> str:
    """How often the clean EEG falls inside the draws' intervals (:func:`interval_coverage`), against the nominal level.

    Recordings are contaminated on the full montage; the first ``seconds`` of the whole montage are
    restored (long enough for the model's ICA context, short enough to keep the cost of ``n_draws``
    full sampler runs bounded) and the intervals are scored on ``channels`` (those present; averaged
    over cases). ``steps``: the sampler step counts compared (None: the recipe's).
    """
    cropped = []
    for rec, artifact, _, noisy in cases(recordings, snrs, seed):
        keep = [rec.ch_names.index(c) for c in channels if c in rec.ch_names] or [0]
        tmax = min(seconds, rec.times[-1])
        cropped.append((artifact, keep, rec.copy().crop(tmax=tmax), noisy.copy().crop(tmax=tmax)))
    body = []
    for n_steps in steps:
        restorer = Restorer("eeg", steps=n_steps, n_draws=n_draws, seed=seed)
        inside: dict[tuple[str, float], list[float]] = {(a, p): [] for a in ("eog", "emg") for p in COVERAGE_LEVELS}
        ratio: dict[str, list[float]] = {"eog": [], "emg": []}
        for artifact, keep, clean, noisy in cropped:
            mean, std = restorer.restore(noisy, return_std=True)
            fractions, r = interval_coverage(clean.get_data(keep), mean.get_data(keep), std.get_data(keep), n_draws)
            for p in COVERAGE_LEVELS:
                inside[(artifact, p)].append(fractions[p])
            ratio[artifact].append(r)
        levels = ", ".join(f"{s:g}" for s in snrs) + " dB"
        body += [[f"{restorer.sampler}, {restorer.steps} steps", a.upper(), levels, *(f"{np.mean(inside[(a, p)]):.3f}" for p in COVERAGE_LEVELS), f"{np.mean(ratio[a]):.2f}"] for a in ("eog", "emg")]
    header = ["sampler", "artifact", "SNR levels run", *(f"coverage, nominal {p:g}" for p in COVERAGE_LEVELS), "RMS error / RMS predicted spread"]
    return (
        f"### Uncertainty coverage\n\n{n_draws} posterior draws of the first {seconds:g} s of the whole montage, scored on {', '.join(channels)}; "
        "per-sample interval mean +- t(n-1) * std * sqrt(1 + 1/n); fraction of clean samples inside it "
        "(calibrated: equal to the nominal level, and error / spread = 1).\n\n" + markdown_table(body, header)
    )
