"""The EEG readers on corrupted files, fuzzed with hypothesis (cases shared with benchmarks/robustness.py).

Contract of ``get_modality("eeg").read(path)`` for every corrupted EDF, BDF, FIF (raw and epochs),
BrainVision and EEGLAB file: raise a ``WavediffError``, or return Raw/Epochs whose data are finite,
with samples and a finite positive rate; within 10 s; with no warning other than ``DataWarning``
(any warning while that class does not exist); leaving every input file byte for byte as it was.
Each format gets the explicit corruptions of ``benchmarks.robustness.EXPLICIT`` (the header fields
known to matter) and 25 cases drawn by hypothesis, derandomized and without a database so that a
failure reproduces. ``python3 -m benchmarks.robustness`` runs the same strategies with ten times the
budget and lists every failure.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import shutil
import signal
import time

import mne
import numpy as np
import pytest
from hypothesis import Phase, given, settings

import benchmarks.robustness as rb
from wavediff.report import sha256sum

# no explain phase: on a failure it reruns many variants of the case, for a hint that the message already gives
FUZZ = settings(
    max_examples=25, deadline=None, database=None, derandomize=True, phases=(Phase.explicit, Phase.generate, Phase.shrink)
)
EXPLICIT = [(fmt, m) for fmt, cases in rb.EXPLICIT.items() for m in cases]


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    return rb.build_seeds(tmp_path_factory.mktemp("seeds"))


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("work")


def _check(fmt, mutation, seeds, work):
    outcome = rb.run_case(fmt, mutation, seeds, work, hang_s=30.0)
    assert outcome.status in ("error", "valid"), outcome.summary()
    assert outcome.seconds <= rb.SLOW_S, outcome.summary()
    assert not outcome.changed, outcome.summary()
    assert not outcome.stray_warnings, outcome.summary()
    return outcome


# ------------------------------------------------------------------------- the harness is honest


def test_seeds_are_valid_recordings(seeds):
    """build_seeds itself refuses an invalid seed; here the seed data are also the ones generated."""
    assert set(rb.FORMATS) == {p.name for p in seeds.root.iterdir()}
    raw = mne.io.read_raw_edf(seeds.root / "edf" / "rec.edf", preload=True, verbose="error")
    assert raw.ch_names[: len(rb.CHANNELS)] == list(rb.CHANNELS) and raw.info["sfreq"] == rb.SFREQ
    fif = mne.io.read_raw_fif(seeds.root / "fif" / "rec_raw.fif", preload=True, verbose="error")
    expected = np.random.default_rng(0).normal(0, 20e-6, (len(rb.CHANNELS), int(rb.SFREQ * rb.SECONDS)))
    np.testing.assert_allclose(fif.get_data(), expected, rtol=1e-6)  # float32 on disk


@pytest.mark.parametrize("fmt, mutation", EXPLICIT, ids=[f"{f}-{i}" for i, (f, _) in enumerate(EXPLICIT)])
def test_every_explicit_mutation_changes_the_files(seeds, tmp_path, fmt, mutation):
    case = tmp_path / fmt
    shutil.copytree(seeds.root / fmt, case)
    before = {p.name: sha256sum(p) for p in case.iterdir()}
    rb.apply_mutation(mutation, case, fmt, seeds)
    after = {p.name: sha256sum(p) for p in case.iterdir()}
    assert after != before, f"{mutation} left the {fmt} files as they were"


def test_nonfinite_mutation_writes_the_value_where_the_samples_are(seeds, tmp_path):
    shutil.copytree(seeds.root / "brainvision", tmp_path / "bv")
    rb.apply_mutation(("nonfinite", "rec.eeg", 4 * 1024 + 6, math.inf), tmp_path / "bv", "brainvision", seeds)
    values = np.fromfile(tmp_path / "bv" / "rec.eeg", "<f4")
    assert np.isinf(values[6]) and np.isfinite(np.delete(values, 6)).all()


def test_invalid_results_are_recognised():
    info = mne.create_info(["Cz"], 256.0, "eeg")
    good = mne.io.RawArray(np.zeros((1, 10)), info, verbose="error")
    bad = mne.io.RawArray(np.array([[0.0, math.nan]]), info, verbose="error")
    assert rb._invalid(good) == ""
    assert "non-finite" in rb._invalid(bad)
    assert "not Raw or Epochs" in rb._invalid(np.zeros((1, 10)))


def _segfault(path):
    os.kill(os.getpid(), signal.SIGSEGV)


def _hang(path):
    time.sleep(60)


def _scribble(path):
    path.write_bytes(b"changed")
    return {"status": "valid", "detail": "", "frame": "", "seconds": 0.0, "stray_warnings": []}


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="the isolation needs fork")
@pytest.mark.parametrize("reader, expected", [(_segfault, "process died: SIGSEGV"), (_hang, "hang: still reading"), (_scribble, "")])
def test_a_dying_hanging_or_scribbling_reader_is_counted_not_fatal(seeds, tmp_path, monkeypatch, reader, expected):
    monkeypatch.setattr(rb, "_read", reader)  # the forked child runs the patched reader
    start = time.perf_counter()
    outcome = rb.run_case("edf", ("append", "rec.edf", b"x"), seeds, tmp_path, hang_s=1.0)
    assert time.perf_counter() - start < 30 and not outcome.ok
    if expected:
        assert outcome.status == "crash" and outcome.detail.startswith(expected), outcome.summary()
    else:
        assert outcome.changed == ["rec.edf modified"], outcome.summary()


# ------------------------------------------------------------------------- the contract


@pytest.mark.parametrize("fmt, mutation", EXPLICIT, ids=[f"{f}-{i}" for i, (f, _) in enumerate(EXPLICIT)])
def test_explicit_corruption_gives_a_wavediff_error_or_a_valid_result(seeds, work, fmt, mutation):
    _check(fmt, mutation, seeds, work)


def _fuzz(fmt):
    @FUZZ
    @given(mutation=rb.mutations(fmt))
    def test(seeds, work, mutation):
        _check(fmt, mutation, seeds, work)

    test.__doc__ = f"25 hypothesis-drawn corruptions of the {fmt} seed: a wavediff error or a valid result."
    return test


test_fuzz_edf = _fuzz("edf")
test_fuzz_bdf = _fuzz("bdf")
test_fuzz_fif_raw = _fuzz("fif")
test_fuzz_fif_epochs = _fuzz("epochs-fif")
test_fuzz_brainvision = _fuzz("brainvision")
test_fuzz_eeglab = _fuzz("eeglab")
test_fuzz_eeglab_fdt = _fuzz("eeglab-fdt")
