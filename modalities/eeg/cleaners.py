"""The EEG room's classical cleaners, in one ordered list: what every comparison puts beside wavediff.

:data:`CLEANERS` maps a label to a function ``cleaner(data, sfreq, ch_names) -> cleaned``: ``data``
``(n_channels, n_times)`` in volts, ``sfreq`` in Hz, ``ch_names`` one 10-20 name per row (the
single-channel methods ignore them and accept None), the result a new float64 array of the input's
shape. The demo, the tutorial and every benchmark section take their methods from here, so a table
row means the same method wherever it appears. In order:

* ``"band-pass + notch"`` - zero-phase 1-40 Hz band-pass with a notch at the mains frequency
  (:func:`~.baselines.bandpass_notch`), the first step of every pipeline;
* ``"wavelet (SureShrink)"`` - per-channel wavelet shrinkage (:func:`~.baselines.wavelet_denoise`);
* ``"EOG regression (Fp1/Fp2, F7-F8)"`` - Gratton regression of frontal EOG proxies
  (:func:`~.baselines.eog_regression`);
* ``"ICA (auto EOG)"`` - ICA rejecting ocular components (:func:`~.baselines.ica_clean`,
  ``reject_emg=False``);
* ``"ICA (auto EOG/EMG)"`` - ICA rejecting ocular and muscle components.

:func:`classical_cleaners` builds the same list for another mains frequency (60 Hz in the Americas),
with IIR filters (segments shorter than a 1 Hz FIR high-pass, as EEGdenoiseNet's 2 s ones) or with
only the methods that work on one channel at a time.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType

import numpy as np

from wavediff.errors import InvalidInputError

from .baselines import bandpass_notch, eog_regression, ica_clean, wavelet_denoise

__all__ = [
    "Cleaner",
    "BANDPASS",
    "WAVELET",
    "REGRESSION",
    "ICA_EOG",
    "ICA_EOG_EMG",
    "SINGLE_CHANNEL",
    "classical_cleaners",
    "CLEANERS",
]

#: ``cleaner(data (n_channels, n_times) volts, sfreq Hz, ch_names or None) -> cleaned array``
Cleaner = Callable[[np.ndarray, float, Sequence[str] | None], np.ndarray]

BANDPASS = "band-pass + notch"
WAVELET = "wavelet (SureShrink)"
REGRESSION = "EOG regression (Fp1/Fp2, F7-F8)"
ICA_EOG = "ICA (auto EOG)"
ICA_EOG_EMG = "ICA (auto EOG/EMG)"
#: Labels of the cleaners that treat each channel on its own (the others need a named montage).
SINGLE_CHANNEL = (BANDPASS, WAVELET)


def _names(ch_names: Sequence[str] | None, label: str) -> Sequence[str]:
    if ch_names is None:
        raise InvalidInputError(
            f"{label} needs channel names (Fp1/Fp2 and F7/F8 stand in for EOG electrodes); pass ch_names, "
            "or use a single-channel cleaner (classical_cleaners(single_channel=True))"
        )
    return ch_names


def classical_cleaners(
    *, line_freq: float | None = 50.0, filter_method: str = "fir", single_channel: bool = False, ica_max_iter: int | str = "auto"
) -> dict[str, Cleaner]:
    """The room's classical cleaners, label -> ``cleaner(data, sfreq, ch_names)``, in their table order.

    Parameters
    ----------
    line_freq : float or None
        Mains frequency notched by the band-pass (50 Hz in Europe, 60 Hz in the Americas; None: no notch).
    filter_method : {'fir', 'iir'}
        Filters of the band-pass: MNE's windowed-sinc FIR, or a 4th-order Butterworth for segments
        shorter than the FIR (a 1 Hz FIR high-pass is about 3.3 s long).
    single_channel : bool
        Only the cleaners that treat each channel on its own (:data:`SINGLE_CHANNEL`): for
        single-channel segments, where regression and ICA do not apply.
    ica_max_iter : int or 'auto'
        Iterations ICA's unmixing may take (:func:`~.baselines.ica_clean`'s ``max_iter``).

    Returns
    -------
    dict
        A new dict each call; :data:`CLEANERS` is the default one, read-only.

    Examples
    --------
    >>> list(classical_cleaners(single_channel=True))
    ['band-pass + notch', 'wavelet (SureShrink)']
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(0, 10e-6, (2, 10 * 256))
    >>> cleaned = classical_cleaners(line_freq=60.0)["band-pass + notch"](x, 256.0, None)
    >>> cleaned.shape, bool(np.std(cleaned) < np.std(x))
    ((2, 2560), True)
    """
    if filter_method not in ("fir", "iir"):
        raise InvalidInputError(f"filter_method={filter_method!r}; use 'fir' or 'iir'")
    if line_freq is not None and (isinstance(line_freq, bool) or not isinstance(line_freq, numbers.Real) or not line_freq > 0):
        raise InvalidInputError(f"line_freq={line_freq!r} must be a positive frequency in Hz (50 or 60), or None")

    def bandpass(data: np.ndarray, sfreq: float, ch_names: Sequence[str] | None = None) -> np.ndarray:
        return bandpass_notch(data, sfreq, line_freq=line_freq, method=filter_method)

    def wavelet(data: np.ndarray, sfreq: float, ch_names: Sequence[str] | None = None) -> np.ndarray:
        return wavelet_denoise(data, sfreq)

    def regression(data: np.ndarray, sfreq: float, ch_names: Sequence[str] | None = None) -> np.ndarray:
        return eog_regression(data, sfreq, _names(ch_names, REGRESSION))

    def ica_eog(data: np.ndarray, sfreq: float, ch_names: Sequence[str] | None = None) -> np.ndarray:
        return ica_clean(data, sfreq, _names(ch_names, ICA_EOG), reject_emg=False, max_iter=ica_max_iter)

    def ica_eog_emg(data: np.ndarray, sfreq: float, ch_names: Sequence[str] | None = None) -> np.ndarray:
        return ica_clean(data, sfreq, _names(ch_names, ICA_EOG_EMG), max_iter=ica_max_iter)

    out: dict[str, Cleaner] = {BANDPASS: bandpass, WAVELET: wavelet}
    if not single_channel:
        out.update({REGRESSION: regression, ICA_EOG: ica_eog, ICA_EOG_EMG: ica_eog_emg})
    return out


#: The default list (50 Hz notch, FIR filters, every method), read-only: ``dict(CLEANERS)`` to edit a copy.
CLEANERS: Mapping[str, Cleaner] = MappingProxyType(classical_cleaners())
