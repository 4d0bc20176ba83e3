"""Fine-tuned on the user's own recordings versus shipped, on a recording neither model saw.

``wavediff train eeg --data DIR --init shipped`` is what a lab with its own recordings runs. This
section measures what it buys, leave one recording out: for each recording ``R`` of ``--data`` the
others are "the user's recordings". They are prepared as a user of PhysioNet's files would prepare
them (the 19 channels of the 10-20 system, names standardised with ``mne.datasets.eegbci.standardize``,
because the room does not match PhysioNet's ``Fp1.`` names yet) and written as FIF into a temporary
folder; the shipped model is fine-tuned on them with the room's recipe (``[train] finetune_steps`` at
``finetune_lr`` unless ``steps`` says otherwise; the room keeps their blink-free epochs as the clean
reference and contaminates copies of them). Both models then clean ``R``'s blink-free epochs
(:func:`~.protocol.real_clean`) contaminated at every SNR level, the same contaminated data for
every method, beside ICA (the best classical cleaners on real EEG) and the untouched input.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import mne
import numpy as np
from wavediff.datasets.eeg import DEFAULT_CH_NAMES
from wavediff.modalities.eeg.cleaners import ICA_EOG, ICA_EOG_EMG

from wavediff import get_modality
from wavediff.report import markdown_table

from .protocol import BENCH_CLEANERS, NOISY, cases, epoch_metrics, real_clean, recording_files

__all__ = ["SHIPPED", "TUNED", "prepare", "finetune_rows", "finetune_table"]

SHIPPED = "wavediff, shipped"
TUNED = "wavediff, fine-tuned on the others"


def prepare(path: Path, folder: Path) -> Path:
    """``path`` as a user would hand it to ``wavediff train eeg --data``: its 10-20 channels, standard names, FIF."""
    raw = mne.io.read_raw(path, preload=True, verbose="error")
    mne.datasets.eegbci.standardize(raw)  # 'Fp1.' -> 'Fp1': the room matches either, the tables keep standard names
    raw.pick([c for c in DEFAULT_CH_NAMES if c in raw.ch_names])
    out = folder / f"{path.stem}_raw.fif"
    get_modality("eeg").write(raw, out)
    return out


def finetune_rows(
    folder: Path,
    snrs: Sequence[float],
    seed: int,
    steps: int | None = None,
    progress: bool = False,
    recipe: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """One row per held-out recording, artifact, SNR and method (input, ICA, shipped, fine-tuned), with the metrics.

    ``recipe`` overrides the fine-tuning recipe (tests shrink ``[train] data_recordings`` with it).
    """
    from wavediff.pipeline import Restorer, train
    from wavediff.training import read_meta

    files = recording_files(folder)
    if len(files) < 2:
        return []
    cleaned = {rec.info["description"].split(":")[0]: rec for rec in real_clean(folder)}
    shipped = Restorer("eeg", seed=seed)
    rows = []
    for held_out in files:
        if held_out.name not in cleaned:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            user = Path(tmp) / "recordings"
            user.mkdir()
            for other in files:
                if other != held_out:
                    prepare(other, user)
            t0 = time.perf_counter()
            weights = train(
                "eeg", steps=steps, out=Path(tmp) / "tuned.safetensors", data=user, init="shipped", seed=seed,
                recipe=recipe, progress=progress, evaluate=False,
            )
            train_seconds = time.perf_counter() - t0
            tuned = Restorer("eeg", weights, seed=seed)
            n_steps = int(read_meta(weights)["info"]["steps"])
            trained_on = [f.name for f in files if f != held_out]
            for rec, artifact, snr, noisy in cases([cleaned[held_out.name]], snrs, seed):
                x, y, sfreq = rec.get_data(), noisy.get_data(), rec.info["sfreq"]
                estimates = {
                    NOISY: y,
                    **{label: BENCH_CLEANERS[label](y, sfreq, noisy.ch_names) for label in (ICA_EOG, ICA_EOG_EMG)},
                    SHIPPED: shipped.restore(noisy).get_data(),
                    TUNED: tuned.restore(noisy).get_data(),
                }
                for method, est in estimates.items():
                    rows.append({
                        "held_out": held_out.name, "trained_on": ", ".join(trained_on), "steps": n_steps,
                        "train_seconds": train_seconds, "method": method, "artifact": artifact, "snr_db": snr,
                        **epoch_metrics(x, est, sfreq),
                    })  # fmt: skip
    return rows


def finetune_table(rows: Sequence[dict[str, Any]]) -> str:
    """Per held-out recording, artifact and method: RRMSE_t, RRMSE_s, CC (mean over SNR levels), and the
    fine-tuned model's change of RRMSE_t against the shipped one."""
    if not rows:
        return "Fine-tuning: needs at least two recordings in --data (one to fine-tune on, one held out).\n"
    body = []
    for held_out in dict.fromkeys(r["held_out"] for r in rows):
        for artifact in ("eog", "emg"):
            sel = [r for r in rows if r["held_out"] == held_out and r["artifact"] == artifact]
            mean = {m: {k: float(np.mean([r[k] for r in sel if r["method"] == m])) for k in ("RRMSE_t", "RRMSE_s", "CC")}
                    for m in dict.fromkeys(r["method"] for r in sel)}  # fmt: skip
            for m, v in mean.items():
                change = f"{100 * (v['RRMSE_t'] / mean[SHIPPED]['RRMSE_t'] - 1):+.1f} %" if m == TUNED else ""
                body.append([held_out, artifact.upper(), m, f"{v['RRMSE_t']:.3f}", f"{v['RRMSE_s']:.3f}", f"{v['CC']:.3f}", change])
    first = rows[0]
    header = ["held out", "artifact", "method", "RRMSE_t", "RRMSE_s", "CC", "RRMSE_t vs shipped"]
    folds = "; ".join(f"{h}: fine-tuned on {next(r['trained_on'] for r in rows if r['held_out'] == h)}, "
                      f"{next(r['train_seconds'] for r in rows if r['held_out'] == h):.0f} s" for h in dict.fromkeys(r["held_out"] for r in rows))  # fmt: skip
    note = (
        f"Each fold fine-tunes the shipped model for {first['steps']} steps (`wavediff train eeg --data <the others> "
        f"--init shipped`, the recipe's finetune_lr) on the other recordings ({folds}, including the pool's ICA), "
        "then every method cleans the held-out recording's blink-free epochs, contaminated at every SNR level. "
        "Means over the SNR levels.\n"
    )
    return note + "\n" + markdown_table(body, header)
