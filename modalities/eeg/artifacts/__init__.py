"""Realistic EEG artifacts and the EEGdenoiseNet contamination protocol.

Every generator returns an array ``(n_channels, n_times)`` in volts, drawn from a
:class:`numpy.random.Generator` so that the same seed gives the same artifact.

* :func:`eog` (:mod:`.ocular`) - ocular artifacts: blinks (asymmetric bell, 200-400 ms, 100-300 uV at
  Fp1/Fp2, 0.2-0.5 per second) and horizontal saccades (smoothed box-cars or steps with a slow return,
  20-80 uV at F7/F8).
* :func:`emg` (:mod:`.muscle`) - muscle bursts: band-limited noise (20-200 Hz, capped below Nyquist)
  under a bursty envelope, focal over the temporal muscles (T7/T8, FT/TP, F7/F8).
* :func:`line_noise`, :func:`electrode_pops`, :func:`drift` (:mod:`.technical`) - mains interference at
  50 or 60 Hz and its harmonics; sudden steps or spikes with exponential recovery on one or two
  channels; slow baseline wander below 0.5 Hz plus a linear trend.
* :func:`contaminate` (:mod:`.contamination`) - ``y = x + lambda * n`` at a given SNR, exactly as
  EEGdenoiseNet (Zhang et al. 2021), with :func:`power_snr_db` and :func:`rms`.

Topographies
------------
With ``ch_names`` the ocular and muscle artifacts are spread over the scalp from the electrode
positions of MNE's 10-05 template (``colin27_1005``, formerly ``standard_1005``; see
:mod:`wavediff.modalities.eeg.montage`, whose :func:`electrode_positions` is re-exported here); names
are matched case-insensitively and through MNE's aliases (``T3`` -> ``T7`` ...). Without ``ch_names``
they fall back to a single source (EEGdenoiseNet's single-channel convention); :mod:`.ocular` and
:mod:`.muscle` describe their sources and fallbacks.

Examples
--------
>>> import numpy as np
>>> clean = np.random.default_rng(0).normal(0, 10e-6, (2, 512))
>>> noisy, noise = contaminate(clean, 256.0, np.random.default_rng(1), "mix", 0.0, ["Fp1", "T7"])
>>> noisy.shape, round(rms(clean) / rms(noise), 12)
((2, 512), 1.0)
"""

from ..montage import electrode_positions
from .contamination import ARTIFACTS, contaminate, power_snr_db, rms
from .muscle import emg
from .ocular import EOG_KINDS, eog
from .technical import drift, electrode_pops, line_noise

__all__ = [
    "ARTIFACTS",
    "EOG_KINDS",
    "electrode_positions",
    "eog",
    "emg",
    "line_noise",
    "electrode_pops",
    "drift",
    "contaminate",
    "power_snr_db",
    "rms",
]
