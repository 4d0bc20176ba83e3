"""The evaluation-only artifact generator (benchmarks/eeg/heldout.py): SNR exact, physiology in range,
and never importable by the package that trains."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import welch
from wavediff.modalities.eeg.training import TEN_TWENTY

from benchmarks.eeg.heldout import (
    HELDOUT_ARTIFACTS,
    heldout_contaminate,
    heldout_drift,
    heldout_emg,
    heldout_eog,
)
from wavediff.errors import InvalidInputError, NonFiniteError, ShapeError

ROOT = Path(__file__).resolve().parents[1]
NAMES = list(TEN_TWENTY)


def _share(x, sfreq, lo, hi):
    f, p = welch(x, sfreq, nperseg=min(x.shape[-1], int(4 * sfreq)))
    return float(p[..., (f >= lo) & (f < hi)].sum() / p.sum())


@pytest.mark.parametrize("sfreq", [128.0, 160.0, 173.61, 256.0])
@pytest.mark.parametrize("artifact", HELDOUT_ARTIFACTS)
def test_snr_is_exact_and_the_input_untouched(sfreq, artifact):
    clean = np.random.default_rng(0).normal(0, 1e-5, (19, int(10 * sfreq)))
    before = clean.copy()
    for snr, names, x in ((-7.0, NAMES, clean), (2.0, None, clean), (0.0, None, clean[3])):
        noisy, noise = heldout_contaminate(x, sfreq, 1, artifact, snr, names)
        assert noisy.shape == x.shape and np.isfinite(noisy).all()
        assert 10 * np.log10(np.sqrt(np.mean(x**2)) / np.sqrt(np.mean(noise**2))) == pytest.approx(snr, abs=1e-9)
        np.testing.assert_allclose(noisy, x + noise)
    np.testing.assert_array_equal(clean, before)


def test_the_same_seed_gives_the_same_artifact():
    clean = np.random.default_rng(0).normal(0, 1e-5, (19, 2560))
    a = heldout_contaminate(clean, 256.0, 7, "mix", 0.0, NAMES)[1]
    assert np.array_equal(a, heldout_contaminate(clean, 256.0, np.random.default_rng(7), "mix", 0.0, NAMES)[1])
    assert not np.allclose(a, heldout_contaminate(clean, 256.0, 8, "mix", 0.0, NAMES)[1])


def test_bad_input_is_refused():
    clean = np.zeros((2, 100)) + 1e-6
    with pytest.raises(InvalidInputError, match="artifact"):
        heldout_contaminate(clean, 256.0, 0, "line", 0.0)
    with pytest.raises(InvalidInputError, match="sfreq"):
        heldout_contaminate(clean, -1.0, 0, "eog", 0.0)
    with pytest.raises(InvalidInputError, match="snr_db"):
        heldout_contaminate(clean, 256.0, 0, "eog", float("nan"))
    with pytest.raises(NonFiniteError):
        heldout_contaminate(np.full((2, 100), np.nan), 256.0, 0, "eog", 0.0)
    with pytest.raises(ShapeError):
        heldout_contaminate(np.zeros((2, 2, 100)), 256.0, 0, "eog", 0.0)
    with pytest.raises(ShapeError):
        heldout_eog(3, 100, 256.0, 0, ["Fp1", "Cz"])
    with pytest.raises(InvalidInputError, match="all zeros"):
        heldout_contaminate(np.zeros((2, 100)), 256.0, 0, "eog", 0.0)


def test_physiology():
    for seed in range(4):
        eog = heldout_eog(19, 30 * 256, 256.0, seed, NAMES)
        assert _share(eog, 256.0, 0, 8) > 0.9
        fp, occ = np.std(eog[[0, 1]]), np.std(eog[[NAMES.index("O1"), NAMES.index("O2")]])
        assert fp > 2 * occ
        for sfreq in (128.0, 256.0):
            emg = heldout_emg(19, int(20 * sfreq), sfreq, seed, NAMES)
            assert _share(emg, sfreq, 20, sfreq / 2) > 0.8
    corr = []
    for seed in range(10):
        drift = heldout_drift(4, 60 * 256, 256.0, seed)
        assert _share(drift, 256.0, 0, 1.0) > 0.8
        corr.append(abs(np.corrcoef(drift[0], drift[1])[0, 1]))
    assert np.median(corr) < 0.9  # each electrode its own drift


def test_training_code_never_imports_the_heldout_generator():
    importing = re.compile(r"^\s*(from|import)\s+\S*heldout", re.MULTILINE)
    offenders = [str(p.relative_to(ROOT)) for folder in ("modalities", "datasets", "src") for p in (ROOT / folder).rglob("*.py")
                 if importing.search(p.read_text())]  # fmt: skip
    assert not offenders
