"""EEG room, metrics: EEGdenoiseNet's RRMSE_t, RRMSE_s, CC and SNR gain against hand computations."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
from wavediff.modalities.eeg import metrics as m

from wavediff.errors import InvalidInputError, NonFiniteError, SampleRateError, ShapeError


def _manual_welch(x, fs, nperseg):
    """Welch's PSD from scratch: periodic Hann, 50 % overlap, mean removed per segment, one-sided density."""
    step = nperseg - nperseg // 2
    n = np.arange(nperseg)
    w = 0.5 - 0.5 * np.cos(2 * np.pi * n / nperseg)
    starts = range(0, len(x) - nperseg + 1, step)
    acc = np.zeros(nperseg // 2 + 1)
    count = 0
    for s in starts:
        count += 1
        seg = x[s:s + nperseg]
        seg = (seg - seg.mean()) * w
        acc += np.abs(np.fft.rfft(seg)) ** 2
    psd = acc / count / (fs * np.sum(w**2))
    psd[1:-1 if nperseg % 2 == 0 else None] *= 2
    return np.fft.rfftfreq(nperseg, 1 / fs), psd


def _signals(seed=0, shape=(3, 512)):
    rng = np.random.default_rng(seed)
    t = np.arange(shape[-1]) / 256.0
    clean = np.sin(2 * np.pi * 10 * t) * rng.uniform(5, 20, shape[:-1] + (1,)) * 1e-6
    clean = clean + 3e-6 * rng.standard_normal(shape)
    noisy = clean + 10e-6 * rng.standard_normal(shape)
    denoised = clean + 2e-6 * rng.standard_normal(shape)
    return clean, noisy, denoised


def test_rrmse_temporal_hand_values():
    assert m.rrmse_temporal([1.0, -1.0, 1.0, -1.0], [1.5, -1.5, 1.5, -1.5]) == pytest.approx(0.5, abs=1e-15)
    # clean RMS = sqrt((9 + 16) / 2); error RMS = 1 (err [1, -1])
    assert m.rrmse_temporal([3.0, 4.0], [4.0, 3.0]) == pytest.approx(1 / np.sqrt(12.5), rel=1e-14)
    batch = m.rrmse_temporal([[1.0, -1.0], [2.0, 2.0]], [[1.0, -1.0], [3.0, 1.0]])
    np.testing.assert_allclose(batch, [0.0, 0.5], rtol=0, atol=1e-15)


@pytest.mark.parametrize("n_times", [200, 512, 1000])
def test_rrmse_spectral_matches_an_independent_welch(n_times):
    clean, _, denoised = _signals(1, (2, n_times))
    nperseg = min(256, n_times)
    expected = []
    for c, d in zip(clean, denoised):
        _, pc = _manual_welch(c, 256.0, nperseg)
        _, pd = _manual_welch(d, 256.0, nperseg)
        expected.append(np.sqrt(np.mean((pd - pc) ** 2)) / np.sqrt(np.mean(pc**2)))
    np.testing.assert_allclose(m.rrmse_spectral(clean, denoised, 256.0), expected, rtol=1e-10)
    single = m.rrmse_spectral(clean[0], denoised[0], 256.0)
    assert isinstance(single, float) and single == pytest.approx(expected[0], rel=1e-10)
    freqs, psd = m.welch_psd(clean[0], 256.0)
    f2, p2 = _manual_welch(clean[0], 256.0, nperseg)
    np.testing.assert_allclose(freqs, f2)
    np.testing.assert_allclose(psd, p2, rtol=1e-10)


def test_rrmse_spectral_scaling_and_custom_nperseg():
    x = np.random.default_rng(0).normal(size=(2, 512))
    np.testing.assert_allclose(m.rrmse_spectral(x, 3 * x, 256.0), [8.0, 8.0], rtol=1e-12)  # PSD x 9
    _, pc = _manual_welch(x[0], 256.0, 128)
    _, pd = _manual_welch(x[0] * 0.5, 256.0, 128)
    want = np.sqrt(np.mean((pd - pc) ** 2)) / np.sqrt(np.mean(pc**2))
    assert m.rrmse_spectral(x[0], 0.5 * x[0], 256.0, nperseg=128) == pytest.approx(want, rel=1e-12)
    with pytest.raises(InvalidInputError):
        m.rrmse_spectral(x, x, 256.0, nperseg=1024)


def test_cc_matches_scipy_pearsonr():
    clean, noisy, _ = _signals(2, (4, 300))
    got = m.cc(clean, noisy)
    want = [scipy.stats.pearsonr(c, n)[0] for c, n in zip(clean, noisy)]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert m.cc(clean[0], -clean[0]) == pytest.approx(-1.0, abs=1e-12)


def test_snr_gain_hand_value():
    rng = np.random.default_rng(3)
    clean = rng.normal(size=256)
    e_in = rng.normal(size=256)
    e_out = 0.1 * rng.normal(size=256)
    want = 10 * np.log10(np.sum(e_in**2) / np.sum(e_out**2))
    assert m.snr_gain_db(clean, clean + e_out, clean + e_in) == pytest.approx(want, rel=1e-12)
    assert m.snr_gain_db(clean, clean + e_in, clean + e_in) == pytest.approx(0.0, abs=1e-12)
    # halving the error amplitude is +6.02 dB
    assert m.snr_gain_db(clean, clean + 0.5 * e_in, clean + e_in) == pytest.approx(20 * np.log10(2), rel=1e-12)


def test_eeg_metrics_averages_per_segment_values():
    clean, noisy, denoised = _signals(4, (2, 3, 512))
    out = m.eeg_metrics(clean, denoised, 256.0, noisy=noisy)
    assert set(out) == {"RRMSE_t", "RRMSE_s", "CC", "SNR_gain_dB"}
    assert all(isinstance(v, float) for v in out.values())
    assert out["RRMSE_t"] == pytest.approx(np.mean(m.rrmse_temporal(clean, denoised)), rel=1e-12)
    assert out["RRMSE_s"] == pytest.approx(np.mean(m.rrmse_spectral(clean, denoised, 256.0)), rel=1e-12)
    assert out["CC"] == pytest.approx(np.mean(m.cc(clean, denoised)), rel=1e-12)
    assert out["SNR_gain_dB"] == pytest.approx(np.mean(m.snr_gain_db(clean, denoised, noisy)), rel=1e-12)
    # per segment, then averaged: not the pooled value
    pooled = np.sqrt(np.mean((denoised - clean) ** 2)) / np.sqrt(np.mean(clean**2))
    assert out["RRMSE_t"] != pytest.approx(pooled, rel=1e-6)
    assert out["SNR_gain_dB"] > 10  # the denoiser's error is 5x smaller: ~14 dB
    without = m.eeg_metrics(clean, denoised, 256.0)
    assert set(without) == {"RRMSE_t", "RRMSE_s", "CC"}
    perfect = m.eeg_metrics(clean, clean, 256.0)
    assert perfect["RRMSE_t"] == 0 and perfect["RRMSE_s"] == 0 and perfect["CC"] == pytest.approx(1.0)


def test_metrics_never_modify_inputs():
    clean, noisy, denoised = _signals(5)
    copies = [a.copy() for a in (clean, noisy, denoised)]
    for a in (clean, noisy, denoised):
        a.setflags(write=False)
    m.eeg_metrics(clean, denoised, 256.0, noisy=noisy)
    for a, b in zip((clean, noisy, denoised), copies):
        np.testing.assert_array_equal(a, b)


def test_summarise_groups_by_artifact_and_snr():
    rows = []
    for artifact in ("eog", "emg"):
        for snr in (2.0, -7.0):
            for k in range(3):
                rows.append({"artifact": artifact, "snr_db": snr, "RRMSE_t": k + snr, "CC": 0.5, "note": "x"})
    table = m.summarise(rows)
    keys = [(r["artifact"], r["snr_db"]) for r in table]
    assert keys == [("eog", -7.0), ("eog", 2.0), ("eog", "all"), ("emg", -7.0), ("emg", 2.0), ("emg", "all")]
    by_key = {(r["artifact"], r["snr_db"]): r for r in table}
    assert by_key[("eog", -7.0)] == {"artifact": "eog", "snr_db": -7.0, "RRMSE_t": -6.0, "CC": 0.5, "n": 3}
    assert by_key[("emg", "all")]["RRMSE_t"] == pytest.approx(np.mean([1 - 7.0, 1 + 2.0]))
    assert by_key[("emg", "all")]["n"] == 6
    assert len(m.summarise(rows, overall=False)) == 4
    with_method = [dict(r, method=name) for name in ("noisy", "ica") for r in rows]
    table = m.summarise(with_method)
    assert [r["method"] for r in table[:3]] == ["noisy"] * 3 and len(table) == 12
    assert set(table[0]) == {"method", "artifact", "snr_db", "RRMSE_t", "CC", "n"}
    assert len(m.summarise(rows, by=["artifact"])) == 2


def test_summarise_and_markdown_errors_and_output():
    with pytest.raises(InvalidInputError, match="empty"):
        m.summarise([])
    with pytest.raises(InvalidInputError, match="lacks"):
        m.summarise([{"artifact": "eog", "snr_db": 0.0, "CC": 1.0}, {"artifact": "eog", "CC": 1.0}], by=["artifact", "snr_db"])
    with pytest.raises(InvalidInputError):
        m.summarise({"CC": 1.0})
    with pytest.raises(InvalidInputError, match="numeric"):
        m.summarise([{"artifact": "eog"}])
    text = m.to_markdown(m.summarise([{"artifact": "eog", "snr_db": -7.0, "CC": 0.123456}]), digits=3)
    lines = text.splitlines()
    assert lines[0] == "| artifact | snr_db | CC | n |"
    assert lines[2] == "| eog | -7.0 | 0.123 | 1 |"
    assert lines[3] == "| eog | all | 0.123 | 1 |"


def test_bad_input_raises_helpful_errors():
    x = np.ones((2, 64))
    with pytest.raises(ShapeError, match="shapes differ"):
        m.rrmse_temporal(x, x[:, :32])
    bad = x.copy()
    bad[0, 0] = np.nan
    with pytest.raises(NonFiniteError):
        m.cc(x, bad)
    with pytest.raises(ShapeError):
        m.rrmse_temporal(1.0, 1.0)
    with pytest.raises(ShapeError):
        m.rrmse_temporal([1.0], [1.0])
    for sfreq in (0.0, -1.0, float("inf"), None):
        with pytest.raises(SampleRateError):
            m.rrmse_spectral(x, x, sfreq)
    with pytest.raises(InvalidInputError, match="zeros"):
        m.rrmse_temporal(np.zeros(8), np.ones(8))
    with pytest.raises(InvalidInputError):
        m.eeg_metrics(x, x, 256.0, noisy=np.ones((2, 63)))
    with pytest.raises(InvalidInputError):
        m.cc(np.array(["a", "b"]), np.array(["a", "b"]))
    with pytest.raises(ValueError):  # wavediff errors are ValueErrors too
        m.snr_gain_db(x, x, x[:1])
