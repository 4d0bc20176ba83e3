"""Every tutorial notebook runs top to bottom (with WAVEDIFF_TUTORIAL_TINY=1 shrinking its sizes)."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

TUTORIALS = sorted((Path(__file__).resolve().parents[1] / "tutorials").glob("*.ipynb"))


def test_there_are_tutorials():
    assert TUTORIALS, "tutorials/ should hold at least the engine notebook"


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_executes(path, tmp_path, monkeypatch):
    monkeypatch.setenv("WAVEDIFF_TUTORIAL_TINY", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError with the failing cell's traceback
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    if path.stem == "engine":
        # the notebook's own claim, checked: the transform is exactly invertible
        line = next(ln for ln in printed.splitlines() if ln.startswith("max reconstruction error:"))
        assert float(line.split(":")[1]) < 1e-5
    if path.stem == "mri":
        assert "affine kept: True | data kept: True" in printed  # the NIfTI round trip it shows
        ratio = float(next(ln for ln in printed.splitlines() if ln.startswith("noise estimate / true:")).split(":")[1])
        assert 0.9 < ratio < 1.1
        table = {ln[:24].strip(): ln[24:].split() for ln in printed.splitlines() if ln[:24].strip() in ("noisy input", "NLM (dipy, Rician)", "wavediff")}
        assert float(table["NLM (dipy, Rician)"][0]) > float(table["noisy input"][0])  # PSNR: the baseline does denoise
        if "wavediff" in table:  # a shipped model: its intervals' coverage is printed, its result written with the affine
            assert "coverage of the 90 % intervals" in printed and "affine kept: True" in printed.split("written:")[1]
        assert float(printed.split("sampled: ")[1].split()[0]) == pytest.approx(0.25, abs=0.03)
    if path.stem == "eeg":
        from wavediff.modalities.eeg.cleaners import CLEANERS, ICA_EOG

        # the notebook's contamination hits the SNR it asks for (EEGdenoiseNet definition)
        line = next(ln for ln in printed.splitlines() if ln.startswith("achieved SNR (dB):"))
        assert float(line.split(":")[1]) == -3.0
        # it scores the room's one list of cleaners, and its EOG table shows what ICA is for
        eog = printed.split("--- EOG -3 dB")[1].split("--- EMG")[0].splitlines()
        rrmse = {ln[:32].strip(): float(ln[32:].split()[0]) for ln in eog if ln[:32].strip() in {"noisy input", *CLEANERS}}
        assert list(rrmse) == ["noisy input", *CLEANERS]
        assert rrmse[ICA_EOG] < 0.5 * rrmse["noisy input"]
        learned = [ln for ln in printed.splitlines() if ln.startswith("wavediff: {")]
        if learned:  # a shipped model: the learned restorer, on the same EOG recording, beats the input too
            assert float(learned[0].split("'RRMSE_t': ")[1].split(",")[0]) < 0.5 * rrmse["noisy input"]
        # every figure is drawn and shown (inline), not only created: the recording, the topomap, the traces
        # and spectra, and (with a shipped model) the uncertainty
        shown = [c for c in nb.cells if c.cell_type == "code" and any("image/png" in o.get("data", {}) for o in c.get("outputs", []))]
        assert len(shown) >= (4 if learned else 3)
        # each figure cell shows each of its figures (one image per plt.show()): 5 figures with a model, 4 without
        for c in nb.cells:
            if c.cell_type != "code" or "plt.show()" not in c.source:
                continue
            text = "".join(o.get("text", "") for o in c.get("outputs", []))
            if not learned and "No shipped EEG model yet" in text:
                continue
            n_images = sum("image/png" in o.get("data", {}) for o in c.get("outputs", []))
            assert n_images >= c.source.count("plt.show()"), (n_images, c.source[:120])
        images = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
        assert len(images) >= (5 if learned else 4)

