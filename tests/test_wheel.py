"""What users install: the built wheel, in a fresh virtual environment outside the source tree.

The wheel must hold every module of the three source roots and every room's recipe, weights and README;
installed alone (the core) it lists the rooms whose extra is missing with the pip command to run; with
``[eeg]`` it runs ``wavediff modalities``, ``wavediff demo eeg`` and a restore. An editable install
would hide a missing file, so nothing here imports from the checkout.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ROOTS = {"src/wavediff": "wavediff", "modalities": "wavediff/modalities", "datasets": "wavediff/datasets"}
ROOM_FILES = ("recipe.toml", "weights.safetensors", "weights.json", "README.md")

pytestmark = pytest.mark.slow


def _expected_files() -> set[str]:
    """Every module and every room's data file, at its path inside the wheel."""
    wanted = set()
    for source, target in ROOTS.items():
        for path in (ROOT / source).rglob("*.py"):
            if "__pycache__" not in path.parts:
                wanted.add(f"{target}/{path.relative_to(ROOT / source).as_posix()}")
    for room in (ROOT / "modalities").iterdir():
        for name in ROOM_FILES:
            if (room / name).is_file():
                wanted.add(f"wavediff/modalities/{room.name}/{name}")
    return wanted


def _source_copy(dest: Path) -> Path:
    """The files a clone holds (git's tracked and unignored ones), copied: the build writes nothing into the checkout."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True, text=True
    )
    if listed.returncode != 0:  # not a git checkout (an sdist): take the tree as it is
        shutil.copytree(ROOT, dest, ignore=shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__", ".*"))
        return dest
    for name in filter(None, listed.stdout.split("\0")):
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    return dest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    source = _source_copy(tmp_path_factory.mktemp("source"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)], check=True)
    (path,) = out.glob("wavediff-*.whl")
    return path


def test_the_wheel_holds_every_module_and_every_rooms_files(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(_expected_files() - names)
    assert not missing, f"the wheel lacks {missing}"
    meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    extras = set(re.findall(r"^Provides-Extra: (\S+)", meta, flags=re.M))
    assert {"eeg", "mri", "ct", "speech", "hsi", "seismic", "pde", "all", "dev"} <= extras
    core = [ln for ln in meta.splitlines() if ln.startswith("Requires-Dist:") and "extra ==" not in ln]
    assert not any(lib in " ".join(core) for lib in ("mne", "nibabel", "pydicom", "librosa", "segyio", "spectral"))


def _local_torch() -> str | None:
    """A torch requirement pip can meet from a file on this machine (its find-links), else None."""
    version = importlib.metadata.version("torch")
    with tempfile.TemporaryDirectory() as scratch:
        probe = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-index", "--no-deps", "-q", "-d", scratch, f"torch=={version}"],
            capture_output=True, text=True,
        )
    return f"torch=={version}" if probe.returncode == 0 else None


@pytest.fixture(scope="module")
def venv(tmp_path_factory, wheel):
    torch_req = _local_torch()
    if torch_req is None:
        pytest.skip("no torch wheel on this machine: a fresh environment would download torch (several GB)")
    home = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(home / "env")], check=True)
    bin_dir = home / "env" / ("Scripts" if os.name == "nt" else "bin")
    pip = [str(bin_dir / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, torch_req], check=True)
    subprocess.run([*pip, str(wheel)], check=True)
    return home, bin_dir


def _run(bin_dir: Path, *args: str, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["MPLBACKEND"] = "Agg"
    return subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_the_installed_wheel_works_from_core_to_a_restore(venv, wheel):
    home, bin_dir = venv
    python = str(bin_dir / "python")
    # the core alone: the package imports from the venv, not the checkout, light and without field libraries
    where = _run(bin_dir, python, "-c", "import sys, wavediff; print(wavediff.__file__); print('mne' in sys.modules)", cwd=home)
    assert where.returncode == 0, where.stderr
    path, mne_loaded = where.stdout.split()
    assert Path(path).resolve().is_relative_to((home / "env").resolve()) and mne_loaded == "False"
    listing = _run(bin_dir, "wavediff", "modalities", cwd=home)
    assert listing.returncode == 0, listing.stderr
    assert "eeg" in listing.stdout and "pip install 'wavediff[eeg]'" in listing.stdout
    refused = _run(bin_dir, "wavediff", "demo", "eeg", "--out", str(home / "demo"), cwd=home)
    assert refused.returncode == 2 and "pip install 'wavediff[eeg]'" in refused.stderr

    # with the room's extra: the room, its demo, a restore of a file
    install = _run(bin_dir, python, "-m", "pip", "install", "-q", "--disable-pip-version-check", f"{wheel}[eeg]", cwd=home)
    assert install.returncode == 0, install.stderr
    listing = _run(bin_dir, "wavediff", "modalities", cwd=home)
    assert listing.returncode == 0 and re.search(r"^eeg\s+EEG artifact removal", listing.stdout, flags=re.M), listing.stdout
    demo = _run(bin_dir, "wavediff", "demo", "eeg", "--out", str(home / "demo"), cwd=home)
    assert demo.returncode == 0, demo.stderr
    assert (home / "demo" / "eeg_demo.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "wavediff (posterior mean)" in demo.stdout  # the shipped model was found in the installed package
    make = (
        "from wavediff.datasets.eeg import simulate_raw; "
        "simulate_raw(n_seconds=30.0, sfreq=160.0, rng=0).save({src!r}, verbose='error')"
    )
    check = (
        "import mne; a = mne.io.read_raw_fif({src!r}, verbose='error'); b = mne.io.read_raw_fif({out!r}, verbose='error'); "
        "assert a.ch_names == b.ch_names and a.n_times == b.n_times and a.info['sfreq'] == b.info['sfreq']; "
        "import numpy as np; print(float(np.abs(a.get_data() - b.get_data()).max()))"
    )
    _, change = _make_restore_check(venv, "eeg", make, check, home / "in_raw.fif", home / "out_raw.fif")
    assert change > 0  # the model did change the recording


def _make_restore_check(venv, room, make, check, src, out, *options) -> tuple[str, float]:
    """In the venv: write ``src`` with the ``make`` code (None: it exists), ``wavediff restore room src out``,
    then run the ``check`` code, which prints the largest change; returns the restore's output and that change.
    ``make`` and ``check`` are formatted with ``src`` and ``out``."""
    home, bin_dir = venv
    python = str(bin_dir / "python")
    if make is not None:
        made = _run(bin_dir, python, "-c", make.format(src=str(src), out=str(out)), cwd=home)
        assert made.returncode == 0, made.stderr
    restored = _run(bin_dir, "wavediff", "restore", room, str(src), str(out), *options, cwd=home)
    assert restored.returncode == 0, restored.stderr
    checked = _run(bin_dir, python, "-c", check.format(src=str(src), out=str(out)), cwd=home)
    assert checked.returncode == 0, checked.stderr
    return restored.stdout + restored.stderr, float(checked.stdout)


def test_the_installed_wheel_restores_mri_files(venv, wheel):
    """The MRI room from the wheel with ``[mri]``: its demo finds the shipped model, and a NIfTI file comes
    back restored with its affine."""
    home, bin_dir = venv
    python = str(bin_dir / "python")
    if not (ROOT / "modalities" / "mri" / "weights.safetensors").is_file():
        pytest.skip("no shipped MRI model in this checkout")
    install = _run(bin_dir, python, "-m", "pip", "install", "-q", "--disable-pip-version-check", f"{wheel}[mri]", cwd=home)
    assert install.returncode == 0, install.stderr
    demo = _run(bin_dir, "wavediff", "demo", "mri", "--out", str(home / "demo_mri"), cwd=home)
    assert demo.returncode == 0, demo.stderr
    assert (home / "demo_mri" / "mri_demo.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "wavediff (posterior mean)" in demo.stdout
    make = (
        "import numpy as np, nibabel as nib; from wavediff.datasets.mri import brain_phantom; "
        "from wavediff.modalities.mri.degrade import rician; "
        "v = rician(brain_phantom((24, 48, 48), rng=0), 0.05, np.random.default_rng(0)); "
        "nib.save(nib.Nifti1Image(v.astype(np.float32), np.diag([1.2, 1.2, 3.0, 1.0])), {src!r})"
    )
    check = (
        "import nibabel as nib, numpy as np; a = nib.load({src!r}); b = nib.load({out!r}); "
        "assert np.allclose(a.affine, b.affine) and a.shape == b.shape; "
        "print(float(np.abs(a.get_fdata() - b.get_fdata()).max()))"
    )
    _, change = _make_restore_check(venv, "mri", make, check, home / "in.nii.gz", home / "out.nii.gz")
    assert change > 0  # the model did change the image
    # the 3-D model ships in the wheel too, and the CLI builds the room's 3-D layout from its record
    where = _run(bin_dir, python, "-c", "from wavediff.modalities.mri.adapter import MRI; print(MRI.weights_3d_path())", cwd=home)
    assert where.returncode == 0, where.stderr
    weights3d = where.stdout.strip()
    assert "site-packages" in weights3d and Path(weights3d).is_file() and Path(weights3d).with_suffix(".json").is_file()
    log, change = _make_restore_check(venv, "mri", None, check, home / "in.nii.gz", home / "out3d.nii.gz", "--model", weights3d)
    assert "cube(s) of 48^3" in log and change > 0
