"""fastMRI's reconstruction protocol, for users who hold the data: ``python3 -m benchmarks.mri --fastmri DIR``.

Every ``.h5`` file under ``DIR`` with fully sampled k-space (fastMRI's ``singlecoil_val`` / ``multicoil_val``
or train sets) is read by the MRI room (:func:`wavediff.modalities.mri.files.read_mri`). The first file
calibrates sigpy's ``lam`` and the PnP schedule; the next ``--max-volumes`` are scored. Per case (4x and 8x,
equispaced and random, fastMRI's centre fractions) one mask per volume, as fastMRI applies it to every
slice, seeded by the file's position.

* **Target**: the file's stored reconstruction, ``reconstruction_esc`` (single coil) or
  ``reconstruction_rss`` (multi-coil), 320 x 320; every estimate is centre-cropped to it.
* **Metrics**: fastMRI's ``evaluate.py``: PSNR, SSIM and NMSE per volume with the target volume's maximum as
  data range, then the mean over volumes (aggregating slice by slice would move the U-Net from 32.3 to 27.0 dB).
* **Methods**: zero-filled (magnitude, root-sum-of-squares for coils); sigpy's L1-wavelet CS (multi-coil:
  ESPIRiT maps from the fully sampled centre lines, :func:`wavediff.operators.espirit_maps`, or where
  ESPIRiT finds none the low-resolution coil images over their root sum of squares, said in the report); with a model,
  wavediff's PnP-HQS (:func:`wavediff.modalities.mri.recon.pnp_hqs`, the same maps).
* **Scale**: each volume's k-space is divided by the 99.5th percentile of its zero-filled image, so ``lam``
  and the PnP levels mean the same on every file; estimates are multiplied back before scoring.

fastMRI's anchors (single-coil knee, 4x): zero-filled 29.6 dB / SSIM 0.658, U-Net 31.8-32.3 dB.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from wavediff.modalities.mri import baselines, degrade
from wavediff.modalities.mri.files import read_mri
from wavediff.modalities.mri.metrics import aggregate, volume_metrics
from wavediff.modalities.mri.recon import centre_block, centre_window, pnp_hqs

from wavediff.errors import InvalidInputError, UnsupportedFormatError
from wavediff.operators import ifftc
from wavediff.report import markdown_table, provenance, write_report

from .mri_recon import PNP, PNP_GRID, lam_label

#: (label, acceleration, centre fraction, mask kind): fastMRI's challenge masks
FASTMRI_CASES = (
    ("4x equispaced", 4, 0.08, "equispaced"),
    ("4x random", 4, 0.08, "random"),
    ("8x equispaced", 8, 0.04, "equispaced"),
    ("8x random", 8, 0.04, "random"),
)
METHODS = ("zero-filled", "sigpy L1-wavelet (db4)")
LAMS = (1e-4, 1e-3, 1e-2)


def fastmri_volumes(folder: str | Path) -> tuple[list[dict], list[str]]:
    """The fastMRI files under ``folder`` with fully sampled k-space and a stored target, as dicts of
    ``path``, ``kspace`` ``(slices, [coils,] H, W)`` and ``target`` ``(slices, 320, 320)``; and notes on the
    files left out."""
    out, notes = [], []
    for path in sorted(Path(folder).rglob("*.h5")):
        try:
            img = read_mri(path)
        except (UnsupportedFormatError, InvalidInputError, OSError) as exc:
            notes.append(f"`{path.name}` left out: {exc}")
            continue
        key = img.meta.get("reconstruction")
        if img.kspace is None or key not in ("reconstruction_esc", "reconstruction_rss"):
            notes.append(f"`{path.name}` left out: no k-space with a stored reconstruction_esc/rss target")
            continue
        out.append({"path": path, "kspace": np.asarray(img.kspace), "target": np.asarray(img.data, np.float64)})
    if not out:
        raise InvalidInputError(f"no fastMRI .h5 file with k-space and a stored reconstruction under {folder}")
    return out, notes


def centre_crop(x: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """The central ``shape`` of the last two axes (fastMRI's ``center_crop``)."""
    h, w = x.shape[-2:]
    th, tw = min(shape[0], h), min(shape[1], w)
    top, left = (h - th) // 2, (w - tw) // 2
    return x[..., top : top + th, left : left + tw]


def _maps(k: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, int]:
    """Sensitivity maps of each slice ``(slices, coils, H, W)`` from the fully sampled centre lines: ESPIRiT
    (eigenvalue crop 0.8, BART ``ecalib``'s default, which fastMRI's CS baseline runs); where the crop leaves
    nothing (too few centre lines for its calibration), the low-resolution coil images over their root sum
    of squares, and the count of such slices."""
    from wavediff.operators import espirit_maps

    lo, hi = centre_block(mask)
    if hi - lo < 6:
        raise InvalidInputError(f"ESPIRiT needs at least 6 fully sampled centre lines (its kernel), the mask has {hi - lo}")
    width = min(24, hi - lo)
    window = centre_window(mask)
    out, fallback = [], 0
    for s in k:
        maps = espirit_maps(s, calib_width=width, crop=0.8)
        if not np.any(maps):
            low = ifftc(torch.from_numpy(s * window)).numpy()
            maps, fallback = low / np.maximum(np.sqrt((np.abs(low) ** 2).sum(0, keepdims=True)), 1e-30), fallback + 1
        out.append(maps)
    return np.stack(out), fallback


def _reconstruct(method, k, mask, maps, lam, iters, restorer) -> np.ndarray:
    """The magnitude ``(slices, H, W)`` of one method on the undersampled, scaled k-space ``k``."""
    if method == "zero-filled":
        return baselines.zero_filled(k, mask, coils=k.ndim == 4)
    if method == PNP:
        return pnp_hqs(k, mask, restorer, levels=lam[:2], iters=lam[2], maps=maps)
    per_slice = maps if maps is not None else [None] * len(k)
    return np.stack([np.abs(baselines.sigpy_cs(s, mask, lam, maps=m, iters=iters)) for s, m in zip(k, per_slice)])


def _case(vol: dict, case: tuple, seed: int, notes: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, float]:
    """The undersampled k-space of one volume, scaled (a note appended where its maps needed the fallback)."""
    _, acc, centre, kind = case
    mask = degrade.undersample(np.ones(vol["kspace"].shape[-2:], complex), acc, centre, kind, seed=seed)[1]
    k = np.where(mask, vol["kspace"], 0).astype(np.complex128)
    scale = float(np.percentile(baselines.zero_filled(k, mask, coils=k.ndim == 4), 99.5)) or 1.0
    k = k / scale
    maps, fallback = _maps(k, mask) if k.ndim == 4 else (None, 0)
    if fallback:
        notes.append(
            f"`{vol['path'].name}`, {case[0]}: {fallback} slice(s) where ESPIRiT's crop left no map; their maps are the "
            "low-resolution coil images over their root sum of squares"
        )
    return k, mask, maps, scale


def _methods(restorer) -> tuple[str, ...]:
    return METHODS + ((PNP,) if restorer is not None else ())


def fastmri_arm(
    volumes: Sequence[dict], restorer=None, iters: int = 100, lams: Sequence[float] = LAMS, cases=FASTMRI_CASES
) -> tuple[dict[str, list[dict]], dict, list[str]]:
    """Per case, rows of every method averaged over ``volumes[1:]``; ``lam`` and the PnP schedule chosen on
    ``volumes[0]``. Returns the tables, the choices and notes (where ESPIRiT needed its fallback)."""
    if len(volumes) < 2:
        raise InvalidInputError("the fastMRI protocol needs two files or more: the first calibrates, the rest are scored")
    chosen: dict = {}
    tables: dict[str, list[dict]] = {}
    notes: list[str] = []
    for ci, case in enumerate(cases):
        calib = volumes[0]
        k, mask, maps, scale = _case(calib, case, 1000 + ci, notes)
        for method in _methods(restorer)[1:]:
            grid = PNP_GRID if method == PNP else lams
            score = {}
            for lam in grid:
                est = centre_crop(_reconstruct(method, k, mask, maps, lam, iters, restorer) * scale, calib["target"].shape[-2:])
                score[lam] = volume_metrics(calib["target"], est)["psnr"]
            chosen[(case[0], method)] = max(score, key=score.get)
        per: dict[str, list[dict]] = {}
        times: dict[str, list[float]] = {}
        for vi, vol in enumerate(volumes[1:]):
            k, mask, maps, scale = _case(vol, case, vi * 10 + ci, notes)
            for method in _methods(restorer):
                t0 = time.perf_counter()
                est = _reconstruct(method, k, mask, maps, chosen.get((case[0], method)), iters, restorer) * scale
                times.setdefault(method, []).append(time.perf_counter() - t0)
                per.setdefault(method, []).append(volume_metrics(vol["target"], centre_crop(est, vol["target"].shape[-2:])))
        tables[case[0]] = [
            {
                "method": m,
                "lam": lam_label(chosen.get((case[0], m))),
                **{h: aggregate(per[m])[key] for h, key in (("PSNR (dB)", "psnr"), ("SSIM", "ssim"), ("NMSE", "nmse"))},
                "time / volume (s, median)": statistics.median(times[m]),
            }
            for m in _methods(restorer)
        ]
    return tables, chosen, sorted(set(notes), key=notes.index)


def run_fastmri(
    folder: str | Path,
    out: str | Path = "benchmarks/results/mri_fastmri.md",
    model: str | Path | None = None,
    max_volumes: int | None = None,
    command: str | None = None,
    iters: int = 100,
) -> str:
    """The protocol on ``folder``'s files (the first calibrates, the next ``max_volumes`` are scored) with the
    shipped model (or ``model``); writes the report to ``out`` and returns its text."""
    from .mri_learned import load_restorer

    t0 = time.perf_counter()
    volumes, notes = fastmri_volumes(folder)
    volumes = volumes[: None if max_volumes is None else 1 + max_volumes]
    restorer, learned_note = load_restorer(model)
    tables, _, arm_notes = fastmri_arm(volumes, restorer, iters=iters)
    coils = "multi-coil" if volumes[0]["kspace"].ndim == 4 else "single-coil"
    parts = [
        "# MRI room: fastMRI reconstruction protocol\n",
        provenance(command, data=[v["path"] for v in volumes], libraries=["sigpy", "h5py", "scikit-image"]),
        f"\n**Data.** {len(volumes) - 1} {coils} fastMRI volume(s) scored under `{folder}`; calibration (lam, PnP "
        f"schedule): `{volumes[0]['path'].name}`. Target: the stored reconstruction, estimates centre-cropped to it; "
        "fastMRI's metrics per volume (the target's maximum as data range), then the mean over volumes.\n",
        f"**{learned_note}**\n",
        *[f"- {n}" for n in [*notes, *arm_notes]],
    ]
    for case, rows in tables.items():
        parts += [f"\n### {case}\n", markdown_table(rows, digits=4)]
    parts.append(f"\nTotal run time: {time.perf_counter() - t0:.0f} s.\n")
    text = "\n".join(parts)
    write_report(out, text)
    print(text)
    return text
