"""The README's two commands, .ci/run and the package layout agree with each other."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## The two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section)


def test_readme_has_two_commands_and_ci_runs_the_second():
    commands = _readme_commands()
    assert len(commands) == 2
    assert "wavediff demo" in commands[0] and commands[0].startswith("bash install.sh")
    ci_lines = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    assert commands[1] in ci_lines, "the CI script must run README's test command verbatim"


def test_torch_is_a_range_not_a_pin():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    torch_req = next(d for d in project["dependencies"] if d.startswith("torch"))
    assert ">=" in torch_req and "==" not in torch_req


def test_three_source_roots_map_into_one_namespace():
    import wavediff.datasets
    import wavediff.modalities

    assert Path(wavediff.__file__).parent.name == "wavediff"
    # an installed wheel or an editable checkout: either way the sub-packages are importable by these names
    assert wavediff.modalities.__name__ == "wavediff.modalities"
    assert hasattr(wavediff.datasets, "signals")
    setup = (ROOT / "setup.py").read_text()
    assert 'ROOTS = {"wavediff": "src/wavediff", "wavediff.modalities": "modalities", "wavediff.datasets": "datasets"}' in setup


def test_install_script_installs_every_rooms_extra():
    script = (ROOT / "install.sh").read_text()
    assert 'extras="all"' in script and 'extras="all,dev"' in script and '-e ".[$extras]"' in script
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    rooms = sorted(p.name for p in (ROOT / "modalities").iterdir() if (p / "adapter.py").is_file())
    assert all(room in extras for room in rooms), "every room has its extra"
    assert extras["all"] == ["wavediff[eeg,mri,ct,speech,hsi,seismic,pde]"]


def test_importing_wavediff_loads_neither_torch_nor_field_libraries():
    import subprocess

    code = "import sys, wavediff, wavediff.errors; print(sorted(m for m in ('torch', 'mne', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
