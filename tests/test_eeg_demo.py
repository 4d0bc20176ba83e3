"""``wavediff demo eeg`` draws without pyplot and scores the room's one list of cleaners."""

from __future__ import annotations

import sys

import matplotlib
import pytest
from wavediff.modalities.eeg.cleaners import CLEANERS, ICA_EOG
from wavediff.modalities.eeg.demo import run_demo

from wavediff import get_modality


@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::sklearn.exceptions.ConvergenceWarning")
def test_demo_leaves_the_backend_alone_and_compares_the_cleaners(tmp_path, monkeypatch):
    room = get_modality("eeg")
    # the classical part only (the shipped model's run is tested with the adapter): cheaper, same drawing code
    monkeypatch.setattr(type(room), "weights_path", classmethod(lambda cls: tmp_path / "absent.safetensors"))

    def refuse(*args, **kwargs):
        raise AssertionError("library code called matplotlib.use")

    backend = matplotlib.get_backend()  # before pyplot is blocked: resolving the default backend imports it
    monkeypatch.setattr(matplotlib, "use", refuse)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)  # any pyplot import now fails
    result = run_demo(room, tmp_path / "out", seed=0)
    assert matplotlib.get_backend() == backend
    rows = {r["method"]: r for r in result["table"]}
    assert list(rows) == ["noisy input", *CLEANERS]
    assert rows[ICA_EOG]["RRMSE_t"] < 0.5 * rows["noisy input"]["RRMSE_t"]  # blinks at -3 dB: ICA removes most
    png = result["figure"].read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
