"""MRI room: classical Rician denoising and undersampled k-space reconstruction on real and generated volumes.

Usage: ``python3 -m benchmarks.mri [--data DIR | --ixi DIR [--ixi-modality T1] | --fastmri DIR] [--quick]
[--out benchmarks/results/mri.md] [--max-volumes N] [--model WEIGHTS] [--model3d WEIGHTS] [--draws N]``

``--ixi DIR`` runs both arms on IXI's NIfTI files (``wavediff.datasets.mri.fetch_ixi``), the first subject
calibrating; ``--fastmri DIR`` runs fastMRI's own reconstruction protocol on its .h5 files instead
(``benchmarks/mri_fastmri.py``: the stored targets, fastMRI's masks and metrics).

Arms:
(1) Rician denoising at 0.03, 0.05 and 0.09 of the volume maximum: the noisy input, wavelet (BayesShrink),
    dipy NLM, BM3D per slice and BM4D (the last two when the ``bm3d``/``bm4d`` packages are installed),
    each given the true sigma, and NLM with sigma estimated from the background; the learned model
    (``--model``, default the MRI room's shipped weights) through ``wavediff.Restorer`` as users call it,
    with the true sigma and with the sigma the room estimates itself, its posterior mean in one network
    evaluation; the room's 3-D model (``--model3d``, default ``weights3d.safetensors`` when present) on
    overlapping cubes; and the observed coverage of its 90 % intervals (mean +- 1.645 std of ``--draws`` draws).
(2) Reconstruction of k-space simulated from the magnitude slices with a smooth random phase, single coil
    (4x and 8x equispaced, centre 0.08 / 0.04, and 4x random masks) and 8 coils with their maps (4x and
    8x equispaced): zero-filled against sigpy's L1-wavelet and TV compressed sensing, whose ``lam`` is
    chosen from a grid on one held-out calibration volume, and the learned model's plug-and-play
    reconstruction (``benchmarks/mri_recon.py``).

Volumes: every 3-D NIfTI (the first volume of a 4-D one) under ``--data``, label maps and tiny images left
out, the central slices of the last axis cropped and each slice resized; without ``--data`` generated
volumes (``wavediff.datasets.mri.phantoms``). Metrics follow
fastMRI (per volume, the volume maximum as data range, then the mean over volumes), also within the
foreground mask of the clean volume. The learned model never saw the test volumes: the MRI recipe's
``[train] exclude`` holds them out of ``wavediff train mri --data``, and the report says which files
trained it (from the weights' JSON).
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from skimage.transform import resize
from wavediff.datasets.mri.phantoms import brain_phantom, shepp_logan_3d
from wavediff.modalities.mri import baselines, degrade
from wavediff.modalities.mri.files import read_mri
from wavediff.modalities.mri.metrics import aggregate, foreground_mask, volume_metrics
from wavediff.modalities.mri.preprocess import volumes as split_volumes

from wavediff.errors import InvalidInputError, MissingDependencyError
from wavediff.report import markdown_table, provenance, write_report

from .mri_learned import COVERAGE_Z, LEARNED_NOTE, coverage_arm, learned_methods, load_restorer, memory_arm  # noqa: F401 (LEARNED_NOTE: re-exported)
from .mri_recon import CASES, PNP, PNP_GRID, RECON_METHODS, _kspaces, _slices, calibrate, lam_label, recon_arm  # noqa: F401 (re-exported)

LEVELS = (0.03, 0.05, 0.09)  # Rician sigma as a fraction of the volume maximum (the bar's levels)
METRICS = ("psnr", "ssim", "nmse", "psnr_fg", "ssim_fg", "nmse_fg")
HEADER = ["PSNR (dB)", "SSIM", "NMSE", "PSNR fg (dB)", "SSIM fg", "NMSE fg"]
MIN_SLICES, MIN_SIDE = 4, 32  # smaller images are "tiny" and left out

#: settings of the two modes: slices and in-plane size of the crop, volumes, recon slices, sigpy iterations
#: and the lam grid (k-space units; the images have maximum 1 and the FFT is orthonormal)
SETTINGS = {
    "quick": {
        "slices": 8,
        "size": 64,
        "volumes": 2,
        "recon_slices": 4,
        "iters": 40,
        "lams": (1e-3, 1e-2),
        "memory": (32,),
    },
    "full": {
        "slices": 12,
        "size": 80,
        "volumes": 5,
        "recon_slices": 8,
        "iters": 100,
        "lams": (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2),
        "memory": (128, 256),  # the bar's 256^3 volume, and half its side to show how memory grows
    },
}


# --------------------------------------------------------------------------------------------- volumes
def find_volumes(
    data: str | Path, files: Sequence[Path] | None = None
) -> tuple[dict[Path, np.ndarray], list[tuple[Path, str]]]:
    """NIfTI files under ``data`` (recursively, sorted; or the given ``files`` in their order) fit for the
    benchmark with the volume each was read to (each file is read once), and those left out with why."""
    if files is None:
        files = sorted(p for p in Path(data).rglob("*") if p.is_file() and p.name.endswith((".nii", ".nii.gz")))
    keep: dict[Path, np.ndarray] = {}
    skipped = []
    for path in files:
        try:
            arr = _first_volume(read_mri(path).data)
        except Exception as exc:  # unreadable or not 3-D: report, do not stop the benchmark
            skipped.append((path, f"not read ({type(exc).__name__}: {exc})"))
            continue
        reason = _unfit(arr)
        if reason:
            skipped.append((path, reason))
        else:
            keep[path] = arr
    return keep, skipped


def _first_volume(data: np.ndarray) -> np.ndarray:
    """A 3-D volume, or the first of 4-D data."""
    return next(split_volumes(data))


def _unfit(arr: np.ndarray) -> str | None:
    if min(arr.shape[:2]) < MIN_SIDE or arr.shape[2] < MIN_SLICES:
        return f"tiny ({'x'.join(map(str, arr.shape))})"
    if not np.all(np.isfinite(arr)) or float(arr.max()) <= 0:
        return "no positive finite signal"
    if np.allclose(arr, np.round(arr)) and np.unique(arr).size < 16:
        return "a label map (integer data, fewer than 16 values)"
    return None


def crop(arr: np.ndarray, slices: int, size: int) -> np.ndarray:
    """``(x, y, z)`` voxels to ``(slices, H, W)``: the central ``slices`` of the last axis, each slice resized
    (anti-aliased) so that its longer side is at most ``size``; normalised to maximum 1 (float64)."""
    vol = np.moveaxis(np.asarray(arr, dtype=np.float64), -1, 0)
    vol = np.clip(vol, 0, None)
    start = max(0, (vol.shape[0] - slices) // 2)
    vol = vol[start : start + slices]
    h, w = vol.shape[1:]
    scale = min(1.0, size / max(h, w))
    if scale < 1:
        shape = (vol.shape[0], max(8, round(h * scale)), max(8, round(w * scale)))
        vol = resize(vol, shape, order=1, anti_aliasing=True, anti_aliasing_sigma=(0, *(0.5 / scale,) * 2))
    return vol / float(vol.max())


def load_volume(path: Path, slices: int, size: int) -> np.ndarray:
    return crop(_first_volume(read_mri(path).data), slices, size)


def generated_volumes(
    n: int, slices: int, size: int, seed: int = 0
) -> tuple[list[tuple[str, np.ndarray]], str]:
    """``n`` generated volumes ``(slices, size, size)`` and a note of where they came from.

    The brain phantom of ``wavediff.datasets.mri.phantoms`` (T1, T2, PD in turn, then Shepp-Logan)."""
    depth = max(16, slices)
    out = []
    kinds = ("T1", "T2", "PD", "shepp-logan")
    for i in range(n):
        kind = kinds[i % len(kinds)]
        if kind == "shepp-logan":
            vol = shepp_logan_3d((depth, size, size))
        else:
            vol = brain_phantom((depth, size, size), rng=seed + i, contrast=kind)
        start = (depth - slices) // 2
        vol = np.asarray(vol[start : start + slices], dtype=np.float64)
        out.append(
            (
                f"phantom {kind} (seed {seed + i})" if kind != "shepp-logan" else "Shepp-Logan 3-D",
                vol / vol.max(),
            )
        )
    return out, "generated by wavediff.datasets.mri.phantoms (brain_phantom, shepp_logan_3d), noise-free"


# ------------------------------------------------------------------------------------------- denoising
def denoisers(include_bm: bool = True) -> list[tuple[str, Callable[[np.ndarray, float], np.ndarray]]]:
    """The classical denoisers, each called with the true sigma (BM3D/BM4D when ``include_bm``)."""
    out = [
        ("wavelet (BayesShrink db2)", baselines.wavelet),
        ("NLM (dipy, Rician)", baselines.nlm),
    ]
    if include_bm:
        out += [("BM3D (per slice)", baselines.bm3d_slices), ("BM4D (volume)", baselines.bm4d_volume)]
    return out


def _row(method: str, per_volume: list[dict], times: list[float], extra: dict | None = None) -> dict:
    agg = aggregate(per_volume)
    row = {"method": method, **(extra or {})}
    row.update({h: agg[m] for h, m in zip(HEADER, METRICS)})
    row["time / volume (s, median)"] = statistics.median(times) if times else None
    return row


def denoise_arm(
    volumes: Sequence[np.ndarray],
    levels: Sequence[float] = LEVELS,
    seed: int = 0,
    include_bm: bool = True,
    restorer=None,
    restorer3d=None,
) -> tuple[dict[float, list[dict]], list[str]]:
    """Per level, rows of the noisy input, every denoiser and the learned models that are given (``restorer``,
    and a 3-D ``restorer3d``; metrics averaged over volumes); and notes."""
    notes: list[str] = []
    methods = denoisers(include_bm)
    learned = learned_methods(restorer, restorer3d)
    tables: dict[float, list[dict]] = {}
    missing: set[str] = set()
    masks = [foreground_mask(v) for v in volumes]
    for li, level in enumerate(levels):
        scores: dict[str, list[dict]] = {}
        times: dict[str, list[float]] = {}
        est_sigmas: list[float] = []
        for vi, (clean, fg) in enumerate(zip(volumes, masks)):
            rng = np.random.default_rng([seed, li, vi])
            noisy = degrade.rician(clean, level, rng)
            sigma = level * float(clean.max())
            scores.setdefault("noisy input", []).append(volume_metrics(clean, noisy, mask=fg))
            for name, fn in methods:
                if name in missing:
                    continue
                t0 = time.perf_counter()
                try:
                    est = fn(noisy, sigma)
                except MissingDependencyError as exc:
                    missing.add(name)
                    msg = f"{name} skipped: {exc}"
                    print(msg)
                    notes.append(msg)
                    continue
                times.setdefault(name, []).append(time.perf_counter() - t0)
                scores.setdefault(name, []).append(volume_metrics(clean, est, mask=fg))
            try:
                t0 = time.perf_counter()
                s_hat = degrade.estimate_sigma(noisy, "background")
                est = baselines.nlm(noisy, s_hat)
                times.setdefault("nlm est", []).append(time.perf_counter() - t0)
                scores.setdefault("nlm est", []).append(volume_metrics(clean, est, mask=fg))
                est_sigmas.append(s_hat / sigma)
            except (InvalidInputError, MissingDependencyError) as exc:
                notes.append(f"NLM with estimated sigma: volume {vi} at {level} skipped ({exc})")
            for name, how, fn in learned:
                t0 = time.perf_counter()
                est = fn(noisy, sigma)
                times.setdefault((name, how), []).append(time.perf_counter() - t0)
                scores.setdefault((name, how), []).append(volume_metrics(clean, est, mask=fg))
        rows = [_row("noisy input", scores["noisy input"], [], {"sigma": "-"})]
        for name, _ in methods:
            if name in scores and len(scores[name]) == len(volumes):
                rows.append(_row(name, scores[name], times[name], {"sigma": "true"}))
        if "nlm est" in scores and len(scores["nlm est"]) == len(volumes):
            ratio = f"estimated ({min(est_sigmas):.2f}-{max(est_sigmas):.2f} x true)"
            rows.append(_row("NLM (dipy, Rician)", scores["nlm est"], times["nlm est"], {"sigma": ratio}))
        rows += [
            _row(name, scores[(name, how)], times[(name, how)], {"sigma": how}) for name, how, _ in learned
        ]
        tables[level] = rows
    return tables, sorted(set(notes), key=notes.index)


# ------------------------------------------------------------------------------------------------ main
def run(
    data: str | None,
    quick: bool,
    out: str | Path,
    max_volumes: int | None = None,
    command: str | None = None,
    include_bm: bool = True,
    settings: dict | None = None,
    model: str | Path | None = None,
    draws: int = 8,
    model3d: str | Path | None = None,
    files: Sequence[Path] | None = None,
) -> str:
    """Run both arms (and the learned model's coverage) and write the report to ``out``; returns its text."""
    t_start = time.perf_counter()
    cfg = dict(SETTINGS["quick" if quick else "full"], **(settings or {}))
    n_vol = max_volumes if max_volumes is not None else cfg["volumes"]
    slices, size = cfg["slices"], cfg["size"]
    notes, used_files = [], []
    if data:
        eligible, skipped = find_volumes(data, files)
        for path, why in skipped:
            print(f"left out {path}: {why}")
        if len(eligible) >= 2:
            calib_path, *rest = eligible
            test_paths = rest[:n_vol]
            calib, calib_name = crop(eligible[calib_path], slices, size), str(calib_path)
            used_files = [calib_path, *test_paths]
        else:
            test_paths = list(eligible)[:n_vol]
            gen, gen_note = generated_volumes(1, slices, size, seed=100)
            calib, calib_name = gen[0][1], f"generated ({gen[0][0]}; {gen_note})"
            used_files = list(test_paths)
        if not test_paths:
            raise InvalidInputError(f"no usable 3-D NIfTI volume under {data}")
        test = [(str(p), crop(eligible[p], slices, size)) for p in test_paths]
        source = f"real NIfTI volumes under `{data}` ({len(eligible)} usable, {len(skipped)} left out)"
        left_out = skipped
    else:
        test, gen_note = generated_volumes(n_vol, slices, size, seed=0)
        gen_c, _ = generated_volumes(1, slices, size, seed=100)
        calib, calib_name = gen_c[0][1], f"generated ({gen_c[0][0]})"
        source, left_out = f"no --data: generated volumes only, {gen_note}", []
    vols = [v for _, v in test]
    print(f"{len(vols)} test volumes, calibration: {calib_name}")

    restorer, learned_note = load_restorer(model)
    restorer3d, note3d = load_restorer(model3d, dims=3)
    print(learned_note, "" if restorer3d is None else note3d)
    t0 = time.perf_counter()
    den, den_notes = denoise_arm(vols, LEVELS, include_bm=include_bm, restorer=restorer, restorer3d=restorer3d)
    t_den = time.perf_counter() - t0
    cover = coverage_arm(vols, restorer, LEVELS, draws) if restorer is not None and draws >= 2 else []
    memory = memory_arm(cfg["memory"], model) if restorer is not None and cfg.get("memory") else []
    t0 = time.perf_counter()
    lams = calibrate(calib, cfg["lams"], cfg["iters"], cfg["recon_slices"], restorer=restorer)
    rec = recon_arm(vols, lams, cfg["iters"], cfg["recon_slices"], restorer=restorer)
    t_rec = time.perf_counter() - t0
    notes += den_notes

    vol_lines = "\n".join(f"  - `{n}`: {v.shape[0]} x {v.shape[1]} x {v.shape[2]}" for n, v in test)
    parts = [
        "# MRI room: learned denoising beside the classical baselines, and reconstruction baselines\n",
        provenance(
            command,
            data=used_files,
            libraries=["scikit-image", "pywavelets", "nibabel", "dipy", "sigpy", "bm3d", "bm4d"],
        ),
        f"\n**Volumes.** {source}. {len(vols)} test volumes (mode: {'quick' if quick else 'full'}), each the "
        f"central {slices} slices of the last voxel axis, every slice resized (anti-aliased) to at most "
        f"{size} pixels on its longer side, normalised to maximum 1 and taken as the clean reference (real "
        "volumes carry their own acquisition noise, so the reference is not noise-free):\n",
        vol_lines,
    ]
    if left_out:
        parts.append("- left out: " + "; ".join(f"`{p}` ({why})" for p, why in left_out))
    parts += [
        "\n**Metrics.** fastMRI's: per volume (the volume's maximum as data range, SSIM the mean over slices), "
        "then the mean over volumes; `fg`: within the foreground mask of the clean volume "
        "(`foreground_mask`). Times: wall time per volume on this machine, median over volumes.\n",
        f"**{learned_note}**\n",
        *([f"**{note3d}**\n"] if restorer3d is not None else []),
        "## (1) Rician denoising\n",
        "Noise: Rician, sigma = level x the volume maximum, seeded. Every method but the last NLM row gets "
        "the true sigma; that row uses `estimate_sigma(noisy, 'background')`. BM3D/BM4D: the `bm3d`/`bm4d` "
        "packages (non-commercial licence), default profiles, then the Rician bias correction.\n",
    ]
    parts += [f"- {n}" for n in notes]
    for level, rows in den.items():
        parts += [f"\n### level {level} (sigma = {level} x max)\n", markdown_table(rows, digits=4)]
    if cover:
        parts += [
            "\n### uncertainty: coverage of the learned model's 90 % intervals\n",
            f"Per voxel, mean +- {COVERAGE_Z} x the standard deviation of {draws} posterior draws (the recipe's "
            "sampler, true sigma) times the model's `spread scale` (its JSON's `calibration`, chosen on a held-out "
            "volume that is not a test volume by `python3 -m benchmarks.mri_calibrate`; 1 when it records none); "
            "the share of clean voxels inside, as drawn (scale 1) and scaled, whole volume and foreground, and the "
            "foreground RMS error of the draws' mean over the RMS of their scaled std.\n",
            markdown_table(cover, digits=4),
        ]
    if memory:
        parts += [
            "\n### a large volume in bounded memory\n",
            "A T1 brain phantom of each size with Rician noise (5 %), restored by the learned model slice by "
            "slice (posterior mean, true sigma) in a fresh process that loads it from a .npy file; peak RSS from `getrusage` (the whole "
            "process, Python, torch and the model included), and its growth while restoring. The network "
            "sees at most one batch of slices at a time, so the growth follows the volume's size, not the "
            "network's activations over the whole volume.\n",
            markdown_table(memory, digits=4),
        ]
    parts += [
        "\n## (2) Reconstruction from undersampled k-space, single coil and 8 coils\n",
        f"k-space: orthonormal centred FFT of each magnitude slice times a smooth random phase "
        f"(`simulate_kspace`, no added noise; with 8 coils, first weighted by birdcage sensitivity maps "
        "normalised to unit sum of squares, which every method is given: zero-filled combines the coils "
        "with them, sigpy and PnP use them in the SENSE model), the central "
        f"{cfg['recon_slices']} slices of each volume, "
        "stacked into a volume to score the magnitude. Masks: fastMRI line masks (`undersample`), a "
        "different seed per slice. sigpy: `L1WaveletRecon` (db4) / `TotalVariationRecon`, "
        f"{cfg['iters']} iterations; lam (k-space units) chosen for the best PSNR from the grid "
        f"{', '.join(f'{x:g}' for x in cfg['lams'])} on the held-out calibration volume **{calib_name}** "
        "(never on the test volumes). wavediff PnP-HQS (with a learned model): the zero-filled image, then "
        "per iteration the learned denoiser (`modalities/mri/recon.py`: the magnitude at a noise level "
        "spaced geometrically between the two given, the phase of the image from the fully sampled centre "
        "lines) and the measured lines put back (8 coils: 10 conjugate-gradient steps towards the data from the denoised image); its schedule chosen from "
        f"{', '.join(lam_label(g) for g in PNP_GRID)} on the same calibration volume.\n",
    ]
    for case, rows in rec.items():
        parts += [f"\n### {case}\n", markdown_table(rows, digits=4)]
    parts.append(
        f"\nTotal run time: {time.perf_counter() - t_start:.0f} s (denoising {t_den:.0f} s, "
        f"reconstruction with calibration {t_rec:.0f} s).\n"
    )
    text = "\n".join(parts)
    path = write_report(out, text)
    print(text)
    print(f"wrote {path}")
    return text


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", help="folder searched recursively for NIfTI volumes (default: generated only)")
    ap.add_argument("--ixi", metavar="DIR", help="IXI's NIfTI files under DIR (datasets.mri.fetch_ixi), sorted by subject")
    ap.add_argument("--ixi-modality", default="T1", choices=("T1", "T2", "PD"), help="the IXI contrast (default T1)")
    ap.add_argument(
        "--fastmri", metavar="DIR", help="fastMRI's reconstruction protocol on the .h5 files under DIR (benchmarks/mri_fastmri.py)"
    )
    ap.add_argument("--quick", action="store_true", help="smaller crops, fewer volumes and iterations")
    ap.add_argument("--out", default=None, help="report (default benchmarks/results/mri.md, mri_fastmri.md with --fastmri)")
    ap.add_argument(
        "--max-volumes", type=int, default=None, help="test volumes at most (default 2 quick, 5 full; fastMRI: all)"
    )
    ap.add_argument(
        "--model", default=None, help="learned model's weights (default: the MRI room's shipped model)"
    )
    ap.add_argument(
        "--model3d", default=None, help="a 3-D model's weights (default: the MRI room's weights3d, when present)"
    )
    ap.add_argument(
        "--draws", type=int, default=8, help="posterior draws for the coverage table (default 8; 0: none)"
    )
    args = ap.parse_args(argv)
    command = shlex.join(["python3", "-m", "benchmarks.mri", *(sys.argv[1:] if argv is None else argv)])
    if args.fastmri:
        from .mri_fastmri import run_fastmri

        out = args.out or "benchmarks/results/mri_fastmri.md"
        run_fastmri(args.fastmri, out, args.model, args.max_volumes, command, iters=40 if args.quick else 100)
        return
    files = None
    if args.ixi:
        from wavediff.datasets.mri.downloads import ixi_files

        files = [f["path"] for f in ixi_files(args.ixi, args.ixi_modality)]
    run(
        args.ixi or args.data,
        args.quick,
        args.out or "benchmarks/results/mri.md",
        args.max_volumes,
        command=command,
        model=args.model,
        draws=args.draws,
        model3d=args.model3d,
        files=files,
    )


if __name__ == "__main__":
    main()
