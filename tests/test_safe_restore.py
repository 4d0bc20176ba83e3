"""Safe restore: outputs never destroy data, degenerate data are passed through, truncated files are
reported, arguments are checked before any work, and every failure of the command is one
``wavediff: error:`` line with exit code 2."""

from __future__ import annotations

import os
import warnings

import mne
import numpy as np
import pytest
import torch
from _eeg_helpers import EEG_NAMES, _eeg_room, _raw  # noqa: F401
from _toy_rooms import tiny_recipe, white_noise_pairs
from safetensors.torch import save_file

from wavediff import cli, guards
from wavediff.diffusion.samplers import evaluations
from wavediff.errors import (
    CheckpointError,
    CorruptFileError,
    DataNotFoundError,
    DataWarning,
    InvalidInputError,
    OutputError,
    OutputExistsError,
    SampleRateError,
    UnsupportedFormatError,
)
from wavediff.modality import Modality, atomic_output, register_modality
from wavediff.pipeline import Restorer, train

D = 16
NAMES19 = ["Fp1", "Fp2", "F3", "F4", "C3", "C4", "P3", "P4", "O1", "O2", "F7", "F8", "T7", "T8", "P7", "P8", "Fz", "Cz", "Pz"]


# ------------------------------------------------------------------------------------- a toy room
class Rows(Modality):
    """Rows of D samples; rows whose values are all equal are marked as having nothing to restore."""

    name = "rowsroom"
    description = "rows of 16 samples (safe-restore tests)"
    extensions = (".npy",)

    def read(self, path):
        return np.load(path, allow_pickle=False)

    def write(self, obj, path):
        with atomic_output(path) as tmp:
            np.save(tmp, np.asarray(obj))
        return path

    def to_tensor(self, obj):
        x = np.asarray(obj, dtype=np.float64).reshape(-1, D)
        return torch.from_numpy(x.copy()).float().reshape(-1, 1, D), {"shape": np.shape(obj), "unchanged": guards.degenerate(x)}

    def from_tensor(self, tensor, context):
        return tensor.detach().double().numpy().reshape(context["shape"])

    def uncertainty_from_tensor(self, std, context):
        return self.from_tensor(std, context)

    degrade = metrics = demo = None

    @classmethod
    def default_recipe(cls):
        return tiny_recipe(channels=(8,), steps=2)

    def training_data(self, recipe, seed=0):
        return white_noise_pairs(D)


@pytest.fixture
def rows(registry, tmp_path, monkeypatch):
    register_modality(Rows)
    monkeypatch.setattr(Rows, "weights_path", classmethod(lambda cls: tmp_path / "weights.safetensors"))
    train(Rows(), steps=2, progress=False)
    return Rows()


def _signal(n_rows=6, seed=0):
    x = np.random.default_rng(seed).normal(size=(n_rows, D))
    x[1] = 0.0  # flat
    x[3] = 2.5  # constant
    x[4] = 0.0
    x[4, 5] = 9.0  # a single spike on a flat line
    return x


# ------------------------------------------------------------------------------------- guards
def test_degenerate_marks_flat_constant_and_spike_windows():
    x = _signal()
    assert guards.degenerate(x).tolist() == [False, True, False, True, True, False]
    assert guards.degenerate(np.zeros((3, D))).all()  # everything flat: all of it
    near = np.random.default_rng(1).normal(size=(4, D))
    near[2] *= 1e-9  # a near-flat window among normal ones
    assert guards.degenerate(near).tolist() == [False, False, True, False]


def test_restorer_passes_unchanged_windows_through_exactly(rows):
    x = _signal()
    flagged = guards.degenerate(x)
    mean = Restorer("rowsroom").restore(x)
    assert np.array_equal(mean[flagged], x[flagged])
    assert not np.allclose(mean[~flagged], x[~flagged])  # the others went through the network
    draws, std = Restorer("rowsroom", n_draws=3).restore(x, return_std=True)
    assert np.array_equal(draws[flagged], x[flagged]) and np.all(std[flagged] == 0)
    assert np.all(std[~flagged].max(axis=-1) > 0)
    zeros = np.zeros((4, D))
    assert np.array_equal(Restorer("rowsroom").restore(zeros), zeros)  # nothing to restore: no network call


def test_check_output_refuses_inputs_links_existing_files_and_bad_folders(tmp_path):
    src = tmp_path / "in.npy"
    np.save(src, np.zeros(3))
    link = tmp_path / "link.npy"
    os.link(src, link)
    fmt = [".npy"]
    with pytest.raises(OutputError, match="is the input"):
        guards.check_output(tmp_path / "." / "in.npy", formats=fmt, inputs=[src], overwrite=True)
    with pytest.raises(OutputError, match="is the input"):  # another name, the same inode
        guards.check_output(link, formats=fmt, inputs=[src], overwrite=True)
    with pytest.raises(OutputExistsError, match="--overwrite"):
        guards.check_output(link, formats=fmt)
    assert guards.check_output(link, formats=fmt, overwrite=True) == link
    with pytest.raises(OutputError, match="does not exist"):
        guards.check_output(tmp_path / "missing" / "o.npy", formats=fmt)
    with pytest.raises(UnsupportedFormatError, match="'.csv'"):
        guards.check_output(tmp_path / "o.csv", formats=fmt)
    with pytest.raises(OutputError, match="is a folder"):
        (tmp_path / "d.npy").mkdir()
        guards.check_output(tmp_path / "d.npy", formats=fmt, overwrite=True)
    if os.geteuid() != 0:  # root writes anywhere
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
        with pytest.raises(OutputError, match="not writable"):
            guards.check_output(ro / "o.npy", formats=fmt)


def test_write_together_leaves_nothing_when_one_write_fails(tmp_path):
    def fail(tmp):
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        guards.write_together([(lambda tmp: np.save(tmp, np.zeros(2)), tmp_path / "a.npy"), (fail, tmp_path / "b.npy")])
    assert list(tmp_path.iterdir()) == []
    moved = guards.write_together([(lambda tmp: np.save(tmp, np.ones(2)), tmp_path / "a.npy")])
    assert moved == [tmp_path / "a.npy"] and np.load(tmp_path / "a.npy").tolist() == [1.0, 1.0]


def test_room_write_refuses_existing_files_and_its_source(eeg, tmp_path):
    path = eeg.write(_raw(), tmp_path / "rec.fif")
    with pytest.raises(OutputExistsError):
        eeg.write(_raw(), path)
    eeg.write(_raw(seed=1), path, overwrite=True)
    raw = eeg.read(path)
    with pytest.raises(OutputError, match="is the input"):
        eeg.write(raw, path, overwrite=True)  # the file it was read from, even with overwrite
    vhdr = eeg.write(_raw(), tmp_path / "rec.vhdr")
    assert {p.name for p in tmp_path.iterdir()} >= {"rec.vhdr", "rec.vmrk", "rec.eeg"}
    (tmp_path / "rec.vhdr").unlink()
    with pytest.raises(OutputExistsError, match="rec.vmrk"):  # the marker file BrainVision would replace
        eeg.write(_raw(), vhdr)


# ------------------------------------------------------------------------------------- EEG data
def _recording(seconds=30, seed=0):
    rng = np.random.default_rng(seed)
    info = mne.create_info(NAMES19, 256.0, "eeg")
    raw = mne.io.RawArray(rng.normal(0, 2e-5, (19, int(256 * seconds))), info, verbose=False)
    return raw


@pytest.mark.parametrize("kind", ["flat", "zeros", "spike"])
def test_degenerate_eeg_comes_back_unchanged(kind):
    data = np.zeros((19, 256 * 30))
    if kind == "flat":
        data[:] = 3e-5
    if kind == "spike":
        data[4, 1000] = 1e-4
    with pytest.warns(DataWarning, match="all 19 EEG channels are flat"):
        out = Restorer("eeg").restore(data, sfreq=256.0)
    assert np.array_equal(out, data)


def test_a_disconnected_electrode_comes_back_unchanged_and_is_named():
    raw = _recording()
    raw._data[3] = 0.0  # F4 disconnected
    with pytest.warns(DataWarning, match="F4 are flat"):
        out = Restorer("eeg").restore(raw)
    assert np.array_equal(out.get_data()[3], raw.get_data()[3])
    changed = np.abs(out.get_data() - raw.get_data()).max(axis=-1)
    assert np.all(np.delete(changed, 3) > 0)


def test_a_dropout_segment_is_not_amplified():
    raw = _recording()
    raw._data[5, 256 * 10 : 256 * 18] = 0.0  # 8 s of dropout in C4
    with pytest.warns(DataWarning, match="window.*C4"):
        out = Restorer("eeg").restore(raw).get_data()
    inside = out[5, 256 * 12 : 256 * 16]  # windows wholly inside the dropout
    assert np.abs(inside).max() == 0.0


def test_short_and_implausible_eeg_is_refused_or_reported():
    rng = np.random.default_rng(0)
    with pytest.raises(InvalidInputError, match=r"4 samples at 256 Hz \(0.0156 s\).*at least 1 s"):
        Restorer("eeg").restore(rng.normal(0, 2e-5, (3, 4)), sfreq=256.0)
    with pytest.warns(DataWarning, match="1.5 s, shorter than the model's 2 s window"):
        Restorer("eeg").restore(rng.normal(0, 2e-5, (3, 384)), sfreq=256.0)
    with pytest.raises(SampleRateError, match="sampled at 0.001 Hz; EEG restoration needs at least 32 Hz"):
        Restorer("eeg").restore(rng.normal(0, 2e-5, (3, 1000)), sfreq=0.001)
    with pytest.warns(DataWarning, match="sampling rate 50 Hz is below 100"):
        Restorer("eeg").restore(rng.normal(0, 2e-5, (3, 500)), sfreq=50.0)
    with pytest.warns(DataWarning, match=r"typical spread \((1|0.99\d) V per window\) is above 0.01.*\* 1e-6"):
        Restorer("eeg").restore(rng.normal(0, 1.0, (3, 2560)), sfreq=256.0)


# ------------------------------------------------------------------------------------- files
def _truncated_edf(eeg, tmp_path):
    full = eeg.write(_recording(), tmp_path / "full.edf")
    half = tmp_path / "half.edf"
    half.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    return half


def test_truncated_files_warn_or_fail_with_strict(eeg, tmp_path):
    half = _truncated_edf(eeg, tmp_path)
    with pytest.warns(DataWarning, match="half.edf: Number of records from the header does not match"):
        raw = eeg.read(half)
    assert raw.n_times < 256 * 30
    with pytest.raises(CorruptFileError, match="strict"):
        eeg.read(half, strict=True)


def test_reader_refuses_missing_folders_and_non_finite_samples(eeg, tmp_path):
    with pytest.raises(DataNotFoundError, match="no such file"):
        eeg.read(tmp_path / "none.edf")
    with pytest.raises(InvalidInputError, match="is a folder"):
        (tmp_path / "dir.fif").mkdir()
        eeg.read(tmp_path / "dir.fif")
    raw = _recording(seconds=4)
    raw._data[2, 10] = np.nan
    raw.save(tmp_path / "nan_raw.fif", verbose="error")
    with pytest.raises(InvalidInputError, match="1 NaN or infinite sample.*F3"):
        eeg.read(tmp_path / "nan_raw.fif")


# ------------------------------------------------------------------------------------- the command
def _run(capsys, *argv):
    code = cli.main(["restore", *argv])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.fixture
def edf(eeg, tmp_path):
    path = eeg.write(_recording(), tmp_path / "s.edf")
    return path, path.read_bytes()


def test_cli_never_writes_over_the_input_or_an_existing_output(capsys, tmp_path, edf):
    path, content = edf
    code, text = _run(capsys, "eeg", str(path), str(path), "--overwrite")
    assert code == 2 and "is the input file" in text and "Traceback" not in text
    out = tmp_path / "out.edf"
    out.write_bytes(b"keep me")
    code, text = _run(capsys, "eeg", str(path), str(out))
    assert code == 2 and "--overwrite" in text and out.read_bytes() == b"keep me"
    assert _run(capsys, "eeg", str(path), str(out), "--overwrite", "--quiet")[0] == 0
    assert out.read_bytes() != b"keep me" and path.read_bytes() == content


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["{out}", "--std", "{std}"], "add --draws N (or --samples N)"),
        (["{out}", "--steps", "0"], "--steps 0"),
        (["{out}", "--samples", "0"], "--draws 0"),
        (["{tmp}/missing/o.edf"], "does not exist"),
        (["{tmp}/o.csv"], "cannot write '.csv'"),
        (["{out}", "--samples", "2", "--std", "{out}"], "the output file too"),
        (["{out}", "--samples", "2", "--std", "{tmp}/none/s.edf"], "--std"),
        (["{out}", "--model", "{tmp}/w.pt"], "PyTorch pickle"),
        (["{out}", "--model", "{tmp}/foreign.safetensors"], "has no foreign.json"),
    ],
)
def test_cli_checks_arguments_before_any_work(capsys, tmp_path, edf, argv, message, monkeypatch):
    import wavediff.pipeline

    def no_work(*args, **kwargs):
        raise AssertionError("work started before the arguments were checked")

    monkeypatch.setattr(wavediff.pipeline.Restorer, "restore", no_work)
    torch.save({"w": torch.zeros(2)}, tmp_path / "w.pt")
    save_file({"w": torch.zeros(2)}, str(tmp_path / "foreign.safetensors"))
    fill = {"out": str(tmp_path / "o.edf"), "std": str(tmp_path / "s.edf"), "tmp": str(tmp_path)}
    code, text = _run(capsys, "eeg", str(edf[0]), *[a.format(**fill) for a in argv])
    assert code == 2 and message in text and "Traceback" not in text
    assert text.count("wavediff: error:") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["s.edf", "w.pt", "foreign.safetensors"])


def test_cli_input_and_device_errors_are_one_line(capsys, tmp_path, edf):
    out = str(tmp_path / "o.edf")
    for argv, message in (
        (["eeg", str(tmp_path / "none.edf"), out], "no such file"),
        (["eeg", str(tmp_path), out], "is a folder"),
    ):
        code, text = _run(capsys, *argv)
        assert code == 2 and message in text and "Traceback" not in text
    if not torch.cuda.is_available():
        code, text = _run(capsys, "eeg", str(edf[0]), out, "--device", "cuda")
        assert code == 2 and "no usable CUDA device" in text


def test_cli_debug_shows_the_traceback(tmp_path, edf):
    with pytest.raises(OutputError, match="is the input"):
        cli.main(["restore", "eeg", str(edf[0]), str(edf[0].with_name("s.edf")), "--debug"])
    with pytest.raises(CheckpointError):
        cli.main(["restore", "eeg", str(edf[0]), str(tmp_path / "o.fif"), "--model", str(tmp_path / "none.safetensors"), "--debug"])


def test_cli_internal_errors_exit_1_without_a_traceback(capsys, tmp_path, edf, monkeypatch):
    import wavediff.pipeline

    def bug(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(wavediff.pipeline.Restorer, "restore", bug)
    code, text = _run(capsys, "eeg", str(edf[0]), str(tmp_path / "o.fif"))
    assert code == 1 and "internal error: ZeroDivisionError: a bug" in text and "--debug" in text
    assert not (tmp_path / "o.fif").exists()


def test_cli_strict_refuses_a_truncated_file(capsys, eeg, tmp_path):
    half = _truncated_edf(eeg, tmp_path)
    code, text = _run(capsys, "eeg", str(half), str(tmp_path / "o.fif"), "--strict")
    assert code == 2 and "does not match the file size" in text and not (tmp_path / "o.fif").exists()
    code, text = _run(capsys, "eeg", str(half), str(tmp_path / "o.fif"))
    assert code == 0 and "wavediff: warning: half.edf: Number of records" in text
    assert "read " in text and "s at 256 Hz" in text  # the length that was actually read


def test_a_failed_uncertainty_write_leaves_no_file(capsys, tmp_path, edf, monkeypatch):
    from wavediff.modalities.eeg.adapter import EEG

    original = EEG.write

    def write(self, obj, path, **kwargs):
        if "std" in os.path.basename(str(path)):
            raise OSError("disk full")
        return original(self, obj, path, **kwargs)

    monkeypatch.setattr(EEG, "write", write)
    code, text = _run(capsys, "eeg", str(edf[0]), str(tmp_path / "o.fif"), "--samples", "2", "--steps", "2", "--std", str(tmp_path / "std.fif"), "--quiet")
    assert code == 2 and "disk full" in text and "nothing was written" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.edf"]


def test_progress_announces_the_network_evaluations(capsys):
    restorer = Restorer("eeg", n_draws=2, steps=3, progress=True)
    per_row = restorer.evaluations_per_row()
    assert per_row == 2 * evaluations(restorer.sampler, restorer.model.process.sigmas(3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        restorer.restore(np.random.default_rng(0).normal(0, 2e-5, (2, 512)), sfreq=256.0)
    err = capsys.readouterr().err
    assert f"2 window(s) x {per_row} network evaluation(s) = {2 * per_row} on cpu" in err
    assert "posterior draws" in err  # the tqdm bar
    assert Restorer("eeg").evaluations_per_row() == 1  # the direct posterior mean
