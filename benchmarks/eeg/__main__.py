"""``python3 -m benchmarks.eeg``: the EEG room's benchmark report, written to ``benchmarks/results/eeg.md``.

Usage, from the repository root::

    python3 -m benchmarks.eeg [--data ../shared/data/eeg] [--eegdenoisenet DIR] [--quick] [--draws N]
                              [--seed S] [--out benchmarks/results/eeg.md]

The report opens with its provenance (commit, versions, the sha256 of every data file read), then the
main semi-synthetic protocol (:mod:`.protocol`) on simulated EEG and, with ``--data``, on the
blink-free epochs of every EDF/FIF recording of the folder (every arm on both artifact generators,
the room's and the held-out one, is :mod:`.generators`' own report); then the sections on the shipped model
(:mod:`.sections`: settings, speed, clean EEG in, generalisation, coverage), the downstream checks
(:mod:`.checks`: alpha power, ERP and, when ``--data`` holds S001R01.edf, its real blinks), with
``--data`` the shipped model against itself fine-tuned on the other recordings (:mod:`.finetune`)
and, with ``--eegdenoisenet``, EEGdenoiseNet's own protocol (:mod:`.denoisenet`). Without a shipped model only
the classical methods of the main protocol are compared.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from wavediff import get_modality
from wavediff.report import provenance, sha256sum, write_report

from . import checks, denoisenet, finetune, generators, sections
from .protocol import HIGHPASS_HZ, per_snr, real_clean, recording_files, run, simulated_clean, table

__all__ = ["DEFAULT_OUT", "BLINK_FILE", "input_files", "main"]

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "results" / "eeg.md"
BLINK_FILE = "S001R01.edf"  # EEGMMIDB run 1 (eyes open): the real-blink check runs when --data holds it
LIBRARIES = ["mne", "scikit-learn"]  # the classical cleaners' (MNE filters, ICA, regression; FastICA)


def input_files(data: Path | None, eegdenoisenet: Path | None) -> list[Path]:
    """Every data file the report reads: the recordings of ``data`` and EEGdenoiseNet's three files."""
    files = recording_files(data) if data else []
    return files + (denoisenet.data_files(eegdenoisenet) if eegdenoisenet else [])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python3 -m benchmarks.eeg", description="The EEG room's benchmark report: wavediff beside the classical cleaners and the input."
    )
    parser.add_argument("--data", type=Path, default=None, help="folder of real EEG recordings (EDF/FIF)")
    parser.add_argument("--eegdenoisenet", type=Path, default=None, help="folder with EEGdenoiseNet's three .npy files: run its exact protocol")
    parser.add_argument("--quick", action="store_true", help="four SNR levels and shorter recordings")
    parser.add_argument("--draws", type=int, default=1, help="posterior draws averaged by wavediff (1: the direct posterior mean)")
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument(
        "--finetune-steps", type=int, default=None,
        help="steps of the fine-tuning section (default: the recipe's finetune_steps; 200 with --quick)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    return parser


def main(argv: Sequence[str] | None = None) -> str:
    """Run every section, print the report and write it to ``--out``; returns the text."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser().parse_args(argv)
    snrs = [-7.0, -3.0, 0.0, 2.0] if args.quick else [float(s) for s in range(-7, 3)]
    few_snrs = [-7.0, -4.0, -1.0, 2.0]
    seconds = 20.0 if args.quick else 40.0
    room = get_modality("eeg")
    parts = [
        "# EEG room benchmark\n",
        provenance(["python3", "-m", "benchmarks.eeg", *argv], data=input_files(args.data, args.eegdenoisenet), libraries=LIBRARIES),
        f"SNR levels {snrs[0]:g}..{snrs[-1]:g} dB (EEGdenoiseNet definition); metrics per 2 s epoch "
        "and channel, averaged over epochs, channels and SNR levels.\n",
    ]
    restorer = None
    if room.weights_path().is_file():
        from wavediff.pipeline import Restorer

        restorer = Restorer(room, n_draws=args.draws, seed=args.seed)
        info = json.loads(room.weights_path().with_suffix(".json").read_text())["info"]
        estimate = "the direct posterior mean (one network evaluation)" if args.draws == 1 else f"mean of {args.draws} draws"
        sha = sha256sum(room.weights_path())
        parts.append(f"Model: `{info['command']}` ({info['steps']} steps, seed {info['seed']}; weights sha256 `{sha}`); wavediff = {estimate}.\n")
    else:
        parts.append("No shipped model: only the classical methods are compared.\n")
    sim = simulated_clean(seconds, args.seed)
    sim_rows = run([sim], snrs, restorer, args.seed)
    title = f"Simulated 19-channel EEG ({seconds:g} s, seed {args.seed}, not used in training, high-passed at {HIGHPASS_HZ:g} Hz)"
    parts += [table(sim_rows, title), "", per_snr(sim_rows, "eog"), "", per_snr(sim_rows, "emg"), ""]
    recs = [sim]
    if args.data:
        recs = real_clean(args.data)
        if args.quick:
            recs = [r.crop(tmax=min(r.times[-1], seconds)) for r in recs]
        real_rows = run(recs, snrs, restorer, args.seed)
        described = "; ".join(r.info["description"] for r in recs)
        title = f"Real EEG background, artifacts from the room's own generator, the one training uses (semi-synthetic; {described})"
        parts += [table(real_rows, title), "", per_snr(real_rows, "eog"), "", per_snr(real_rows, "emg"), ""]
        parts += [
            "Every arm on an artifact generator that training never sees, beside the room's: "
            f"`{generators.DEFAULT_OUT.relative_to(generators.DEFAULT_OUT.parents[2])}` "
            "(`python3 -m benchmarks.eeg.generators --data DIR`).\n"
        ]
    parts.append(
        "Published anchors (EEGdenoiseNet, indicative only, not like for like: their figures are single-channel epochs "
        "with their recorded EOG/EMG artifacts, ours the artifacts of the generator the model was trained on): "
        "EOG best RRMSE_t 0.336 / RRMSE_s 0.343 / CC 0.923; EMG best 0.561 / 0.521 / 0.816.\n"
    )
    if restorer is not None:
        short = [r.copy().crop(tmax=min(r.times[-1], seconds)) for r in recs]
        source = "real EEG" if args.data else "simulated EEG"
        parts += [f"The sections below use {source} at SNR {', '.join(f'{s:g}' for s in few_snrs)} dB.\n"]
        parts += [sections.settings(short, few_snrs, args.seed), "", sections.speed(args.seed, repeats=1 if args.quick else 3, recordings=recording_files(args.data) if args.data else ())]
        parts += [sections.clean_in([sim, *recs] if args.data else recs, args.seed), ""]
        parts += [sections.generalisation(short, few_snrs, args.seed), "", sections.coverage(short, few_snrs[1:3], args.seed), ""]
        parts += _optional_sections(args)
    report = "\n".join(parts)
    print(report)
    print(f"written to {write_report(args.out, report)}")
    return report


def _optional_sections(args: argparse.Namespace) -> list[str]:
    """Downstream measures, real blinks (S001R01 in --data) and the EEGdenoiseNet protocol."""
    from wavediff.pipeline import Restorer

    restorer = Restorer("eeg", seed=args.seed)
    out = ["### Downstream: occipital alpha power (simulated 19-channel EEG, 60 s, SNR 0 dB)\n"]
    out += [checks.alpha_table(checks.alpha_check(restorer, seed=args.seed)), ""]
    out += ["### Downstream: averaged ERP (simulated, known latency and amplitude, SNR 0 dB)\n"]
    out += [checks.erp_table(checks.erp_check(restorer, seed=args.seed)), ""]
    if args.data:
        steps = args.finetune_steps or (200 if args.quick else None)
        snrs = [-7.0, -3.0, 0.0, 2.0] if args.quick else [float(s) for s in range(-7, 3)]
        out += ["### Fine-tuned on the user's recordings versus shipped (real EEG, leave one recording out)\n"]
        out += [finetune.finetune_table(finetune.finetune_rows(args.data, snrs, args.seed, steps)), ""]
    blink_file = args.data / BLINK_FILE if args.data else None
    if blink_file is not None and blink_file.is_file():
        out += [f"### Real blinks ({blink_file.name}, eyes open, 64 channels at 160 Hz)\n"]
        out += [checks.blink_table(checks.blink_check(blink_file, restorer)), ""]
    if args.eegdenoisenet:
        out += [denoisenet.report(denoisenet.run_protocol(args.eegdenoisenet, seed=args.seed, restorer=restorer)), ""]
    return out


if __name__ == "__main__":
    main()
