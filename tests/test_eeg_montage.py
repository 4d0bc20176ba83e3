"""EEG room, montage: one template head for the artifacts, the baselines and the simulators."""

from __future__ import annotations

import mne
import numpy as np
import pytest
from wavediff.modalities.eeg import montage

from wavediff.errors import InvalidInputError, ShapeError


def test_either_spelling_of_a_template_resolves_to_what_mne_provides():
    builtin = mne.channels.get_builtin_montages()
    for old, new in (("standard_1020", "colin27_1020"), ("standard_1005", "colin27_1005")):
        assert montage.resolve_montage_name(old) in builtin
        assert montage.resolve_montage_name(old) == montage.resolve_montage_name(new)
    assert montage.resolve_montage_name("biosemi64") == "biosemi64"


def test_an_unknown_montage_says_what_is_close_and_what_to_use():
    with pytest.raises(InvalidInputError, match=r"unknown montage 'standard_1021'.*get_builtin_montages"):
        montage.resolve_montage_name("standard_1021")
    with pytest.raises(InvalidInputError, match="did you mean"):
        montage.resolve_montage_name("biosemi65")


def test_template_montage_is_a_fresh_copy_of_the_10_05_template():
    a, b = montage.template_montage(), montage.template_montage()
    assert a is not b and len(a.ch_names) > 300 and "Cz" in a.ch_names
    a.rename_channels({"Cz": "XX"})  # changing one copy leaves the next one intact
    assert "Cz" in montage.template_montage().ch_names


def test_template_positions_are_shared_read_only():
    pos, nasion = montage.template_positions()
    assert not pos["Cz"].flags.writeable and not nasion.flags.writeable
    pos.pop("Cz")  # the dict is the caller's own
    assert "Cz" in montage.template_positions()[0]


def test_electrode_positions_match_the_template_case_and_aliases_included():
    pos, _ = montage.template_positions()
    out = montage.electrode_positions(["cz", "T3", "EOG"])
    np.testing.assert_array_equal(out[0], pos["Cz"])
    np.testing.assert_array_equal(out[1], pos["T7"])  # MNE's alias of the old 10-20 name
    assert np.isnan(out[2]).all()
    out[0] = 0.0  # a copy: the cache is untouched
    np.testing.assert_array_equal(montage.electrode_positions(["Cz"])[0], pos["Cz"])


@pytest.mark.parametrize(
    ("names", "error", "pattern"),
    [
        (None, InvalidInputError, "ch_names is None"),
        ("Cz", InvalidInputError, "list of channel names"),
        ([], InvalidInputError, "empty"),
        (["Cz", "Cz"], InvalidInputError, "duplicates"),
    ],
)
def test_bad_names_are_refused(names, error, pattern):
    with pytest.raises(error, match=pattern):
        montage.electrode_positions(names)


def test_check_ch_names_counts_when_asked():
    assert montage.check_ch_names(None) is None
    assert montage.check_ch_names(("Fp1", "Cz"), 2) == ["Fp1", "Cz"]
    with pytest.raises(ShapeError, match="one name per row"):
        montage.check_ch_names(["Fp1"], 2)


def test_one_template_for_artifacts_baselines_and_simulators():
    from wavediff.datasets.eeg import head
    from wavediff.modalities.eeg import artifacts, baselines

    assert artifacts.electrode_positions is montage.electrode_positions
    assert not hasattr(baselines, "_montage") and not hasattr(head, "_MONTAGE_ALIASES")
    names, pos, _, _ = head._builtin_layout(montage.resolve_montage_name("standard_1005"))
    np.testing.assert_allclose(pos[names.index("Cz")], montage.electrode_positions(["Cz"])[0], atol=1e-12)


def test_the_montage_module_loads_without_the_engine():
    import subprocess
    import sys

    code = "import sys, wavediff.modalities.eeg.montage; assert 'torch' not in sys.modules, 'torch'"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
