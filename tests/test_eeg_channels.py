"""Files as users have them: channel labels of common EDF exporters, montages, channel types, BAD_ spans,
MNE's picks/copy/verbose conventions and the report of the mode that ran."""

from __future__ import annotations

import warnings

import mne
import numpy as np
import pytest
from _eeg_helpers import _eeg_room  # noqa: F401
from wavediff.datasets.eeg import simulate_raw
from wavediff.modalities.eeg.baselines import ica_clean
from wavediff.modalities.eeg.channels import (
    channel_layout,
    eog_roles,
    likely_type,
    read_montage,
    standard_name,
    standard_names,
)
from wavediff.modalities.eeg.montage import template_positions

from wavediff import cli
from wavediff.errors import DataWarning, InvalidInputError

OLD = {"T7": "T3", "T8": "T4", "P7": "T5", "P8": "T6"}

# how common exporters label the electrodes of one 10-20 recording
STYLES = {
    "bci2000": lambda n: (n[0].upper() + n[1:].lower()).ljust(4, "."),  # PhysioNet EEGMMIDB: 'Fp1.', 'Cz..', 'Fcz.'
    "tuh": lambda n: f"EEG {OLD.get(n, n).upper()}-REF",  # TUH / Nihon Kohden: 'EEG FP1-REF', 'EEG T3-REF'
    "nihon_kohden": lambda n: f"POL {n}",  # Nihon Kohden through EDF: 'POL Fp1'
    "linked_ears": lambda n: f"EEG {n}-LE",
    "upper_old_names": lambda n: f"{OLD.get(n, n).upper()}-A1",  # 'FP1-A1', 'T3-A1'
}


@pytest.mark.parametrize(
    "label, name",
    [
        ("Fp1.", "Fp1"), ("C5..", "C5"), ("Fcz.", "FCz"), ("Iz..", "Iz"), ("EEG Fp1-REF", "Fp1"), ("EEG FP1-LE", "Fp1"),
        ("POL Fp1", "Fp1"), ("FP1-A1", "Fp1"), ("Fp1-Ref", "Fp1"), (" fp1 ", "Fp1"), ("T3", "T7"), ("T4", "T8"),
        ("T5", "P7"), ("EEG T6-REF", "P8"), ("Fp1-F7", None), ("Fz-Cz", None), ("E12", None), ("EOG", None), ("", None),
    ],
)
def test_standard_name_undoes_exporters_spellings(label, name):
    assert standard_name(label) == name


def test_bci2000_labels_get_the_positions_mne_gives_after_its_own_standardize():
    # reference: MNE's eegbci.standardize, then MNE's montage matching, on the 64 EEGMMIDB labels
    names = [
        "Fc5.", "Fc3.", "Fc1.", "Fcz.", "Fc2.", "Fc4.", "Fc6.", "C5..", "C3..", "C1..", "Cz..", "C2..", "C4..", "C6..", "Cp5.",
        "Cp3.", "Cp1.", "Cpz.", "Cp2.", "Cp4.", "Cp6.", "Fp1.", "Fpz.", "Fp2.", "Af7.", "Af3.", "Afz.", "Af4.", "Af8.", "F7..",
        "F5..", "F3..", "F1..", "Fz..", "F2..", "F4..", "F6..", "F8..", "Ft7.", "Ft8.", "T7..", "T8..", "T9..", "T10.", "Tp7.",
        "Tp8.", "P7..", "P5..", "P3..", "P1..", "Pz..", "P2..", "P4..", "P6..", "P8..", "Po7.", "Po3.", "Poz.", "Po4.", "Po8.",
        "O1..", "Oz..", "O2..", "Iz..",
    ]
    ref = mne.io.RawArray(np.zeros((64, 10)), mne.create_info(names, 160.0, "eeg"), verbose=False)
    mne.datasets.eegbci.standardize(ref)
    ref.set_montage(read_montage("standard_1005"), verbose=False)
    expected = np.array([ch["loc"][:3] for ch in ref.info["chs"]])
    layout = channel_layout(names)
    assert layout.standard == ref.ch_names
    assert layout.placed == 64 and set(layout.source) == {"name"}
    np.testing.assert_allclose(layout.positions, expected, atol=1e-12)


def test_old_names_get_the_new_positions_and_bipolar_labels_none():
    pos, _ = template_positions()
    layout = channel_layout(["EEG T3-REF", "T5", "Fp1-F7"])
    np.testing.assert_array_equal(layout.positions[:2], np.stack([pos["T7"], pos["P7"]]))
    assert np.isnan(layout.positions[2]).all() and layout.source[2] == ""


def test_standard_names_stay_unique():
    assert standard_names(["Fp1", "EEG Fp1-REF", "Fp1."]) == ["Fp1", "EEG Fp1-REF", "Fp1."]


@pytest.mark.parametrize(
    "label, kind",
    [("EOG", "eog"), ("EEG ROC-REF", "eog"), ("EOG horizontal", "eog"), ("VEOG", "eog"), ("ECG", "ecg"), ("EEG EKG1-REF", "ecg"),
     ("EMG chin", "emg"), ("STI 014", "stim"), ("Status", "stim"), ("Resp oro-nasal", "resp"), ("Photic", "misc"),
     ("Fp1.", None), ("E12", None), ("A1", None)],
)
def test_likely_type_reads_the_label(label, kind):
    assert likely_type(label) == kind


def test_eog_roles():
    assert eog_roles(["VEOG", "HEOG", "EOG"]) == ([0, 2], [1])
    assert eog_roles(["LOC", "ROC"]) == ([], [0, 1])


def _recording(seconds=30.0, seed=0):
    raw = simulate_raw(n_seconds=seconds, sfreq=256.0, rng=seed)
    rng = np.random.default_rng(seed)
    t = raw.times
    blinks = sum(np.exp(-0.5 * ((t - t0) / 0.08) ** 2) for t0 in rng.uniform(1, seconds - 1, int(seconds / 4)))
    front = np.array([1.0 if n.startswith("Fp") else 0.4 if n.startswith("F") else 0.1 for n in raw.ch_names])
    raw._data += 120e-6 * front[:, None] * blinks
    raw.set_montage(None)  # as an EDF has it: labels, no positions
    return raw


@pytest.fixture(scope="module")
def edf_files(tmp_path_factory):
    """The same recording written as EDF with each exporter's labels (and once with standard names)."""
    folder = tmp_path_factory.mktemp("styles")
    raw = _recording()
    out = {}
    for style, label in {"standard": lambda n: n, **STYLES}.items():
        styled = raw.copy().rename_channels({n: label(n) for n in raw.ch_names})
        path = folder / f"{style}.edf"
        mne.export.export_raw(path, styled, fmt="edf", overwrite=True, verbose="error")
        out[style] = path
    return out


@pytest.mark.parametrize("style", sorted(STYLES))
def test_exporters_labels_give_the_model_exactly_what_standard_names_give(eeg, edf_files, style):
    standard = eeg.to_tensor(eeg.read(edf_files["standard"]), verbose=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)  # no mode skipped, nothing to warn about
        tensor, ctx = eeg.to_tensor(eeg.read(edf_files[style]), verbose=False)
    assert ctx["report"].startswith("eeg mode: ICA first") and "19 of 19 channels placed (19 by name" in ctx["report"]
    assert ctx["ocular"].any()
    assert torch_equal(tensor, standard[0])


def torch_equal(a, b):
    return bool((a == b).all())


def test_unplaced_labels_warn_and_a_montage_file_places_them(eeg, tmp_path):
    raw = _recording()
    pos, _ = template_positions()
    mapping = {n: f"E{i + 1}" for i, n in enumerate(raw.ch_names)}
    egi = raw.copy().rename_channels(mapping)
    with pytest.warns(DataWarning, match=r"ICA skipped .*only 0 of 19 EEG channels have a position .*'E1'.*montage="):
        _, ctx = eeg.to_tensor(egi, verbose=False)
    assert "ICA skipped" in ctx["report"] and not ctx["ocular"].any()
    sfp = tmp_path / "cap.sfp"  # a digitisation export: label x y z (m)
    sfp.write_text("".join(f"{mapping[n]} {p[0]:.6f} {p[1]:.6f} {p[2]:.6f}\n" for n, p in pos.items() if n in mapping))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        _, ctx = eeg.to_tensor(egi, montage=sfp, verbose=False)
    assert ctx["report"].startswith("eeg mode: ICA first") and "19 from the montage cap.sfp" in ctx["report"]
    assert ctx["layout"].placed == 19 and set(ctx["layout"].source) == {"montage"}


def test_positions_come_from_the_recordings_own_montage(eeg):
    raw = _recording()
    pos, _ = template_positions()
    mapping = {n: f"E{i + 1}" for i, n in enumerate(raw.ch_names)}
    egi = raw.copy().rename_channels(mapping)
    dig = mne.channels.make_dig_montage({mapping[n]: pos[n] for n in raw.ch_names}, coord_frame="head")
    egi.set_montage(dig)
    _, ctx = eeg.to_tensor(egi, verbose=False)
    assert ctx["layout"].source == ["recording"] * 19 and "19 from the recording's digitisation" in ctx["report"]
    np.testing.assert_allclose(ctx["layout"].positions, np.stack([pos[n] for n in raw.ch_names]), atol=1e-6)


def test_a_bad_montage_is_refused_clearly(eeg, tmp_path):
    raw = _recording(seconds=4.0)
    with pytest.raises(InvalidInputError, match="unknown montage 'standard_1021'.*did you mean"):
        eeg.to_tensor(raw, montage="standard_1021", verbose=False)
    with pytest.raises(Exception, match="no such file"):
        eeg.to_tensor(raw, montage=tmp_path / "missing.elc", verbose=False)


def test_eog_and_ecg_typed_eeg_are_left_unchanged_and_eog_drives_the_ocular_estimate(eeg, tmp_path):
    raw = _recording()
    veog = mne.io.RawArray(raw.get_data(["Fp1"]) * 1.5, mne.create_info(["VEOG"], raw.info["sfreq"], "eeg"), verbose=False)
    ecg = mne.io.RawArray(1e-3 * np.sin(2 * np.pi * 1.2 * raw.times)[None], mne.create_info(["ECG"], raw.info["sfreq"], "eeg"), verbose=False)
    raw.add_channels([veog, ecg], force_update_info=True)
    path = tmp_path / "with_eog.edf"
    mne.export.export_raw(path, raw, fmt="edf", overwrite=True, verbose="error")
    rec = eeg.read(path)
    assert set(rec.get_channel_types()) == {"eeg"}  # EDF has no channel types
    with pytest.warns(DataWarning, match=r"VEOG \(eog\), ECG \(ecg\) are typed EEG .*left unchanged"):
        tensor, ctx = eeg.to_tensor(rec, verbose=False)
    assert ctx["names"] == rec.ch_names[:19] and ctx["eog_names"] == ["VEOG"]
    assert "ocular references: recorded EOG VEOG" in ctx["report"]
    changed = tensor[:, :1].clone()
    changed += 0.5  # any change of the model's input
    out = eeg.from_tensor(changed, ctx)
    np.testing.assert_array_equal(out.get_data(["VEOG", "ECG"]), rec.get_data(["VEOG", "ECG"]))
    assert not np.allclose(out.get_data(["Fp1"]), rec.get_data(["Fp1"]))


def test_recorded_eog_decides_which_components_are_ocular():
    raw = _recording()
    data = raw.get_data()
    cleaned, report = ica_clean(
        data, 256.0, raw.ch_names, reject_emg=False, eog_channels=(), heog=None, return_report=True,
        eog_signals={"VEOG": data[raw.ch_names.index("Fp1")]},
    )
    assert report.eog_channels == ["VEOG"] and report.eog
    assert np.std(cleaned[0]) < 0.7 * np.std(data[0])  # the blinks left Fp1


def test_bad_annotations_are_left_out_of_icas_fit(eeg, monkeypatch):
    raw = _recording(seconds=40.0)  # 36 s left: enough for ICA
    raw.set_annotations(mne.Annotations([10.0], [4.0], ["BAD_motion"]))
    seen = {}
    fit = mne.preprocessing.ICA.fit

    def spy(self, inst, *args, **kwargs):
        seen["spans"] = [(a["onset"] - inst.first_time, a["duration"]) for a in inst.annotations if a["description"].startswith("BAD")]
        seen["reject_by_annotation"] = kwargs.get("reject_by_annotation", True)
        return fit(self, inst, *args, **kwargs)

    monkeypatch.setattr(mne.preprocessing.ICA, "fit", spy)
    _, ctx = eeg.to_tensor(raw, verbose=False)
    assert ctx["bad_spans"] == [(10.0, 4.0)]
    assert seen["reject_by_annotation"] and seen["spans"] == [(pytest.approx(10.0, abs=1e-2), pytest.approx(4.0, abs=1e-2))]
    assert "1 BAD_ span(s) (4.0 s) left out of ICA's fit" in ctx["report"]


def test_picks_copy_verbose_and_history(eeg, capsys):
    raw = _recording(seconds=8.0)
    before = raw.info["description"]
    tensor, ctx = eeg.to_tensor(raw, picks=["Fp1", "Cz"], verbose=True)
    assert "eeg mode:" in capsys.readouterr().out  # MNE's logger, at the level verbose= asks for
    assert ctx["names"] == ["Fp1", "Cz"] and tensor.shape[0] == 2 * ctx["n_windows"]
    out = eeg.from_tensor(tensor[:, :1] + 0.1, ctx)
    others = [n for n in raw.ch_names if n not in ("Fp1", "Cz")]
    np.testing.assert_array_equal(out.get_data(others), raw.get_data(others))
    assert out is not raw and "eeg mode:" in out.info["description"] and "2 of 2 channels placed" in out.info["description"]
    assert raw.info["description"] == before and out.info["description"].startswith(before)  # the input is untouched
    _, ctx = eeg.to_tensor(raw, copy=False, verbose=False)
    assert capsys.readouterr().out == ""
    same = eeg.from_tensor(torch_zeros_like(ctx), ctx)
    assert same is raw  # MNE's copy=False: the object itself
    with pytest.raises(InvalidInputError, match="non-EEG"):
        eeg.to_tensor(mne.io.RawArray(np.zeros((2, 2560)), mne.create_info(["Cz", "EOG"], 256.0, ["eeg", "eog"]), verbose=False), picks="all")


def torch_zeros_like(ctx):
    import torch

    return torch.from_numpy(ctx["tensor_input"]).clone()


def test_cli_montage_and_mode_line(tmp_path, capsys):
    raw = _recording()
    pos, _ = template_positions()
    mapping = {n: f"E{i + 1}" for i, n in enumerate(raw.ch_names)}
    egi = raw.copy().rename_channels(mapping)
    src = tmp_path / "egi_raw.fif"
    egi.save(src, verbose="error")
    sfp = tmp_path / "cap.sfp"
    sfp.write_text("".join(f"{mapping[n]} {p[0]:.6f} {p[1]:.6f} {p[2]:.6f}\n" for n, p in pos.items() if n in mapping))
    assert cli.main(["restore", "eeg", str(src), str(tmp_path / "out_raw.fif"), "--montage", str(sfp)]) == 0
    err = capsys.readouterr().err
    assert "wavediff: eeg mode: ICA first" in err and "19 from the montage cap.sfp" in err
    assert cli.main(["restore", "eeg", str(src), str(tmp_path / "out2_raw.fif")]) == 0
    err = capsys.readouterr().err
    assert "only 0 of 19 EEG channels have a position" in err and "ICA skipped" in err
    assert cli.main(["restore", "eeg", str(src), str(tmp_path / "out3_raw.fif"), "--montage", "nonsense_99"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("wavediff: error: unknown montage 'nonsense_99'") and not (tmp_path / "out3_raw.fif").exists()
