"""``python3 -m benchmarks.eeg.calibrate``: the spread ICA's ocular estimate adds to the EEG model's draws.

With ICA first, the model samples around ICA's cleaning: its draws carry the model's uncertainty, not
the error of ICA's estimate, so its EOG intervals are too narrow. The room adds that error as
``k`` times the local RMS of what ICA took out (``EEG.ica_spread``, the recipe's ``[sampler]
ica_spread``). This script fits ``k`` on a calibration set of its own: simulated 19-channel
recordings (seeds 1000 and up, never those of the benchmark or of training) contaminated with blinks
and saccades at -7..2 dB, restored with the recipe's sampler and draws; ``k`` is the value at which
the 90 % predictive intervals (:func:`~.sections.interval_coverage`'s Student-t rule) cover 90 % of
the clean samples. The same draws on muscle artifacts show what ``k`` does where ICA takes little
out. The committed value is checked on real EEG by the benchmark's coverage section.

Usage::

    python3 -m benchmarks.eeg.calibrate [--recordings 4] [--draws 6] [--out benchmarks/results/eeg_calibration.md]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import t as student_t

from wavediff import get_modality
from wavediff.pipeline import Restorer
from wavediff.report import markdown_table, provenance, write_report

from .protocol import simulated_clean

__all__ = ["calibration_draws", "coverage_at", "fit_k", "main"]

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "results" / "eeg_calibration.md"
SNRS = (-7.0, -4.0, -1.0, 2.0)


def calibration_draws(recordings: int, n_draws: int, seed: int = 1000, seconds: float = 30.0) -> list[dict[str, Any]]:
    """Per case (recording, artifact, SNR): the error of the draws' mean, their spread and ICA's local RMS, in V."""
    room = get_modality("eeg")
    restorer = Restorer(room, n_draws=n_draws, seed=seed)
    room = restorer.modality
    out = []
    for i in range(recordings):
        clean = simulated_clean(seconds, seed + i)
        rng = np.random.default_rng(seed + i)
        for artifact in ("eog", "emg"):
            for snr in SNRS:
                noisy = room.degrade(clean, rng, artifact=artifact, snr_db=snr)
                tensor, ctx = room.to_tensor(noisy, verbose=False)
                draws = restorer.restore_tensor(tensor, n_draws)
                mean = room.from_tensor(draws.mean(0), ctx).get_data()
                spread = np.clip(room._to_recording(draws.std(0)[:, :1].double().numpy(), ctx), 0.0, None)
                ica = room.ica_spread(ctx, k=1.0)
                out.append({
                    "artifact": artifact, "snr_db": snr, "error": clean.get_data() - mean, "spread": spread,
                    "ica": np.zeros_like(spread) if ica is None else ica,
                })  # fmt: skip
    return out


def coverage_at(cases: Sequence[dict[str, Any]], k: float, n_draws: int, level: float = 0.9) -> tuple[float, float]:
    """Coverage of the ``level`` predictive interval and RMS error / RMS spread with ``k``."""
    inside, err2, spr2 = [], [], []
    factor = student_t.ppf(0.5 + level / 2, n_draws - 1) * np.sqrt(1 + 1 / n_draws)
    for c in cases:
        total = np.sqrt(c["spread"] ** 2 + (k * c["ica"]) ** 2)
        inside.append(np.mean(np.abs(c["error"]) <= factor * total))
        err2.append(np.mean(c["error"] ** 2))
        spr2.append(np.mean(total**2 * (1 + 1 / n_draws)))
    return float(np.mean(inside)), float(np.sqrt(np.mean(err2) / np.mean(spr2)))


def fit_k(cases: Sequence[dict[str, Any]], n_draws: int, target: float = 0.9) -> float:
    """The ``k`` at which the EOG cases' 90 % intervals cover ``target`` (bisection; 0 when already covered)."""
    eog = [c for c in cases if c["artifact"] == "eog"]
    if coverage_at(eog, 0.0, n_draws)[0] >= target:
        return 0.0
    lo, hi = 0.0, 1.0
    while coverage_at(eog, hi, n_draws)[0] < target and hi < 64:
        hi *= 2
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if coverage_at(eog, mid, n_draws)[0] < target else (lo, mid)
    return round(hi, 3)


def main(argv: Sequence[str] | None = None) -> str:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(prog="python3 -m benchmarks.eeg.calibrate", description=__doc__.splitlines()[0])
    parser.add_argument("--recordings", type=int, default=4)
    parser.add_argument("--draws", type=int, default=6)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    cases = calibration_draws(args.recordings, args.draws)
    k = fit_k(cases, args.draws)
    body = []
    for label, value in (("draws alone", 0.0), (f"with ica_spread = {k:g}", k)):
        for artifact in ("eog", "emg"):
            cov, ratio = coverage_at([c for c in cases if c["artifact"] == artifact], value, args.draws)
            body.append([label, artifact.upper(), f"{cov:.3f}", f"{ratio:.2f}"])
    report = "\n".join([
        "# EEG draws: calibration of the spread ICA's estimate adds\n",
        provenance(["python3", "-m", "benchmarks.eeg.calibrate", *argv], data=[], libraries=["mne", "scikit-learn"]),
        f"{args.recordings} simulated 19-channel recordings (30 s, seeds 1000+), blinks and saccades or muscle at "
        f"{', '.join(f'{s:g}' for s in SNRS)} dB, {args.draws} draws with the recipe's sampler; 90 % intervals by "
        "Student's t. Fitted on EOG; put the value in modalities/eeg/recipe.toml, [sampler] ica_spread.\n",
        markdown_table(body, ["spread", "artifact", "coverage, nominal 0.9", "RMS error / RMS predicted spread"]),
        f"\nica_spread = {k:g}\n",
    ])  # fmt: skip
    print(report)
    print(f"written to {write_report(args.out, report)}")
    return report


if __name__ == "__main__":
    main()
