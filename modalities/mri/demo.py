"""``wavediff demo mri``: a real T1 slice (dipy's ``t1_coronal_slice``; a procedural head without dipy)
with Rician noise at 5 % of its maximum, denoised by the room's classical baselines and, when a model is
shipped, by wavediff (posterior mean, and the spread of posterior draws as the uncertainty map); a
metrics table and a before/after figure. Offline, well under a minute on CPU."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from wavediff.modality import atomic_output
from wavediff.report import markdown_table

LEVEL = 0.05  # Rician sigma as a fraction of the image maximum


def demo_image(seed: int = 0) -> tuple[np.ndarray, str]:
    """The demo's clean image (float64, maximum 1) and where it comes from."""
    from wavediff.datasets.mri import shipped_images

    images = shipped_images()
    if "dipy t1_coronal_slice" in images:
        img = np.asarray(images["dipy t1_coronal_slice"], dtype=np.float64)
        return img / img.max(), "dipy's t1_coronal_slice (a real T1-weighted coronal slice, BSD-3)"
    from wavediff.datasets.mri.phantoms import brain_phantom

    img = brain_phantom((16, 128, 128), rng=seed, contrast="T1")[8].astype(np.float64)
    return img / img.max(), "a procedural T1 head phantom (dipy is not installed)"


def _row(room: Any, method: str, clean: np.ndarray, est: np.ndarray, seconds: float) -> dict[str, Any]:
    m = room.metrics(clean, est)
    keys = ("psnr", "ssim", "psnr_fg", "ssim_fg")
    return {"method": method, **{k: round(float(m[k]), 3) for k in keys}, "time s": round(seconds, 2)}


def run_demo(room: Any, out_dir: Path, seed: int = 0) -> dict[str, Any]:
    """Run the demo into ``out_dir``; returns ``{"table": rows, "figure": path}``.

    The figure is drawn on a :class:`matplotlib.figure.Figure` (no pyplot), so the caller's backend is
    never changed.
    """
    from matplotlib.figure import Figure

    from . import baselines
    from .degrade import rician

    out_dir.mkdir(parents=True, exist_ok=True)
    clean, where = demo_image(seed)
    rng = np.random.default_rng(seed)
    noisy = rician(clean, LEVEL, rng)
    sigma = LEVEL * float(clean.max())
    print(
        f"What this shows: {where}, with Rician noise at sigma = {LEVEL:g} x its maximum, denoised by the classical "
        "methods (given the true sigma) and by wavediff. fastMRI's metrics (PSNR, SSIM with the image maximum as "
        "data range), also within the foreground. One slice proves little: the benchmark on real volumes the model "
        "never saw, against BM4D, is benchmarks/results/mri.md (python3 -m benchmarks.mri --data DIR).\n"
    )
    rows = [_row(room, "noisy input", clean, noisy, 0.0)]
    results: dict[str, np.ndarray] = {}
    for label, fn in (("wavelet (BayesShrink)", baselines.wavelet), ("NLM (dipy, Rician)", baselines.nlm)):
        try:
            t0 = time.perf_counter()
            results[label] = fn(noisy, sigma)
            rows.append(_row(room, label, clean, results[label], time.perf_counter() - t0))
        except Exception as exc:  # a missing optional library: say so, keep going
            print(f"({label} skipped: {exc})")
    std = None
    if room.weights_path().is_file():
        from wavediff.pipeline import Restorer

        restorer = Restorer(room, seed=seed)
        t0 = time.perf_counter()
        results["wavediff"] = restorer.restore(noisy, sigma=sigma)
        rows.append(
            _row(room, "wavediff (posterior mean)", clean, results["wavediff"], time.perf_counter() - t0)
        )
        print(f"wavediff: {restorer.report}")
        _, std = restorer.restore(noisy, n_draws=4, return_std=True, sigma=sigma)
    else:
        print(
            f"(no shipped MRI model at {room.weights_path()}: train one with `wavediff train mri --data DIR`)"
        )
    print(markdown_table(rows, digits=3))

    panels = [("clean", clean), (f"Rician {LEVEL:g}", noisy), *results.items()]
    if std is not None:
        panels.append(("wavediff spread (4 draws)", std))
    fig = Figure(figsize=(2.6 * len(panels), 3.0))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (title, img) in zip(axes, panels):
        spread = title.startswith("wavediff spread")
        ax.imshow(img, cmap="magma" if spread else "gray", vmin=0, vmax=None if spread else 1.0)
        ax.set_title(title, fontsize=8)
        ax.set_axis_off()
    fig.suptitle(f"wavediff demo: MRI Rician denoising ({where.split(' (')[0]})", fontsize=9)
    fig.tight_layout()
    figure = out_dir / "mri_demo.png"
    with atomic_output(figure) as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    print(f"figure written to {figure}")
    return {"table": rows, "figure": figure}
