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
from collections.abc import Mapping, Sequence

import numpy as np

from wavediff.errors import InvalidInputError

from .baselines import ica_clean
from .baselines.ica import _effective_rank

__all__ = [
    "ICA_MIN_CHANNELS",
    "context_windows",
    "eog_proxies",
    "eog_references",
    "ica_ocular",
    "ica_unavailable",
    "spatial_context",
]

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


def _aligned(proxy: np.ndarray, stand_in: np.ndarray) -> np.ndarray:
    """``proxy`` with the sign that makes it correlate positively with ``stand_in`` (an EOG electrode's
    polarity depends on its reference; the frontal electrodes' does not)."""
    return -proxy if float(np.dot(proxy - proxy.mean(), stand_in - stand_in.mean())) < 0 else proxy


def eog_references(eog: np.ndarray, roles: tuple[Sequence[int], Sequence[int]]) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Vertical and horizontal EOG signals ``(n_times,)`` from recorded EOG channels ``(k, n_times)``.

    ``roles`` are the rows that record vertical and horizontal movement (:func:`~.channels.eog_roles`):
    the vertical signal is the mean of its rows, the horizontal one the difference of the first two
    horizontal rows (left minus right: LOC - ROC) or the only one. None where a role has no row.

    Examples
    --------
    >>> v, h = eog_references(np.array([[1.0, 2.0], [3.0, 5.0], [1.0, 1.0]]), ([0], [1, 2]))
    >>> v.tolist(), h.tolist()
    ([1.0, 2.0], [2.0, 4.0])
    """
    vertical, horizontal = roles
    v = eog[list(vertical)].mean(axis=0) if len(vertical) else None
    h = None
    if len(horizontal) >= 2:
        h = eog[horizontal[0]] - eog[horizontal[1]]
    elif len(horizontal) == 1:
        h = eog[horizontal[0]]
    return v, h


def spatial_context(
    data: np.ndarray,
    positions: np.ndarray,
    neighbours: int = 4,
    eog: tuple[np.ndarray | None, np.ndarray | None] | None = None,
) -> np.ndarray:
    """Reference signals ``(n_channels, 3, n_times)`` for each channel of one recording ``(n_channels, n_times)``.

    Row 0 is a vertical-EOG reference, the mean of the most frontal electrodes (Fp1, Fpz, Fp2 on a
    10-20 montage); row 1 a horizontal-EOG reference, the left minus the right frontal electrode (F7 -
    F8), both chosen by :func:`eog_proxies`; row 2 the mean of the channel's ``neighbours`` nearest
    electrodes. ``positions`` ``(n_channels, 3)`` (m, NaN where
    unknown) come from :func:`~wavediff.modalities.eeg.montage.electrode_positions`. Without two known
    positions rows 0 and 2 are the mean of the other channels and row 1 is zero; a single channel is its
    own reference. With recorded EOG channels, ``eog`` holds their vertical and horizontal signals
    (:func:`eog_references`, either may be None), which replace the frontal stand-ins, with the sign of
    the stand-in where there is one. :func:`context_windows` turns them into the model's context.

    Examples
    --------
    >>> x = np.arange(12.0).reshape(3, 4)
    >>> spatial_context(x, np.full((3, 3), np.nan))[0]  # no montage: the mean of the other two channels
    array([[6., 7., 8., 9.],
           [0., 0., 0., 0.],
           [6., 7., 8., 9.]])
    """
    n = data.shape[0]
    v_eog, h_eog = eog if eog is not None else (None, None)
    if n == 1:
        vertical = data if v_eog is None else np.broadcast_to(v_eog, data.shape)
        horizontal = np.zeros_like(data) if h_eog is None else np.broadcast_to(h_eog, data.shape)
        return np.stack([vertical, horizontal, data], axis=1)
    others = (data.sum(axis=0, keepdims=True) - data) / (n - 1)
    known = np.flatnonzero(np.isfinite(positions).all(axis=1))
    if len(known) < 2:
        vertical = others if v_eog is None else np.broadcast_to(v_eog, data.shape)
        horizontal = np.zeros_like(data) if h_eog is None else np.broadcast_to(h_eog, data.shape)
        return np.stack([vertical, horizontal, others], axis=1)
    top, left, right = eog_proxies(positions)
    v_front, h_front = data[top].mean(axis=0), data[left] - data[right]
    vertical = np.broadcast_to(v_front if v_eog is None else _aligned(v_eog, v_front), data.shape)
    horizontal = np.broadcast_to(h_front if h_eog is None else _aligned(h_eog, h_front), data.shape)
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


def ica_unavailable(data: np.ndarray, positions: np.ndarray, bad_spans: Sequence[tuple[float, float]] = (), sfreq: float = 1.0) -> str | None:
    """Why :func:`ica_ocular` cannot run on ``data`` (a phrase for the room's report), or None when it can.

    Examples
    --------
    >>> ica_unavailable(np.zeros((3, 100)), np.zeros((3, 3)))
    'ICA needs 10 channels with a position, 3 have one'
    """
    placed = int(np.isfinite(positions).all(axis=1).sum())
    if placed < ICA_MIN_CHANNELS:
        return f"ICA needs {ICA_MIN_CHANNELS} channels with a position, {placed} {'has' if placed == 1 else 'have'} one"
    n_components = min(_effective_rank(data), ICA_MAX_COMPONENTS)
    n_times = data.shape[1] - int(round(sum(d for _, d in bad_spans) * sfreq))
    if n_components < 2:
        return f"the data have rank {n_components}"
    if n_times < 20 * n_components**2:
        return (
            f"{n_times} good samples are too few for {n_components} ICA components (about "
            f"{20 * n_components**2 / sfreq:.0f} s are needed)"
        )
    return None


def ica_ocular(
    data: np.ndarray,
    sfreq: float,
    ch_names: Sequence[str],
    positions: np.ndarray,
    eog: Mapping[str, np.ndarray] | None = None,
    bad_spans: Sequence[tuple[float, float]] = (),
) -> np.ndarray | None:
    """Each channel's ocular component ``(n_channels, n_times)`` as ICA estimates it over the whole recording, or None.

    ICA (:func:`~.baselines.ica_clean`: FastICA on a 1 Hz high-passed copy, at most
    :data:`ICA_MAX_COMPONENTS` principal components, recordings longer than :data:`ICA_FIT_SAMPLES`
    samples fitted on every k-th sample) is fitted on all channels; the components whose time course
    follows the vertical or horizontal EOG proxies of :func:`eog_proxies` are the ocular ones, and
    their back-projection, ``data`` minus ICA's cleaning of them alone, is returned. Muscle components
    are left in. None when ICA cannot be trusted here: fewer than :data:`ICA_MIN_CHANNELS` channels
    with known positions, or fewer samples than about ``20 * n_components**2`` (about 25 s of a 19-channel
    recording at 256 Hz; :func:`ica_unavailable` says which). The model is trained with exactly this
    estimate and with None (zeros), so it learns how far to trust it.

    ``eog``: recorded EOG channels (label -> samples), which then alone decide which components are
    ocular. ``bad_spans``: ``(onset, duration)`` in s left out of the fit (``BAD_`` annotations).

    Examples
    --------
    >>> import numpy as np
    >>> from wavediff.modalities.eeg.montage import electrode_positions
    >>> names = ["Fp1", "Fp2", "F7", "F8", "Cz"]
    >>> ica_ocular(np.zeros((5, 100)), 256.0, names, electrode_positions(names)) is None  # too few channels
    True
    """
    if ica_unavailable(data, positions, bad_spans, sfreq) is not None:
        return None
    n_components = min(_effective_rank(data), ICA_MAX_COMPONENTS)
    n_times = data.shape[1]
    top, left, right = eog_proxies(positions)
    stand_ins = {"eog_channels": [ch_names[i] for i in top], "heog": (ch_names[left], ch_names[right])}
    if eog:
        stand_ins = {"eog_channels": (), "heog": None, "eog_signals": eog}
    with warnings.catch_warnings():  # FastICA's convergence notes: the trained model weighs the estimate anyway
        warnings.simplefilter("ignore")
        try:
            cleaned = ica_clean(
                data, sfreq, list(ch_names), n_components=n_components, reject_emg=False,
                decim=max(1, n_times // ICA_FIT_SAMPLES), bad_spans=bad_spans, **stand_ins,
            )
        except InvalidInputError:  # the high-passed copy has a lower rank: no decomposition to trust
            return None
    return data - cleaned
