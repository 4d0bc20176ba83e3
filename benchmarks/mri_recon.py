"""The reconstruction arm of ``benchmarks.mri``: undersampled k-space simulated from real magnitude slices.

Single coil, and 8 birdcage coils with their sensitivity maps (``degrade.simulate_kspace(coils=8)``,
normalised so ``sum_c |S_c|^2 = 1``; every method gets the same true maps). Methods: zero-filled (the
magnitude of ``F^H`` of the zero-filled k-space, combined with the maps' conjugates for several coils),
sigpy's L1-wavelet and TV compressed sensing (SENSE with the maps), and with a learned model the
plug-and-play reconstruction of ``modalities/mri/recon.py``. ``lam`` and the PnP schedule are chosen per
case on a calibration volume, never on the test volumes.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
from wavediff.modalities.mri import baselines, degrade
from wavediff.modalities.mri.metrics import foreground_mask, volume_metrics
from wavediff.modalities.mri.recon import pnp_hqs

from wavediff.errors import MissingDependencyError

#: (label, acceleration, centre fraction, mask kind, coils)
CASES = (
    ("4x equispaced", 4, 0.08, "equispaced", 1),
    ("8x equispaced", 8, 0.04, "equispaced", 1),
    ("4x random", 4, 0.08, "random", 1),
    ("4x equispaced, 8 coils", 4, 0.08, "equispaced", 8),
    ("8x equispaced, 8 coils", 8, 0.04, "equispaced", 8),
)
RECON_METHODS = ("zero-filled", "sigpy L1-wavelet (db4)", "sigpy TV")
PNP = "wavediff PnP-HQS (learned denoiser)"
#: PnP schedules (first level, last level, iterations = network evaluations per slice), chosen per case on
#: the calibration volume like sigpy's lam
PNP_GRID = ((0.05, 0.02, 3), (0.08, 0.02, 6), (0.1, 0.03, 10), (0.2, 0.02, 20))


def _slices(vol: np.ndarray, n: int) -> np.ndarray:
    start = max(0, (vol.shape[0] - n) // 2)
    return vol[start : start + n]


def _kspaces(vol: np.ndarray, case: tuple, seed: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
    """Per slice: the undersampled k-space (``(H, W)`` or ``(coils, H, W)``), its mask and the coil maps."""
    _, acc, centre, kind, coils = case
    out = []
    for i, mag in enumerate(vol):
        sim = degrade.simulate_kspace(mag, np.random.default_rng([seed, i]), coils=coils, phase=True)
        k, m = degrade.undersample(sim["kspace"], acc, centre, kind, seed=seed * 1000 + i)
        out.append((k, m, sim.get("maps")))
    return out


def _recon(method: str, kspaces, lam, iters: int, restorer=None) -> np.ndarray:
    if method == PNP:
        k, m = np.stack([k for k, _, _ in kspaces]), np.stack([m for _, m, _ in kspaces])
        maps = None if kspaces[0][2] is None else np.stack([s for _, _, s in kspaces])
        return pnp_hqs(k, m, restorer, levels=lam[:2], iters=lam[2], maps=maps)
    if method == "zero-filled":
        return np.stack([baselines.zero_filled(k, m, s) for k, m, s in kspaces])
    kind = "wavelet" if "wavelet" in method else "tv"
    return np.stack([np.abs(baselines.sigpy_cs(k, m, lam, kind=kind, maps=s, iters=iters)) for k, m, s in kspaces])


def methods(restorer) -> tuple[str, ...]:
    return RECON_METHODS + ((PNP,) if restorer is not None else ())


def lam_label(lam) -> str:
    if lam is None:
        return "-"
    return f"{lam[0]:g}-{lam[1]:g}, {lam[2]} NFE" if isinstance(lam, tuple) else f"{lam:g}"


def calibrate(
    calib: np.ndarray, lams: Sequence[float], iters: int, n_slices: int, seed: int = 99, restorer=None
) -> dict:
    """``lam`` per (case, sigpy method) maximising the calibration volume's PSNR; never the test volumes."""
    vol = _slices(calib, n_slices)
    fg = foreground_mask(vol)
    chosen = {}
    for case in CASES:
        ks = _kspaces(vol, case, seed)
        for method in methods(restorer)[1:]:
            grid = PNP_GRID if method == PNP else lams
            scores = {
                lam: volume_metrics(vol, _recon(method, ks, lam, iters, restorer), mask=fg)["psnr"]
                for lam in grid
            }
            chosen[(case[0], method)] = max(scores, key=scores.get)
    return chosen


def recon_arm(
    volumes: Sequence[np.ndarray], lams: dict, iters: int, n_slices: int, seed: int = 0, restorer=None
) -> dict[str, list[dict]]:
    """Per case, rows of zero-filled and sigpy CS (with the calibrated ``lam``) and PnP, averaged over volumes."""
    from .mri import _row as row  # the rows of the denoising tables (benchmarks.mri imports this module)

    tables = {}
    for ci, case in enumerate(CASES):
        scores: dict[str, list[dict]] = {}
        times: dict[str, list[float]] = {}
        for vi, full in enumerate(volumes):
            vol = _slices(full, n_slices)
            fg = foreground_mask(vol)
            ks = _kspaces(vol, case, seed + 10 * ci + vi)
            for method in methods(restorer):
                lam = lams.get((case[0], method), 0.0)
                t0 = time.perf_counter()
                try:
                    est = _recon(method, ks, lam, iters, restorer)
                except MissingDependencyError as exc:
                    print(f"{method} skipped: {exc}")
                    continue
                times.setdefault(method, []).append(time.perf_counter() - t0)
                scores.setdefault(method, []).append(volume_metrics(vol, est, mask=fg))
        tables[case[0]] = [
            row(method, scores[method], times[method], {"lam": lam_label(lams.get((case[0], method)))})
            for method in methods(restorer)
            if method in scores and len(scores[method]) == len(volumes)
        ]
    return tables
