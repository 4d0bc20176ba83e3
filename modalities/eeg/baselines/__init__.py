"""Classical EEG artifact removal, as practitioners do it today, with MNE.

One module per method family: :mod:`.filters` (band-pass/notch, wavelet shrinkage), :mod:`.ica`
(ICA with automatic component rejection) and :mod:`.regression` (EOG regression); :mod:`.common`
holds their shared input checks.


* :func:`bandpass_notch` - zero-phase FIR band-pass (1-40 Hz) and a notch at the mains frequency and its
  harmonics (``mne.filter.filter_data`` / ``mne.filter.notch_filter``): the first step of every pipeline.
* :func:`wavelet_denoise` - wavelet shrinkage per channel (SureShrink on ``sym4`` by default), the
  single-channel method of the EEG denoising literature, through :func:`wavediff.classical.denoise_wavelet`.
* :func:`ica_clean` - independent component analysis (FastICA, or extended Infomax as EEGLAB's ``runica``)
  with automatic rejection of ocular components (``ICA.find_bads_eog`` with frontal EEG channels standing
  in for vertical and horizontal EOG electrodes) and of muscle components (``ICA.find_bads_muscle``,
  Dharmaprani et al. 2016).
* :func:`eog_regression` - Gratton et al. (1983) regression of ocular activity out of every channel
  (``mne.preprocessing.EOGRegression``), with frontal channels standing in for vertical and horizontal EOG.

Every function takes ``(n_channels, n_times)`` float arrays in volts (the filters also take a single
channel ``(n_times,)``) and returns a new float64 array of the same shape; the input is never modified.
"""

from __future__ import annotations

from .filters import bandpass_notch, wavelet_denoise
from .ica import MIN_ICA_CHANNELS, ICAReport, ica_clean
from .regression import eog_regression

__all__ = ["bandpass_notch", "wavelet_denoise", "ica_clean", "eog_regression", "ICAReport", "MIN_ICA_CHANNELS"]
