"""Fuzz the EEG room's file readers with hypothesis and count how each corrupted file is handled.

Usage: ``python3 -m benchmarks.robustness [--cases 250] [--seed 0] [--out benchmarks/results/robustness.md]``

Seeds: valid EDF, BDF, FIF raw and ``-epo.fif`` epochs, BrainVision (.vhdr/.vmrk/.eeg) and EEGLAB (.set
alone, .set + .fdt) files written by MNE (Fp1, Fp2, Cz, O1 at 256 Hz, 4 s of N(0, 20 uV)). Hypothesis
strategies (:func:`mutations`) corrupt a copy: truncation at any byte (0 included), bit flips and byte
overwrites biased toward the header, trailing garbage, a missing sidecar, absurd header fields (EDF/BDF
record count, duration, signal count, samples per record, physical/digital min = max; BrainVision
SamplingInterval, NumberOfChannels, DataFile, BinaryFormat, resolutions, markers; EEGLAB srate, nbchan,
pnts, trials, the data array or file), non-finite samples. Contract (:func:`run_case`):
``get_modality("eeg").read`` raises a ``WavediffError`` or returns Raw/Epochs with finite data, samples
and a finite positive rate; within 10 s; no warning but ``DataWarning`` (any while it does not exist);
the input files unchanged. Each read runs in a forked copy of this process (no new interpreter) with
2 GiB of address space beyond the parent's, so a segfault, a hang (killed at 60 s) or a runaway
allocation is counted instead of ending the run. The report lists every failure.
"""

from __future__ import annotations

import argparse
import faulthandler
import multiprocessing
import re
import shutil
import signal
import tempfile
import time
import traceback
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed

from benchmarks.fuzz_cases import (  # noqa: F401 (the tests use them from here)
    CHANNELS,
    EXPLICIT,
    FORMATS,
    SECONDS,
    SFREQ,
    Seeds,
    _invalid,
    apply_mutation,
    build_seeds,
    mutations,
)
from wavediff import errors
from wavediff.report import markdown_table, provenance, sha256sum, write_report

SLOW_S = 10.0  # the contract: an answer within 10 s
RESTORE_EVERY = 10  # of the drawn cases, one in this many is also restored by the command (the explicit ones all are)
HANG_S = 60.0  # a read still running after this is killed and counted as a hang
MEMORY_MARGIN = 2 << 30  # bytes of address space a read may add (the seed files are ~20 kB)


@dataclass
class Outcome:
    fmt: str
    mutation: str
    status: str  # "error" (a WavediffError), "valid" (a result meeting the contract) or "crash"
    detail: str = ""  # error class; or the crash's exception type and message, or what is invalid
    frame: str = ""  # deepest wavediff or MNE frame of the crash's traceback
    seconds: float = 0.0
    changed: list[str] = field(default_factory=list)  # input files modified, removed or created
    stray_warnings: list[str] = field(default_factory=list)  # warnings other than DataWarning
    restored: str = ""  # with restore checks: "written", "refused" (exit 2, no file) or what went wrong

    @property
    def slow(self) -> bool:
        return self.seconds > SLOW_S

    @property
    def ok(self) -> bool:
        good = self.status != "crash" and not self.slow and not self.changed and not self.stray_warnings
        return good and self.restored in ("", "written", "refused")

    def summary(self) -> str:
        parts = [f"{self.fmt}: {self.mutation} -> {self.status} {self.detail}".rstrip(), self.frame and f"deepest frame {self.frame}"]
        parts += [self.slow and f"took {self.seconds:.1f} s (> {SLOW_S:g} s)", self.changed and f"input changed: {', '.join(self.changed)}"]
        parts += [self.stray_warnings and f"warnings: {'; '.join(self.stray_warnings)}"]
        parts += [self.restored not in ("", "written", "refused") and f"wavediff restore: {self.restored}"]
        return "; ".join(p for p in parts if p)


FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+),? in (?P<name>\S+)')  # a faulthandler line
OURS = re.compile(r"/mne/|wavediff|/modalities/")  # the frames of the readers (MNE, wavediff's EEG room)


def _frame(filename: str, line: object, name: str) -> str:
    return re.sub(r".*/(mne|wavediff|modalities|scipy|numpy)/", r"\1/", filename) + f":{line} in {name}"


def _read(path: Path) -> dict:
    """Read ``path`` in this process and classify the result (the Outcome fields that the read decides)."""
    from wavediff import get_modality

    reader, out = get_modality("eeg"), {"status": "valid", "detail": "", "frame": ""}
    allowed = getattr(errors, "DataWarning", Warning)  # until DataWarning exists any warning is allowed
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        try:
            reason = _invalid(reader.read(path))
            if reason:
                out.update(status="crash", detail=f"invalid result: {reason}")
        except errors.WavediffError as exc:
            out.update(status="error", detail=type(exc).__name__)
        except Exception as exc:
            frames = [f for f in traceback.extract_tb(exc.__traceback__) if OURS.search(f.filename)]
            out.update(status="crash", detail=f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}")
            out["frame"] = _frame(frames[-1].filename, frames[-1].lineno, frames[-1].name) if frames else ""
        out["seconds"] = time.perf_counter() - start
    out["stray_warnings"] = [f"{w.category.__name__}: {str(w.message)[:200]}" for w in caught if not issubclass(w.category, allowed)]
    return out


def _restore(path: Path) -> str:
    """Run ``wavediff restore eeg PATH OUT --quiet`` and check it: exit 0 with the output and nothing else
    written, or exit 2 with one error line and no file; never a traceback or another exit status."""
    import contextlib
    import io

    from wavediff import cli

    out_dir = path.parent / "restored"
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir()
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = cli.main(["restore", "eeg", str(path), str(out_dir / "restored_raw.fif"), "--quiet"])
    left = sorted(p.name for p in out_dir.iterdir())
    text = err.getvalue()
    shutil.rmtree(out_dir, ignore_errors=True)
    if "Traceback" in text or code not in (0, 2):
        return f"exit {code}: {' '.join(text.split())[:300]}"
    if code == 0:
        return "written" if left == ["restored_raw.fif"] else f"exit 0 but the output folder holds {left}"
    return "refused" if not left and text.count("wavediff: error:") == 1 else f"exit 2 leaving {left}: {text[:200]}"


def _child(path: Path, conn, fault: Path, restore: bool = False) -> None:
    """In the forked child: cap the address space, read, send the classification back."""
    with open(fault, "w") as fh:
        faulthandler.enable(fh)  # a segfault leaves the stack in `fault` for the parent
        try:
            import resource

            with open("/proc/self/statm") as statm:
                vm = int(statm.read().split()[0]) * resource.getpagesize()
            resource.setrlimit(resource.RLIMIT_AS, (vm + MEMORY_MARGIN, resource.getrlimit(resource.RLIMIT_AS)[1]))
        except (ImportError, OSError, ValueError):
            pass
        result = _read(path)
        if restore and result["status"] != "crash":
            result["restored"] = _restore(path)
        conn.send(result)


def _read_isolated(path: Path, work: Path, hang_s: float, restore: bool = False) -> dict:
    """:func:`_read` in a forked copy of this process: a segfault, a hang or a runaway allocation stays there."""
    fault = work / "faulthandler.txt"
    fault.unlink(missing_ok=True)
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # Python 3.12 frowns on fork with threads
        child = ctx.Process(target=_child, args=(path, send, fault, restore), daemon=True)
        child.start()
    send.close()
    try:
        if receive.poll(hang_s):
            return receive.recv()
        child.kill()
        return {"status": "crash", "detail": f"hang: still reading after {hang_s:g} s (killed)", "seconds": hang_s}
    except EOFError:  # the child died without answering
        child.join()
        stack = list(FRAME.finditer(fault.read_text(errors="replace"))) if fault.exists() else []
        mine = [m for m in stack if OURS.search(m["file"])]  # faulthandler prints the most recent call first
        code = child.exitcode or 0
        died = f"process died: {signal.Signals(-code).name if code < 0 else f'exit status {code}'}"
        died += f" in {_frame(stack[0]['file'], stack[0]['line'], stack[0]['name'])}" if stack else ""
        return {"status": "crash", "detail": died, "frame": _frame(mine[0]["file"], mine[0]["line"], mine[0]["name"]) if mine else ""}
    finally:
        child.join()
        receive.close()


def run_case(fmt: str, mutation: tuple, seeds: Seeds, work: str | Path, hang_s: float = HANG_S, restore: bool = False) -> Outcome:
    """Apply ``mutation`` to a fresh copy of the ``fmt`` seed in ``work`` and check the reader's contract
    (with ``restore``, also ``wavediff restore``'s: see :func:`_restore`).

    The read runs in a forked child (where the platform can fork), so that a segfault, a hang (killed
    after ``hang_s``) or an allocation past MEMORY_MARGIN is counted instead of ending the run.
    """
    case = Path(work) / fmt
    _hashes = lambda: {p.name: sha256sum(p) for p in sorted(case.iterdir()) if p.is_file()}  # noqa: E731
    shutil.rmtree(case, ignore_errors=True)
    shutil.copytree(seeds.root / fmt, case)
    described = apply_mutation(mutation, case, fmt, seeds)
    before = _hashes()
    fork = "fork" in multiprocessing.get_all_start_methods()
    first = case / FORMATS[fmt][0]
    if fork:
        result = _read_isolated(first, Path(work), hang_s, restore)
    else:
        result = _read(first)
        result.update(restored=_restore(first) if restore and result["status"] != "crash" else "")
    after = _hashes()
    changed = [f"{n} {'removed' if n not in after else 'modified'}" for n in before if after.get(n) != before[n]]
    return Outcome(fmt, described, changed=changed + [f"{n} created" for n in after if n not in before], **result)


def explore(fmt: str, n: int, seed: int, seeds: Seeds, work: Path) -> list[Outcome]:
    """The explicit cases of ``fmt``, then ``n`` cases drawn by hypothesis (seeded, no shrinking, no database)."""
    outcomes = [run_case(fmt, m, seeds, work, restore=True) for m in EXPLICIT.get(fmt, [])]

    @hypothesis_seed(seed)
    @settings(max_examples=n, database=None, deadline=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(mutation=mutations(fmt))
    def trial(mutation: tuple) -> None:  # every RESTORE_EVERY-th case also goes through wavediff restore
        outcomes.append(run_case(fmt, mutation, seeds, work, restore=len(outcomes) % RESTORE_EVERY == 0))

    trial()
    return outcomes


def counts_table(outcomes: list[Outcome]) -> str:
    rows = []
    for fmt in dict.fromkeys(o.fmt for o in outcomes):
        mine = [o for o in outcomes if o.fmt == fmt]
        by_class = Counter(o.detail for o in mine if o.status == "error")
        rows.append({
            "format": fmt, "cases": len(mine), "wavediff errors": sum(by_class.values()),
            "errors by class": ", ".join(f"{k} {v}" for k, v in by_class.most_common()) or "-",
            "valid results": sum(o.status == "valid" for o in mine), "crashes": sum(o.status == "crash" for o in mine),
            f"slow (> {SLOW_S:g} s)": sum(o.slow for o in mine), "input changed": sum(bool(o.changed) for o in mine),
            "other warnings": sum(bool(o.stray_warnings) for o in mine), "slowest (s)": f"{max(o.seconds for o in mine):.2f}",
            "restored: written / refused / wrong": "{} / {} / {}".format(
                sum(o.restored == "written" for o in mine), sum(o.restored == "refused" for o in mine),
                sum(o.restored not in ("", "written", "refused") for o in mine)),
        })  # fmt: skip
    return markdown_table(rows)


def failures_section(outcomes: list[Outcome]) -> str:
    bad = [o for o in outcomes if not o.ok]
    if not bad:
        return "No failure: every case raised a wavediff error or returned a valid result.\n"
    groups: dict[tuple[str, str, str], list[Outcome]] = {}
    for o in bad:
        kind = o.detail.split(":")[0] if o.status == "crash" else ("slow" if o.slow else "changed input" if o.changed else "warning")
        groups.setdefault((o.fmt, kind, o.frame), []).append(o)
    rows = []
    for (fmt, kind, frame), group in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        shortest = min(group, key=lambda o: len(o.mutation))
        rows.append([c.replace("|", "\\|") for c in (fmt, kind, frame or "-", str(len(group)), shortest.mutation, shortest.detail)])
    header = ["format", "kind", "deepest wavediff/MNE frame", "cases", "shortest mutation", "detail"]
    text = "### Failure classes (the shortest mutation of each)\n\n" + markdown_table(rows, header) + "\n\n"
    return text + "### Every failing case\n\n" + "\n".join(f"- {o.summary()}" for o in bad) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=250, help="hypothesis cases per format (beside the explicit ones)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--formats", nargs="*", default=list(FORMATS), choices=list(FORMATS))
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "robustness.md"))
    args = parser.parse_args(argv)
    start, outcomes = time.perf_counter(), []
    with tempfile.TemporaryDirectory(prefix="wavediff-fuzz-") as tmp:
        seeds = build_seeds(Path(tmp) / "seeds")
        for fmt in args.formats:
            t0, mine = time.perf_counter(), explore(fmt, args.cases, args.seed, seeds, Path(tmp))
            outcomes += mine
            print(f"{fmt}: {len(mine)} cases, {sum(not o.ok for o in mine)} failing, {time.perf_counter() - t0:.1f} s", flush=True)
    elapsed = time.perf_counter() - start
    command = ["python3", "-m", "benchmarks.robustness", "--cases", str(args.cases), "--seed", str(args.seed)]
    command += ["--formats", *args.formats] if args.formats != list(FORMATS) else []
    table = counts_table(outcomes)
    report = "\n".join([
        "# Robustness of the EEG readers to corrupted files\n",
        provenance(command, libraries=("mne", "hypothesis", "edfio", "pybv", "eeglabio", "scipy")),
        f"Data: seed files written by MNE ({len(CHANNELS)} channels at {SFREQ:g} Hz, {SECONDS} s of N(0, 20 uV), rng seed 0), "
        f"corrupted by the strategies of `benchmarks/fuzz_cases.py` (hypothesis seed {args.seed}; the explicit cases, then "
        f"{args.cases} drawn per format). Contract: a `WavediffError`, or Raw/Epochs with finite data, samples and a positive "
        f"rate; within {SLOW_S:g} s; no warning but `DataWarning`; the input files unchanged. The explicit cases and one in "
        f"{RESTORE_EVERY} of the drawn ones also go through `wavediff restore eeg IN OUT --quiet`, which must exit 0 having "
        "written the output alone, or exit 2 with one error line and no file, never a traceback. Run time {elapsed:.0f} s. "
        "The cases are the same on every run with one seed; an outcome can differ only where a reader reads memory it does "
        "not own (scipy's MAT reader segfaults in some processes and raises in others on the same file).\n",
        "## Cases per format\n", table, "\n## Failures\n", failures_section(outcomes),
    ])  # fmt: skip
    print(table)
    print(f"\n{sum(not o.ok for o in outcomes)} failing cases of {len(outcomes)} in {elapsed:.0f} s")
    print(f"written to {write_report(args.out, report)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
