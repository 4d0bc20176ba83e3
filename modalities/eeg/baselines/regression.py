"""EOG regression (Gratton et al. 1983) with frontal channels standing in for EOG electrodes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import mne
import numpy as np

from wavediff._checks import check_sfreq
from wavediff.errors import InvalidInputError

from ..channels import name_index
from .common import _check_data, _check_fit_l_freq, _check_names, _fit_copy

__all__ = ["eog_regression"]


def eog_regression(
    data: Any,
    sfreq: float,
    ch_names: Sequence[str],
    veog: Sequence[str] = ("Fp1", "Fp2"),
    heog: Sequence[str] = ("F7", "F8"),
    fit_l_freq: float | None = 1.0,
) -> np.ndarray:
    """Regress ocular activity out of every channel (Gratton et al. 1983) through ``mne.preprocessing.EOGRegression``.

    Without EOG electrodes, frontal channels stand in for them: a vertical EOG, the mean of the ``veog``
    channels present, and a horizontal one, ``heog[0] - heog[1]`` when both are present. Each channel's
    coefficients on them are fitted by least squares over the whole recording (on a copy high-passed at
    ``fit_l_freq`` Hz, so that drifts do not bias them) and the fitted ocular part is subtracted from the
    data as given. The proxies carry brain activity too, which the regression removes with the
    artifact: the frontal channels themselves lose most of their content (the method's known weakness
    without real EOG electrodes).

    Parameters
    ----------
    data : array_like
        ``(n_channels, n_times)`` in volts, at least 2 channels.
    sfreq : float
        Sampling rate in Hz.
    ch_names : sequence of str
        Channel names, one per row (matched case-insensitively).
    veog, heog : sequence of str
        Channels averaged into the vertical EOG proxy; the (left, right) pair whose difference is the
        horizontal one.
    fit_l_freq : float or None
        High-pass of the copy the coefficients are fitted on; None fits on the data as given.

    Returns
    -------
    numpy.ndarray
        Cleaned float64 data of the input's shape.

    Raises
    ------
    InvalidInputError
        Fewer than 2 channels, or none of the ``veog`` / ``heog`` channels present.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> names = ["Fp1", "Fp2", "F7", "F8", "Cz", "O1"]
    >>> brain = rng.normal(0, 5e-6, (6, 30 * 128))
    >>> blink = np.zeros(30 * 128)
    >>> blink[::300] = 1.0
    >>> blink = np.convolve(blink, 150e-6 * np.hanning(40), mode="same")
    >>> topo = np.array([1.0, 1.0, 0.6, 0.6, 0.2, 0.05])
    >>> cleaned = eog_regression(brain + topo[:, None] * blink, 128.0, names)
    >>> bool(np.abs(cleaned[4] - brain[4]).max() < 0.1 * 0.2 * 150e-6 + 4 * 5e-6)  # Cz: its share of the blinks removed
    True
    """
    arr = _check_data(data, ndims=(2,))
    sfreq = check_sfreq(sfreq)
    n_channels = arr.shape[0]
    if n_channels < 2:
        raise InvalidInputError("EOG regression needs at least 2 channels (proxies and the channels to clean)")
    names = _check_names(ch_names, n_channels)
    lower = name_index(names)  # 'Fp1', 'Fp1.', 'EEG FP1-REF' all find the Fp1 electrode
    vertical = [lower[c.lower()] for c in veog if c.lower() in lower]
    pair = [lower[c.lower()] for c in heog if c.lower() in lower]
    proxies = {}
    if vertical:
        proxies["_veog"] = arr[vertical].mean(axis=0)
    if len(pair) == 2:
        proxies["_heog"] = arr[pair[0]] - arr[pair[1]]
    if not proxies:
        raise InvalidInputError(
            f"none of veog={tuple(veog)} nor the pair heog={tuple(heog)} is in ch_names; pass the names of frontal channels"
        )
    fit_l_freq = _check_fit_l_freq(fit_l_freq, sfreq)
    info = mne.create_info(names + list(proxies), sfreq, ["eeg"] * n_channels + ["eog"] * len(proxies))
    raw = mne.io.RawArray(np.concatenate([arr, np.stack(list(proxies.values()))]), info, verbose=False)
    raw.set_eeg_reference([], verbose=False)  # the data keep the reference they were recorded with
    model = mne.preprocessing.EOGRegression(picks="eeg", picks_artifact="eog", proj=False).fit(_fit_copy(raw, fit_l_freq))
    cleaned = model.apply(raw, copy=True).get_data(picks="eeg")
    return np.asarray(cleaned, dtype=np.float64)
