"""wavediff.datasets.eeg, the EEGMMIDB and EEGdenoiseNet recipes: the loader, the benchmark split and the
fetchers.

Truth comes from files the tests write themselves, the published split sizes of the benchmark, and the
arguments the fetchers hand to MNE and pooch (both replaced here: no network).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from wavediff.datasets import eeg

from wavediff.errors import (
    CorruptFileError,
    InvalidInputError,
    NonFiniteError,
    UnsupportedFormatError,
    WavediffError,
)

# -------------------------------------------------------------------------------------------------
# EEGdenoiseNet loader and split
# -------------------------------------------------------------------------------------------------


def _write_denoisenet(folder, n=(10, 8, 12), samples=512):
    rng = np.random.default_rng(0)
    arrays = {}
    for kind, count in zip(("EEG", "EOG", "EMG"), n):
        arrays[kind.lower()] = rng.standard_normal((count, samples))
        np.save(folder / f"{kind}_all_epochs.npy", arrays[kind.lower()])
    return arrays


def test_loader_reads_the_three_arrays(tmp_path):
    written = _write_denoisenet(tmp_path)
    data = eeg.load_eegdenoisenet(tmp_path)
    assert data["sfreq"] == 256.0
    for kind in ("eeg", "eog", "emg"):
        assert data[kind].dtype == np.float64 and data[kind].shape[1] == 512
        np.testing.assert_array_equal(data[kind], written[kind])
    np.save(tmp_path / "EOG_all_epochs.npy", np.ones((3, 512), dtype=np.float32))
    assert eeg.load_eegdenoisenet(str(tmp_path))["eog"].dtype == np.float64


def test_truncated_file_is_corrupt(tmp_path):
    _write_denoisenet(tmp_path)
    path = tmp_path / "EEG_all_epochs.npy"
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(CorruptFileError, match="truncated.*download it again"):
        eeg.load_eegdenoisenet(tmp_path)
    path.write_bytes(blob[:40])  # inside the header
    with pytest.raises(CorruptFileError, match="header"):
        eeg.load_eegdenoisenet(tmp_path)
    path.write_bytes(b"")
    with pytest.raises(CorruptFileError, match="empty"):
        eeg.load_eegdenoisenet(tmp_path)
    path.write_bytes(blob + b"\0" * 8)
    with pytest.raises(CorruptFileError, match="longer than its header"):
        eeg.load_eegdenoisenet(tmp_path)


@pytest.mark.parametrize(
    ("array", "pattern"),
    [
        (np.zeros((10, 500)), r"shape \(10, 500\).*\(n_segments, 512\)"),
        (np.zeros(512), r"shape \(512,\)"),
        (np.zeros((2, 10, 512)), "shape"),
        (np.array(["a"] * 512).reshape(1, 512), "floating-point"),
    ],
)
def test_wrong_shape_or_dtype_is_unsupported(tmp_path, array, pattern):
    _write_denoisenet(tmp_path)
    np.save(tmp_path / "EMG_all_epochs.npy", array)
    with pytest.raises(UnsupportedFormatError, match=pattern):
        eeg.load_eegdenoisenet(tmp_path)


def test_pickled_objects_are_refused_never_unpickled(tmp_path, monkeypatch):
    _write_denoisenet(tmp_path)
    # an object-dtype .npy header (what np.save writes before a pickle payload); no pickle is produced here
    with open(tmp_path / "EOG_all_epochs.npy", "wb") as fh:
        np.lib.format.write_array_header_1_0(fh, {"descr": "|O", "fortran_order": False, "shape": (2, 512)})
        fh.write(b"\x80\x04not-a-real-pickle")
    calls = []
    real_load = np.load

    def spy(file, *args, **kwargs):
        calls.append((str(file), kwargs.get("allow_pickle")))
        return real_load(file, *args, **kwargs)

    monkeypatch.setattr(np, "load", spy)
    with pytest.raises(UnsupportedFormatError, match="pickle.*never unpickles"):
        eeg.load_eegdenoisenet(tmp_path)
    assert calls and all(allow is False for _, allow in calls)
    assert not any(name.endswith("EOG_all_epochs.npy") for name, _ in calls)  # refused from its header


def test_not_npy_empty_and_nonfinite_files(tmp_path):
    _write_denoisenet(tmp_path)
    (tmp_path / "EEG_all_epochs.npy").write_text("time,value\n0,1\n")
    with pytest.raises(UnsupportedFormatError, match="not a NumPy .npy file"):
        eeg.load_eegdenoisenet(tmp_path)
    np.save(tmp_path / "EEG_all_epochs.npy", np.zeros((0, 512)))
    with pytest.raises(CorruptFileError, match="no segments"):
        eeg.load_eegdenoisenet(tmp_path)
    bad = np.zeros((3, 512))
    bad[1, 7] = np.nan
    np.save(tmp_path / "EEG_all_epochs.npy", bad)
    with pytest.raises(NonFiniteError, match="1 NaN"):
        eeg.load_eegdenoisenet(tmp_path)


def test_missing_files_say_how_to_download(tmp_path):
    with pytest.raises(eeg.DataNotFoundError, match="not a folder.*fetch_eegdenoisenet") as info:
        eeg.load_eegdenoisenet(tmp_path / "nowhere")
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, WavediffError)
    _write_denoisenet(tmp_path)
    (tmp_path / "EMG_all_epochs.npy").unlink()
    with pytest.raises(FileNotFoundError, match="lacks EMG_all_epochs.npy.*fetch_eegdenoisenet"):
        eeg.load_eegdenoisenet(tmp_path)
    with pytest.raises(InvalidInputError):
        eeg.load_eegdenoisenet(None)


def _check_parts(parts, name, n, counts):
    idx = [parts[p][f"{name}_index"] for p in ("train", "validation", "test")]
    assert [len(i) for i in idx] == list(counts)
    together = np.concatenate(idx)
    assert len(np.unique(together)) == n == len(together)  # disjoint and complete


def test_split_is_deterministic_disjoint_complete_80_10_10(tmp_path):
    _write_denoisenet(tmp_path, n=(50, 40, 60))
    data = eeg.load_eegdenoisenet(tmp_path)
    parts = eeg.eegdenoisenet_split(data, rng=0)
    for name, n, counts in (("eeg", 50, (40, 5, 5)), ("eog", 40, (32, 4, 4)), ("emg", 60, (48, 6, 6))):
        _check_parts(parts, name, n, counts)
        for p in ("train", "validation", "test"):
            np.testing.assert_array_equal(parts[p][name], data[name][parts[p][f"{name}_index"]])
    again = eeg.eegdenoisenet_split(data, rng=0)
    other = eeg.eegdenoisenet_split(data, rng=1)
    np.testing.assert_array_equal(again["test"]["eeg_index"], parts["test"]["eeg_index"])
    assert not np.array_equal(other["train"]["eeg_index"], parts["train"]["eeg_index"])
    assert not np.array_equal(parts["train"]["eeg_index"], np.arange(40))  # shuffled


def test_split_sizes_and_pairing_of_the_real_benchmark():
    data = {"eeg": np.zeros((4514, 1)), "eog": np.zeros((3400, 1)), "emg": np.zeros((5598, 1))}
    parts = eeg.eegdenoisenet_split(data, rng=0)
    _check_parts(parts, "eeg", 4514, (3611, 452, 451))
    _check_parts(parts, "eog", 3400, (2720, 340, 340))
    _check_parts(parts, "emg", 5598, (4478, 560, 560))

    eog = eeg.eegdenoisenet_split(data, rng=0, artifact="eog")  # EEG cut to 3400
    _check_parts(eog, "eeg", 3400, (2720, 340, 340))
    _check_parts(eog, "noise", 3400, (2720, 340, 340))

    emg = eeg.eegdenoisenet_split(data, rng=0, artifact="emg")  # 1084 EEG segments reused
    _check_parts(emg, "noise", 5598, (4478, 560, 560))
    train, held_out = (
        emg["train"]["eeg_index"],
        np.concatenate([emg[p]["eeg_index"] for p in ("validation", "test")]),
    )
    assert len(train) == 4478 and len(np.unique(train)) == 4478 - 1084
    assert len(np.unique(np.concatenate([train, held_out]))) == 4514  # every clean segment is used
    assert not set(train) & set(held_out)  # the reused ones stay in training
    for p in ("train", "validation", "test"):
        assert len(emg[p]["eeg"]) == len(emg[p]["noise"])


def test_split_rejects_bad_arguments():
    data = {"eeg": np.zeros((10, 512))}
    with pytest.raises(InvalidInputError, match="artifact"):
        eeg.eegdenoisenet_split(data, artifact="ecg")
    with pytest.raises(InvalidInputError, match="needs the keys"):
        eeg.eegdenoisenet_split(data, artifact="eog")
    with pytest.raises(InvalidInputError, match="rng="):
        eeg.eegdenoisenet_split(data, rng=-1)
    with pytest.raises(InvalidInputError, match="2-D"):
        eeg.eegdenoisenet_split({"eeg": np.zeros(10)})


# -------------------------------------------------------------------------------------------------
# fetchers (network replaced)
# -------------------------------------------------------------------------------------------------


def test_fetch_eegdenoisenet_pins_urls_and_hashes(tmp_path, monkeypatch):
    import pooch

    calls = []

    def fake_retrieve(**kwargs):
        calls.append(kwargs)
        return str(kwargs["path"] / kwargs["fname"])

    monkeypatch.setattr(pooch, "retrieve", fake_retrieve)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # hashes are pinned: no integrity warning
        folder = eeg.fetch_eegdenoisenet(tmp_path / "edn", progressbar=False)
    assert folder == tmp_path / "edn"
    assert [c["fname"] for c in calls] == ["EEG_all_epochs.npy", "EOG_all_epochs.npy", "EMG_all_epochs.npy"]
    for call in calls:
        assert call["url"] == (
            "https://raw.githubusercontent.com/ncclabsustech/EEGdenoiseNet/"
            f"{eeg.EEGDENOISENET_COMMIT}/data/{call['fname']}"
        )
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", call["known_hash"])
        assert call["path"] == tmp_path / "edn" and call["progressbar"] is False
    assert len({c["known_hash"] for c in calls}) == 3
    assert re.fullmatch(r"[0-9a-f]{40}", eeg.EEGDENOISENET_COMMIT)


def test_fetch_eegdenoisenet_default_folder_is_the_pooch_cache(monkeypatch, tmp_path):
    import pooch

    seen = []
    monkeypatch.setattr(pooch, "os_cache", lambda project: tmp_path / project)
    monkeypatch.setattr(pooch, "retrieve", lambda **kw: seen.append(kw["path"]))
    assert eeg.fetch_eegdenoisenet() == tmp_path / "wavediff" / "eegdenoisenet"
    assert seen == [tmp_path / "wavediff" / "eegdenoisenet"] * 3


def test_fetch_eegmmidb_delegates_to_mne(monkeypatch, tmp_path):
    from mne.datasets import eegbci

    calls = []

    def fake_load_data(subjects, runs, **kwargs):
        calls.append((subjects, runs, kwargs))
        return [str(tmp_path / f"S{subjects:03d}R{r:02d}.edf") for r in runs]

    monkeypatch.setattr(eegbci, "load_data", fake_load_data)
    paths = eeg.fetch_eegmmidb(7, [1, 2], path=tmp_path)
    assert paths == [tmp_path / "S007R01.edf", tmp_path / "S007R02.edf"]
    assert calls == [(7, [1, 2], {"path": str(tmp_path), "update_path": False})]
    assert eeg.fetch_eegmmidb(3, 4) == [tmp_path / "S003R04.edf"]
    assert calls[-1] == (3, [4], {"path": None, "update_path": False})
    for subject, runs, pattern in (
        (0, [1], "1..109"),
        (110, [1], "1..109"),
        (1, [15], "1..14"),
        (1, [], "non-empty"),
    ):
        with pytest.raises(InvalidInputError, match=pattern):
            eeg.fetch_eegmmidb(subject, runs)
    assert len(calls) == 2
