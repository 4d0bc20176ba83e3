"""Calibrate the MRI model's uncertainty on a held-out volume: the factor on the draws' spread that makes
mean +- 1.645 std cover 90 % of the clean voxels.

Usage: ``python3 -m benchmarks.mri_calibrate --data DIR --volume REL [--model WEIGHTS] [--draws 8] [--write]``

The volume (``REL`` under ``DIR``) must be one that neither trained the model nor is scored by
``benchmarks.mri``: the shipped model uses ``niivue_demo_images/register/T2w.nii.gz``, held out of training
by the recipe's ``[train] exclude`` and not among the benchmark's test volumes. It is cropped as the
benchmark crops (:func:`benchmarks.mri.load_volume`), given Rician noise at the benchmark's three levels
(seeded), and restored with ``--draws`` posterior draws at the true sigma. The factor ``k`` is the 90th
percentile over all voxels and levels of ``|mean - clean| / (1.645 std)``. With ``--write`` it is recorded
in the model's JSON as ``calibration`` (with this command, the volume's sha256, the draws and sampler), where
:class:`wavediff.Restorer` reads it as ``spread_scale``; the training record is left as it was. The report
goes to ``benchmarks/results/mri_calibrate.md``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from wavediff.modalities.mri import degrade

from wavediff.errors import InvalidInputError
from wavediff.report import markdown_table, provenance, sha256sum, write_report

from .mri import LEVELS, SETTINGS, load_volume
from .mri_learned import COVERAGE_Z, load_restorer

NOMINAL = 0.90


def ratios(restorer, clean: np.ndarray, levels: Sequence[float], draws: int, seed: int = 7) -> dict[float, np.ndarray]:
    """Per level, ``|mean - clean| / (1.645 std)`` of every voxel, from ``draws`` draws at the true sigma
    (the restorer's own spread, unscaled)."""
    out = {}
    scale, restorer.spread_scale = restorer.spread_scale, 1.0
    try:
        for li, level in enumerate(levels):
            noisy = degrade.rician(clean, level, np.random.default_rng([seed, li]))
            mean, std = restorer.restore(noisy, n_draws=draws, return_std=True, sigma=level * float(clean.max()), axis=0)
            out[level] = np.abs(mean - clean) / np.maximum(COVERAGE_Z * std, 1e-12)
    finally:
        restorer.spread_scale = scale
    return out


def calibrate(per_level: dict[float, np.ndarray]) -> tuple[float, list[dict]]:
    """The factor ``k`` (90th percentile of the pooled ratios) and, per level, coverage before and after."""
    k = float(np.quantile(np.concatenate([r.ravel() for r in per_level.values()]), NOMINAL))
    rows = [
        {"level": level, "coverage as drawn": float((r <= 1).mean()), f"coverage x {k:.3f}": float((r <= k).mean())}
        for level, r in per_level.items()
    ]
    return k, rows


def main(argv: Sequence[str] | None = None) -> float:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="the folder the volume is under")
    ap.add_argument("--volume", required=True, help="the held-out volume, relative to --data")
    ap.add_argument("--model", default=None, help="weights (default: the MRI room's shipped model)")
    ap.add_argument("--draws", type=int, default=8)
    ap.add_argument("--write", action="store_true", help="record the factor in the model's JSON")
    ap.add_argument("--out", default="benchmarks/results/mri_calibrate.md")
    args = ap.parse_args(argv)
    command = shlex.join(["python3", "-m", "benchmarks.mri_calibrate", *(sys.argv[1:] if argv is None else argv)])
    restorer, note = load_restorer(args.model)
    if restorer is None:
        raise InvalidInputError(note)
    path = Path(args.data) / args.volume
    cfg = SETTINGS["full"]
    clean = load_volume(path, cfg["slices"], cfg["size"])
    k, rows = calibrate(ratios(restorer, clean, LEVELS, args.draws))
    weights = Path(args.model) if args.model else restorer.modality.weights_path()
    record = {
        "spread_scale": round(k, 4),
        "nominal_coverage": NOMINAL,
        "interval": f"mean +- {COVERAGE_Z} x spread_scale x std of the draws",
        "command": command,
        "volume": {"path": args.volume, "sha256": sha256sum(path)},
        "draws": args.draws,
        "sampler": {"name": restorer.sampler, "steps": restorer.steps},
        "levels": list(LEVELS),
    }
    text = "\n".join(
        [
            "# MRI room: calibrating the spread of the posterior draws\n",
            provenance(command, data=[path, weights]),
            f"\n**{note}**\n",
            f"Volume `{args.volume}` (held out of training, not a benchmark test volume), cropped as `benchmarks.mri` "
            f"crops ({clean.shape[0]} x {clean.shape[1]} x {clean.shape[2]}); Rician noise at each level, {args.draws} "
            f"draws ({restorer.sampler}, {restorer.steps} steps) at the true sigma. Coverage: the share of clean voxels "
            f"within mean +- {COVERAGE_Z} std, as drawn and with the std times k = **{k:.4f}** (the 90th percentile of "
            "|mean - clean| / (1.645 std) over all voxels and levels).\n",
            markdown_table(rows, digits=4),
            f"\n{'Recorded in' if args.write else 'Not written to (no --write)'} `{weights.with_suffix('.json').name}` "
            "as `calibration.spread_scale`.\n",
        ]
    )
    if args.write:
        meta_path = weights.with_suffix(".json")
        meta = json.loads(meta_path.read_text())
        meta["calibration"] = record
        write_report(meta_path, json.dumps(meta, indent=2, sort_keys=True))
    write_report(args.out, text)
    print(text)
    return k


if __name__ == "__main__":
    main()
