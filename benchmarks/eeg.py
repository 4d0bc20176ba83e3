"""EEG room: the learned restorer beside the classical methods and the untouched input.

Usage::

    python3 benchmarks/eeg.py [--data ../shared/data/eeg] [--quick] [--out benchmarks/results/eeg.md]

Semi-synthetic protocol (EEGdenoiseNet's SNR definition and metrics): clean multichannel EEG is
contaminated with EOG (blinks and saccades) or EMG at SNR -7..2 dB, every method cleans the *same*
contaminated recording, and RRMSE temporal / spectral and the correlation coefficient are computed on
every 2 s epoch of every channel and averaged.

Clean EEG comes from (a) the simulator (a seed the model never saw) and (b) with ``--data``, real
recordings: every ``*.edf``/``*.fif`` in the folder, reduced to the 19 channels of the 10-20 system,
from which the half of the 2 s epochs with the smallest frontal (Fp1/Fp2) peak-to-peak amplitude, i.e.
without blinks, are kept and concatenated (0.5 Hz high-pass, 256 Hz).
Methods: band-pass 1-40 Hz + notch, per-channel wavelet shrinkage, ICA with automatic EOG/EMG rejection,
and wavediff (shipped model, mean of the draws). Wall time is reported as a real-time factor.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import mne
import numpy as np
from wavediff.datasets.eeg import DEFAULT_CH_NAMES, simulate_raw
from wavediff.modalities.eeg.baselines import bandpass_notch, ica_clean, wavelet_denoise
from wavediff.modalities.eeg.metrics import cc, rrmse_spectral, rrmse_temporal

from wavediff import get_modality
from wavediff.report import markdown_table, write_report

EPOCH_S = 2.0


def real_clean(folder: Path, sfreq_out: float = 256.0) -> list[mne.io.BaseRaw]:
    """Blink-free 2 s epochs (the quieter half at Fp1/Fp2) of the 10-20 channels of each recording, concatenated."""
    out = []
    for path in sorted([*folder.glob("*.edf"), *folder.glob("*.fif")]):
        raw = mne.io.read_raw(path, preload=True, verbose="error")
        mne.datasets.eegbci.standardize(raw)  # 'Fp1.' -> 'Fp1' for PhysioNet files; harmless otherwise
        names = [c for c in DEFAULT_CH_NAMES if c in raw.ch_names]
        if len(names) < 10:
            continue
        raw.pick(names).filter(0.5, None, verbose="error").resample(sfreq_out, verbose="error")
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
    n = int(EPOCH_S * sfreq)
    usable = clean.shape[1] // n * n
    seg = lambda a: a[:, :usable].reshape(a.shape[0], -1, n).reshape(-1, n)  # noqa: E731
    c, e = seg(clean), seg(est)
    return {
        "RRMSE_t": float(np.mean(rrmse_temporal(c, e))),
        "RRMSE_s": float(np.mean(rrmse_spectral(c, e, sfreq))),
        "CC": float(np.mean(cc(c, e))),
    }


def run(recordings: list[mne.io.BaseRaw], snrs: list[float], n_samples: int, seed: int) -> list[dict]:
    room = get_modality("eeg")
    have_model = room.weights_path().is_file()
    restorer = None
    if have_model:
        from wavediff.pipeline import Restorer

        restorer = Restorer(room, n_samples=n_samples, seed=seed)
    rows = []
    rng = np.random.default_rng(seed)
    for rec in recordings:
        sfreq, names = rec.info["sfreq"], rec.ch_names
        x = rec.get_data()
        duration = x.shape[1] / sfreq
        for artifact in ("eog", "emg"):
            for snr in snrs:
                noisy = room.degrade(rec, rng, artifact=artifact, snr_db=snr)
                y = noisy.get_data()
                methods = {
                    "noisy input": lambda: y,
                    "band-pass + notch": lambda: bandpass_notch(y, sfreq),
                    "wavelet (SureShrink)": lambda: wavelet_denoise(y, sfreq),
                    "ICA (auto EOG/EMG)": lambda: ica_clean(y, sfreq, names),
                }
                if restorer is not None:
                    methods["wavediff"] = lambda: restorer.restore(noisy).get_data()
                for name, fn in methods.items():
                    t0 = time.perf_counter()
                    est = fn()
                    seconds = time.perf_counter() - t0
                    rows.append({"method": name, "artifact": artifact, "snr_db": snr, **epoch_metrics(x, est, sfreq), "rtf": seconds / duration})
    return rows


def table(rows: list[dict], title: str) -> str:
    methods = list(dict.fromkeys(r["method"] for r in rows))
    body = []
    for artifact in ("eog", "emg"):
        for m in methods:
            sel = [r for r in rows if r["method"] == m and r["artifact"] == artifact]
            at0 = [r["CC"] for r in sel if r["snr_db"] == 0.0]
            body.append([m, artifact.upper(), *(f"{np.mean([r[k] for r in sel]):.3f}" for k in ("RRMSE_t", "RRMSE_s", "CC")),
                         f"{np.mean(at0) if at0 else float('nan'):.3f}", f"{np.mean([r['rtf'] for r in sel]):.4f}"])  # fmt: skip
    header = ["method", "artifact", "RRMSE_t", "RRMSE_s", "CC", "CC at 0 dB", "real-time factor"]
    return f"### {title}\n\n" + markdown_table(body, header)


def per_snr(rows: list[dict], artifact: str) -> str:
    methods = list(dict.fromkeys(r["method"] for r in rows))
    snrs = sorted({r["snr_db"] for r in rows})
    body = [
        [m, *(f"{np.mean([r['RRMSE_t'] for r in rows if r['method'] == m and r['artifact'] == artifact and r['snr_db'] == s]):.3f}" for s in snrs)]
        for m in methods
    ]
    return markdown_table(body, [f"RRMSE_t, {artifact.upper()}", *(f"{s:g} dB" for s in snrs)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="folder of real EEG recordings (EDF/FIF)")
    parser.add_argument("--quick", action="store_true", help="three SNR levels and shorter recordings")
    parser.add_argument("--samples", type=int, default=1, help="posterior draws averaged by wavediff")
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "eeg.md")
    args = parser.parse_args()

    snrs = [-7.0, -3.0, 0.0, 2.0] if args.quick else [float(s) for s in range(-7, 3)]
    seconds = 20.0 if args.quick else 40.0
    room = get_modality("eeg")
    parts = [
        "# EEG room benchmark\n",
        f"Generated by `python3 benchmarks/eeg.py{' --data ' + str(args.data) if args.data else ''}{' --quick' if args.quick else ''}`. "
        f"SNR levels {snrs[0]:g}..{snrs[-1]:g} dB (EEGdenoiseNet definition); metrics per 2 s epoch and channel, averaged "
        "over epochs, channels and SNR levels.\n",
    ]
    if room.weights_path().is_file():
        import json

        info = json.loads(room.weights_path().with_suffix(".json").read_text())["info"]
        parts.append(f"Model: `{info['command']}` ({info['steps']} steps, seed {info['seed']}); wavediff = mean of {args.samples} draw(s).\n")
    else:
        parts.append("No shipped model: only the classical methods are compared.\n")
    sim = simulate_raw(n_seconds=seconds, sfreq=256.0, rng=args.seed)
    sim_rows = run([sim], snrs, args.samples, args.seed)
    parts += [table(sim_rows, f"Simulated 19-channel EEG ({seconds:g} s, seed {args.seed}, not used in training)"), "", per_snr(sim_rows, "eog"), "", per_snr(sim_rows, "emg"), ""]
    if args.data:
        recs = real_clean(args.data)
        if args.quick:
            recs = [r.crop(tmax=min(r.times[-1], seconds)) for r in recs]
        real_rows = run(recs, snrs, args.samples, args.seed)
        described = "; ".join(r.info["description"] for r in recs)
        parts += [table(real_rows, f"Real EEG, semi-synthetic ({described})"), "", per_snr(real_rows, "eog"), "", per_snr(real_rows, "emg"), ""]
    parts.append("Published anchors (EEGdenoiseNet, other data, indicative only): EOG best RRMSE_t 0.336 / RRMSE_s 0.343 / CC 0.923; EMG best 0.561 / 0.521 / 0.816.\n")
    report = "\n".join(parts)
    print(report)
    print(f"written to {write_report(args.out, report)}")


if __name__ == "__main__":
    main()
