"""EEG room: the learned restorer beside the classical methods and the untouched input.

Usage::

    python3 benchmarks/eeg.py [--data ../shared/data/eeg] [--eegdenoisenet DIR] [--quick] [--out benchmarks/results/eeg.md]

Semi-synthetic protocol (EEGdenoiseNet's SNR definition and metrics): clean multichannel EEG is
contaminated with EOG (blinks and saccades) or EMG at SNR -7..2 dB, every method cleans the *same*
contaminated recording, and RRMSE temporal / spectral and the correlation coefficient are computed on
every 2 s epoch of every channel and averaged.

Clean EEG comes from (a) the simulator (a seed the model never saw) and (b) with ``--data``, real
recordings: every ``*.edf``/``*.fif`` in the folder, reduced to the 19 channels of the 10-20 system,
from which the half of the 2 s epochs with the smallest frontal (Fp1/Fp2) peak-to-peak amplitude, i.e.
without blinks, are kept and concatenated (256 Hz). Both are high-passed at 0.5 Hz first
(``HIGHPASS_HZ``), as EEGdenoiseNet band-passes its clean EEG: below that, a 2 s epoch cannot tell
brain activity from baseline drift.
Methods: band-pass 1-40 Hz + notch, per-channel wavelet shrinkage, regression of frontal EOG proxies
(Gratton; MNE's EOGRegression), ICA with automatic rejection of ocular components (Fp1/Fp2 and F7 - F8
as EOG proxies) alone and of ocular and muscle components, and wavediff (shipped model, posterior
mean). Wall time is reported as a real-time factor.

Further sections: settings (window overlap, posterior mean vs draws), speed (64 channels, 10 min at
160 Hz), generalisation (other rates, no montage, single channels), uncertainty coverage, downstream
alpha power and ERP and, when ``--data`` holds S001R01.edf, its real blinks (``eeg_checks.py``); with
``--eegdenoisenet``, EEGdenoiseNet's own protocol on its files (``eeg_denoisenet.py``).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mne
import numpy as np
from wavediff.datasets.eeg import DEFAULT_CH_NAMES, simulate_raw
from wavediff.modalities.eeg.baselines import bandpass_notch, eog_regression, ica_clean, wavelet_denoise
from wavediff.modalities.eeg.metrics import cc, rrmse_spectral, rrmse_temporal

from wavediff import get_modality
from wavediff.report import markdown_table, write_report

EPOCH_S = 2.0
HIGHPASS_HZ = 0.5  # the clean reference of both arms, simulated and real, is high-passed here


def simulated_clean(seconds: float, seed: int) -> mne.io.BaseRaw:
    """The simulated arm's clean recording: 19 channels at 256 Hz, high-passed like the real arm."""
    raw = simulate_raw(n_seconds=seconds, sfreq=256.0, rng=seed).filter(HIGHPASS_HZ, None, verbose="error")
    raw.info["description"] += f"; high-passed at {HIGHPASS_HZ:g} Hz"
    return raw


def real_clean(folder: Path, sfreq_out: float = 256.0) -> list[mne.io.BaseRaw]:
    """Blink-free 2 s epochs (the quieter half at Fp1/Fp2) of the 10-20 channels of each recording, concatenated."""
    out = []
    for path in sorted([*folder.glob("*.edf"), *folder.glob("*.fif")]):
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
    n = int(EPOCH_S * sfreq)
    usable = clean.shape[1] // n * n
    seg = lambda a: a[:, :usable].reshape(a.shape[0], -1, n).reshape(-1, n)  # noqa: E731
    c, e = seg(clean), seg(est)
    return {
        "RRMSE_t": float(np.mean(rrmse_temporal(c, e))),
        "RRMSE_s": float(np.mean(rrmse_spectral(c, e, sfreq))),
        "CC": float(np.mean(cc(c, e))),
    }


def run(recordings: list[mne.io.BaseRaw], snrs: list[float], n_draws: int, seed: int) -> list[dict]:
    room = get_modality("eeg")
    have_model = room.weights_path().is_file()
    restorer = None
    if have_model:
        from wavediff.pipeline import Restorer

        restorer = Restorer(room, n_draws=n_draws, seed=seed)
    rows = []
    rng = np.random.default_rng(seed)
    for rec in recordings:
        sfreq = rec.info["sfreq"]
        x = rec.get_data()
        duration = x.shape[1] / sfreq
        for artifact in ("eog", "emg"):
            for snr in snrs:
                noisy = room.degrade(rec, rng, artifact=artifact, snr_db=snr)
                y = noisy.get_data()
                methods = {"noisy input": lambda: y, **_methods(noisy, restorer)}
                for name, fn in methods.items():
                    t0 = time.perf_counter()
                    est = fn()
                    seconds = time.perf_counter() - t0
                    rows.append({"method": name, "artifact": artifact, "snr_db": snr, **epoch_metrics(x, est, sfreq), "rtf": seconds / duration})
    return rows


def _methods(raw: mne.io.BaseRaw, restorer: Any) -> dict[str, Callable[[], np.ndarray]]:
    """Every compared cleaner of ``raw`` (the classical ones, then wavediff unless ``restorer`` is None), each run on call."""
    sfreq, names, y = raw.info["sfreq"], raw.ch_names, raw.get_data()
    methods = {
        "band-pass + notch": lambda: bandpass_notch(y, sfreq),
        "wavelet (SureShrink)": lambda: wavelet_denoise(y, sfreq),
        "EOG regression (Fp1/Fp2, F7-F8)": lambda: eog_regression(y, sfreq, names),
        "ICA (auto EOG)": lambda: ica_clean(y, sfreq, names, reject_emg=False),
        "ICA (auto EOG/EMG)": lambda: ica_clean(y, sfreq, names),
    }
    if restorer is not None:
        methods["wavediff"] = lambda: restorer.restore(raw).get_data()
    return methods


def _cases(recordings: list[mne.io.BaseRaw], snrs: list[float], seed: int) -> list[tuple[mne.io.BaseRaw, str, float, mne.io.BaseRaw]]:
    """(clean, artifact, snr, contaminated) for every recording, EOG and EMG, and SNR level."""
    room, rng = get_modality("eeg"), np.random.default_rng(seed)
    return [(rec, a, s, room.degrade(rec, rng, artifact=a, snr_db=s)) for rec in recordings for a in ("eog", "emg") for s in snrs]


def settings(recordings: list[mne.io.BaseRaw], snrs: list[float], seed: int) -> str:
    """RRMSE_t and real-time factor of the shipped model for window overlaps and estimators."""
    from wavediff.modalities.eeg.adapter import EEG

    from wavediff.pipeline import Restorer

    cases = _cases(recordings, snrs, seed)
    duration = sum(rec.times[-1] + 1 / rec.info["sfreq"] for rec, *_ in cases)
    body = []
    for overlap in (0.0, 0.25, 0.5):
        for label, kwargs in (("posterior mean (1 evaluation)", {}), ("1 draw, DPM-Solver++ 6 steps", {"steps": 6, "n_draws": 1}), ("mean of 4 draws, 6 steps", {"steps": 6, "n_draws": 4})):
            restorer = Restorer(EEG(overlap=overlap), steps=kwargs.get("steps"), seed=seed)
            err = {"eog": [], "emg": []}
            seam, elsewhere, seconds = [], [], 0.0
            for rec, artifact, _, noisy in cases:
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


def speed(seed: int, minutes: float = 10.0, repeats: int = 3) -> str:
    """Wall time of the default restore of a 64-channel recording at 160 Hz (EEGMMIDB's format)."""
    from wavediff.pipeline import Restorer

    names = mne.channels.make_standard_montage("biosemi64").ch_names
    minute = simulate_raw(n_seconds=60.0, sfreq=160.0, montage="biosemi64", ch_names=names, rng=seed)
    raw = mne.io.RawArray(np.tile(minute.get_data(), int(round(minutes))), minute.info, verbose="error")
    restorer = Restorer("eeg", seed=seed)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        restorer.restore(raw)
        times.append(time.perf_counter() - t0)
    median = float(np.median(times))
    import torch

    return (
        f"### Speed\n\n64 channels, {minutes:g} min at 160 Hz, default settings, {torch.get_num_threads()} CPU threads: "
        f"median of {repeats} runs {median:.1f} s (runs: {', '.join(f'{t:.1f}' for t in times)}), real-time factor "
        f"{median / (minutes * 60):.4f}. Bar: under 60 s.\n"
    )


def clean_in(recordings: list[mne.io.BaseRaw], seed: int) -> str:
    """What each method does to EEG without any artifact: RRMSE_t and CC of its output against its input.

    A cleaner should hand artifact-free EEG back nearly unchanged; every error here adds to every
    contaminated case, most visibly at high SNR.
    """
    from wavediff.pipeline import Restorer

    restorer = Restorer("eeg", seed=seed)
    body = []
    for rec in recordings:
        source = rec.info["description"].split(":")[0]
        label = "simulated" if source.startswith("wavediff.datasets") else source
        x = rec.get_data()
        for name, fn in _methods(rec, restorer).items():
            m = epoch_metrics(x, fn(), rec.info["sfreq"])
            body.append([label, name, f"{m['RRMSE_t']:.3f}", f"{m['CC']:.3f}"])
    return "### Clean EEG in (no artifact added)\n\n" + markdown_table(body, ["data", "method", "RRMSE_t vs input", "CC vs input"])


def _anonymous(raw: mne.io.BaseRaw) -> mne.io.BaseRaw:
    out = raw.copy().set_montage(None)
    mne.rename_channels(out.info, {c: f"EEG {i:03d}" for i, c in enumerate(out.ch_names)})
    return out


def generalisation(recordings: list[mne.io.BaseRaw], snrs: list[float], seed: int) -> str:
    """The shipped model on EEG unlike its training data: other rates, no montage, one channel.

    Each recording is contaminated as in the main protocol; then the clean and the contaminated
    versions undergo the same change (resampling, montage and names removed, one channel kept).
    """
    from wavediff.pipeline import Restorer

    restorer = Restorer("eeg", seed=seed)
    variants = {f"resampled to {rate:g} Hz": (lambda r, rate=rate: r.copy().resample(rate, verbose="error")) for rate in (128.0, 160.0, 512.0)}
    variants["no montage, anonymous channel names"] = _anonymous
    for ch in ("Fp1", "Cz", "O1"):
        variants[f"single channel ({ch} alone)"] = lambda r, ch=ch: r.copy().pick([ch])
    cases = _cases(recordings, snrs, seed)
    body = []
    for label, change in variants.items():
        res: dict[tuple[str, str], list[float]] = {}
        for rec, artifact, _, noisy in cases:
            clean, degraded = change(rec), change(noisy)
            sfreq, x, y = clean.info["sfreq"], clean.get_data(), degraded.get_data()
            for name, est in (("noisy input", y), ("wavelet (SureShrink)", wavelet_denoise(y, sfreq)), ("wavediff", restorer.restore(degraded).get_data())):
                res.setdefault((name, artifact), []).append(epoch_metrics(x, est, sfreq)["RRMSE_t"])
        for name in ("noisy input", "wavelet (SureShrink)", "wavediff"):
            body.append([label, name, f"{np.mean(res[(name, 'eog')]):.3f}", f"{np.mean(res[(name, 'emg')]):.3f}"])
    return "### Generalisation\n\n" + markdown_table(body, ["data", "method", "RRMSE_t EOG", "RRMSE_t EMG"])


def coverage(
    recordings: list[mne.io.BaseRaw],
    snrs: list[float],
    seed: int,
    n_draws: int = 6,
    steps: tuple[int | None, ...] = (6, None),
    channels: tuple[str, ...] = ("Fp1", "F7", "T7", "Cz", "O1", "O2"),
    seconds: float = 30.0,
) -> str:
    """How often the clean EEG falls inside the draws' intervals, against the nominal level.

    Recordings are contaminated on the full montage; the first ``seconds`` of the whole montage are
    restored (long enough for the model's ICA context, short enough to keep the cost of ``n_draws``
    full sampler runs bounded) and the intervals are scored on ``channels`` (those present).
    ``steps``: the sampler step counts compared (None: the recipe's).
    """
    from scipy.stats import t

    from wavediff.pipeline import Restorer

    levels = (0.5, 0.9, 0.95)
    cases = []
    for rec, artifact, _, noisy in _cases(recordings, snrs, seed):
        keep = [rec.ch_names.index(c) for c in channels if c in rec.ch_names] or [0]
        tmax = min(seconds, rec.times[-1])
        cases.append((artifact, keep, rec.copy().crop(tmax=tmax), noisy.copy().crop(tmax=tmax)))
    body = []
    for n_steps in steps:
        restorer = Restorer("eeg", steps=n_steps, n_draws=n_draws, seed=seed)
        inside = {(a, p): [] for a in ("eog", "emg") for p in levels}
        ratio = {"eog": [], "emg": []}
        for artifact, keep, clean, noisy in cases:
            mean, std = restorer.restore(noisy, return_std=True)
            err = np.abs(clean.get_data(keep) - mean.get_data(keep))
            s = std.get_data(keep) * np.sqrt(1 + 1 / n_draws)  # predictive spread of a new draw around the mean of n
            for p in levels:
                inside[(artifact, p)].append(float(np.mean(err <= t.ppf(0.5 + p / 2, n_draws - 1) * s)))
            ratio[artifact].append(float(np.sqrt(np.mean(err**2)) / np.sqrt(np.mean(s**2))))
        body += [[f"{restorer.sampler}, {restorer.steps} steps", a.upper(), *(f"{np.mean(inside[(a, p)]):.3f}" for p in levels), f"{np.mean(ratio[a]):.2f}"] for a in ("eog", "emg")]
    header = ["sampler", "artifact", *(f"coverage, nominal {p:g}" for p in levels), "RMS error / RMS predicted spread"]
    return (
        f"### Uncertainty coverage\n\n{n_draws} posterior draws of the first {seconds:g} s of the whole montage, scored on {', '.join(channels)}; "
        "per-sample interval mean +- t(n-1) * std * sqrt(1 + 1/n); fraction of clean samples inside it "
        "(calibrated: equal to the nominal level, and error / spread = 1).\n\n" + markdown_table(body, header)
    )


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
    parser.add_argument("--eegdenoisenet", type=Path, default=None, help="folder with EEGdenoiseNet's three .npy files: run its exact protocol")
    parser.add_argument("--quick", action="store_true", help="three SNR levels and shorter recordings")
    parser.add_argument("--draws", type=int, default=1, help="posterior draws averaged by wavediff (1: the direct posterior mean)")
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "eeg.md")
    args = parser.parse_args()

    snrs = [-7.0, -3.0, 0.0, 2.0] if args.quick else [float(s) for s in range(-7, 3)]
    few_snrs = [-7.0, -4.0, -1.0, 2.0]
    seconds = 20.0 if args.quick else 40.0
    room = get_modality("eeg")
    command = "python3 benchmarks/eeg.py" + "".join(f" --{k} {v}" for k, v in (("data", args.data), ("eegdenoisenet", args.eegdenoisenet)) if v) + (" --quick" if args.quick else "")
    parts = [
        "# EEG room benchmark\n",
        f"Generated by `{command}`. SNR levels {snrs[0]:g}..{snrs[-1]:g} dB (EEGdenoiseNet definition); metrics per 2 s epoch "
        "and channel, averaged over epochs, channels and SNR levels.\n",
    ]
    if not room.weights_path().is_file():
        parts.append("No shipped model: only the classical methods are compared.\n")
        sim_rows = run([simulated_clean(seconds, args.seed)], snrs, args.draws, args.seed)
        parts.append(table(sim_rows, f"Simulated 19-channel EEG, high-passed at {HIGHPASS_HZ:g} Hz"))
        print("\n".join(parts))
        return
    import json

    info = json.loads(room.weights_path().with_suffix(".json").read_text())["info"]
    estimate = "the direct posterior mean (one network evaluation)" if args.draws == 1 else f"mean of {args.draws} draws"
    parts.append(f"Model: `{info['command']}` ({info['steps']} steps, seed {info['seed']}); wavediff = {estimate}.\n")
    sim = simulated_clean(seconds, args.seed)
    sim_rows = run([sim], snrs, args.draws, args.seed)
    parts += [table(sim_rows, f"Simulated 19-channel EEG ({seconds:g} s, seed {args.seed}, not used in training, high-passed at {HIGHPASS_HZ:g} Hz)"), "", per_snr(sim_rows, "eog"), "", per_snr(sim_rows, "emg"), ""]
    recs = [sim]
    if args.data:
        recs = real_clean(args.data)
        if args.quick:
            recs = [r.crop(tmax=min(r.times[-1], seconds)) for r in recs]
        real_rows = run(recs, snrs, args.draws, args.seed)
        described = "; ".join(r.info["description"] for r in recs)
        parts += [table(real_rows, f"Real EEG, semi-synthetic ({described})"), "", per_snr(real_rows, "eog"), "", per_snr(real_rows, "emg"), ""]
    parts.append("Published anchors (EEGdenoiseNet, other data, indicative only): EOG best RRMSE_t 0.336 / RRMSE_s 0.343 / CC 0.923; EMG best 0.561 / 0.521 / 0.816.\n")
    short = [r.copy().crop(tmax=min(r.times[-1], 20.0 if args.quick else 40.0)) for r in recs]
    source = "real EEG" if args.data else "simulated EEG"
    parts += [f"The sections below use {source} at SNR {', '.join(f'{s:g}' for s in few_snrs)} dB.\n", settings(short, few_snrs, args.seed), "", speed(args.seed, repeats=1 if args.quick else 3)]
    parts += [clean_in([sim, *recs] if args.data else recs, args.seed), ""]
    parts += [generalisation(short, few_snrs, args.seed), "", coverage(short, few_snrs[1:3], args.seed), ""]
    parts += _optional_sections(args)
    report = "\n".join(parts)
    print(report)
    print(f"written to {write_report(args.out, report)}")


def _optional_sections(args: argparse.Namespace) -> list[str]:
    """Downstream measures, real blinks (S001R01 in --data) and the EEGdenoiseNet protocol."""
    import eeg_checks  # benchmarks/ is on the path when this file runs as a script

    from wavediff.pipeline import Restorer

    restorer = Restorer("eeg", seed=args.seed)
    out = ["### Downstream: occipital alpha power (simulated 19-channel EEG, 60 s, SNR 0 dB)\n"]
    out += [eeg_checks.alpha_table(eeg_checks.alpha_check(restorer, seed=args.seed)), ""]
    out += ["### Downstream: averaged ERP (simulated, known latency and amplitude, SNR 0 dB)\n"]
    out += [eeg_checks.erp_table(eeg_checks.erp_check(restorer, seed=args.seed)), ""]
    blink_file = args.data / "S001R01.edf" if args.data else None
    if blink_file is not None and blink_file.is_file():
        out += [f"### Real blinks ({blink_file.name}, eyes open, 64 channels at 160 Hz)\n"]
        out += [eeg_checks.blink_table(eeg_checks.blink_check(blink_file, restorer)), ""]
    if args.eegdenoisenet:
        import eeg_denoisenet

        out += [eeg_denoisenet.report(eeg_denoisenet.run_protocol(args.eegdenoisenet, seed=args.seed, restorer=restorer)), ""]
    return out


if __name__ == "__main__":
    main()
