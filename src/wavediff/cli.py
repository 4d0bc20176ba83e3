"""Command line: ``wavediff modalities | demo | train | restore | evaluate``.

``wavediff demo`` runs offline on generated data and writes a before/after figure. With no room named
it runs the engine demo and then every installed room's own demo; ``wavediff demo ROOM`` runs one.
``wavediff evaluate ROOM REFERENCE ESTIMATE [--json]`` prints the room's metrics of two files, for
evaluation pipelines.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__, classical, metrics
from .errors import CorruptFileError, DataNotFoundError, DataWarning, InvalidInputError, WavediffError
from .modality import atomic_output, available_modalities, get_modality, missing_extras
from .report import markdown_table, sha256sum

__all__ = ["main", "engine_demo"]


def engine_demo(out_dir: str | os.PathLike = "wavediff-demo", seed: int = 0) -> dict[str, object]:
    """Degrade generated 1-D signals and a 2-D phantom with white noise, restore them with the classical
    baselines, print markdown tables and write ``engine_demo.png``.

    Returns a dict with the two result tables (lists of rows) and the figure path.
    """
    from matplotlib.figure import Figure  # no pyplot: the caller's backend is left alone

    from wavediff.datasets.signals import SIGNALS, phantom, test_signal

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)

    # 1-D: Donoho-Johnstone signals scaled to std 7 with unit noise (their "SNR 7", a ratio of
    # standard deviations); the table reports 10 log10(sum x^2 / sum err^2), which counts the mean too.
    n, sigma = 2048, 1.0
    methods = {
        "VisuShrink": lambda y: classical.denoise_wavelet(y, wavelet="sym8", method="VisuShrink"),
        "BayesShrink": lambda y: classical.denoise_wavelet(y, wavelet="sym8", method="BayesShrink"),
        "SureShrink": lambda y: classical.denoise_wavelet(y, wavelet="sym8", method="SureShrink"),
        "Wiener": lambda y: classical.wiener(y, mysize=9),
    }
    rows_1d: list[dict[str, object]] = []
    shown: dict[str, np.ndarray] = {}
    for name in SIGNALS:
        clean = test_signal(name, n, std=7.0)
        noisy = clean + rng.normal(0.0, sigma, n)
        row: dict[str, object] = {"signal": name, "noisy input": metrics.snr_db(clean, noisy)}
        for label, fn in methods.items():
            est = fn(noisy)
            row[label] = metrics.snr_db(clean, est)
            if name == "doppler":
                shown[label] = est
        if name == "doppler":
            shown["clean"], shown["noisy"] = clean, noisy
        rows_1d.append(row)

    # 2-D: Shepp-Logan phantom with Gaussian noise of std 0.1 on a [0, 1] range.
    img = phantom(256)
    noisy_img = img + rng.normal(0.0, 0.1, img.shape)
    t0 = time.perf_counter()
    bayes_img = classical.denoise_wavelet(noisy_img, wavelet="db2", method="BayesShrink")
    t_bayes = time.perf_counter() - t0
    wiener_img = classical.wiener(noisy_img, mysize=5)
    rows_2d = [
        {"method": label, "PSNR dB": metrics.psnr(img, est, data_range=1.0), "SSIM": metrics.ssim(img, est, data_range=1.0)}
        for label, est in (("noisy input", noisy_img), ("BayesShrink db2", bayes_img), ("Wiener 5x5", wiener_img))
    ]

    print("## 1-D test signals, SNR in dB (higher is better), n=2048, noise sigma=1, signal std=7\n")
    print(markdown_table(rows_1d))
    print("\n## 2-D Shepp-Logan phantom 256x256, noise sigma=0.1\n")
    print(markdown_table(rows_2d))
    print(f"\nBayesShrink on 256x256 took {t_bayes * 1e3:.1f} ms")

    fig = Figure(figsize=(13, 7))
    axes = fig.subplots(2, 3)
    t = np.arange(n)
    for ax, key in zip(axes[0], ("noisy", "SureShrink", "Wiener")):
        ax.plot(t, shown[key], lw=0.6, color="tab:gray" if key == "noisy" else "tab:blue", label=key)
        ax.plot(t, shown["clean"], lw=0.8, color="k", alpha=0.6, label="clean")
        ax.set_title(f"doppler: {key} ({metrics.snr_db(shown['clean'], shown[key]):.1f} dB)")
        ax.legend(loc="upper right", fontsize=7)
    for ax, (label, im) in zip(axes[1], (("noisy", noisy_img), ("BayesShrink", bayes_img), ("clean", img))):
        ax.imshow(im, cmap="gray", vmin=0, vmax=1)
        ax.set_title(label if label == "clean" else f"{label} ({metrics.psnr(img, im, data_range=1.0):.1f} dB)")
        ax.axis("off")
    fig.suptitle("wavediff engine demo: classical baselines on generated data")
    fig.tight_layout()
    figure = out / "engine_demo.png"
    with atomic_output(figure) as tmp:
        fig.savefig(tmp, dpi=90)
    print(f"figure written to {figure}")
    return {"signals_1d": rows_1d, "phantom_2d": rows_2d, "figure": figure}


def _cmd_modalities(args: argparse.Namespace) -> int:
    rooms = available_modalities()
    missing = missing_extras()
    if not rooms and not missing:
        print("no modality rooms are installed yet")
        return 0
    for name, cls in rooms.items():
        exts = " ".join(cls.extensions) or "-"
        print(f"{name:10s} {cls.description}  [{exts}]")
    for name, hint in missing.items():
        print(f"{name:10s} not available: {hint}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if not args.rooms:
        engine_demo(out, seed=args.seed)
        rooms = list(available_modalities())
    else:
        rooms = args.rooms
    for room in rooms:
        modality = get_modality(room)
        print(f"\n# demo: {room}\n")
        modality.demo(out, seed=args.seed)
    return 0


def _read_recipe(path: str | None) -> dict | None:
    """The recipe overrides of ``--recipe FILE.toml`` (the sections and keys to change), or None."""
    if path is None:
        return None
    from .modality import tomllib  # tomli on Python 3.10

    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise DataNotFoundError(f"--recipe {path}: no such file; pass a TOML file of the recipe keys to change") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CorruptFileError(
            f"--recipe {path} is not valid TOML ({exc}); write it like the room's recipe.toml, e.g. [train] steps = 8000"
        ) from None
    except OSError as exc:
        raise InvalidInputError(f"--recipe {path} cannot be read ({exc.strerror or exc}); pass a readable TOML file") from None


def _cmd_train(args: argparse.Namespace) -> int:
    from .pipeline import train

    recipe = _read_recipe(args.recipe)
    path = train(
        args.room, steps=args.steps, out=args.out, device=args.device, seed=args.seed, recipe=recipe, data=args.data, init=args.init
    )
    print(f"weights written to {path} (and {path.with_suffix('.json').name})")
    return 0


def _check_input(room: Any, path: str) -> Path:
    """The input file of a command, checked before any model is loaded."""
    p = Path(path)
    if p.is_dir() and getattr(room, "reads_folders", False):
        return p  # a recording that is a folder (a DICOM series): the room's reader checks it
    if p.is_dir():
        raise InvalidInputError(f"input {p} is a folder; pass one {room.name} file ({', '.join(room.extensions)})")
    if not p.is_file():
        raise DataNotFoundError(f"input {p}: no such file; check the path")
    return p


def _room_options(room: Any, args: argparse.Namespace) -> dict[str, Any]:
    """The room's own restore options given on the command line (``--montage``), checked against what its
    ``to_tensor`` takes; the room's log of its mode is left to the CLI's own summary line."""
    import inspect

    params = inspect.signature(room.to_tensor).parameters
    options: dict[str, Any] = {}
    if args.montage is not None:
        if "montage" not in params:
            raise InvalidInputError(f"--montage applies to rooms with electrode positions; the {room.name} room takes none")
        options["montage"] = args.montage  # the room reads it (a wrong name or file: one error line, exit 2)
    if args.sigma is not None:
        if "sigma" not in params:
            raise InvalidInputError(f"--sigma applies to rooms with a noise level (mri); the {room.name} room takes none")
        options["sigma"] = args.sigma
    if "verbose" in params:
        options["verbose"] = "error"  # the summary is printed once, below, from Restorer.report
    return options


def _cmd_restore(args: argparse.Namespace) -> int:
    from ._checks import check_device
    from .guards import same_file, write_together
    from .pipeline import Restorer
    from .training import check_weights_file

    # every argument is checked before any work: numbers, device, files, model
    if args.steps is not None and args.steps < 1:
        raise InvalidInputError(f"--steps {args.steps}: give a number of sampler steps >= 1 (default: the recipe's)")
    if args.draws < 1:
        raise InvalidInputError(f"--draws {args.draws}: give a number of posterior draws >= 1")
    if args.std and args.draws < 2:
        raise InvalidInputError(
            "--std writes the spread of posterior draws, and one draw has none: add --draws N (or --samples N) with N >= 2, e.g. --draws 4"
        )
    check_device(args.device)
    defaults = get_modality(args.room)
    source = _check_input(defaults, args.input)
    defaults.check_output(args.output, inputs=[source], overwrite=args.overwrite)
    if args.std:
        if same_file(args.std, args.output):
            raise InvalidInputError(f"--std {args.std} is the output file too; give the uncertainty its own file")
        defaults.check_output(args.std, inputs=[source], overwrite=args.overwrite, label="--std")
    if args.model is not None:
        check_weights_file(args.model, label="--model")
    options = _room_options(defaults, args)
    restorer = Restorer(
        args.room, args.model, device=args.device, steps=args.steps, n_draws=args.draws, seed=args.seed,
        progress=False if args.quiet else True,
    )
    room = restorer.modality  # built from the model's recorded layout
    obj = room.read(source, strict=args.strict)
    if not args.quiet:
        print(f"read {source}: {room.describe(obj)}", file=sys.stderr)
    if args.std:
        restored, std = restorer.restore(obj, return_std=True, **options)
        outputs = [(lambda tmp: room.write(restored, tmp), args.output), (lambda tmp: room.write(std, tmp), args.std)]
    else:
        restored = restorer.restore(obj, **options)
        outputs = [(lambda tmp: room.write(restored, tmp), args.output)]
    if restorer.report and not args.quiet:
        print(f"wavediff: {restorer.report}", file=sys.stderr)
    write_together(outputs)  # all files or none
    print(f"restored {args.input} -> {args.output}")
    if args.std:
        print(f"uncertainty (standard deviation of {args.draws} draws) written to {args.std}")
    return 0


def _file_record(path: str) -> dict[str, object]:
    return {"path": str(Path(path).resolve()), "sha256": sha256sum(path)}


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from .training import _plain_json  # plain JSON values: inf/nan as strings, numpy scalars as numbers

    room = get_modality(args.room)
    for label, path in (("REFERENCE", args.reference), ("ESTIMATE", args.estimate)):
        if not Path(path).is_file():
            raise DataNotFoundError(f"{label} {path}: no such file; pass two {room.name} files ({', '.join(room.extensions)})")
    reference, estimate = room.read(args.reference), room.read(args.estimate)
    values = room.metrics(reference, estimate)
    if args.json:
        record = {
            "room": room.name,
            "reference": _file_record(args.reference),
            "estimate": _file_record(args.estimate),
            "metrics": values,
            "wavediff": __version__,
        }
        print(json.dumps(_plain_json(record), indent=2, sort_keys=True))
    else:
        print(markdown_table([{"metric": k, "value": v} for k, v in values.items()], digits=4))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wavediff",
        description="Wavelet-domain diffusion models that remove noise and artifacts from scientific measurements.",
    )
    parser.add_argument("--version", action="version", version=f"wavediff {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show the Python traceback of an error")
    parser.add_argument("--debug", action="store_true", help="show the Python traceback of an error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("modalities", help="list the installed modality rooms", parents=[common])
    p.set_defaults(func=_cmd_modalities)

    p = sub.add_parser("demo", help="run the offline demo (engine, then every room) and write figures", parents=[common])
    p.add_argument("rooms", nargs="*", metavar="ROOM", help="only these rooms (default: engine demo and all rooms)")
    p.add_argument("--out", default="wavediff-demo", help="folder for the figures (default: ./wavediff-demo)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("train", help="train (or fine-tune) a room's model with its recipe and write the weights", parents=[common])
    p.add_argument("room")
    p.add_argument("--steps", type=int, default=None, help="training steps (default: the recipe's)")
    p.add_argument("--out", default=None, help="weights file (default: the room's shipped weights.safetensors)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--recipe", default=None, metavar="FILE.toml",
        help="TOML of recipe keys to change, merged over the room's recipe.toml (recorded in the weights' JSON)",
    )
    p.add_argument(
        "--data", default=None, metavar="DIR",
        help="train on your own recordings: the room builds the pairs from the files in DIR (its degradations "
        "on their content); the weights' JSON records every file's sha256",
    )
    p.add_argument(
        "--init", default=None, metavar="shipped|FILE",
        help="fine-tune: start from the room's shipped model or from these weights (default steps: the recipe's finetune_steps)",
    )
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("restore", help="restore a file with a room's model and write the same format", parents=[common])
    p.add_argument("room")
    p.add_argument("input")
    p.add_argument("output", help="the restored file (never the input; an existing file only with --overwrite)")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files (never the input)")
    p.add_argument("--strict", action="store_true", help="refuse the input on any warning (a truncated file, flat channels...)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary on stderr")
    p.add_argument("--model", default=None, help="weights file (default: the room's shipped model)")
    p.add_argument("--steps", type=int, default=None, help="sampler steps (default: the recipe's)")
    p.add_argument(
        "--draws", "--samples", dest="draws", type=int, default=1,
        help="posterior draws averaged (default 1: the posterior mean, one network evaluation)",
    )
    p.add_argument("--std", default=None, help="also write the draws' standard deviation to this file (needs --draws >= 2)")
    p.add_argument(
        "--montage", default=None, metavar="NAME|FILE",
        help="EEG: electrode positions, a built-in MNE montage (standard_1020, biosemi64...) or a file (.elc .sfp .loc .bvef...); "
        "default: the file's own, else the 10-05 positions of the channel names",
    )
    p.add_argument(
        "--sigma", type=float, default=None,
        help="MRI: the Rician noise level in the image's units (default: estimated from the background, else by MAD)",
    )
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cmd_restore)

    p = sub.add_parser("evaluate", help="print a room's metrics of an estimate against a reference (two files)", parents=[common])
    p.add_argument("room")
    p.add_argument("reference", help="the clean reference, in one of the room's formats")
    p.add_argument("estimate", help="the restored (or degraded) file to score, same format")
    p.add_argument("--json", action="store_true", help="print one JSON object (metrics, files' sha256, version) instead of a table")
    p.set_defaults(func=_cmd_evaluate)
    return parser


def _show_warning(message: Any, category: type, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
    label = "warning" if issubclass(category, DataWarning) else f"warning ({category.__name__})"
    print(f"wavediff: {label}: {message}", file=sys.stderr if file is None else file)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``wavediff`` command; returns the exit status.

    0: done; 2: the input, an argument or the environment is wrong (one ``wavediff: error:`` line
    saying what and what to do); 1: an internal error (a bug: please report it); 130: interrupted.
    ``--debug`` shows the traceback instead.
    """
    args = build_parser().parse_args(argv)
    debug = bool(getattr(args, "debug", False))
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        warnings.simplefilter("default")
        if getattr(args, "strict", False):
            warnings.simplefilter("error", DataWarning)
        try:
            return int(args.func(args) or 0)
        except (WavediffError, DataWarning) as exc:
            if debug:
                raise
            strict = " (an error because of --strict)" if isinstance(exc, DataWarning) else ""
            print(f"wavediff: error: {exc}{strict}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("wavediff: interrupted; no output was written", file=sys.stderr)
            return 130
        except Exception as exc:
            if debug:
                raise
            print(
                f"wavediff: internal error: {type(exc).__name__}: {exc}\n"
                "this is a bug in wavediff: rerun with --debug for the traceback and report it",
                file=sys.stderr,
            )
            return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
