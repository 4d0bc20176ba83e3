"""Tests of :func:`wavediff.modality.atomic_output`: a result appears whole or not at all.

The target appears only after the writer succeeds, a failure leaves an existing target untouched and no
temporary behind, the temporary keeps the target's suffix, and the file mode is that of a plain ``open()``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from wavediff.modality import atomic_output


def test_atomic_output_appears_only_after_success(tmp_path):
    target = tmp_path / "result.npy"
    with atomic_output(target) as tmp:
        assert isinstance(tmp, Path)
        assert tmp.parent == tmp_path and tmp != target
        assert tmp.exists()  # a reserved (empty) file, so the name cannot be taken meanwhile
        np.save(tmp, np.arange(5))
        assert not target.exists()
    assert np.array_equal(np.load(target), np.arange(5))
    assert os.listdir(tmp_path) == ["result.npy"]  # no temporary left, np.save added no second suffix


def test_atomic_output_replaces_existing_file(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old\n")
    with atomic_output(str(target)) as tmp:  # str paths work too
        tmp.write_text("new\n")
        assert target.read_text() == "old\n"
    assert target.read_text() == "new\n"
    assert os.listdir(tmp_path) == ["table.csv"]


class _WriterCrash(RuntimeError):
    pass


@pytest.mark.parametrize("pre_existing", [True, False])
def test_atomic_output_failure_leaves_target_untouched(tmp_path, pre_existing):
    target = tmp_path / "scan.nii.gz"
    if pre_existing:
        target.write_bytes(b"complete old result")
    with pytest.raises(_WriterCrash):
        with atomic_output(target) as tmp:
            tmp.write_bytes(b"half-writ")
            raise _WriterCrash("disk full")
    if pre_existing:
        assert target.read_bytes() == b"complete old result"
        assert os.listdir(tmp_path) == ["scan.nii.gz"]
    else:
        assert not target.exists()
        assert os.listdir(tmp_path) == []


def test_atomic_output_failure_when_writer_removed_temp(tmp_path):
    target = tmp_path / "x.npy"
    with pytest.raises(_WriterCrash):
        with atomic_output(target) as tmp:
            tmp.unlink()
            raise _WriterCrash("gone")
    assert os.listdir(tmp_path) == []


def test_atomic_output_missing_folder(tmp_path):
    target = tmp_path / "no" / "such" / "out.npy"
    with pytest.raises(FileNotFoundError) as info:
        with atomic_output(target):
            pytest.fail("the body must not run")  # pragma: no cover
    message = str(info.value)
    assert str(target.parent) in message and "does not exist" in message and "out.npy" in message
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize(
    ("filename", "suffix"),
    [
        ("scan.nii.gz", ".nii.gz"),
        ("trace.sgy", ".sgy"),
        ("fig.PNG", ".PNG"),
        ("noext", ""),
        ("run.v2.h5", ".v2.h5"),
    ],
)
def test_atomic_output_temp_keeps_suffix(tmp_path, filename, suffix):
    target = tmp_path / filename
    with atomic_output(target) as tmp:
        assert tmp.name.endswith(suffix)
        assert "".join(tmp.suffixes).endswith(suffix)
        assert tmp.name.startswith(".")  # hidden while being written
        tmp.write_bytes(b"x")
    assert target.read_bytes() == b"x"


def test_atomic_output_explicit_suffix(tmp_path):
    target = tmp_path / "recording"
    with atomic_output(target, suffix=".edf") as tmp:
        assert tmp.name.endswith(".edf")
        tmp.write_bytes(b"edf")
    assert target.read_bytes() == b"edf"
    assert os.listdir(tmp_path) == ["recording"]


def test_atomic_output_file_mode_follows_umask(tmp_path):
    # A file written through atomic_output should get the same permissions as one written with open().
    # BUG: tempfile.mkstemp creates the temporary with mode 0o600 and os.replace keeps it, so every
    # result written by wavediff is private to its owner (-rw-------), and overwriting a shared
    # 0o644 file makes it private too (modality.py, atomic_output).
    plain = tmp_path / "plain.bin"
    plain.write_bytes(b"x")
    expected = plain.stat().st_mode & 0o777
    target = tmp_path / "atomic.bin"
    with atomic_output(target) as tmp:
        tmp.write_bytes(b"x")
    assert oct(target.stat().st_mode & 0o777) == oct(expected)


def test_atomic_output_mode_holds_when_the_writer_swaps_in_a_private_file(tmp_path):
    """Some writers (safetensors) write their own temporary, private (0o600) file and rename it onto ours."""
    plain = tmp_path / "plain.bin"
    plain.write_bytes(b"x")
    target = tmp_path / "weights.bin"
    with atomic_output(target) as tmp:
        private = tmp_path / "private.bin"
        private.write_bytes(b"w")
        os.chmod(private, 0o600)
        os.replace(private, tmp)
    assert oct(target.stat().st_mode & 0o777) == oct(plain.stat().st_mode & 0o777)


def test_atomic_output_keeps_a_replaced_files_mode_and_leaves_the_umask_alone(tmp_path, monkeypatch):
    """The process umask is shared by every thread: atomic_output must not even read it through os.umask."""
    target = tmp_path / "shared.bin"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)

    def forbidden(*_):
        raise AssertionError("atomic_output changed the process umask")

    monkeypatch.setattr(os, "umask", forbidden)
    with atomic_output(target) as tmp:
        tmp.write_bytes(b"new")
    with atomic_output(tmp_path / "fresh.bin") as tmp:
        tmp.write_bytes(b"x")
    assert target.read_bytes() == b"new" and oct(target.stat().st_mode & 0o777) == oct(0o640)
    assert sorted(os.listdir(tmp_path)) == ["fresh.bin", "shared.bin"]
