"""Tests of the ``wavediff`` command line (wavediff.cli)."""

from __future__ import annotations

import contextlib
import importlib.metadata
import io
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import wavediff.modalities

import wavediff
from wavediff import cli, metrics
from wavediff import modality as mod
from wavediff.errors import InvalidInputError
from wavediff.modality import Modality, atomic_output, register_modality

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
N, SIGMA_1D, STD_1D = 2048, 1.0, 7.0
SIGMA_2D = 0.1
METHODS_1D = ["VisuShrink", "BayesShrink", "SureShrink", "Wiener"]




class Toy(Modality):
    """Small 1-D room whose demo writes ``toy_demo.npy`` into ``out_dir`` (it does not create it)."""

    name = "toycli"
    description = "toy room for the CLI tests"
    spatial_dims = 1
    extensions = (".npy", ".txt")

    def read(self, path):
        return np.load(path)

    def write(self, obj, path):
        with atomic_output(path) as tmp:
            np.save(tmp, np.asarray(obj))
        return Path(path)

    def to_tensor(self, obj):  # pragma: no cover - not used by the CLI
        import torch

        return torch.as_tensor(np.asarray(obj, dtype=np.float64)).reshape(1, 1, -1), {}

    def from_tensor(self, tensor, context):  # pragma: no cover - not used by the CLI
        return tensor.numpy().ravel()

    def degrade(self, clean, rng, sigma=0.5):
        return np.asarray(clean) + rng.normal(0.0, sigma, np.shape(clean))

    def metrics(self, reference, estimate):
        return {"snr_db": metrics.snr_db(reference, estimate)}

    def demo(self, out_dir, seed=0):
        clean = np.sin(np.linspace(0, 6 * np.pi, 256))
        noisy = self.degrade(clean, np.random.default_rng(seed))
        path = self.write(noisy, Path(out_dir) / "toy_demo.npy")
        print(f"toy demo seed={seed}")
        return {"table": [{"method": "noisy input", **self.metrics(clean, noisy)}], "figure": path}


class Quiet(Toy):
    name = "quietroom"
    description = "a room without file formats"
    extensions = ()


class Failing(Toy):
    name = "failingroom"
    description = "a room whose demo rejects its input"

    def demo(self, out_dir, seed=0):
        raise InvalidInputError("the demo data is empty; regenerate it")


# --------------------------------------------------------------------------- help and version
def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: wavediff")
    assert re.search(r"^\s+modalities\b", out, re.M)
    assert re.search(r"^\s+demo\b", out, re.M)
    assert "list the installed modality rooms" in out


def test_demo_help_lists_options(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["demo", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--out", "--seed", "ROOM"):
        assert option in out


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.strip() == f"wavediff {wavediff.__version__}"
    # the version in the package agrees with the installed distribution's metadata (pyproject.toml)
    assert wavediff.__version__ == importlib.metadata.version("wavediff")


@pytest.mark.parametrize(
    "argv", [[], ["frobnicate"], ["demo", "--seed", "many"]], ids=["none", "unknown", "bad-seed"]
)
def test_usage_errors_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: wavediff") and "error:" in err


# --------------------------------------------------------------------------- modalities
def test_modalities_when_none_installed(empty_registry, capsys):
    assert cli.main(["modalities"]) == 0
    out = capsys.readouterr().out
    assert out.strip() == "no modality rooms are installed yet"


def test_modalities_lists_registered_rooms(empty_registry, capsys):
    register_modality(Toy)
    register_modality(Quiet)
    assert cli.main(["modalities"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    quiet, toy = lines  # sorted by name
    assert toy.split()[0] == "toycli"
    assert "toy room for the CLI tests" in toy and toy.rstrip().endswith("[.npy .txt]")
    assert quiet.split()[0] == "quietroom"
    assert "a room without file formats" in quiet and quiet.rstrip().endswith("[-]")


def test_modalities_runs_discovery(registry, tmp_path, monkeypatch, capsys):
    # real discovery, with the built-in rooms folder pointed at an empty folder
    monkeypatch.setattr(wavediff.modalities, "__path__", [str(tmp_path)])
    mod._REGISTRY.clear()
    mod.refresh_modalities()
    register_modality(Toy)
    assert cli.main(["modalities"]) == 0
    assert mod._DISCOVERED is True
    assert "toycli" in capsys.readouterr().out


# --------------------------------------------------------------------------- engine demo, numbers
@pytest.fixture(scope="module")
def engine_run(tmp_path_factory):
    """One run of the engine demo at seed 0: (result, printed text, folder)."""
    out = tmp_path_factory.mktemp("engine")
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        result = cli.engine_demo(out, seed=0)
    return result, buffer.getvalue(), out


def _clean_signal(name: str) -> np.ndarray:
    from wavediff.datasets.signals import test_signal

    return test_signal(name, N, std=STD_1D)


def _signal_names() -> list[str]:
    from wavediff.datasets.signals import SIGNALS

    return list(SIGNALS)


# Sampling error of an SNR measured over n samples of unit white noise: the noise energy is a
# chi-square with n degrees of freedom, relative std sqrt(2 / n), i.e. 10 / ln 10 * sqrt(2 / n) dB.
SNR_SD_DB = 10 / math.log(10) * math.sqrt(2 / N)  # 0.136 dB
PSNR_SD_DB = 10 / math.log(10) * math.sqrt(2 / 256**2)  # 0.024 dB


def test_engine_demo_structure(engine_run):
    result, _, out = engine_run
    assert set(result) == {"signals_1d", "phantom_2d", "figure"}
    assert result["figure"] == out / "engine_demo.png"
    rows = result["signals_1d"]
    assert [r["signal"] for r in rows] == _signal_names()
    for row in rows:
        assert list(row) == ["signal", "noisy input", *METHODS_1D]
        assert all(isinstance(row[k], float) and math.isfinite(row[k]) for k in ["noisy input", *METHODS_1D])
    assert [r["method"] for r in result["phantom_2d"]] == ["noisy input", "BayesShrink db2", "Wiener 5x5"]
    for row in result["phantom_2d"]:
        assert 0.0 < row["SSIM"] <= 1.0 and math.isfinite(row["PSNR dB"])
    assert os.listdir(out) == ["engine_demo.png"]  # no temporary files left


@pytest.mark.parametrize("signal", _signal_names())
def test_noisy_input_snr_matches_the_added_noise(engine_run, signal):
    # truth: snr_db is the energy ratio sum(clean**2) / sum(noise**2) with unit white noise
    (row,) = [r for r in engine_run[0]["signals_1d"] if r["signal"] == signal]
    clean = _clean_signal(signal)
    assert clean.std() == pytest.approx(STD_1D)
    expected = 10 * np.log10(np.mean(clean**2) / SIGMA_1D**2)
    assert row["noisy input"] == pytest.approx(expected, abs=4 * SNR_SD_DB)


def test_noisy_phantom_psnr_is_20_db(engine_run):
    noisy = engine_run[0]["phantom_2d"][0]
    assert noisy["method"] == "noisy input"
    # sigma 0.1 on data_range 1: 10 log10(1 / 0.01) = 20 dB
    assert noisy["PSNR dB"] == pytest.approx(20 * math.log10(1.0 / SIGMA_2D), abs=4 * PSNR_SD_DB)
    assert noisy["SSIM"] < 0.5  # white noise at sigma 0.1 wrecks the structure of a flat phantom


def test_every_restoration_beats_the_noisy_input(engine_run):
    result = engine_run[0]
    for row in result["signals_1d"]:
        for method in METHODS_1D:
            assert row[method] > row["noisy input"] + 0.5, (row["signal"], method, row)
    noisy, *restored = result["phantom_2d"]
    for row in restored:
        assert row["PSNR dB"] > noisy["PSNR dB"] + 3.0, row
        assert row["SSIM"] > noisy["SSIM"], row


def test_printed_tables_match_returned_numbers(engine_run):
    result, text, out = engine_run
    assert "## 1-D test signals" in text and "## 2-D Shepp-Logan phantom" in text
    assert "| signal | noisy input | VisuShrink | BayesShrink | SureShrink | Wiener |" in text
    assert "| method | PSNR dB | SSIM |" in text
    table_rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| ")}
    for row in result["signals_1d"]:
        cells = [c.strip() for c in table_rows[row["signal"]].strip("|").split("|")]
        assert cells == [row["signal"]] + [f"{row[k]:.2f}" for k in ["noisy input", *METHODS_1D]]
    noisy = result["phantom_2d"][0]
    assert table_rows["noisy input"].split("|")[2].strip() == f"{noisy['PSNR dB']:.2f}"
    assert f"figure written to {out / 'engine_demo.png'}" in text


def test_figure_is_a_png(engine_run):
    import matplotlib.image

    figure = engine_run[0]["figure"]
    assert figure.read_bytes()[:8] == PNG_MAGIC
    image = matplotlib.image.imread(figure)
    assert image.ndim >= 2 and image.size > 0
    assert image.shape[0] > 100 and image.shape[1] > 100
    assert float(np.std(image)) > 0  # not a blank canvas


def test_engine_demo_is_reproducible(engine_run, tmp_path):
    with contextlib.redirect_stdout(io.StringIO()):
        again = cli.engine_demo(tmp_path, seed=0)
    first = engine_run[0]
    assert again["signals_1d"] == first["signals_1d"]
    assert again["phantom_2d"] == first["phantom_2d"]


def test_engine_demo_creates_its_folder(engine_run, tmp_path):
    # also checks that another seed gives other noise (the seed is used)
    out = tmp_path / "a" / "b"
    with contextlib.redirect_stdout(io.StringIO()):
        other = cli.engine_demo(out, seed=1)
    assert (out / "engine_demo.png").read_bytes()[:8] == PNG_MAGIC
    first = engine_run[0]
    assert other["signals_1d"][0]["noisy input"] != first["signals_1d"][0]["noisy input"]
    assert other["phantom_2d"][0]["PSNR dB"] == pytest.approx(20.0, abs=4 * PSNR_SD_DB)


# --------------------------------------------------------------------------- demo command
def test_demo_command_writes_figure_and_tables(empty_registry, tmp_path, capsys):
    assert cli.main(["demo", "--out", str(tmp_path)]) == 0
    figure = tmp_path / "engine_demo.png"
    data = figure.read_bytes()
    assert data[:8] == PNG_MAGIC
    import matplotlib.image

    image = matplotlib.image.imread(figure)
    assert image.ndim >= 2 and image.size > 0
    out, err = capsys.readouterr()
    assert err == ""
    noisy_rows = [line for line in out.splitlines() if line.startswith("| noisy input |")]
    assert len(noisy_rows) == 1  # the 2-D table
    one_d_rows = [
        line
        for line in out.splitlines()
        if line.split("|")[1:2] and line.split("|")[1].strip() in _signal_names()
    ]
    assert len(one_d_rows) == len(_signal_names())
    assert sum(line.startswith("|---|") for line in out.splitlines()) == 2  # two markdown tables
    assert os.listdir(tmp_path) == ["engine_demo.png"]


def test_demo_command_runs_every_room_after_the_engine(empty_registry, tmp_path, capsys):
    register_modality(Toy)
    assert cli.main(["demo", "--out", str(tmp_path), "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert out.index("figure written to") < out.index("# demo: toycli") < out.index("toy demo seed=3")
    assert sorted(os.listdir(tmp_path)) == ["engine_demo.png", "toy_demo.npy"]


def test_demo_command_named_room_only(empty_registry, tmp_path, capsys):
    register_modality(Toy)
    register_modality(Quiet)
    assert cli.main(["demo", "toycli", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "# demo: toycli" in out and "quietroom" not in out
    assert "## 1-D test signals" not in out  # no engine demo when rooms are named
    assert os.listdir(tmp_path) == ["toy_demo.npy"]


def test_demo_command_passes_out_and_seed(empty_registry, tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(cli, "engine_demo", lambda out, seed=0: calls.append((out, seed)))
    assert cli.main(["demo", "--out", str(tmp_path / "x"), "--seed", "7"]) == 0
    assert calls == [(tmp_path / "x", 7)]


def test_demo_command_named_room_creates_out_folder(empty_registry, tmp_path, capsys):
    # `wavediff demo` creates --out (engine_demo mkdirs it), so `wavediff demo ROOM` should too: the
    # default --out ./wavediff-demo does not exist on a first run.
    # BUG (cli.py, _cmd_demo): with rooms named the folder is never created, so a room whose demo writes
    # into out_dir (as Modality.demo documents) fails with a FileNotFoundError traceback.
    register_modality(Toy)
    out = tmp_path / "fresh"
    assert cli.main(["demo", "toycli", "--out", str(out)]) == 0
    assert (out / "toy_demo.npy").is_file()


def test_demo_unknown_room(empty_registry, tmp_path, capsys):
    register_modality(Toy)
    assert cli.main(["demo", "no-such-room", "--out", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert err.startswith("wavediff: error: no modality named 'no-such-room'")
    assert "toycli" in err  # says what is available
    assert "Traceback" not in err and err.count("\n") == 1
    assert os.listdir(tmp_path) == []


def test_demo_room_that_failed_to_load(empty_registry, tmp_path, capsys):
    mod._FAILED["brokenroom"] = "broken_pkg.adapter failed to load: ImportError: no module named 'libfoo'"
    assert cli.main(["demo", "brokenroom", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "wavediff: error: modality 'brokenroom' could not be loaded" in err and "libfoo" in err


def test_demo_room_raising_wavediff_error(empty_registry, tmp_path, capsys):
    register_modality(Failing)
    assert cli.main(["demo", "failingroom", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "wavediff: error: the demo data is empty; regenerate it"


def test_markdown_formatting():
    from wavediff.report import markdown_table

    text = markdown_table([{"a": "x", "b": 1.005, "c": 3}, {"a": "y", "b": float("inf"), "c": -1}])
    assert text.splitlines() == ["| a | b | c |", "|---|---|---|", "| x | 1.00 | 3 |", "| y | inf | -1 |"]


# --------------------------------------------------------------------------- the installed command
def test_module_entry_point_help(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "wavediff.cli", "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "modalities" in proc.stdout and "demo" in proc.stdout
    assert os.listdir(tmp_path) == []  # --help writes nothing


def test_console_script_is_declared():
    (ep,) = importlib.metadata.entry_points(group="console_scripts", name="wavediff")
    assert ep.value == "wavediff.cli:main"
    assert ep.load() is cli.main


def test_engine_demo_leaves_the_matplotlib_backend_alone(tmp_path, monkeypatch):
    import matplotlib

    def refuse(*args, **kwargs):
        raise AssertionError("library code called matplotlib.use")

    backend = matplotlib.get_backend()
    monkeypatch.setattr(matplotlib, "use", refuse)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)  # any pyplot import now fails
    with contextlib.redirect_stdout(io.StringIO()):
        result = cli.engine_demo(tmp_path, seed=0)
    assert matplotlib.get_backend() == backend and result["figure"].read_bytes()[:8] == PNG_MAGIC
