"""EEGdenoiseNet benchmark protocol on its real segments: wavediff beside the classical methods and the input.

Usage, from the repository root::

    python3 -m benchmarks.eeg.denoisenet DIR [--max-segments N] [--seed S] [--device cpu]
                                         [--out benchmarks/results/eegdenoisenet.md]

``DIR`` holds ``EEG_all_epochs.npy``, ``EOG_all_epochs.npy`` and ``EMG_all_epochs.npy`` (get them with
``wavediff.datasets.eeg.fetch_eegdenoisenet(DIR)``). From Python (``python3 -m benchmarks.eeg
--eegdenoisenet DIR`` does this)::

    from benchmarks.eeg.denoisenet import report, run_protocol
    print(report(run_protocol(DIR, max_segments=100)))

Protocol (Zhang et al. 2021, J. Neural Eng. 18 056057, and the authors' ``data_prepare.py``):

* split: clean EEG and artifact segments are shuffled and cut 80/10/10 into train/validation/test;
  for EOG the EEG is cut to the 3400 EOG segments, for EMG (5598 segments) some EEG segments are
  reused (in the training part). :func:`wavediff.datasets.eeg.eegdenoisenet_split` draws the
  permutations with a seeded generator; the original's is unseeded, so its exact test part cannot be
  recovered. Only the test part is used here.
* mixing: every test pair is mixed at each SNR level ``-7, -6, ..., 2`` dB as ``y = x + lambda n`` with
  ``lambda = RMS(x) / (RMS(n) 10**(SNR/10))`` per segment, i.e. ``SNR = 10 log10(RMS(x) / RMS(lambda n))``
  (a ratio of amplitudes under the factor 10: -7..2 dB are -14..4 dB of power SNR).
* scaling: each noisy segment and its clean target are divided by the standard deviation of the noisy
  segment, as the benchmark feeds its networks.
* metrics: RRMSE temporal, RRMSE spectral (Welch, 1 s Hann windows) and the correlation coefficient per
  segment (:mod:`wavediff.modalities.eeg.metrics`), averaged over the test segments, then over the 10
  SNR levels for the summary table.

Methods: the untouched noisy input; the room's single-channel cleaners
(``classical_cleaners(filter_method="iir", single_channel=True)``: a zero-phase 1-40 Hz band-pass with a
50 Hz notch, 4th-order Butterworth as a 1 Hz FIR high-pass is 3.3 s long, longer than a 2 s segment;
per-segment wavelet shrinkage, sym4, SureShrink); and wavediff (the EEG room's shipped model,
posterior mean, one 512-sample window per segment) when ``modalities/eeg/weights.safetensors`` exists. ICA needs several channels and
does not apply to these single-channel segments.
"""

from __future__ import annotations

import argparse
import json
import math
import numbers
import os
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from wavediff.datasets.eeg import eegdenoisenet_split, load_eegdenoisenet
from wavediff.modalities.eeg.artifacts import power_snr_db
from wavediff.modalities.eeg.cleaners import classical_cleaners
from wavediff.modalities.eeg.metrics import cc, rrmse_spectral, rrmse_temporal

from wavediff import get_modality
from wavediff.errors import InvalidInputError, NonFiniteError, ShapeError
from wavediff.report import markdown_table, provenance, write_report

__all__ = [
    "ARTIFACTS",
    "FILES",
    "METHODS",
    "PUBLISHED",
    "SNR_LEVELS",
    "data_files",
    "mix",
    "normalise",
    "run_protocol",
    "report",
    "main",
]

ARTIFACTS = ("eog", "emg")
SNR_LEVELS = tuple(range(-7, 3))  # EEGdenoiseNet's 10 test levels, dB (10 log10 of an RMS ratio)
METRICS = ("RRMSE_t", "RRMSE_s", "CC")
# the room's cleaners that work on one channel; IIR filters, as a 1 Hz FIR high-pass outlasts a 2 s segment
SEGMENT_CLEANERS = classical_cleaners(filter_method="iir", single_channel=True)
METHODS = ("noisy input", *SEGMENT_CLEANERS, "wavediff")
FILES = ("EEG_all_epochs.npy", "EOG_all_epochs.npy", "EMG_all_epochs.npy")  # what load_eegdenoisenet reads

# Best published numbers, averaged over the 10 SNR levels (EEGdenoiseNet paper, Zhang et al. 2021).
PUBLISHED = {
    "eog": {"model": "complex CNN", "RRMSE_t": 0.336, "RRMSE_s": 0.343, "CC": 0.923},
    "emg": {"model": "LSTM", "RRMSE_t": 0.561, "RRMSE_s": 0.521, "CC": 0.816},
}


# ----------------------------------------------------------------------------- mixing


def _segments(a: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name} must be a numeric array (n_segments, n_times): {exc}") from None
    if arr.ndim not in (1, 2) or arr.shape[-1] < 2 or arr.size == 0:
        raise ShapeError(
            f"{name} has shape {arr.shape}; pass segments (n_segments, n_times) or one segment (n_times,)"
        )
    if not np.isfinite(arr).all():
        raise NonFiniteError(f"{name} holds NaN or infinite values; drop those segments first")
    return arr


def _rms(a: np.ndarray) -> np.ndarray:
    """RMS of each segment (last axis); the same as ``wavediff.modalities.eeg.artifacts.rms`` per row."""
    return np.sqrt(np.mean(a * a, axis=-1))


def mix(clean: Any, noise: Any, snr_db: Any) -> np.ndarray:
    """EEGdenoiseNet mixing ``y = x + lambda n``, with ``lambda`` chosen per segment for the given SNR.

    ``lambda = RMS(x) / (RMS(n) * 10**(snr_db / 10))``, so that ``10 log10(RMS(x) / RMS(lambda n)) =
    snr_db`` for every segment (the benchmark's definition: -7 dB here is -14 dB of power SNR).

    Parameters
    ----------
    clean, noise : array_like
        Paired segments ``(n_segments, n_times)`` (or one segment ``(n_times,)``) of the same shape.
    snr_db : float or array_like
        One SNR for all segments, or one per segment.

    Returns
    -------
    numpy.ndarray
        The noisy segments, float64, the shape of ``clean``. Inputs are not modified.

    Examples
    --------
    >>> x, n = np.array([[3.0, -3.0, 3.0, -3.0]]), np.array([[1.0, 1.0, -1.0, -1.0]])
    >>> mix(x, n, 0.0)  # SNR 0 dB: the scaled artifact has the RMS of the EEG
    array([[ 6.,  0.,  0., -6.]])
    """
    x, n = _segments(clean, "clean"), _segments(noise, "noise")
    if x.shape != n.shape:
        raise ShapeError(f"clean {x.shape} and noise {n.shape} must have the same shape (paired row by row)")
    if isinstance(snr_db, (bool, str, bytes)):
        raise InvalidInputError(f"snr_db={snr_db!r} must be a number or one number per segment")
    try:
        snr = np.asarray(snr_db, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"snr_db must be a number or one number per segment: {exc}") from None
    if not np.isfinite(snr).all():
        raise NonFiniteError(f"snr_db={snr_db!r} must be finite")
    if snr.ndim > 1 or (snr.ndim == 1 and (x.ndim != 2 or len(snr) != len(x))):
        raise ShapeError(f"snr_db has shape {snr.shape}; pass one number or one per segment ({x.shape[:-1]})")
    rx, rn = _rms(x), _rms(n)
    for name, r in (("clean", rx), ("noise", rn)):
        if np.any(r == 0):
            bad = np.flatnonzero(np.atleast_1d(r) == 0)
            raise InvalidInputError(
                f"{name} segment(s) {bad[:10].tolist()} are all zeros; the SNR is undefined there: drop them"
            )
    lam = rx / (rn * 10.0 ** (snr / 10.0))
    return x + np.asarray(lam)[..., None] * n


def normalise(noisy: Any, clean: Any) -> tuple[np.ndarray, np.ndarray]:
    """Divide each noisy segment and its clean target by the noisy segment's standard deviation.

    EEGdenoiseNet's scaling (``np.std``, population). Ratio metrics (RRMSE, CC) are unchanged by it.

    Examples
    --------
    >>> y, x = normalise(np.array([[2.0, -2.0]]), np.array([[1.0, 0.0]]))
    >>> y, x
    (array([[ 1., -1.]]), array([[0.5, 0. ]]))
    """
    y, x = _segments(noisy, "noisy"), _segments(clean, "clean")
    if x.shape != y.shape:
        raise ShapeError(f"noisy {y.shape} and clean {x.shape} must have the same shape")
    std = y.std(axis=-1, keepdims=True)
    if np.any(std == 0):
        raise InvalidInputError(
            "a noisy segment is constant (standard deviation 0) and cannot be normalised; drop it"
        )
    return y / std, x / std


# ----------------------------------------------------------------------------- protocol


def _check_snrs(snrs: Iterable[Any]) -> list[float]:
    try:
        levels = list(snrs)
    except TypeError:
        raise InvalidInputError(
            f"snrs={snrs!r} must be a sequence of SNR levels in dB, e.g. range(-7, 3)"
        ) from None
    if not levels:
        raise InvalidInputError("snrs is empty; pass SNR levels in dB, e.g. range(-7, 3)")
    for s in levels:
        if isinstance(s, bool) or not isinstance(s, numbers.Real) or not math.isfinite(s):
            raise InvalidInputError(f"SNR level {s!r} must be a finite number of dB")
    return [float(s) for s in levels]


def _check_artifacts(artifacts: Any) -> list[str]:
    if isinstance(artifacts, str):
        artifacts = (artifacts,)
    out = list(dict.fromkeys(artifacts))
    if not out or any(a not in ARTIFACTS for a in out):
        raise InvalidInputError(f"artifacts={artifacts!r}; choose among {ARTIFACTS}")
    return out


def _model_note(restorer: Any, shipped: bool) -> str:
    name = (
        type(restorer.model.net).__name__ if hasattr(restorer.model, "net") else type(restorer.model).__name__
    )
    if not shipped:
        return f"a model passed by the caller ({name}), posterior mean"
    path = restorer.modality.weights_path()
    note = f"shipped `{path.name}`"
    try:
        info = json.loads(path.with_suffix(".json").read_text())["info"]
        note += f" (`{info['command']}`, {info['steps']} steps, seed {info['seed']})"
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return note + ", posterior mean; trained on simulated EEG and artifacts only, never on EEGdenoiseNet"


def run_protocol(
    directory: str | os.PathLike,
    *,
    artifacts: Sequence[str] = ARTIFACTS,
    snrs: Iterable[float] = SNR_LEVELS,
    seed: int = 0,
    max_segments: int | None = None,
    restorer: Any = None,
    device: str = "cpu",
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Run every method on EEGdenoiseNet's test part at every SNR level; one row per method, artifact and SNR.

    Parameters
    ----------
    directory : path-like
        Folder with ``EEG_all_epochs.npy``, ``EOG_all_epochs.npy``, ``EMG_all_epochs.npy``.
    artifacts : sequence of {'eog', 'emg'}
        Artifact types, each paired with clean EEG as the benchmark does.
    snrs : iterable of float
        SNR levels in dB (EEGdenoiseNet definition); default -7..2.
    seed : int
        Seed of the split (:func:`wavediff.datasets.eeg.eegdenoisenet_split`).
    max_segments : int, optional
        Use only the first ``max_segments`` test pairs (the test part is already shuffled).
    restorer : wavediff.pipeline.Restorer, optional
        The wavediff model to evaluate; default the EEG room's shipped model (``Restorer("eeg")``), skipped
        with a printed note when there is none.
    device : str
        Device of the default restorer.
    progress : bool
        Show a progress bar.

    Returns
    -------
    list of dict
        ``method``, ``artifact``, ``snr_db``, ``RRMSE_t``, ``RRMSE_s``, ``CC`` (means over the test
        segments), ``n_segments`` (used), ``n_test`` (in the test part), ``seed``, ``seconds`` (wall time
        of the method), and for wavediff ``model`` (what was evaluated).

    Raises
    ------
    DataNotFoundError
        The folder or one of the three files is missing.
    """
    artifacts = _check_artifacts(artifacts)
    levels = _check_snrs(snrs)
    if max_segments is not None and (
        isinstance(max_segments, bool) or not isinstance(max_segments, numbers.Integral) or max_segments < 1
    ):
        raise InvalidInputError(
            f"max_segments={max_segments!r} must be a positive integer, or None for the whole test part"
        )
    data = load_eegdenoisenet(directory)
    sfreq = float(data["sfreq"])

    model_note = None
    if restorer is None:
        room = get_modality("eeg")
        if room.weights_path().is_file():
            from wavediff.pipeline import Restorer

            restorer = Restorer(room, device=device, seed=seed)
            model_note = _model_note(restorer, shipped=True)
        else:
            print(
                f"note: wavediff skipped: the EEG room has no shipped model at {room.weights_path()} (train one with `wavediff train eeg`)"
            )
    else:
        if not hasattr(restorer, "restore"):
            raise InvalidInputError(
                "restorer must be a wavediff.pipeline.Restorer (an object with .restore(array, sfreq=...))"
            )
        model_note = _model_note(restorer, shipped=False)

    # each row is a segment of its own: the single-channel cleaners treat rows independently
    methods = {"noisy input": lambda y: y, **{label: (lambda y, fn=fn: fn(y, sfreq, None)) for label, fn in SEGMENT_CLEANERS.items()}}
    if restorer is not None:
        # each segment is a recording of its own (one channel, its own context): (segments, 1, samples)
        methods["wavediff"] = lambda y: np.asarray(restorer.restore(y[:, None, :], sfreq=sfreq), dtype=np.float64)[:, 0]

    tests = {}
    for artifact in artifacts:
        test = eegdenoisenet_split(data, rng=seed, artifact=artifact)["test"]
        n_test = len(test["eeg"])
        n = n_test if max_segments is None else min(int(max_segments), n_test)
        tests[artifact] = (test["eeg"][:n], test["noise"][:n], n_test)

    from tqdm.auto import tqdm

    rows: list[dict[str, Any]] = []
    cases = [(a, s) for a in artifacts for s in levels]
    for artifact, snr in tqdm(cases, desc="EEGdenoiseNet", unit="level", disable=not progress):
        clean, noise, n_test = tests[artifact]
        noisy, target = normalise(mix(clean, noise, snr), clean)
        for name, method in methods.items():
            t0 = time.perf_counter()
            est = method(noisy)
            seconds = time.perf_counter() - t0
            if est.shape != target.shape:
                raise ShapeError(f"{name} returned shape {est.shape} for input {target.shape}")
            row = {
                "method": name,
                "artifact": artifact,
                "snr_db": snr,
                "RRMSE_t": float(np.mean(rrmse_temporal(target, est))),
                "RRMSE_s": float(np.mean(rrmse_spectral(target, est, sfreq))),
                "CC": float(np.mean(cc(target, est))),
                "n_segments": len(clean),
                "n_test": n_test,
                "seed": seed,
                "seconds": seconds,
            }
            if name == "wavediff":
                row["model"] = model_note
            rows.append(row)
    return rows


# ----------------------------------------------------------------------------- report


def _fmt(v: float) -> str:
    return f"{v:.3f}"


def report(rows: Sequence[dict[str, Any]]) -> str:
    """Markdown: per artifact, the metrics averaged over the SNR levels beside the published best, and RRMSE_t per SNR."""
    rows = list(rows)
    if not rows:
        raise InvalidInputError("no rows to report; run run_protocol first")
    artifacts = [a for a in ARTIFACTS if any(r["artifact"] == a for r in rows)]
    methods = list(dict.fromkeys(r["method"] for r in rows))
    snrs = sorted({r["snr_db"] for r in rows})
    seeds = sorted({r["seed"] for r in rows if "seed" in r})
    lo, hi = snrs[0], snrs[-1]
    parts = [
        "### EEGdenoiseNet protocol (the dataset's single-channel EEG, EOG and EMG segments)\n",
        f"Test part of the benchmark's 80/10/10 split, every pair mixed at each of {len(snrs)} SNR levels "
        f"{lo:g}..{hi:g} dB (`y = x + lambda n`, EEGdenoiseNet's `SNR = 10 log10(RMS(x) / RMS(lambda n))`, "
        f"i.e. {power_snr_db(lo):g}..{power_snr_db(hi):g} dB of power SNR); each noisy segment and its clean target "
        "divided by the noisy segment's standard deviation; RRMSE_t, RRMSE_s (Welch, 1 s windows) and CC per "
        "2 s segment, averaged over the segments, then over the SNR levels.\n",
        f"The split is re-drawn with a seeded generator (seed {', '.join(map(str, seeds)) or '?'}; the original "
        "shuffles without a seed, so its exact test part cannot be recovered): the published numbers are on a "
        "different draw of the same data and are indicative only.\n",
        "Methods: the untouched noisy input; zero-phase 1-40 Hz band-pass + 50 Hz notch (4th-order Butterworth, "
        "as a 1 Hz FIR high-pass is longer than a 2 s segment); per-segment wavelet shrinkage (sym4, SureShrink); "
        "wavediff. ICA does not apply: the segments are single-channel.\n",
    ]
    notes = sorted({r["model"] for r in rows if r["method"] == "wavediff" and r.get("model")})
    if notes:
        parts.append("wavediff: " + "; ".join(notes) + ".\n")
    elif "wavediff" not in methods:
        parts.append(f"wavediff not run: no shipped model at `{get_modality('eeg').weights_path()}`.\n")

    for artifact in artifacts:
        sel = [r for r in rows if r["artifact"] == artifact]
        used = sorted({r["n_segments"] for r in sel})
        total = sorted({r.get("n_test", r["n_segments"]) for r in sel})
        count = f"{used[0]} test pairs" + (
            f" (the first {used[0]} of {total[0]})" if used[0] != total[0] else ""
        )
        body = []
        for m in methods:
            mine = [r for r in sel if r["method"] == m]
            if not mine:
                continue
            n_seg = sum(r["n_segments"] for r in mine)
            ms = 1000.0 * sum(r.get("seconds", float("nan")) for r in mine) / n_seg
            body.append([m, *(_fmt(np.mean([r[k] for r in mine])) for k in METRICS), f"{ms:.2f}"])
        pub = PUBLISHED[artifact]
        body.append(
            [f"published best ({pub['model']}, EEGdenoiseNet paper)", *(_fmt(pub[k]) for k in METRICS), ""]
        )
        header = ["method", "RRMSE_t", "RRMSE_s", "CC", "ms / segment"]
        parts.append(f"**{artifact.upper()}**: {count} x {len(snrs)} SNR levels, mean over the levels\n")
        parts.append(markdown_table(body, header) + "\n")
        per = []
        for m in methods:
            vals = {r["snr_db"]: r["RRMSE_t"] for r in sel if r["method"] == m}
            if vals:
                per.append([m, *(_fmt(vals[s]) if s in vals else "" for s in snrs)])
        parts.append(
            markdown_table(per, [f"RRMSE_t, {artifact.upper()}", *(f"{s:g} dB" for s in snrs)]) + "\n"
        )
    parts.append(
        "Published anchors (EEGdenoiseNet paper, averaged over its 10 SNR levels): EOG best RRMSE_t 0.336 / "
        "RRMSE_s 0.343 / CC 0.923 (complex CNN); EMG best RRMSE_t 0.561 / RRMSE_s 0.521 / CC 0.816 (LSTM). "
        "Those networks were trained on the benchmark's training part.\n"
    )
    return "\n".join(parts)


# ----------------------------------------------------------------------------- command line


def data_files(directory: str | os.PathLike) -> list[Path]:
    """The three files :func:`run_protocol` reads from ``directory`` (for the report's provenance)."""
    return [Path(directory) / name for name in FILES]


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: run the protocol on ``DIR`` and write the report, which opens with its provenance."""
    parser = argparse.ArgumentParser(prog="python3 -m benchmarks.eeg.denoisenet", description=__doc__.splitlines()[0])
    parser.add_argument(
        "directory", type=Path, help="folder with EEG_all_epochs.npy, EOG_all_epochs.npy, EMG_all_epochs.npy"
    )
    parser.add_argument(
        "--max-segments", type=int, default=None, help="use only the first N test pairs per artifact"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the train/validation/test split")
    parser.add_argument("--device", default="cpu", help="device of the wavediff model (cpu or cuda)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "results" / "eegdenoisenet.md")
    args = parser.parse_args(argv)

    rows = run_protocol(args.directory, seed=args.seed, max_segments=args.max_segments, device=args.device)
    command = ["python3", "-m", "benchmarks.eeg.denoisenet", *(sys.argv[1:] if argv is None else argv)]
    head = provenance(command, data=data_files(args.directory), libraries=["mne"])
    text = f"# EEGdenoiseNet benchmark\n\n{head}\n" + report(rows)
    print(text)
    print(f"written to {write_report(args.out, text)}")


if __name__ == "__main__":
    main()
