"""Recordings, the EEG room fixture and small measures shared by the EEG test modules.

Shared by test_eeg_adapter.py, test_eeg_learning.py, test_eeg_context.py (the room and its synthetic
recording), test_eeg_simulator.py, test_eeg_erp.py (the simulator's sampling rate), and
test_eeg_measures.py, test_bench_eeg_checks.py (injected blinks of known times and amplitudes). Import the fixture
as ``from _eeg_helpers import _eeg_room  # noqa: F401``: it registers under the name ``eeg``, so test
arguments do not shadow an imported name.
"""

from __future__ import annotations

import mne
import numpy as np
import pytest
from wavediff.modalities.eeg.montage import template_montage

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
    raw.set_montage(template_montage(), on_missing="ignore")
    raw.info["bads"] = ["O2"]
    duration = n_times / sfreq
    raw.set_annotations(mne.Annotations([0.15 * duration, 0.55 * duration], [0.1 * duration, 0.0], ["blink", "stim"]))
    return raw


def _rms(x):
    return float(np.sqrt(np.mean(np.asarray(x) ** 2)))


BLINK_TIMES = [2.0, 6.5, 10.2, 15.0, 19.4, 24.1, 28.8, 33.0]  # about 0.25 Hz, a resting rate


def _blink_wave(n_times, sfreq, times, amp_uv=150.0):
    """Asymmetric bells (fast closing, slow reopening, ~300 ms) peaking at ``times``, in volts."""
    t = np.arange(n_times) / sfreq
    out = np.zeros(n_times)
    for i, t0 in enumerate(times):
        d = t - t0
        amp = (amp_uv + 10.0 * (i % 5)) * 1e-6
        out += amp * np.where(d < 0, np.exp(-0.5 * (d / 0.045) ** 2), np.exp(-0.5 * (d / 0.08) ** 2))
    return out


def _with_blinks(raw, topography, sign=1.0):
    """``raw`` plus the blinks of :data:`BLINK_TIMES`, scaled per channel by ``topography`` (0.08 elsewhere)."""
    topo = np.array([topography.get(c, 0.08) for c in raw.ch_names])
    wave = sign * _blink_wave(raw.n_times, raw.info["sfreq"], BLINK_TIMES)
    return mne.io.RawArray(raw.get_data() + topo[:, None] * wave[None], raw.info.copy(), verbose=False)
