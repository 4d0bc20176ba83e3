"""Classical baselines beside the untouched input, and the wavelet layer's speed beside PyWavelets.

Usage: ``python3 benchmarks/classical.py [--seeds 5] [--out benchmarks/results/classical.md]``

Tables:
1. Donoho-Johnstone 1-D signals (n=2048, signal std 7) at noise sigma 0.5 / 1 / 2: output SNR (dB),
   mean over seeds, for the noisy input, VisuShrink / BayesShrink / SureShrink (sym8, soft) and Wiener.
2. Shepp-Logan phantom 256x256 at sigma 0.05 / 0.1 / 0.2: PSNR / SSIM for the same methods, and
   scikit-image's ``denoise_wavelet`` BayesShrink as a peer (it should equal ours).
3. Packed packet transform (forward + inverse) on CPU: median time of ``WaveletTransform`` versus
   ``pywt.WaveletPacketND`` (decompose + reconstruct) on the same batch, as a ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import pywt
import torch
from skimage.restoration import denoise_wavelet as sk_denoise_wavelet
from wavediff.datasets.signals import SIGNALS, phantom, test_signal

from wavediff import WaveletTransform, classical, metrics
from wavediff.report import markdown_table, provenance, write_report

METHODS_1D = {
    "VisuShrink": lambda y: classical.denoise_wavelet(y, wavelet="sym8", method="VisuShrink"),
    "BayesShrink": lambda y: classical.denoise_wavelet(y, wavelet="sym8", method="BayesShrink"),
    "SureShrink": lambda y: classical.denoise_wavelet(y, wavelet="sym8", method="SureShrink"),
    "Wiener (9)": lambda y: classical.wiener(y, mysize=9),
}
METHODS_2D = {
    "VisuShrink db2": lambda y: classical.denoise_wavelet(y, wavelet="db2", method="VisuShrink"),
    "BayesShrink db2": lambda y: classical.denoise_wavelet(y, wavelet="db2", method="BayesShrink"),
    "SureShrink db2": lambda y: classical.denoise_wavelet(y, wavelet="db2", method="SureShrink"),
    "skimage BayesShrink db2": lambda y: sk_denoise_wavelet(y, wavelet="db2", method="BayesShrink", rescale_sigma=False),
    "Wiener (5x5)": lambda y: classical.wiener(y, mysize=5),
}


def bench_1d(seeds: int) -> str:
    header = ["signal", "sigma", "noisy input", *METHODS_1D]
    rows = []
    for sigma in (0.5, 1.0, 2.0):
        for name in SIGNALS:
            clean = test_signal(name, 2048, std=7.0)
            scores: dict[str, list[float]] = {k: [] for k in ["noisy input", *METHODS_1D]}
            for seed in range(seeds):
                noisy = clean + np.random.default_rng(seed).normal(0, sigma, clean.shape)
                scores["noisy input"].append(metrics.snr_db(clean, noisy))
                for label, fn in METHODS_1D.items():
                    scores[label].append(metrics.snr_db(clean, fn(noisy)))
            best = max(METHODS_1D, key=lambda k: np.mean(scores[k]))
            cells = [f"**{np.mean(v):.2f}**" if k == best else f"{np.mean(v):.2f}" for k, v in scores.items()]
            rows.append([name, f"{sigma:g}", *cells])
    return markdown_table(rows, header)


def bench_2d(seeds: int) -> str:
    img = phantom(256)
    header = ["sigma", "noisy input", *METHODS_2D]
    rows = []
    for sigma in (0.05, 0.1, 0.2):
        scores: dict[str, list[tuple[float, float]]] = {k: [] for k in ["noisy input", *METHODS_2D]}
        for seed in range(seeds):
            noisy = img + np.random.default_rng(seed).normal(0, sigma, img.shape)
            outs = {"noisy input": noisy, **{k: fn(noisy) for k, fn in METHODS_2D.items()}}
            for k, est in outs.items():
                scores[k].append((metrics.psnr(img, est, data_range=1.0), metrics.ssim(img, est, data_range=1.0)))
        cells = [f"{np.mean([p for p, _ in v]):.2f} / {np.mean([s for _, s in v]):.3f}" for v in scores.values()]
        rows.append([f"{sigma:g}", *cells])
    return markdown_table(rows, header)


def _median_time(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_speed(repeats: int) -> str:
    torch.set_num_threads(max(1, torch.get_num_threads()))
    header = ["case", "wavediff (ms)", "pywt WaveletPacketND (ms)", "pywt / wavediff"]
    rows = []
    cases = [
        ("1-D 64x1x4096, db4, L=3", (64, 1, 4096), 1, "db4", 3),
        ("2-D 16x1x256x256, db4, L=2", (16, 1, 256, 256), 2, "db4", 2),
        ("3-D 2x1x64^3, haar, L=1", (2, 1, 64, 64, 64), 3, "haar", 1),
    ]
    for label, shape, dim, wavelet, level in cases:
        x = torch.randn(*shape)
        xn = x.numpy()
        wt = WaveletTransform(wavelet, level, dim)
        axes = tuple(range(2, 2 + dim))
        names = wt.subband_names()

        def ours() -> None:
            wt.inverse(wt.forward(x))

        def reference() -> None:
            wp = pywt.WaveletPacketND(xn, wavelet, mode="periodization", maxlevel=level, axes=axes)
            leaves = {n: wp[n].data for n in names}
            rec = pywt.WaveletPacketND(None, wavelet, mode="periodization", maxlevel=level, axes=axes)
            for n, v in leaves.items():
                rec[n] = v
            rec.reconstruct(update=False)

        t_ours, t_ref = _median_time(ours, repeats), _median_time(reference, repeats)
        rows.append([label, f"{t_ours * 1e3:.1f}", f"{t_ref * 1e3:.1f}", f"{t_ref / t_ours:.1f}x"])
    return markdown_table(rows, header)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "classical.md"))
    args = parser.parse_args()

    parts = [
        "# Classical baselines and wavelet layer\n",
        provenance(["python3", "benchmarks/classical.py", "--seeds", str(args.seeds), "--repeats", str(args.repeats)], libraries=["scikit-image"]),
        "Data: the Donoho-Johnstone signals and the Shepp-Logan phantom of `wavediff.datasets.signals`, "
        "with Gaussian noise seeded 0.. per repeat.\n",
        f"## 1-D Donoho-Johnstone signals: output SNR in dB (mean of {args.seeds} seeds; best method in bold)\n",
        bench_1d(args.seeds),
        f"\n## 2-D Shepp-Logan phantom 256x256: PSNR dB / SSIM (mean of {args.seeds} seeds)\n",
        bench_2d(args.seeds),
        "\n## Packed wavelet-packet transform, forward + inverse, CPU (median of repeats)\n",
        bench_speed(args.repeats),
        "",
    ]
    report = "\n".join(parts)
    print(report)
    print(f"written to {write_report(args.out, report)}")


if __name__ == "__main__":
    main()
