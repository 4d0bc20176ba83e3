"""``wavediff demo eeg``: simulated EEG with ocular and with muscle artifacts, restored by the room's
classical cleaners (:data:`.cleaners.CLEANERS`) and, when a model is shipped, by the learned restorer; a
metrics table per artifact and a before/after figure. Offline, about a minute.

It says what it shows: the simulated recording mixes its sources exactly linearly, which is ICA's
ideal case for ocular artifacts and not what real recordings give, and it points to the benchmark for
those. Library warnings (FastICA's convergence notes) are collected and reported in the table instead
of scrolling past."""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from wavediff.modality import atomic_output
from wavediff.report import markdown_table

from .cleaners import CLEANERS


def _row(label: str, clean: np.ndarray, est: np.ndarray, noisy: np.ndarray, sfreq: float, seconds: float, note: str = "") -> dict[str, Any]:
    from .metrics import eeg_metrics

    m = eeg_metrics(clean, est, sfreq, noisy=noisy)
    return {"method": label, **{k: round(float(v), 3) for k, v in m.items()}, "time s": round(seconds, 2), "note": note}


def _quietly(fn: Any) -> tuple[Any, float, str]:
    """``fn()``, its wall time and a note on the warnings it raised (collected, not printed)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        out = fn()
        seconds = time.perf_counter() - t0
    notes = sorted({"FastICA stopped before converging" if "did not converge" in str(w.message) else str(w.message)[:80] for w in caught})
    return out, seconds, "; ".join(notes)


def _draws_spread(restorer: Any, tensor: Any, context: dict[str, Any], channels: list[int]) -> np.ndarray:
    """Spread (volts) of the restorer's posterior draws of the windows of ``channels``, zeros elsewhere.

    ``tensor`` holds the whole montage (the model's context comes from it), but only the shown
    channels are drawn: the draws cost a sampler run each, and a demo must stay under a minute.
    """
    import torch

    rows = np.concatenate([np.arange(c * context["n_windows"], (c + 1) * context["n_windows"]) for c in channels])
    spread = torch.zeros(tensor.shape[0], 1, tensor.shape[-1])
    spread[rows] = restorer.restore_tensor(tensor[rows]).std(0)
    return restorer.modality.uncertainty_from_tensor(spread, context).get_data()


def run_demo(room: Any, out_dir: Path, seed: int = 0) -> dict[str, Any]:
    """Simulate, contaminate (EOG and EMG, -3 dB), clean with every method, print the tables, write ``eeg_demo.png``.

    The figure is drawn on a :class:`matplotlib.figure.Figure` (no pyplot), so the caller's backend is
    never changed. Returns ``{"table": EOG rows, "tables": {"eog": rows, "emg": rows}, "figure": path}``.
    """
    from matplotlib.figure import Figure
    from wavediff.datasets.eeg import simulate_raw

    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    # 30 s: long enough for ICA, the classical baseline and the model's montage-wide context
    clean_raw = simulate_raw(n_seconds=30.0, sfreq=256.0, rng=rng)
    sfreq = clean_raw.info["sfreq"]
    names = clean_raw.ch_names
    clean = clean_raw.get_data()
    print(
        "What this shows: 30 s of simulated 19-channel EEG, contaminated at -3 dB (EEGdenoiseNet's SNR) once with "
        "blinks and saccades and once with muscle bursts, cleaned by the classical methods and by wavediff. "
        "The simulation mixes every source exactly linearly into the electrodes: ICA's ideal case for ocular "
        "artifacts, which real recordings are not, and muscle noise is where ICA is weak. For real EEG, for "
        "artifacts from a generator the model never saw and for speed, see benchmarks/results/eeg.md "
        "(python3 -m benchmarks.eeg).\n"
    )
    restorer = None
    if room.weights_path().is_file():
        from wavediff.pipeline import Restorer

        restorer = Restorer(room, n_draws=4, seed=seed)  # 4 draws (the recipe's sampler) for the uncertainty
    else:
        print(f"(no shipped EEG model at {room.weights_path()}: train one with `wavediff train eeg`)")
    label = "wavediff (posterior mean)"
    show = [names.index(c) for c in ("Fp1", "O1") if c in names] or [0]
    tables: dict[str, list[dict[str, Any]]] = {}
    for artifact in ("eog", "emg"):
        noisy_raw = room.degrade(clean_raw, rng, artifact=artifact, snr_db=-3.0)
        noisy = noisy_raw.get_data()
        results: dict[str, np.ndarray] = {}
        rows = [_row("noisy input", clean, noisy, noisy, sfreq, 0.0)]
        for method, clean_up in CLEANERS.items():
            results[method], seconds, note = _quietly(lambda clean_up=clean_up: clean_up(noisy, sfreq, names))
            rows.append(_row(method, clean, results[method], noisy, sfreq, seconds, note))
        if restorer is not None:
            # ICA and the context once, for the estimate and (EOG) the draws
            t0 = time.perf_counter()
            (tensor, context), _, note = _quietly(lambda noisy_raw=noisy_raw: room.to_tensor(noisy_raw, verbose=False))
            results[label] = room.from_tensor(restorer.posterior_mean_tensor(tensor), context).get_data()
            rows.append(_row(label, clean, results[label], noisy, sfreq, time.perf_counter() - t0, note))
            if artifact == "eog":
                print(f"wavediff: {context['report']}")
                std, _, _ = _quietly(lambda: _draws_spread(restorer, tensor, context, show))
                figure_data = (noisy, dict(results), std)
        if restorer is None and artifact == "eog":
            figure_data = (noisy, dict(results), None)
        tables[artifact] = rows
        print(f"\n### {artifact.upper()} at -3 dB\n")
        print(markdown_table(rows, digits=3))

    noisy, results, std = figure_data
    shown = slice(0, int(10 * sfreq))  # the first 10 s: blinks stay visible
    t = np.arange(clean.shape[1])[shown] / sfreq
    fig = Figure(figsize=(12, 3.2 * len(show)))
    axes = fig.subplots(len(show), 1, sharex=True, squeeze=False)
    for ax, ch in zip(axes[:, 0], show):
        ax.plot(t, noisy[ch, shown] * 1e6, color="0.7", lw=0.8, label="noisy (EOG, -3 dB)")
        ax.plot(t, clean[ch, shown] * 1e6, color="k", lw=0.9, label="clean")
        for method, est in results.items():
            ax.plot(t, est[ch, shown] * 1e6, lw=0.8, label=method)
        if std is not None:
            mean, spread = results[label][ch, shown] * 1e6, std[ch, shown] * 1e6
            ax.fill_between(t, mean - 2 * spread, mean + 2 * spread, alpha=0.25, label="wavediff ±2 std")
        ax.set_ylabel(f"{names[ch]} (µV)")
        ax.legend(loc="upper right", fontsize=7, ncol=2)
    axes[-1, 0].set_xlabel("time (s)")
    fig.suptitle("wavediff demo: blinks and saccades (-3 dB) on simulated 19-channel EEG, exactly linear mixing (ICA's ideal case)")
    fig.tight_layout()
    figure = out_dir / "eeg_demo.png"
    with atomic_output(figure) as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    print(f"figure written to {figure}")
    return {"table": tables["eog"], "tables": tables, "figure": figure}
