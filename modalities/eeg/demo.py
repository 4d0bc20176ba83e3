"""``wavediff demo eeg``: simulated EEG with blinks, restored by the room's classical cleaners
(:data:`.cleaners.CLEANERS`) and, when a model is shipped, by the learned restorer; a metrics table and a
before/after figure. Offline, under a minute."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from wavediff.modality import atomic_output
from wavediff.report import markdown_table

from .cleaners import CLEANERS


def _row(label: str, clean: np.ndarray, est: np.ndarray, noisy: np.ndarray, sfreq: float, seconds: float) -> dict[str, Any]:
    from .metrics import eeg_metrics

    m = eeg_metrics(clean, est, sfreq, noisy=noisy)
    return {"method": label, **{k: round(float(v), 3) for k, v in m.items()}, "time s": round(seconds, 2)}


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
    """Simulate, contaminate (EOG, -3 dB), clean with every method, print the table, write ``eeg_demo.png``.

    The figure is drawn on a :class:`matplotlib.figure.Figure` (no pyplot), so the caller's backend is
    never changed. Returns ``{"table": rows, "figure": path}``.
    """
    from matplotlib.figure import Figure
    from wavediff.datasets.eeg import simulate_raw

    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    # 30 s: long enough for ICA, the classical baseline and the model's montage-wide context
    clean_raw = simulate_raw(n_seconds=30.0, sfreq=256.0, rng=rng)
    noisy_raw = room.degrade(clean_raw, rng, artifact="eog", snr_db=-3.0)
    sfreq = clean_raw.info["sfreq"]
    names = clean_raw.ch_names
    clean, noisy = clean_raw.get_data(), noisy_raw.get_data()

    results: dict[str, np.ndarray] = {}
    rows = [_row("noisy input", clean, noisy, noisy, sfreq, 0.0)]
    for label, clean_up in CLEANERS.items():
        t0 = time.perf_counter()
        results[label] = clean_up(noisy, sfreq, names)
        rows.append(_row(label, clean, results[label], noisy, sfreq, time.perf_counter() - t0))

    show = [names.index(c) for c in ("Fp1", "O1") if c in names] or [0]
    std = None
    if room.weights_path().is_file():
        from wavediff.pipeline import Restorer

        label = "wavediff (posterior mean)"
        restorer = Restorer(room, n_draws=4, seed=seed)  # 4 draws (the recipe's sampler) for the uncertainty
        t0 = time.perf_counter()
        tensor, context = room.to_tensor(noisy_raw)  # ICA and the context, once for the estimate and the draws
        results[label] = room.from_tensor(restorer.posterior_mean_tensor(tensor), context).get_data()
        rows.append(_row(label, clean, results[label], noisy, sfreq, time.perf_counter() - t0))
        std = _draws_spread(restorer, tensor, context, show)
    else:
        print(f"(no shipped EEG model at {room.weights_path()}: train one with `wavediff train eeg`)")

    print(markdown_table(rows, digits=3))

    shown = slice(0, int(10 * sfreq))  # the first 10 s: blinks stay visible
    t = np.arange(clean.shape[1])[shown] / sfreq
    fig = Figure(figsize=(12, 3.2 * len(show)))
    axes = fig.subplots(len(show), 1, sharex=True, squeeze=False)
    for ax, ch in zip(axes[:, 0], show):
        ax.plot(t, noisy[ch, shown] * 1e6, color="0.7", lw=0.8, label="noisy (EOG, -3 dB)")
        ax.plot(t, clean[ch, shown] * 1e6, color="k", lw=0.9, label="clean")
        for label, est in results.items():
            ax.plot(t, est[ch, shown] * 1e6, lw=0.8, label=label)
        if std is not None:
            mean, spread = results["wavediff (posterior mean)"][ch, shown] * 1e6, std[ch, shown] * 1e6
            ax.fill_between(t, mean - 2 * spread, mean + 2 * spread, alpha=0.25, label="wavediff ±2 std")
        ax.set_ylabel(f"{names[ch]} (µV)")
        ax.legend(loc="upper right", fontsize=7, ncol=2)
    axes[-1, 0].set_xlabel("time (s)")
    fig.suptitle("wavediff demo: EEG blink removal on simulated 19-channel EEG")
    fig.tight_layout()
    figure = out_dir / "eeg_demo.png"
    with atomic_output(figure) as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    print(f"figure written to {figure}")
    return {"table": rows, "figure": figure}
