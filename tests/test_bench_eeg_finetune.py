"""benchmarks.eeg.finetune: leave one recording out, fine-tune the shipped model on the others, score both.

Truth: the files the test writes (which recording is held out, which one trains), the shipped
model and the fine-tuned model called directly on the same seeded contaminated data.
"""

from __future__ import annotations

import mne
import numpy as np
import pytest
from wavediff.datasets.eeg import simulate_raw

from benchmarks.eeg import finetune
from benchmarks.eeg.protocol import NOISY, cases, epoch_metrics, real_clean
from wavediff import get_modality
from wavediff.pipeline import Restorer

pytestmark = pytest.mark.skipif(not get_modality("eeg").weights_path().is_file(), reason="no shipped EEG model")
SMALL = {"train": {"data_recordings": 2, "recording_seconds": 12.0, "batch_size": 4}}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("recordings")
    room = get_modality("eeg")
    for i, name in enumerate(("S901R01", "S901R02")):
        raw = simulate_raw(n_seconds=24.0, sfreq=160.0, rng=20 + i)
        raw.rename_channels({c: f"{c}." for c in raw.ch_names})  # PhysioNet's naming, as prepare() expects it
        raw.set_montage(None)
        room.write(raw, out / f"{name}.edf")
    return out


@pytest.fixture(scope="module")
def rows(folder):
    return finetune.finetune_rows(folder, [0.0], seed=1, steps=3, recipe=SMALL)


def test_prepare_gives_standard_names_and_the_ten_twenty_channels(folder, tmp_path):
    out = finetune.prepare(folder / "S901R01.edf", tmp_path)
    raw = mne.io.read_raw_fif(out, verbose="error")
    assert raw.ch_names[:3] == ["Fp1", "Fp2", "F7"] and len(raw.ch_names) == 19


def test_each_recording_is_held_out_once_and_scored_by_every_method(rows):
    held = sorted({r["held_out"] for r in rows})
    assert held == ["S901R01.edf", "S901R02.edf"]
    assert all(r["trained_on"] == ({"S901R01.edf", "S901R02.edf"} - {r["held_out"]}).pop() for r in rows)
    methods = [r["method"] for r in rows if r["held_out"] == held[0] and r["artifact"] == "eog"]
    assert methods == [NOISY, "ICA (auto EOG)", "ICA (auto EOG/EMG)", finetune.SHIPPED, finetune.TUNED]
    assert all(r["steps"] == 3 for r in rows)


def test_the_shipped_cells_are_the_shipped_model_on_the_same_contaminated_data(folder, rows):
    clean = {r.info["description"].split(":")[0]: r for r in real_clean(folder)}
    rec, artifact, snr, noisy = cases([clean["S901R02.edf"]], [0.0], 1)[0]
    want = epoch_metrics(rec.get_data(), Restorer("eeg", seed=1).restore(noisy).get_data(), rec.info["sfreq"])
    got = next(r for r in rows if r["held_out"] == "S901R02.edf" and r["artifact"] == artifact and r["method"] == finetune.SHIPPED)
    assert {k: got[k] for k in want} == pytest.approx(want, rel=1e-12)
    noisy_row = next(r for r in rows if r["held_out"] == "S901R02.edf" and r["artifact"] == artifact and r["method"] == NOISY)
    assert noisy_row["RRMSE_t"] == pytest.approx(epoch_metrics(rec.get_data(), noisy.get_data(), rec.info["sfreq"])["RRMSE_t"])


def test_the_table_reports_the_change_against_shipped(rows):
    text = finetune.finetune_table(rows)
    sel = [r for r in rows if r["held_out"] == "S901R01.edf" and r["artifact"] == "emg"]
    tuned = np.mean([r["RRMSE_t"] for r in sel if r["method"] == finetune.TUNED])
    shipped = np.mean([r["RRMSE_t"] for r in sel if r["method"] == finetune.SHIPPED])
    line = next(ln for ln in text.splitlines() if ln.startswith(f"| S901R01.edf | EMG | {finetune.TUNED} |"))
    assert line.rstrip(" |").endswith(f"{100 * (tuned / shipped - 1):+.1f} %")
    assert "3 steps" in text
    assert "needs at least two recordings" in finetune.finetune_table([])


def test_one_recording_is_not_enough(tmp_path, folder):
    (tmp_path / "only.edf").write_bytes((folder / "S901R01.edf").read_bytes())
    assert finetune.finetune_rows(tmp_path, [0.0], seed=0, steps=1) == []
