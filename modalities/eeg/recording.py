"""What the EEG room takes from an MNE object, and how it gives the object back.

:func:`unpack` chooses the channels to restore: the EEG channels that are not marked bad (or the
``picks`` a user names), less the channels that EDF typed EEG but whose labels say EOG, ECG, EMG or
trigger (:func:`~.channels.likely_type`; left unchanged, with a warning). It finds their positions
(:func:`~.channels.channel_layout`: a montage passed, the file's digitisation, the matched names),
the recorded EOG channels that drive the ocular estimate, and the ``BAD_`` spans that ICA's fit leaves
out. :func:`rebuild` writes restored values into a copy of the object (into the object itself with
``copy=False``, MNE's convention) and records what was done in ``info['description']``.
"""

from __future__ import annotations

from typing import Any

import mne
import numpy as np
import torch

from wavediff._checks import check_sfreq
from wavediff.errors import InvalidInputError, SampleRateError, ShapeError, UnsupportedFormatError
from wavediff.guards import warn

from .channels import channel_layout, likely_type
from .context import ICA_MIN_CHANNELS

__all__ = ["bad_spans", "mode_report", "rebuild", "select_channels", "unpack"]


def _named(info: mne.Info, picks: Any) -> list[int]:
    """Indices of MNE-style ``picks`` (names, types, indices, ``'eeg'``) in ``info``, bad channels included."""
    probe = mne.io.RawArray(np.zeros((len(info["ch_names"]), 1)), info.copy(), verbose="error")
    try:
        kept = probe.pick(picks, exclude=()).ch_names
    except (ValueError, IndexError, TypeError) as exc:
        raise InvalidInputError(f"picks={picks!r}: {exc}; pass channel names, types ('eeg') or indices") from None
    index = {c: i for i, c in enumerate(info["ch_names"])}
    return [index[c] for c in kept]


def select_channels(info: mne.Info, picks: Any = None) -> tuple[np.ndarray, list[int], list[str]]:
    """The rows to restore, the rows of recorded EOG channels, and a note on channels left out.

    Without ``picks``: the EEG channels not in ``info['bads']`` whose label is not that of another
    kind of channel. With ``picks``: exactly those (they must be EEG channels).

    Examples
    --------
    >>> info = mne.create_info(["Fp1", "Cz", "EOG", "ECG"], 256.0, ["eeg", "eeg", "eeg", "ecg"])
    >>> rows, eog, left_out = select_channels(info)
    >>> rows.tolist(), eog, left_out
    ([0, 1], [2], ['EOG (eog)'])
    """
    types = info.get_channel_types()
    names = info["ch_names"]
    bads = set(info["bads"])
    guessed = {i: likely_type(n) for i, n in enumerate(names) if types[i] == "eeg"}
    misnamed = [i for i, kind in guessed.items() if kind is not None and names[i] not in bads]
    if picks is None:
        rows = [i for i, t in enumerate(types) if t == "eeg" and names[i] not in bads and i not in misnamed]
    else:
        rows = _named(info, picks)
        other = [f"{names[i]} ({types[i]})" for i in rows if types[i] != "eeg"]
        if other:
            raise InvalidInputError(
                f"picks includes non-EEG channel(s) {', '.join(other[:6])}: the EEG model restores EEG channels only; "
                "pick EEG channels, or set their type with raw.set_channel_types"
            )
        misnamed = [i for i in misnamed if i not in rows]
    eog = [i for i, t in enumerate(types) if t == "eog" and names[i] not in bads]
    eog += [i for i in misnamed if guessed[i] == "eog"]
    left_out = [f"{names[i]} ({guessed[i]})" for i in misnamed]
    if not rows:
        raise InvalidInputError("the recording has no good EEG channels to restore; check the channel types, info['bads'] and picks")
    return np.array(rows, dtype=int), sorted(eog), left_out


def bad_spans(obj: Any) -> list[tuple[float, float]]:
    """``(onset, duration)`` in s from the first sample of every ``BAD_`` annotation of a Raw (MNE's
    ``reject_by_annotation`` spans); none for epochs and arrays.

    Examples
    --------
    >>> raw = mne.io.RawArray(np.zeros((1, 1000)), mne.create_info(["Cz"], 100.0, "eeg"), verbose=False)
    >>> _ = raw.set_annotations(mne.Annotations([2.0], [1.5], ["BAD_motion"]))
    >>> bad_spans(raw)
    [(2.0, 1.5)]
    """
    if not isinstance(obj, mne.io.BaseRaw) or not len(obj.annotations):
        return []
    probe = obj.get_data(picks=[0], reject_by_annotation="NaN", verbose="error")[0]
    bad = np.isnan(probe)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], bad.astype(np.int8), [0]])))
    rate = float(obj.info["sfreq"])
    return [(float(start / rate), float((stop - start) / rate)) for start, stop in zip(edges[::2], edges[1::2])]


def unpack(obj: Any, sfreq: float | None, picks: Any = None, montage: Any = None) -> tuple[np.ndarray, float, dict[str, Any]]:
    """EEG data as (rows, times) in volts, the recording rate, and what is needed to rebuild ``obj``.

    For MNE objects the rebuild record also holds the channels' layout (``"layout"``), the recorded EOG
    channels (``"eog"``, rows like the data) and the ``BAD_`` spans (``"bad_spans"``).
    """
    if isinstance(obj, (mne.io.BaseRaw, mne.BaseEpochs)):
        rows, eog_rows, left_out = select_channels(obj.info, picks)
        if left_out:
            warn(
                f"channel(s) {', '.join(left_out[:8])} are typed EEG in the file but their labels name another kind of channel: "
                "left unchanged (set their types with raw.set_channel_types, or name them in picks= to restore them)"
            )
        data = obj.get_data(rows)
        eog = obj.get_data(eog_rows) if eog_rows else None
        names = [obj.ch_names[i] for i in rows]
        epochs = isinstance(obj, mne.BaseEpochs)
        record = {
            "kind": "epochs" if epochs else "raw",
            "obj": obj,
            "picks": rows,
            "shape": data.shape,
            "names": names,
            "layout": channel_layout(names, obj.info, montage),
            "eog_names": [obj.ch_names[i] for i in eog_rows],
            "bad_spans": bad_spans(obj),
        }
        if epochs:
            data = data.reshape(-1, data.shape[-1])
            eog = None if eog is None else eog.reshape(-1, eog.shape[-1])
        record["eog"] = eog
        return data, float(obj.info["sfreq"]), record
    if isinstance(obj, (np.ndarray, torch.Tensor)):
        if picks is not None or montage is not None:
            raise InvalidInputError("picks= and montage= apply to MNE Raw/Epochs; an array has no channel names (select its rows yourself)")
        arr = obj.detach().cpu().numpy() if isinstance(obj, torch.Tensor) else np.asarray(obj)
        if arr.ndim not in (1, 2, 3):
            raise ShapeError(
                f"EEG arrays must be (n_times,), (n_channels, n_times) or (n_epochs, n_channels, n_times); got shape {arr.shape}"
            )
        if sfreq is None:
            raise SampleRateError("a numpy EEG array needs its sampling rate: pass sfreq=... (Hz)")
        sfreq = check_sfreq(sfreq)
        data = np.atleast_2d(arr).reshape(-1, arr.shape[-1]).astype(np.float64)  # epochs: rows epoch by epoch
        return data, float(sfreq), {"kind": "array", "dtype": arr.dtype, "shape": arr.shape, "torch": isinstance(obj, torch.Tensor), "names": None}
    raise UnsupportedFormatError(
        f"cannot use a {type(obj).__name__} as EEG; pass mne Raw/Epochs or a (n_channels, n_times) array with sfreq"
    )


def rebuild(data: np.ndarray, context: dict[str, Any], history: str | None = None, copy: bool = True) -> Any:
    """The object of ``context`` with its restored channels set to ``data`` (rows like :func:`unpack`'s).

    A copy unless ``copy=False`` (then the object itself, which must hold its data in memory, as
    MNE's ``copy=False``). ``history`` is appended to ``info['description']``.
    """
    kind = context["kind"]
    if kind == "array":
        out = data.reshape(context["shape"]).astype(context["dtype"] if np.issubdtype(context["dtype"], np.floating) else np.float64)
        return torch.from_numpy(out) if context["torch"] else out
    obj = context["obj"].copy().load_data() if copy else context["obj"].load_data()
    values = data.reshape(context["shape"])
    obj.apply_function(lambda _: values, picks=context["picks"], channel_wise=False, verbose="error")
    if history:
        before = obj.info["description"]
        obj.info["description"] = f"{before}\n{history}" if before else history
    return obj


def mode_report(context_channels: int, layout: Any, n_ch: int, with_ica: bool, skipped: str | None, rebuild: dict[str, Any]) -> str:
    """The mode that ran and why (``context['report']``, logged and kept in ``info['description']``);
    warns when a mode that needs electrode positions was skipped for want of them."""
    if context_channels == 0:
        return "eeg mode: single channel (the model's recipe uses no other channel)"
    if layout is None:
        return "eeg mode: context from the other rows without positions (an array has no channel names); no ICA"
    placed = layout.placed
    context = "spatial context" if placed >= 2 else "context without positions (the mean of the other channels)"
    if context_channels == 4:
        mode = f"ICA first, then the model with {context}" if with_ica else f"the model with {context}; ICA skipped ({skipped or 'it found no ocular component'})"
    else:
        mode = f"the model with {context}"
    eog = rebuild.get("eog_names") or []
    refs = f"; ocular references: recorded EOG {', '.join(eog)}" if eog else ""
    spans = rebuild.get("bad_spans") or []
    if spans and with_ica:
        refs += f"; {len(spans)} BAD_ span(s) ({sum(d for _, d in spans):.1f} s) left out of ICA's fit"
    needed = ICA_MIN_CHANNELS if context_channels == 4 else 2
    if placed < needed <= n_ch:
        unplaced = [n for n, src in zip(layout.names, layout.source) if not src]
        warn(
            f"{mode}: only {placed} of {n_ch} EEG channels have a position (labels such as {', '.join(map(repr, unplaced[:3]))} "
            "match no 10-05 electrode and the file has no montage); pass montage= (--montage NAME|FILE) or rename the channels"
        )
    return f"eeg mode: {mode}; {layout.summary()}{refs}"
