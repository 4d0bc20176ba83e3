"""What the EEG model sees beside a channel: references from the other channels, and ICA's ocular estimate.

* :func:`spatial_context` - per channel, a vertical and a horizontal EOG reference (frontal electrodes)
  and the mean of its nearest neighbours, from the electrode positions.
* :func:`context_windows` - the model's context windows: the channel's ocular component as EOG regression
  on those references estimates it, the vertical reference and the neighbours' mean.
* :func:`ica_ocular` - each channel's ocular component as ICA estimates it over the whole recording
  (``mne.preprocessing.ICA`` through :func:`~.baselines.ica_clean`, ocular components only), the
  montage-wide estimate that a window and three references cannot give.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from wavediff.errors import InvalidInputError

from .baselines import ica_clean
from .baselines.ica import _effective_rank

__all__ = ["ICA_MIN_CHANNELS", "context_windows", "eog_proxies", "ica_ocular", "spatial_context"]

ICA_MIN_CHANNELS = 10  # fewer electrodes cannot separate the eyes from the brain reliably
ICA_MAX_COMPONENTS = 20  # principal components ICA unmixes (eyes dominate the variance: the first few hold them)
ICA_FIT_SAMPLES = 40_000  # longer recordings are fitted on every k-th sample (the unmixing is spatial)


def eog_proxies(positions: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Indices of the vertical-EOG electrodes and the (left, right) horizontal pair, from ``positions`` ``(n, 3)``.

    The vertical group is every electrode within 2 cm of the most anterior one (Fp1, Fpz, Fp2 on a
    10-20 montage), where blinks are largest; the horizontal pair the leftmost and rightmost of those
    within 5 cm of it (F7, F8), where saccades are largest. Needs two known (finite) positions.

    Examples
    --------
    >>> from wavediff.modalities.eeg.montage import electrode_positions
    >>> names = ["Fp1", "Fp2", "F7", "F3", "F4", "F8", "Cz", "O1"]
    >>> top, left, right = eog_proxies(electrode_positions(names))
    >>> [names[i] for i in top], names[left], names[right]
    (['Fp1', 'Fp2'], 'F7', 'F8')
    """
    known = np.flatnonzero(np.isfinite(positions).all(axis=1))
    if len(known) < 2:
        raise InvalidInputError("eog_proxies needs at least two known electrode positions (10-05 channel names)")
    anterior = positions[known, 1]
    top = known[anterior >= anterior.max() - 0.02]
    front = known[anterior >= anterior.max() - 0.05]
    return top, int(front[np.argmin(positions[front, 0])]), int(front[np.argmax(positions[front, 0])])


def spatial_context(data: np.ndarray, positions: np.ndarray, neighbours: int = 4) -> np.ndarray:
    """Reference signals ``(n_channels, 3, n_times)`` for each channel of one recording ``(n_channels, n_times)``.

    Row 0 is a vertical-EOG reference, the mean of the most frontal electrodes (Fp1, Fpz, Fp2 on a
    10-20 montage); row 1 a horizontal-EOG reference, the left minus the right frontal electrode (F7 -
    F8), both chosen by :func:`eog_proxies`; row 2 the mean of the channel's ``neighbours`` nearest
    electrodes. ``positions`` ``(n_channels, 3)`` (m, NaN where
    unknown) come from :func:`~wavediff.modalities.eeg.montage.electrode_positions`. Without two known
    positions rows 0 and 2 are the mean of the other channels and row 1 is zero; a single channel is its
    own reference. :func:`context_windows` turns them into the model's context.

    Examples
    --------
    >>> x = np.arange(12.0).reshape(3, 4)
    >>> spatial_context(x, np.full((3, 3), np.nan))[0]  # no montage: the mean of the other two channels
    array([[6., 7., 8., 9.],
           [0., 0., 0., 0.],
           [6., 7., 8., 9.]])
    """
    n = data.shape[0]
    if n == 1:
        return np.stack([data, np.zeros_like(data), data], axis=1)
    others = (data.sum(axis=0, keepdims=True) - data) / (n - 1)
    known = np.flatnonzero(np.isfinite(positions).all(axis=1))
    if len(known) < 2:
        return np.stack([others, np.zeros_like(data), others], axis=1)
    top, left, right = eog_proxies(positions)
    vertical = np.broadcast_to(data[top].mean(axis=0), data.shape)
    horizontal = np.broadcast_to(data[left] - data[right], data.shape)
    near = others.copy()
    k = min(neighbours, len(known) - 1)
    for i in known:
        dist = np.linalg.norm(positions[known] - positions[i], axis=1)
        order = [j for j in known[np.argsort(dist)] if j != i][:k]
        near[i] = data[order].mean(axis=0)
    return np.stack([vertical, horizontal, near], axis=1)


def context_windows(windows: np.ndarray, references: np.ndarray) -> np.ndarray:
    """The model's three context windows ``(n, 3, W)`` from channel windows ``(n, W)`` and their references ``(n, 3, W)``.

    Row 0 is the channel's ocular component as the classical regression method estimates it: the
    least-squares fit of the window on its vertical and horizontal EOG references (:func:`spatial_context`,
    means removed, a small ridge), in the units of ``windows`` (the model's windows are scaled to unit
    std, so its amplitude relative to the channel is kept). Rows 1 and 2 are the vertical-EOG reference
    (the ocular waveform, also where the fit is poor) and the neighbours' mean, each scaled to unit std.

    Examples
    --------
    >>> t = np.linspace(0.0, 1.0, 64)
    >>> blink = np.exp(-((t - 0.5) / 0.05) ** 2)
    >>> refs = np.stack([blink, np.zeros(64), np.sin(40 * t)])[None]
    >>> ctx = context_windows((0.5 * blink + 0.1 * np.sin(90 * t))[None], refs)
    >>> bool(np.allclose(ctx[0, 0], 0.5 * (blink - blink.mean()), atol=0.01))
    True
    """
    y = windows - windows.mean(axis=-1, keepdims=True)
    regs = references[:, :2] - references[:, :2].mean(axis=-1, keepdims=True)
    gram = regs @ regs.transpose(0, 2, 1)  # (n, 2, 2)
    ridge = 1e-9 * np.trace(gram, axis1=1, axis2=2)[:, None, None] + np.finfo(np.float64).tiny
    beta = np.linalg.solve(gram + ridge * np.eye(2), (regs @ y[..., None]))  # (n, 2, 1)
    fit = (beta.transpose(0, 2, 1) @ regs)[:, 0]
    return np.stack([fit, _unit_std(references[:, 0]), _unit_std(references[:, 2])], axis=1)


def _unit_std(windows: np.ndarray) -> np.ndarray:
    """Each window (last axis) divided by its standard deviation (windows that are constant stay as they are)."""
    scale = windows.std(axis=-1, keepdims=True)
    return windows / np.where(scale > 0, scale, 1.0)


def ica_ocular(data: np.ndarray, sfreq: float, ch_names: Sequence[str], positions: np.ndarray) -> np.ndarray | None:
    """Each channel's ocular component ``(n_channels, n_times)`` as ICA estimates it over the whole recording, or None.

    ICA (:func:`~.baselines.ica_clean`: FastICA on a 1 Hz high-passed copy, at most
    :data:`ICA_MAX_COMPONENTS` principal components, recordings longer than :data:`ICA_FIT_SAMPLES`
    samples fitted on every k-th sample) is fitted on all channels; the components whose time course
    follows the vertical or horizontal EOG proxies of :func:`eog_proxies` are the ocular ones, and
    their back-projection, ``data`` minus ICA's cleaning of them alone, is returned. Muscle components
    are left in. None when ICA cannot be trusted here: fewer than :data:`ICA_MIN_CHANNELS` channels
    with known positions, or fewer samples than about ``20 * n_components**2`` (about 25 s of a 19-channel
    recording at 256 Hz). The model is trained with exactly this estimate and with None (zeros), so it
    learns how far to trust it.

    Examples
    --------
    >>> import numpy as np
    >>> from wavediff.modalities.eeg.montage import electrode_positions
    >>> names = ["Fp1", "Fp2", "F7", "F8", "Cz"]
    >>> ica_ocular(np.zeros((5, 100)), 256.0, names, electrode_positions(names)) is None  # too few channels
    True
    """
    known = np.flatnonzero(np.isfinite(positions).all(axis=1))
    if len(known) < ICA_MIN_CHANNELS:
        return None
    n_components = min(_effective_rank(data), ICA_MAX_COMPONENTS)
    n_times = data.shape[1]
    if n_components < 2 or n_times < 20 * n_components**2:
        return None
    top, left, right = eog_proxies(positions)
    with warnings.catch_warnings():  # FastICA's convergence notes: the trained model weighs the estimate anyway
        warnings.simplefilter("ignore")
        try:
            cleaned = ica_clean(
                data, sfreq, list(ch_names), n_components=n_components, eog_channels=[ch_names[i] for i in top],
                heog=(ch_names[left], ch_names[right]), reject_emg=False, decim=max(1, n_times // ICA_FIT_SAMPLES),
            )
        except InvalidInputError:  # the high-passed copy has a lower rank: no decomposition to trust
            return None
    return data - cleaned
