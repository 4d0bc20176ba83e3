"""The wider training families (artifacts/variety.py): physiology in range, SNR exact, at every rate."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import welch
from wavediff.modalities.eeg.artifacts import contaminate, rms
from wavediff.modalities.eeg.artifacts.variety import wide_drift, wide_emg, wide_eog
from wavediff.modalities.eeg.training import TEN_TWENTY, band_limited

from wavediff.errors import InvalidInputError

NAMES = list(TEN_TWENTY)
RATES = (128.0, 160.0, 173.61, 256.0)


def _share(x, sfreq, lo, hi):
    f, p = welch(x, sfreq, nperseg=min(x.shape[-1], int(4 * sfreq)))
    return float(p[..., (f >= lo) & (f < hi)].sum() / p.sum())


@pytest.mark.parametrize("sfreq", RATES)
def test_wide_eog_is_slow_and_frontal(sfreq):
    for seed in range(5):
        art = wide_eog(int(30 * sfreq), sfreq, np.random.default_rng(seed), NAMES)
        assert _share(art, sfreq, 0, 8) > 0.9
        fp, occ = rms(art[[0, 1]]), rms(art[[NAMES.index("O1"), NAMES.index("O2")]])
        assert fp > 3 * occ
    single = wide_eog(2560, sfreq, np.random.default_rng(0))
    assert single.shape == (1, 2560)


@pytest.mark.parametrize("sfreq", RATES)
def test_wide_emg_is_fast_below_nyquist_and_temporal_or_elsewhere(sfreq):
    shares = []
    for seed in range(5):
        art = wide_emg(int(20 * sfreq), sfreq, np.random.default_rng(seed), NAMES)
        assert np.isfinite(art).all() and rms(art) > 0
        shares.append(_share(art, sfreq, 8, sfreq / 2))
    assert min(shares) > 0.9
    assert wide_emg(2560, sfreq, np.random.default_rng(0), n_channels=3).shape == (3, 2560)


def test_wide_emg_spectra_differ_between_draws():
    # the family is wide: the spectral centroid moves from draw to draw
    centroids = []
    for seed in range(12):
        art = wide_emg(5120, 256.0, np.random.default_rng(seed), NAMES)
        f, p = welch(art, 256.0, nperseg=512)
        centroids.append(float((f * p.mean(axis=0)).sum() / p.mean(axis=0).sum()))
    assert np.ptp(centroids) > 20.0


def test_wide_drift_is_slow_and_per_electrode():
    corr = []
    for seed in range(10):
        art = wide_drift(int(60 * 256), 256.0, np.random.default_rng(seed), n_channels=4)
        assert _share(art, 256.0, 0, 1.0) > 0.9
        corr.append(abs(np.corrcoef(art[0], art[1])[0, 1]))
    assert np.median(corr) < 0.9  # not one shared baseline wander


@pytest.mark.parametrize("artifact", ["eog", "emg", "drift", "mix"])
def test_wide_contamination_hits_the_snr(artifact):
    rng = np.random.default_rng(0)
    clean = rng.normal(0, 1e-5, (19, 5120))
    for snr in (-7.0, 2.0):
        noisy, noise = contaminate(clean, 256.0, rng, artifact, snr, NAMES, variety="wide")
        assert 10 * np.log10(rms(clean) / rms(noise)) == pytest.approx(snr, abs=1e-9)
        np.testing.assert_allclose(noisy, clean + noise)
    with pytest.raises(InvalidInputError, match="variety"):
        contaminate(clean, 256.0, rng, artifact, 0.0, NAMES, variety="broad")


def test_band_limited_removes_what_is_above_the_cutoff_only():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 256 * 20))
    y = band_limited(x, 256.0, 40.0)
    f = np.fft.rfftfreq(x.shape[1], 1 / 256.0)
    X, Y = np.abs(np.fft.rfft(x)), np.abs(np.fft.rfft(y))
    assert Y[:, f > 50].mean() < 0.05 * X[:, f > 50].mean()
    np.testing.assert_allclose(Y[:, (f > 2) & (f < 30)].mean(), X[:, (f > 2) & (f < 30)].mean(), rtol=0.02)
    assert band_limited(x, 256.0, 200.0) is x  # above Nyquist: nothing to do


def test_training_pool_with_variety_and_band_limits(monkeypatch):
    import torch

    from wavediff import get_modality

    eeg = get_modality("eeg")
    recipe = eeg.default_recipe()
    recipe["train"].update(recordings=4, recording_seconds=12.0, variety="wide", bandlimit_fraction=1.0, clean_fraction=0.0)
    batch = eeg.training_data(recipe, seed=0)
    x, y = batch(torch.Generator().manual_seed(0), 16)
    assert x.shape == (16, 1, 512) and y.shape == (16, 5, 512) and torch.isfinite(y).all()
    spectrum = torch.fft.rfft(x[:, 0], dim=-1).abs().mean(0)
    f = np.fft.rfftfreq(512, 1 / 256.0)
    assert float(spectrum[f > 110].mean()) < 0.2 * float(spectrum[(f > 2) & (f < 25)].mean())  # every recording band-limited
