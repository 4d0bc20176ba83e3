"""The learned model's arms of ``benchmarks.mri``: its rows beside the classical denoisers (through
``wavediff.Restorer``, as users call it), the observed coverage of its 90 % intervals, and restoring a
256^3 volume in bounded memory (each size in a fresh subprocess, so that its peak RSS is its own)."""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from wavediff.modalities.mri import degrade
from wavediff.modalities.mri.metrics import foreground_mask

from wavediff.report import sha256sum

LEARNED_NOTE = "learned model: none (no shipped MRI model and no --model); only the classical rows below."
COVERAGE_Z = 1.645  # mean +- z std: a 90 % interval for a Gaussian posterior


def learned_methods(restorer, restorer3d=None) -> list[tuple[str, str, Callable[[np.ndarray, float], np.ndarray]]]:
    """``(name, sigma label, fn(noisy, sigma))`` of the learned model: with the true sigma, and with the sigma
    the room estimates itself (as ``wavediff restore mri`` does without ``--sigma``); none without a model.
    With ``restorer3d`` (a 3-D model) its row with the true sigma follows.

    Volumes here are ``(slices, H, W)``, so the room is told its slice axis (``axis=0``)."""
    out = []
    if restorer is not None:
        name = "wavediff (posterior mean, 1 NFE)"
        out += [
            (name, "true", lambda noisy, sigma: restorer.restore(noisy, sigma=sigma, axis=0)),
            (name, "estimated by the room", lambda noisy, sigma: restorer.restore(noisy, axis=0)),
        ]
    if restorer3d is not None:
        name = f"wavediff 3-D (cWDM packing, cubes of {restorer3d.modality.cube}^3, 1 NFE per cube)"
        out.append((name, "true", lambda noisy, sigma: restorer3d.restore(noisy, sigma=sigma)))
    return out


def load_restorer(model: str | Path | None, dims: int = 2):
    """A Restorer for ``model`` (default: the MRI room's shipped weights, ``dims=3``: its 3-D model), and a
    note of what it is; None and the reason when there is no model."""
    from wavediff.modalities.mri.adapter import MRI

    from wavediff.pipeline import Restorer
    from wavediff.training import read_meta

    default = MRI.weights_3d_path() if dims == 3 else MRI.weights_path()
    path = Path(model) if model is not None else default
    if not path.is_file():
        return None, LEARNED_NOTE
    info = read_meta(path).get("info", {})
    data = info.get("data", {})
    names = sorted({Path(f["path"]).parts[0] for f in data.get("files", [])})
    note = (
        f"learned {'3-D ' if dims == 3 else ''}model: `{path.name}` (sha256 `{sha256sum(path)[:12]}`), trained by `{info.get('command', '?')}` "
        f"for {info.get('steps', '?')} steps on {data.get('source', '?')} under `{data.get('folder', '-')}` "
        f"({', '.join(names) or 'no files'}), held out: {', '.join(data.get('excluded', [])) or 'nothing'}."
    )
    return Restorer("mri", path, progress=False), note


def coverage_arm(
    volumes: Sequence[np.ndarray], restorer, levels: Sequence[float], draws: int, seed: int = 0
) -> list[dict]:
    """Per level: the observed coverage of mean +- 1.645 std of ``draws`` posterior draws (a nominal 90 %
    Gaussian interval; the std times the model's calibrated ``spread_scale``, and as drawn), whole volume and
    foreground, and the RMS error of the draws' mean over their (scaled) std."""
    rows = []
    k = restorer.spread_scale  # the model's calibrated factor on the spread (1 when it records none)
    for li, level in enumerate(levels):
        inside, inside_fg, ratio, times, raw = [], [], [], [], []
        for vi, clean in enumerate(volumes):
            noisy = degrade.rician(clean, level, np.random.default_rng([seed, li, vi]))
            t0 = time.perf_counter()
            mean, std = restorer.restore(
                noisy, n_draws=draws, return_std=True, sigma=level * float(clean.max()), axis=0
            )
            times.append(time.perf_counter() - t0)
            hit = np.abs(mean - clean) <= COVERAGE_Z * std
            raw.append(float((np.abs(mean - clean) <= COVERAGE_Z * std / k).mean()))
            fg = foreground_mask(clean)
            inside.append(float(hit.mean()))
            inside_fg.append(float(hit[fg].mean()))
            ratio.append(
                float(np.sqrt(np.mean((mean - clean)[fg] ** 2)) / max(np.sqrt(np.mean(std[fg] ** 2)), 1e-12))
            )
        rows.append(
            {
                "level": level,
                "draws": draws,
                "NFE / slice": restorer.evaluations_per_row(draws),
                "coverage as drawn": statistics.mean(raw),
                "spread scale": k,
                "coverage (nominal 0.90)": statistics.mean(inside),
                "coverage fg": statistics.mean(inside_fg),
                "RMS error / RMS std (fg)": statistics.mean(ratio),
                "time / volume (s, median)": statistics.median(times),
            }
        )
    return rows


def _memory_make(size: int, path: str) -> None:
    """Write a ``size``^3 T1 phantom with Rician noise (5 %) to ``path`` (.npy, float32)."""
    from wavediff.datasets.mri.phantoms import brain_phantom

    clean = brain_phantom((size, size, size), rng=0, contrast="T1").astype(np.float32)
    np.save(
        path,
        degrade.rician(clean, 0.05, np.random.default_rng(0), reference=float(clean.max())).astype(
            np.float32
        ),
    )


def _memory_child(path: str, model: str | None) -> dict:
    """In this fresh process: load the volume at ``path``, restore it, report time and peak RSS."""
    restorer, _ = load_restorer(model)
    noisy = np.load(path)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    out = restorer.restore(noisy, sigma=0.05 * float(noisy.max()), axis=0)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert out.shape == noisy.shape
    return {
        "size": noisy.shape[0],
        "seconds": seconds,
        "rss_before_mib": before,
        "rss_peak_mib": peak,
        "volume_mib": noisy.nbytes / 2**20,
    }


def memory_arm(sizes: Sequence[int], model: str | None = None) -> list[dict]:
    """Rows ``(volume, float32 size, time, peak RSS, its growth while restoring)``: each volume is made in one
    subprocess and restored in another, so the restoring process's peak is its own."""
    import tempfile

    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            path = str(Path(tmp) / f"noisy_{size}.npy")
            subprocess.run(
                [sys.executable, "-m", "benchmarks.mri_learned", "make", str(size), path], check=True
            )
            cmd = [sys.executable, "-m", "benchmarks.mri_learned", "restore", path] + (
                [str(model)] if model else []
            )
            line = (
                subprocess.run(cmd, capture_output=True, text=True, check=True)
                .stdout.strip()
                .splitlines()[-1]
            )
        r = json.loads(line)
        rows.append(
            {
                "volume": f"{size}^3",
                "float32 volume (MiB)": r["volume_mib"],
                "restore time (s)": r["seconds"],
                "slices / s": size / r["seconds"],
                "RSS before restoring (MiB)": r["rss_before_mib"],
                "peak RSS (MiB)": r["rss_peak_mib"],
                "growth while restoring (MiB)": r["rss_peak_mib"] - r["rss_before_mib"],
            }
        )
    return rows


if __name__ == "__main__":
    if sys.argv[1] == "make":
        _memory_make(int(sys.argv[2]), sys.argv[3])
    else:
        print(json.dumps(_memory_child(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)))
