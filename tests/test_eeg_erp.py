"""wavediff.datasets.eeg, event-related potentials: simulate_raw(erp=...) and add_erp.

Truth comes from ERP averaging around the annotated events (a least-squares template fit recovers the
latency and amplitude asked for) and from exact differences against the untouched input.
"""

from __future__ import annotations

import mne
import numpy as np
import pytest
from _eeg_helpers import SFREQ
from wavediff.datasets import eeg

from wavediff.errors import InvalidInputError, UnsupportedFormatError


def test_erp_is_measured_back_at_its_latency_and_amplitude():
    spec = eeg.ERP(latency=0.3, amplitude_uv=10.0, width=0.05, channel="Pz", interval=0.8, jitter=0.2)
    raw = eeg.simulate_raw(480.0, rng=1, erp=spec)  # resting rhythms included
    events, ids = mne.events_from_annotations(raw, verbose=False)
    assert list(ids) == ["stimulus"] and len(events) > 500
    x = raw.get_data(picks="Pz")[0]
    lo, hi = int(-0.2 * SFREQ), int(0.6 * SFREQ)
    avg = np.mean([x[s + lo : s + hi] for s in events[:, 0] if s + lo >= 0 and s + hi <= x.size], axis=0)
    times = np.arange(lo, hi) / SFREQ
    best = None
    for latency in np.arange(0.2, 0.4, 1 / SFREQ / 8):  # least-squares template + offset
        design = np.c_[np.exp(-((times - latency) ** 2) / (2 * spec.width**2)), np.ones_like(times)]
        coef, *_ = np.linalg.lstsq(design, avg, rcond=None)
        resid = np.sum((avg - design @ coef) ** 2)
        if best is None or resid < best[0]:
            best = (resid, latency, coef[0])
    _, latency, amplitude = best
    assert abs(latency - spec.latency) <= 1 / SFREQ, latency
    assert abs(amplitude * 1e6 - spec.amplitude_uv) <= 0.1 * spec.amplitude_uv, amplitude


def test_add_erp_is_exact_at_its_channel_and_leaves_the_input_alone():
    raw = eeg.simulate_raw(6.0, rng=2)
    before = raw.get_data().copy()
    events = np.array([[256, 0, 1], [1024, 0, 1]])
    out = eeg.add_erp(
        raw, events, latency=0.25, amplitude_uv=-4.0, width=0.03, channel="Cz", description="tone"
    )
    np.testing.assert_array_equal(raw.get_data(), before)
    diff = out.get_data() - before
    cz = out.ch_names.index("Cz")
    assert diff[cz, 256 + 64] * 1e6 == pytest.approx(-4.0)
    assert np.argmin(diff[cz, 256:700]) == 64
    np.testing.assert_allclose(diff.mean(0), 0.0, atol=1e-18)  # stays average-referenced
    assert np.abs(diff[:, :256]).max() == 0.0  # nothing before the first event
    found, ids = mne.events_from_annotations(out, verbose=False)
    np.testing.assert_array_equal(found[:, 0], events[:, 0])
    assert list(ids) == ["tone"]
    assert len(raw.annotations) == 0


def test_add_erp_rejects_unknown_channels_and_bad_events():
    raw = eeg.simulate_raw(3.0, rng=0)
    with pytest.raises(InvalidInputError, match="not an EEG channel.*did you mean 'Cz'"):
        eeg.add_erp(raw, [100], channel="CZ")
    with pytest.raises(InvalidInputError, match="within the recording"):
        eeg.add_erp(raw, [10**6])
    with pytest.raises(InvalidInputError, match="events must be"):
        eeg.add_erp(raw, [0.5, 1.0])
    with pytest.raises(UnsupportedFormatError):
        eeg.add_erp(raw.get_data(), [100])
