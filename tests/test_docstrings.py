"""Every example in a public docstring runs and prints what it claims."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "wavediff.wavelets",
    "wavediff.metrics",
    "wavediff.classical",
    "wavediff.modality",
    "wavediff.datasets.signals",
    "wavediff.datasets.eeg",
    "wavediff.datasets.eeg.head",
    "wavediff.datasets.eeg.simulator",
    "wavediff.datasets.eeg.erp",
    "wavediff.datasets.eeg.eegmmidb",
    "wavediff.datasets.eeg.eegdenoisenet",
    "wavediff.tiling",
    "wavediff.measurement",
    "wavediff.report",
    "wavediff.modalities.eeg.adapter",
    "wavediff.modalities.mri.metrics",
    "wavediff.modalities.mri.degrade",
    "wavediff.modalities.mri.baselines",
    "wavediff.modalities.mri.files",
    "wavediff.modalities.mri.preprocess",
    "wavediff.datasets.mri.phantoms",
    "wavediff.datasets.mri.downloads",
    "wavediff.datasets.mri.shipped",
    "wavediff.modalities.mri.adapter",
    "wavediff.modalities.mri.volume3d",
    "wavediff.modalities.eeg.artifacts",
    "wavediff.modalities.eeg.artifacts.ocular",
    "wavediff.modalities.eeg.artifacts.muscle",
    "wavediff.modalities.eeg.artifacts.technical",
    "wavediff.modalities.eeg.artifacts.contamination",
    "wavediff.modalities.eeg.montage",
    "wavediff.modalities.eeg.metrics",
    "wavediff.modalities.eeg.baselines.filters",
    "wavediff.modalities.eeg.baselines.ica",
    "wavediff.modalities.eeg.baselines.regression",
    "wavediff.modalities.eeg.context",
    "wavediff.modalities.eeg.training",
    "wavediff.modalities.eeg.measures",
    "wavediff.modalities.eeg.cleaners",
    "wavediff.diffusion.process",
    "wavediff.diffusion.samplers",
    "wavediff.diffusion.analytic",
    "wavediff.pipeline",
    "wavediff.learning",
    "wavediff.diffusion.denoiser",
    "wavediff.nets",
    "wavediff.training",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.attempted > 0, f"{name} has no runnable example"
    assert result.failed == 0
