"""MRI download recipes, offline: pooch is called with the pinned digests, and the loaders read (and
refuse) small files the tests write."""

from __future__ import annotations

import gzip

import numpy as np
import pooch
import pytest
from wavediff.datasets.mri import downloads

from wavediff.errors import CorruptFileError, DataNotFoundError, InvalidInputError


def test_fetch_ixi_pins_the_archives_md5(tmp_path, monkeypatch):
    calls = {}

    def fake_retrieve(url, known_hash, fname, path, processor, progressbar):
        calls.update(url=url, known_hash=known_hash, fname=fname, path=path, processor=processor)
        out = tmp_path / "IXI-T2"
        out.mkdir()
        files = [out / "IXI002-Guys-0828-T2.nii.gz", out / "README"]
        for f in files:
            f.write_bytes(b"")
        return [str(f) for f in files]

    monkeypatch.setattr(pooch, "retrieve", fake_retrieve)
    got = downloads.fetch_ixi("T2", tmp_path)
    assert calls["url"].endswith("/IXI/IXI-T2.tar")
    assert calls["known_hash"] == "md5:e3140d78730ecdd32ba92da48c0a9aaa"
    assert isinstance(calls["processor"], pooch.Untar)
    assert [p.name for p in got] == ["IXI002-Guys-0828-T2.nii.gz"]
    with pytest.raises(InvalidInputError, match="IXI has"):
        downloads.fetch_ixi("FLAIR", tmp_path)


def test_ixi_files_parse_subject_site_and_modality(tmp_path):
    names = [
        "IXI012-HH-1211-T1.nii.gz",
        "IXI002-Guys-0828-T1.nii.gz",
        "IXI002-Guys-0828-T2.nii.gz",
        "IXI574-IOP-1156-PD.nii.gz",
        "IXI002-Guys-0828-DTI-03.nii.gz",
        "other.nii.gz",
    ]
    for n in names:
        (tmp_path / n).write_bytes(b"")
    files = downloads.ixi_files(tmp_path)
    assert [(f["subject"], f["site"], f["modality"]) for f in files] == [
        ("002", "Guys", "DTI"),
        ("002", "Guys", "T1"),
        ("002", "Guys", "T2"),
        ("012", "HH", "T1"),
        ("574", "IOP", "PD"),
    ]
    assert [f["subject"] for f in downloads.ixi_files(tmp_path, "T1")] == ["002", "012"]
    assert "3 T" in downloads.ixi_files(tmp_path, "T1")[1]["scanner"]
    with pytest.raises(DataNotFoundError, match="MRA"):
        downloads.ixi_files(tmp_path, "MRA")
    with pytest.raises(DataNotFoundError, match="no such folder"):
        downloads.ixi_files(tmp_path / "missing")


def _brainweb_file(path, labels):
    path.write_bytes(gzip.compress(labels.astype("<u2").tobytes(), compresslevel=1))
    return path


def test_load_brainweb_reads_labels_and_undoes_the_4_bit_shift(tmp_path):
    labels = np.zeros(downloads.BRAINWEB_SHAPE, np.uint16)
    labels[150:200, 150:250, 150:200] = 3
    labels[170:180, 190:210, 170:180] = 1
    plain = downloads.load_brainweb(_brainweb_file(tmp_path / "a.gz", labels))
    shifted = downloads.load_brainweb(_brainweb_file(tmp_path / "b.gz", labels * 16))
    np.testing.assert_array_equal(plain, labels)
    np.testing.assert_array_equal(shifted, labels)
    assert plain.dtype == np.uint8 and set(np.unique(plain)) <= set(downloads.BRAINWEB_LABELS)


def test_load_brainweb_refuses_damaged_downloads(tmp_path):
    page = tmp_path / "error.gz"
    page.write_bytes(gzip.compress(b"<html>Service unavailable</html>"))
    with pytest.raises(CorruptFileError, match="error page or a truncated download"):
        downloads.load_brainweb(page)
    cut = tmp_path / "cut.gz"
    cut.write_bytes(gzip.compress(np.zeros(1000, "<u2").tobytes())[:20])
    with pytest.raises(CorruptFileError, match="gzip"):
        downloads.load_brainweb(cut)
    fuzzy = np.zeros(downloads.BRAINWEB_SHAPE, np.uint16)
    fuzzy[0, 0, 0] = 4095
    with pytest.raises(CorruptFileError, match="fuzzy"):
        downloads.load_brainweb(_brainweb_file(tmp_path / "f.gz", fuzzy))
    with pytest.raises(DataNotFoundError, match="fetch_brainweb"):
        downloads.load_brainweb(tmp_path / "none.gz")


def test_fetch_brainweb_checks_the_file_and_returns_its_sha256(tmp_path, monkeypatch):
    labels = np.zeros(downloads.BRAINWEB_SHAPE, np.uint16)
    target = _brainweb_file(tmp_path / "subject05_crisp.rawb.gz", labels)
    seen = {}

    def fake_retrieve(url, known_hash, fname, path, progressbar):
        seen.update(url=url, known_hash=known_hash)
        return str(target)

    monkeypatch.setattr(pooch, "retrieve", fake_retrieve)
    path, digest = downloads.fetch_brainweb("05", tmp_path)
    assert "subject05_crisp" in seen["url"] and seen["known_hash"] is None
    import hashlib

    assert digest == hashlib.sha256(target.read_bytes()).hexdigest() and path == target
    with pytest.raises(InvalidInputError, match="normal models"):
        downloads.fetch_brainweb("99", tmp_path)
