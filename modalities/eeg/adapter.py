"""EEG room adapter: MNE objects and files in, the same kind out.

* I/O: any file MNE reads (EDF, BDF, FIF raw or epochs, BrainVision, EEGLAB) into ``mne.io.Raw`` /
  ``mne.Epochs``; writing back to FIF, EDF, BDF, BrainVision or EEGLAB through MNE's exporters, atomically.
* Tensors: EEG channels only (non-EEG channels and channels marked bad pass through untouched), resampled
  to the model rate, cut into windows (2 s at 256 Hz by default, as EEGdenoiseNet) overlapping by a quarter,
  each window divided by its standard deviation (EEGdenoiseNet's per-epoch scaling). The inverse blends
  the windows back (weighted overlap-add), undoes the scaling and returns to the recording's rate by
  adding the model's *change* resampled to that rate, so an unchanged tensor gives the recording back
  exactly and content above the model's band is kept as recorded. With ``context_channels = 4`` (the
  recipe's default) ICA's ocular estimate (:func:`ica_ocular`, over the whole recording) is taken out
  first and the model corrects ICA's cleaning: it sees the ICA-cleaned channel with four context
  windows (:mod:`.context`): the ocular component left in the channel as EOG regression on frontal
  references estimates it, the mean of the frontal electrodes, the mean of the channel's nearest
  neighbours, and what ICA took out of the channel. ICA's estimate counts as part of the change, so
  there an unchanged tensor gives back ICA's cleaning. Where ICA cannot run (fewer than 10 named
  electrodes, about 25 s of data) nothing is taken out and the last window is zeros; the model is
  trained on both cases.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import mne
import numpy as np
import torch

from wavediff import __version__
from wavediff._checks import check_sfreq
from wavediff.errors import (
    InvalidInputError,
    SampleRateError,
    ShapeError,
)
from wavediff.guards import degenerate, plausible, warn
from wavediff.modality import Modality, register_modality
from wavediff.tiling import extract_windows, overlap_add, unit_scale

from .channels import eog_roles
from .context import (
    context_windows,
    eog_references,
    ica_ocular,
    ica_unavailable,
    spatial_context,
)
from .files import read_eeg, write_eeg
from .recording import mode_report, rebuild, unpack

__all__ = ["EEG", "context_windows", "ica_ocular", "spatial_context"]

MIN_RATE = 32.0  # Hz: below it a recording holds no beta band (and upsampling it to the model's rate is huge)


@register_modality
class EEG(Modality):
    """Electroencephalography: removal of ocular, muscle, line-noise, electrode-pop and drift artifacts.

    The parameters are the room's layout settings, the recipe's ``[data]`` keys; each defaults to the
    recipe's value, and :class:`wavediff.Restorer` builds the room from the values a model records.

    Parameters
    ----------
    sfreq : float, optional
        Model sampling rate (recipe: 256 Hz); recordings at other rates are resampled for the model and back.
    window : float, optional
        Window length in seconds (recipe: 2 s, 512 samples at 256 Hz, EEGdenoiseNet's epoch).
    overlap : float, optional
        Fraction of overlap between consecutive windows, in [0, 1). A quarter (default) lets the
        tapers of neighbouring windows cross-fade; without overlap the seams show (on real EEG the
        error's slope at the seams is 4.31 times its slope elsewhere, 1.10 with a quarter), and a half
        costs a third more network evaluations for no gain (``benchmarks/results/eeg.md``, settings).
    context_channels : int, optional
        0: each channel is cleaned from itself alone. 3 (ART-style, channels as context): the model
        also sees, window by window, the channel's ocular component as EOG regression estimates it
        (its least-squares fit on the frontal mean and on F7 - F8, in the channel's units), the mean
        of the most frontal electrodes (where blinks are largest) and the mean of the channel's four
        nearest neighbours (brain activity is spatially smooth, muscle noise is not), from the 10-05
        positions of the channel names (see :func:`spatial_context` and :func:`context_windows`).
        4: ICA first, then the model: the channel's ocular component as ICA estimates it over the
        whole recording (:func:`ica_ocular`, the montage-wide unmixing that a window and three
        references cannot give) is taken out of the recording, the three context windows above come
        from what is left, and a fourth shows what ICA took out of the channel, so that the model can
        correct ICA both ways. Without 10 named electrodes and about 25 s of data nothing is taken
        out and the fourth window is zeros.
        Default: the recipe's ``[data] context_channels``.

    Examples
    --------
    >>> import mne, numpy as np
    >>> from wavediff import get_modality
    >>> eeg = get_modality("eeg")
    >>> info = mne.create_info(["Fp1", "Cz", "O1"], 160.0, "eeg")
    >>> raw = mne.io.RawArray(np.random.default_rng(0).normal(0, 2e-5, (3, 1600)), info, verbose=False)
    >>> tensor, ctx = eeg.to_tensor(raw, verbose=False)  # verbose=None logs the report below (MNE's logger)
    >>> ctx["report"]
    'eeg mode: the model with spatial context; ICA skipped (ICA needs 10 channels with a position, 3 have one); 3 of 3 channels placed (3 by name)'
    >>> tuple(tensor.shape)  # 3 channels x 7 windows of 512 samples at 256 Hz; each with 4 context windows
    (21, 5, 512)
    >>> back = eeg.from_tensor(tensor, ctx)
    >>> bool(np.allclose(back.get_data(), raw.get_data(), rtol=0, atol=1e-12))
    True
    """

    name = "eeg"
    description = "EEG artifact removal (EOG, EMG, line noise, pops, drifts); MNE Raw/Epochs in and out"
    spatial_dims = 1
    extensions = (".fif", ".fif.gz", ".edf", ".bdf", ".vhdr", ".set", ".gdf")
    free_settings = ("overlap",)  # how windows tile a recording; any overlap restores with any model

    def __init__(
        self,
        sfreq: float | None = None,
        window: float | None = None,
        overlap: float | None = None,
        context_channels: int | None = None,
    ):
        data = self.default_recipe().get("data", {})
        sfreq = check_sfreq(data.get("sfreq", 256.0) if sfreq is None else sfreq)
        try:
            window = float(data.get("window", 2.0) if window is None else window)
            overlap = float(data.get("overlap", 0.25) if overlap is None else overlap)
        except (TypeError, ValueError):
            raise InvalidInputError(f"window={window!r} (s) and overlap={overlap!r} (a fraction) must be numbers") from None
        context_channels = data.get("context_channels", 0) if context_channels is None else context_channels
        if context_channels not in (0, 3, 4) or isinstance(context_channels, bool):
            raise InvalidInputError(
                f"context_channels={context_channels!r}: use 0 (single channel), 3 (ocular fit, frontal mean, "
                "neighbours) or 4 (ICA's ocular estimate taken out first, then those and the estimate)"
            )
        self.context_channels = int(context_channels)
        if not 0 <= overlap < 1:
            raise InvalidInputError(f"overlap={overlap!r} must be in [0, 1)")
        self.sfreq, self.overlap = sfreq, overlap
        self.window = int(round(window * sfreq))
        if self.window < 16:
            raise InvalidInputError(f"window={window} s is only {self.window} samples at {sfreq} Hz; use a longer window")
        self.hop = max(1, int(round(self.window * (1 - overlap))))

    def settings(self) -> dict[str, Any]:
        """The layout this instance uses: model rate (Hz), window (s), overlap and context channels."""
        return {"sfreq": self.sfreq, "window": self.window / self.sfreq, "overlap": self.overlap, "context_channels": self.context_channels}

    # ------------------------------------------------------------------ I/O
    write_extensions = (".fif", ".fif.gz", ".edf", ".bdf", ".vhdr", ".set")
    ignored_warnings = ("naming conventions",)  # MNE's note about FIF file names, not about the data

    def read(self, path: str | os.PathLike) -> mne.io.BaseRaw | mne.BaseEpochs:
        """Read an EEG file with MNE (data loaded into memory). ``*-epo.fif`` files give ``mne.Epochs``.

        MNE's warnings (a truncated EDF, a header that does not match the file size) come back as
        :class:`~wavediff.errors.DataWarning`; ``strict=True`` turns them into errors. A recording with
        non-finite samples or an impossible rate is refused. EEGLAB files are parsed in a separate
        process: SciPy's MATLAB reader can crash the interpreter on a damaged ``.set``.
        """
        return read_eeg(Path(path), self.extensions)

    def companion_files(self, path: Path) -> list[Path]:
        """A BrainVision header comes with its marker (``.vmrk``) and data (``.eeg``) files; EEGLAB's
        ``.set`` may have its data in a ``.fdt``."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".vhdr":
            return [path, path.with_suffix(".vmrk"), path.with_suffix(".eeg")]
        if suffix == ".set":
            return [path, path.with_suffix(".fdt")]
        return [path]

    def describe(self, obj: Any) -> str:
        """Channels, duration and rate of a recording (epochs: their number and length)."""
        if isinstance(obj, (mne.io.BaseRaw, mne.BaseEpochs)):
            n_eeg = len(mne.pick_types(obj.info, eeg=True, exclude=()))
            rate = obj.info["sfreq"]
            if isinstance(obj, mne.BaseEpochs):
                return f"{len(obj)} epochs of {len(obj.times) / rate:.3g} s, {n_eeg} EEG of {len(obj.ch_names)} channels at {rate:g} Hz"
            return f"{n_eeg} EEG of {len(obj.ch_names)} channels, {obj.n_times / rate:.2f} s at {rate:g} Hz"
        return super().describe(obj)

    def source_files(self, obj: Any) -> list[Path]:
        """The files MNE read ``obj`` from (``obj.filenames``)."""
        return [Path(f) for f in (getattr(obj, "filenames", None) or ()) if f is not None]

    def write(self, obj: mne.io.BaseRaw | mne.BaseEpochs, path: str | os.PathLike) -> Path:
        """Write ``obj`` as FIF (raw or ``-epo.fif`` epochs), EDF/BDF, BrainVision (.vhdr) or EEGLAB (.set).

        Writing is atomic: the data go to a temporary file that replaces ``path`` only when complete.
        An existing file is replaced only with ``overwrite=True``, and never the file ``obj`` was read
        from (:meth:`~wavediff.Modality.check_output`). EDF stores 16-bit samples, so a round trip
        keeps the data to that format's precision.
        """
        return write_eeg(obj, Path(path))

    # ------------------------------------------------------------------ tensors
    def to_tensor(
        self, obj: Any, sfreq: float | None = None, *, picks: Any = None, montage: Any = None, copy: bool = True, verbose: Any = None
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        """EEG -> windows ``(n_rows * n_windows, 1 + context_channels, window)`` at the model rate, each scaled to unit std.

        Channel 0 of each row is the EEG channel's window (with ``context_channels = 4``, less ICA's
        ocular estimate, which :meth:`from_tensor` counts as part of the change); the others are its
        context windows.

        Parameters
        ----------
        obj : mne.io.Raw, mne.Epochs or array
            The recording (an array needs ``sfreq``).
        picks : str, list or None
            MNE-style channels to restore (names, ``'eeg'``, indices); default: the good EEG channels
            whose labels do not name EOG, ECG, EMG or trigger channels.
        montage : str, path, DigMontage or None
            Electrode positions to use (a built-in montage name, a montage file, a ``DigMontage``);
            default: the recording's own, else the 10-05 positions of the channel names.
        copy : bool
            False: :meth:`from_tensor` writes into ``obj`` itself (MNE's ``copy=False``) instead of a copy.
        verbose : bool, str, int or None
            MNE's logging level for the report of the mode that ran (None: MNE's current level).
        """
        data, rate, rebuild = unpack(obj, sfreq, picks, montage)
        if data.size == 0 or data.shape[-1] == 0:
            raise InvalidInputError("the EEG recording is empty")
        if not np.isfinite(data).all():
            raise InvalidInputError("the EEG data contain NaN or inf; interpolate or drop those samples first")
        n_rows, n_times = data.shape
        self._check_duration(n_times, rate, len(rebuild["shape"]) == 3)
        padded, n_model = self._model_rate(data, rate)
        eog = rebuild.get("eog")
        eog = None if eog is None else self._model_rate(eog, rate)[0]
        n_ch = rebuild["shape"][-2] if len(rebuild["shape"]) > 1 else 1  # epochs: channels within each epoch
        layout = rebuild.get("layout")
        names = layout.standard if layout else None
        positions = layout.positions if layout else np.full((n_ch, 3), np.nan)
        # windows with nothing to restore (a disconnected electrode, a flat line with a glitch) pass
        # through: scaling them to unit spread would blow their noise up to EEG amplitude
        unchanged, starts = self._flat_windows(padded, n_ch, rebuild.get("names"))
        ocular, skipped = None, None
        if self.context_channels == 4:  # ICA first: the model sees the recording without ICA's ocular estimate
            live = ~unchanged.reshape(-1, n_ch, len(starts)).all(axis=(0, 2))  # flat channels stay out of ICA
            ocular, skipped = self._ica_context(padded, n_ch, names, positions, live, eog, rebuild)
            for row, win in zip(*np.nonzero(unchanged)):
                ocular[row, starts[win] : starts[win] + self.window] = 0.0
            padded = padded - ocular
        windows, starts = extract_windows(padded, self.window, self.hop)  # (rows, n_win, window)
        scale = unit_scale(windows, floor=1e-6, exclude=unchanged)
        scaled = (windows / scale).reshape(-1, self.window)
        tensor = torch.from_numpy(scaled[:, None].astype(np.float32))
        # keep the float32 input so the inverse can add only what the model changed (exact round trip)
        reference = tensor.numpy().copy()
        if self.context_channels:
            groups = padded.reshape(-1, n_ch, padded.shape[-1])
            eog_groups = [None] * len(groups) if eog is None else eog.reshape(len(groups), -1, eog.shape[-1])
            roles = eog_roles(rebuild["eog_names"]) if eog is not None else None
            refs = np.concatenate([
                spatial_context(group, positions, eog=None if e is None else eog_references(e, roles))
                for group, e in zip(groups, eog_groups)
            ])
            ref_windows = extract_windows(refs, self.window, self.hop)[0].transpose(0, 2, 1, 3).reshape(-1, 3, self.window)
            ctx_windows = context_windows(scaled, ref_windows)  # (rows * n_win, 3, window)
            if ocular is not None:
                ocular_windows = (extract_windows(ocular, self.window, self.hop)[0] / scale).reshape(-1, 1, self.window)
                ctx_windows = np.concatenate([ctx_windows, ocular_windows], axis=1)
            ctx_tensor = torch.from_numpy(ctx_windows.astype(np.float32))
            tensor = torch.cat([tensor, ctx_tensor], dim=1)
        report = mode_report(self.context_channels, layout, n_ch, ocular is not None and skipped is None, skipped, rebuild)
        with mne.utils.use_log_level(verbose):
            mne.utils.logger.info(f"wavediff {report}")
        context = {
            **rebuild,
            "sfreq": rate,
            "n_times": n_times,
            "n_model": n_model,
            "starts": starts,
            "n_windows": len(starts),
            "scale": scale,
            "data": data,
            "tensor_input": reference,
            "ocular": ocular,
            "unchanged": unchanged.reshape(-1),
            "report": report,
            "copy": bool(copy),
        }
        return tensor, context

    def _model_rate(self, data: np.ndarray, rate: float) -> tuple[np.ndarray, int]:
        """Rows at the model rate, padded (reflected) to at least one window, and their length before padding."""
        model = data if rate == self.sfreq else mne.filter.resample(data, up=self.sfreq, down=rate, method="polyphase", verbose="error")
        n_model = model.shape[-1]
        pad = max(0, self.window - n_model)
        return (np.pad(model, ((0, 0), (0, pad)), mode="reflect" if pad < n_model else "edge") if pad else model), n_model

    def _check_duration(self, n_times: int, rate: float, epochs: bool) -> None:
        """Refuse a recording shorter than half a window or sampled below :data:`MIN_RATE`; warn below one
        window and for rates far from the model's."""
        seconds, window_s = n_times / rate, self.window / self.sfreq
        what = "each epoch" if epochs else "the recording"
        if rate < MIN_RATE:
            raise SampleRateError(
                f"{what} is sampled at {rate:g} Hz; EEG restoration needs at least {MIN_RATE:g} Hz (the model works at "
                f"{self.sfreq:g} Hz, and a lower rate holds no beta band); check the file's sampling rate"
            )
        if seconds < window_s / 2:
            raise InvalidInputError(
                f"{what} has {n_times} samples at {rate:g} Hz ({seconds:.3g} s), less than half the model's "
                f"{window_s:g} s window; restore at least {window_s / 2:g} s of EEG"
            )
        if seconds < window_s:
            warn(f"{what} lasts {seconds:.3g} s, shorter than the model's {window_s:g} s window: it is padded, and so short a signal restores poorly")
        plausible(rate, 100.0, 20000.0, f"the sampling rate {rate:g} Hz", f"the EEG model works at {self.sfreq:g} Hz and was trained on 100-1000 Hz recordings")

    def _flat_windows(self, padded: np.ndarray, n_ch: int, names: list[str] | None) -> tuple[np.ndarray, list[int]]:
        """Windows ``(rows, n_windows)`` with nothing to restore (:func:`wavediff.guards.degenerate`),
        with warnings naming flat channels and implausible amplitudes."""
        windows, starts = extract_windows(padded, self.window, self.hop)
        unchanged = degenerate(windows)
        spread = windows.std(axis=-1)[~unchanged]
        if spread.size:
            typical = float(np.median(spread))
            plausible(
                typical, 1e-8, 1e-2, f"the EEG's typical spread ({typical:.3g} V per window)",
                "MNE and wavediff work in volts (EEG spreads about 1e-6 to 1e-4 V); convert microvolts with * 1e-6",
            )
        per_channel = unchanged.reshape(-1, n_ch, len(starts))
        flat = per_channel.all(axis=(0, 2))
        label = [names[i] if names else f"channel {i}" for i in range(n_ch)]
        if flat.all():
            warn(f"all {n_ch} EEG channels are flat or constant: nothing to restore, the data are returned unchanged")
        elif flat.any():
            bad = [label[i] for i in np.flatnonzero(flat)]
            warn(f"EEG channel(s) {', '.join(bad)} are flat or constant: passed through unchanged; mark them bad (info['bads']) or interpolate them")
        partial = per_channel.any(axis=(0, 2)) & ~flat
        if partial.any():
            n_win = int(per_channel[:, partial].sum())
            bad = [label[i] for i in np.flatnonzero(partial)]
            warn(f"{n_win} window(s) of {', '.join(bad[:8])}{'...' if len(bad) > 8 else ''} are flat or nearly constant: passed through unchanged")
        return unchanged, starts

    def _ica_context(
        self, padded: np.ndarray, n_ch: int, names: list[str] | None, positions: np.ndarray, live: np.ndarray | None = None,
        eog: np.ndarray | None = None, rebuild: dict[str, Any] | None = None,
    ) -> tuple[np.ndarray, str | None]:
        """ICA's ocular estimate (:func:`ica_ocular`) for every row of ``padded`` (zeros where ICA cannot
        run), and why ICA did not run (None when it did).

        Epochs are decomposed together (ICA's unmixing is spatial, the same for every epoch). Only the
        ``live`` channels (default: all) enter the decomposition; the others get zeros. Recorded EOG
        channels (``eog``, rows like ``padded``) decide which components are ocular, and the ``BAD_``
        spans of ``rebuild`` are left out of the fit.
        """
        live = np.ones(n_ch, bool) if live is None else live
        rebuild = rebuild or {}
        groups = padded.reshape(-1, n_ch, padded.shape[-1])
        joined = groups.transpose(1, 0, 2).reshape(n_ch, -1)
        out = np.zeros_like(joined)
        if not names:
            return out.reshape(padded.shape), "an array has no channel names"
        if not live.any():
            return out.reshape(padded.shape), "every channel is flat"
        keep = np.flatnonzero(live)
        spans = rebuild.get("bad_spans") or []
        reason = ica_unavailable(joined[keep], positions[keep], spans, self.sfreq)
        if reason is None:
            eog_map = None
            if eog is not None:
                n_eog = len(rebuild["eog_names"])
                eog_joined = eog.reshape(len(groups), n_eog, -1).transpose(1, 0, 2).reshape(n_eog, -1)
                eog_map = dict(zip(rebuild["eog_names"], eog_joined))
            ocular = ica_ocular(joined[keep], self.sfreq, [names[i] for i in keep], positions[keep], eog=eog_map, bad_spans=spans)
            if ocular is None:
                reason = "the decomposition could not be trusted (its high-passed data lose rank)"
            else:
                out[keep] = ocular
        return out.reshape(n_ch, len(groups), -1).transpose(1, 0, 2).reshape(padded.shape), reason

    def from_tensor(self, tensor: torch.Tensor, context: dict[str, Any]) -> Any:
        """Inverse of :meth:`to_tensor`: windows -> the same kind of object as the input, a new copy.

        The change of the windows, and ICA's ocular estimate where :meth:`to_tensor` took it out, is
        brought back to the recording's rate and applied to the recording.
        """
        n_rows = context["data"].shape[0]
        expected = (n_rows * context["n_windows"], 1, self.window)
        if tensor.ndim == 3 and tensor.shape[1] == 1 + self.context_channels:
            tensor = tensor[:, :1]  # the context channels are the model's input only
        if tuple(tensor.shape) != expected:
            raise ShapeError(f"tensor has shape {tuple(tensor.shape)}; this context expects {expected}")
        delta = tensor.detach().cpu().double().numpy() - context["tensor_input"].astype(np.float64)
        history = f"wavediff {__version__} restore: {context['report']}" if context.get("report") else None
        restored = context["data"] + self._to_recording(delta, context, context.get("ocular"))
        return rebuild(restored, context, history=history, copy=context.get("copy", True))

    def _to_recording(self, values: np.ndarray, context: dict[str, Any], removed: np.ndarray | None = None) -> np.ndarray:
        """Per-window values in tensor units -> (rows, n_times) in volts at the recording's rate.

        ``removed`` (model rate): what was taken out of the recording before the model saw it (ICA's
        ocular estimate), part of the change.
        """
        n_rows = context["data"].shape[0]
        windows = values.reshape(n_rows, context["n_windows"], self.window) * context["scale"]
        padded_len = max(context["n_model"], self.window)
        out = overlap_add(windows, context["starts"], padded_len)
        if removed is not None:
            out = out - removed
        out = out[:, : context["n_model"]]
        if context["sfreq"] != self.sfreq:
            out = mne.filter.resample(out, up=context["sfreq"], down=self.sfreq, method="polyphase", verbose="error")
            out = _fit_length(out, context["n_times"])
        return out

    def uncertainty_from_tensor(self, std: torch.Tensor, context: dict[str, Any]) -> Any:
        """Per-sample standard deviation of the draws as the same kind of object (EEG channels; others 0).

        Overlapping windows are blended by the weighted average of their standard deviations (exact
        when the draws of overlapping windows agree, an upper bound otherwise), then brought to the
        recording's rate. Where ICA's ocular estimate was taken out first, the draws do not carry its
        uncertainty; the recipe's ``[sampler] ica_spread`` (``k``, calibrated by
        ``python3 -m benchmarks.eeg.calibrate``) adds it: the spread is ``sqrt(draws**2 + (k * e)**2)``,
        ``e`` the local RMS (0.25 s) of what ICA took out of the channel.
        """
        if std.ndim == 3 and std.shape[1] == 1 + self.context_channels:
            std = std[:, :1]
        spread = np.clip(self._to_recording(std.detach().cpu().double().numpy(), context), 0.0, None)
        ica = self.ica_spread(context)
        if ica is not None:
            spread = np.sqrt(spread**2 + ica**2)
        out = rebuild(spread, context, history=f"wavediff {__version__}: standard deviation of posterior draws")
        if context["kind"] != "array":  # channels the model does not touch have no uncertainty
            others = np.setdiff1d(np.arange(len(out.ch_names)), context["picks"])
            if len(others):
                out.apply_function(lambda d: np.zeros_like(d), picks=others, channel_wise=False, verbose="error")
        return out

    def ica_spread(self, context: dict[str, Any], k: float | None = None) -> np.ndarray | None:
        """``k`` times the local RMS (0.25 s) of ICA's ocular estimate, ``(rows, n_times)`` V at the recording's
        rate: the spread its error adds (default ``k``: the recipe's ``[sampler] ica_spread``); None without one."""
        from scipy.ndimage import uniform_filter1d

        k = float(self.default_recipe().get("sampler", {}).get("ica_spread", 0.0)) if k is None else float(k)
        ocular = context.get("ocular")
        if k <= 0 or ocular is None or not np.any(ocular):
            return None
        local = np.sqrt(uniform_filter1d(ocular**2, size=max(1, int(0.25 * self.sfreq)), axis=-1, mode="nearest"))
        local = local[:, : context["n_model"]]
        if context["sfreq"] != self.sfreq:
            local = _fit_length(mne.filter.resample(local, up=context["sfreq"], down=self.sfreq, method="polyphase", verbose="error"), context["n_times"])
        return k * np.clip(local, 0.0, None)

    def accepts(self, obj: Any) -> bool:
        return isinstance(obj, (mne.io.BaseRaw, mne.BaseEpochs))

    # ------------------------------------------------------------------ learning
    def training_data(self, recipe: dict[str, Any], seed: int = 0, data: str | os.PathLike | None = None) -> Any:
        """Pairs (clean ``(B, 1, W)``, contaminated ``(B, 1 + context_channels, W)``) of windows, scaled by the model input's std.

        The pool is ``[train] recordings`` simulated 19-channel recordings of ``recording_seconds``
        each (``wavediff.datasets.eeg``, with evoked transients), or with ``data`` the EEG files of
        that folder (their blink-free epochs as the clean reference); see :mod:`.training`.
        """
        from .training import training_batches

        return training_batches(self, recipe, seed=seed, data=None if data is None else Path(data))

    # ------------------------------------------------------------------ evaluation
    def degrade(self, clean: Any, rng: np.random.Generator, artifact: str = "eog", snr_db: float = 0.0, sfreq: float | None = None) -> Any:
        """Contaminate the EEG channels of ``clean`` (EEGdenoiseNet protocol); returns the same kind, a copy."""
        from .artifacts import contaminate

        data, rate, record = unpack(clean, sfreq)
        ch_names = record["names"]
        if len(record["shape"]) == 3:  # each epoch contaminated at the requested SNR, as EEGdenoiseNet does
            n_ep, n_ch, n_t = record["shape"]
            epochs = data.reshape(n_ep, n_ch, n_t)
            noisy = np.stack([contaminate(ep, rate, rng, artifact, snr_db, ch_names=ch_names)[0] for ep in epochs])
            return rebuild(noisy.reshape(-1, n_t), record)
        noisy, _ = contaminate(data, rate, rng, artifact, snr_db, ch_names=ch_names)
        return rebuild(noisy, record)

    def metrics(self, reference: Any, estimate: Any, noisy: Any = None, sfreq: float | None = None) -> dict[str, float]:
        """RRMSE temporal and spectral, correlation coefficient and (with ``noisy``) SNR gain."""
        from .metrics import eeg_metrics

        ref, rate, _ = unpack(reference, sfreq)
        est, rate_e, _ = unpack(estimate, sfreq)
        if rate != rate_e or ref.shape != est.shape:
            raise ShapeError(f"reference {ref.shape} at {rate} Hz and estimate {est.shape} at {rate_e} Hz must match")
        noisy_data = None if noisy is None else unpack(noisy, sfreq)[0]
        return eeg_metrics(ref, est, rate, noisy=noisy_data)

    def demo(self, out_dir: str | os.PathLike, seed: int = 0) -> dict[str, Any]:
        from .demo import run_demo

        return run_demo(self, Path(out_dir), seed)


def _fit_length(x: np.ndarray, n: int) -> np.ndarray:
    if x.shape[-1] >= n:
        return x[..., :n]
    return np.pad(x, ((0, 0), (0, n - x.shape[-1])), mode="edge")

