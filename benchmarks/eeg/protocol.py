"""The EEG benchmark's main semi-synthetic protocol and its tables.

EEGdenoiseNet's SNR definition and metrics: clean multichannel EEG is contaminated with EOG (blinks and
saccades) or EMG at SNR -7..2 dB, every method cleans the *same* contaminated recording, and RRMSE
temporal / spectral and the correlation coefficient are computed on every 2 s epoch of every channel
and averaged.

Clean EEG comes from (a) the simulator (a seed the model never saw) and (b) real recordings: every
``*.edf``/``*.fif`` of a folder, reduced to the 19 channels of the 10-20 system, from which the half
of the 2 s epochs with the smallest frontal (Fp1/Fp2) peak-to-peak amplitude, i.e. without blinks, are
kept and concatenated (256 Hz). Both are high-passed at 0.5 Hz first (``HIGHPASS_HZ``), as
EEGdenoiseNet band-passes its clean EEG: below that, a 2 s epoch cannot tell brain activity from
baseline drift.

Methods: the room's classical cleaners (:data:`~wavediff.modalities.eeg.cleaners.CLEANERS`: band-pass
1-40 Hz + notch, per-channel wavelet shrinkage, regression of frontal EOG proxies, ICA with automatic
rejection of ocular components alone and of ocular and muscle components, its unmixing allowed
:data:`ICA_MAX_ITER` iterations to converge) and wavediff. Wall time is
reported as a real-time factor (seconds of computing per second of recording).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import mne
import numpy as np
from wavediff.datasets.eeg import DEFAULT_CH_NAMES, simulate_raw
from wavediff.modalities.eeg.cleaners import Cleaner, classical_cleaners
from wavediff.modalities.eeg.metrics import cc, rrmse_spectral, rrmse_temporal

from wavediff import get_modality
from wavediff.report import markdown_table

__all__ = [
    "BENCH_CLEANERS",
    "EPOCH_S",
    "HIGHPASS_HZ",
    "ICA_MAX_ITER",
    "NOISY",
    "WAVEDIFF",
    "simulated_clean",
    "recording_files",
    "real_clean",
    "epoch_metrics",
    "methods",
    "cases",
    "run",
    "table",
    "per_snr",
]

EPOCH_S = 2.0
HIGHPASS_HZ = 0.5  # the clean reference of both arms, simulated and real, is high-passed here
NOISY = "noisy input"
WAVEDIFF = "wavediff"
ICA_MAX_ITER = 20000  # ICA compared at its best: MNE's "auto" stops FastICA after 1000 iterations, often before it converges
#: The room's classical cleaners as the benchmarks run them (ICA allowed :data:`ICA_MAX_ITER` iterations).
BENCH_CLEANERS: Mapping[str, Cleaner] = MappingProxyType(classical_cleaners(ica_max_iter=ICA_MAX_ITER))


def simulated_clean(seconds: float, seed: int) -> mne.io.BaseRaw:
    """The simulated arm's clean recording: 19 channels at 256 Hz, high-passed like the real arm."""
    raw = simulate_raw(n_seconds=seconds, sfreq=256.0, rng=seed).filter(HIGHPASS_HZ, None, verbose="error")
    raw.info["description"] += f"; high-passed at {HIGHPASS_HZ:g} Hz"
    return raw


def recording_files(folder: Path) -> list[Path]:
    """The files :func:`real_clean` reads from ``folder``: every ``*.edf`` and ``*.fif``, sorted."""
    return sorted([*Path(folder).glob("*.edf"), *Path(folder).glob("*.fif")])


def real_clean(folder: Path, sfreq_out: float = 256.0) -> list[mne.io.BaseRaw]:
    """Blink-free 2 s epochs (the quieter half at Fp1/Fp2) of the 10-20 channels of each recording, concatenated.

    Recordings with fewer than 10 of the 19 channels, or fewer than 5 blink-free epochs, are skipped.
    """
    out = []
    for path in recording_files(folder):
        raw = mne.io.read_raw(path, preload=True, verbose="error")
        mne.datasets.eegbci.standardize(raw)  # 'Fp1.' -> 'Fp1' for PhysioNet files; harmless otherwise
        names = [c for c in DEFAULT_CH_NAMES if c in raw.ch_names]
        if len(names) < 10:
            continue
        raw.pick(names).filter(HIGHPASS_HZ, None, verbose="error").resample(sfreq_out, verbose="error")
        data = raw.get_data()
        n = int(EPOCH_S * sfreq_out)
        frontal = [names.index(c) for c in ("Fp1", "Fp2") if c in names]
        starts = list(range(0, data.shape[1] - n + 1, n))
        ptp = np.array([np.ptp(data[frontal, i : i + n], axis=1).max() for i in starts])
        # blinks dominate frontal peak-to-peak: keep the quieter half of the epochs as "clean"
        keep = [data[:, i : i + n] for i, p in zip(starts, ptp) if p <= np.median(ptp)]
        if len(keep) < 5:
            continue
        info = mne.create_info(names, sfreq_out, "eeg")
        clean = mne.io.RawArray(np.concatenate(keep, axis=1), info, verbose="error")
        clean.set_montage("standard_1020", on_missing="ignore", verbose="error")
        clean.info["description"] = f"{path.name}: {len(keep)} blink-free epochs"
        out.append(clean)
    return out


def epoch_metrics(clean: np.ndarray, est: np.ndarray, sfreq: float) -> dict[str, float]:
    """RRMSE_t, RRMSE_s and CC of every 2 s epoch of every channel, averaged (a trailing partial epoch is left out)."""
    n = int(EPOCH_S * sfreq)
    usable = clean.shape[1] // n * n
    c, e = (a[:, :usable].reshape(a.shape[0], -1, n).reshape(-1, n) for a in (clean, est))
    return {
        "RRMSE_t": float(np.mean(rrmse_temporal(c, e))),
        "RRMSE_s": float(np.mean(rrmse_spectral(c, e, sfreq))),
        "CC": float(np.mean(cc(c, e))),
    }


def methods(
    raw: mne.io.BaseRaw, restorer: Any = None, cleaners: Mapping[str, Cleaner] = BENCH_CLEANERS
) -> dict[str, Callable[[], np.ndarray]]:
    """Every compared cleaner of ``raw``'s EEG channels, each run on call: ``cleaners`` in order, then wavediff.

    wavediff (``restorer.restore``) is left out when ``restorer`` is None. Each callable returns
    ``(n_eeg_channels, n_times)`` volts.
    """
    picks = mne.pick_types(raw.info, eeg=True, exclude=[])
    y = raw.get_data(picks)
    sfreq, names = raw.info["sfreq"], [raw.ch_names[p] for p in picks]
    out: dict[str, Callable[[], np.ndarray]] = {label: (lambda fn=fn: fn(y, sfreq, names)) for label, fn in cleaners.items()}
    if restorer is not None:
        out[WAVEDIFF] = lambda: restorer.restore(raw).get_data(picks)
    return out


def cases(recordings: Sequence[mne.io.BaseRaw], snrs: Sequence[float], seed: int) -> list[tuple[mne.io.BaseRaw, str, float, mne.io.BaseRaw]]:
    """(clean, artifact, snr, contaminated) for every recording, EOG and EMG, and SNR level, in that order.

    One generator seeded with ``seed`` draws every contamination, so a section given the same
    recordings, levels and seed cleans exactly the same contaminated data.
    """
    room, rng = get_modality("eeg"), np.random.default_rng(seed)
    return [(rec, a, s, room.degrade(rec, rng, artifact=a, snr_db=s)) for rec in recordings for a in ("eog", "emg") for s in snrs]


def run(
    recordings: Sequence[mne.io.BaseRaw],
    snrs: Sequence[float],
    restorer: Any,
    seed: int,
    cleaners: Mapping[str, Cleaner] = BENCH_CLEANERS,
) -> list[dict[str, Any]]:
    """One row per recording, artifact, SNR and method: ``method``, ``artifact``, ``snr_db``, metrics, ``rtf``.

    The methods are the untouched input, ``cleaners`` and wavediff (``restorer``; None leaves it out),
    all on the contaminated data of :func:`cases`; ``rtf`` is the wall time over the recording's duration.
    """
    rows = []
    for rec, artifact, snr, noisy in cases(recordings, snrs, seed):
        sfreq = rec.info["sfreq"]
        x = rec.get_data()
        duration = x.shape[1] / sfreq
        y = noisy.get_data()
        for name, fn in {NOISY: lambda: y, **methods(noisy, restorer, cleaners)}.items():
            t0 = time.perf_counter()
            est = fn()
            seconds = time.perf_counter() - t0
            rows.append({"method": name, "artifact": artifact, "snr_db": snr, **epoch_metrics(x, est, sfreq), "rtf": seconds / duration})
    return rows


def table(rows: Sequence[dict[str, Any]], title: str) -> str:
    """Per artifact and method: RRMSE_t, RRMSE_s and CC averaged over recordings and SNR levels, CC at 0 dB, real-time factor."""
    names = list(dict.fromkeys(r["method"] for r in rows))
    body = []
    for artifact in ("eog", "emg"):
        for m in names:
            sel = [r for r in rows if r["method"] == m and r["artifact"] == artifact]
            at0 = [r["CC"] for r in sel if r["snr_db"] == 0.0]
            body.append([m, artifact.upper(), *(f"{np.mean([r[k] for r in sel]):.3f}" for k in ("RRMSE_t", "RRMSE_s", "CC")),
                         f"{np.mean(at0) if at0 else float('nan'):.3f}", f"{np.mean([r['rtf'] for r in sel]):.4f}"])  # fmt: skip
    header = ["method", "artifact", "RRMSE_t", "RRMSE_s", "CC", "CC at 0 dB", "real-time factor"]
    return f"### {title}\n\n" + markdown_table(body, header)


def per_snr(rows: Sequence[dict[str, Any]], artifact: str) -> str:
    """RRMSE_t of each method at each SNR level for one artifact (mean over recordings)."""
    names = list(dict.fromkeys(r["method"] for r in rows))
    snrs = sorted({r["snr_db"] for r in rows})
    body = [
        [m, *(f"{np.mean([r['RRMSE_t'] for r in rows if r['method'] == m and r['artifact'] == artifact and r['snr_db'] == s]):.3f}" for s in snrs)]
        for m in names
    ]
    return markdown_table(body, [f"RRMSE_t, {artifact.upper()}", *(f"{s:g} dB" for s in snrs)])
