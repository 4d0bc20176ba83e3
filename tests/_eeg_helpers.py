"""Recordings, the EEG room fixture and small measures shared by the EEG test modules.

Shared by test_eeg_adapter.py, test_eeg_learning.py, test_eeg_context.py (the room and its synthetic
recording) and test_eeg_simulator.py, test_eeg_erp.py (the simulator's sampling rate). Import the fixture
as ``from _eeg_helpers import _eeg_room  # noqa: F401``: it registers under the name ``eeg``, so test
arguments do not shadow an imported name.
"""

from __future__ import annotations

import mne
import numpy as np
import pytest

from wavediff import get_modality

EEG_NAMES = ["Fp1", "Fp2", "F7", "F8", "Cz", "O1", "O2"]
SFREQ = 256.0  # the simulator's default sampling rate (Hz)


@pytest.fixture(scope="module", name="eeg")
def _eeg_room():
    return get_modality("eeg")


def _raw(sfreq=160.0, n_times=1700, seed=0):
    rng = np.random.default_rng(seed)
    names = [*EEG_NAMES, "EOG1", "STI"]
    types = ["eeg"] * len(EEG_NAMES) + ["eog", "stim"]
    info = mne.create_info(names, sfreq, types)
    data = rng.normal(0, 2e-5, (len(names), n_times))
    data[-1] = 0.0
    data[-1, n_times // 3] = 1.0  # one trigger
    raw = mne.io.RawArray(data, info, verbose=False)
    name = "colin27_1005" if "colin27_1005" in mne.channels.get_builtin_montages() else "standard_1005"
    raw.set_montage(mne.channels.make_standard_montage(name), on_missing="ignore")
    raw.info["bads"] = ["O2"]
    duration = n_times / sfreq
    raw.set_annotations(mne.Annotations([0.15 * duration, 0.55 * duration], [0.1 * duration, 0.0], ["blink", "stim"]))
    return raw


def _rms(x):
    return float(np.sqrt(np.mean(np.asarray(x) ** 2)))
