"""wavediff.datasets loads its submodules on first use, so importing it needs no field library."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_importing_the_package_does_not_import_mne():
    result = _run("import wavediff.datasets; import sys; assert 'mne' not in sys.modules, 'mne was imported'")
    assert result.returncode == 0, result.stderr


def test_the_engine_signals_do_not_import_mne():
    result = _run("import sys, wavediff.datasets as d; d.signals.doppler; assert 'mne' not in sys.modules")
    assert result.returncode == 0, result.stderr


def test_submodules_work_as_attributes_and_as_imports():
    import wavediff.datasets as datasets

    assert "eeg" in dir(datasets) and "signals" in dir(datasets)
    assert callable(datasets.eeg.simulate_raw) and callable(datasets.signals.doppler)
    from wavediff.datasets import eeg, signals

    assert eeg is datasets.eeg and signals is datasets.signals
    import wavediff.datasets.eeg as eeg2

    assert eeg2 is eeg


def test_an_unknown_attribute_is_an_attribute_error():
    import wavediff.datasets as datasets

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = datasets.nope
