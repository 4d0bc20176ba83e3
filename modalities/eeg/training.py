"""Training pairs for the EEG room: a pool of recordings, contaminated as a whole, drawn window by window.

* :func:`simulated_pool` - recordings from the simulator (:mod:`wavediff.datasets.eeg`) with evoked
  transients (:func:`evoked_transient`), so the prior knows event-related potentials are brain activity.
* :func:`recordings_pool` - the user's own recordings (``wavediff train eeg --data DIR``): their EEG
  channels at the model rate, high-passed like the simulated pool, the blink-free epochs
  (:func:`quiet_epochs`) kept as the clean reference and cut into pieces of the pool's length.
* :func:`training_batches` - contaminates each recording of a pool as a whole (one artifact type at an
  SNR uniform in the recipe's range; a share left clean), runs ICA on it as restoring does, and returns
  the batch function that draws one window of one channel with its context windows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mne
import numpy as np
import torch

from wavediff.errors import DataNotFoundError, InvalidInputError

from .context import context_windows, eog_proxies, ica_ocular, spatial_context
from .montage import electrode_positions

__all__ = ["add_recorded", "band_limited", "evoked_transient", "recorded_artifacts", "quiet_epochs", "recordings_pool", "simulated_pool", "training_batches", "training_montage"]

TEN_TWENTY = ("Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "T7", "C3", "Cz", "C4", "T8",
              "P7", "P3", "Pz", "P4", "P8", "O1", "O2")  # fmt: skip


def evoked_transient(positions: np.ndarray, n_times: int, sfreq: float, rng: np.random.Generator) -> np.ndarray:
    """A random event-related transient ``(n_channels, n_times)`` in volts, average-referenced.

    One or two Gaussian deflections (2-15 microvolts, either sign, 15-100 ms wide, anywhere in the
    window) with a smooth topography centred on a random electrode (Gaussian fall-off of 3-6 cm on
    the scalp), like P1/N1/P300 components of an ERP. Channels without a position get none.

    Examples
    --------
    >>> import numpy as np
    >>> pos = electrode_positions(["Fz", "Cz", "Pz", "X1"])
    >>> erp = evoked_transient(pos, 512, 256.0, np.random.default_rng(0))
    >>> erp.shape, bool(np.all(erp[3] == 0)), bool(np.abs(erp).max() < 20e-6)
    ((4, 512), True, True)
    """
    t = np.arange(n_times) / sfreq
    known = np.flatnonzero(np.isfinite(positions).all(axis=1))
    out = np.zeros((len(positions), n_times))
    if len(known) == 0:
        return out
    for _ in range(int(rng.integers(1, 3))):
        centre = positions[known[rng.integers(len(known))]]
        spread = rng.uniform(0.03, 0.06)
        topo = np.zeros(len(positions))
        topo[known] = np.exp(-np.sum((positions[known] - centre) ** 2, axis=1) / (2 * spread**2))
        amplitude = rng.uniform(2.0, 15.0) * 1e-6 * rng.choice([-1.0, 1.0])
        latency, width = rng.uniform(0.1, t[-1] - 0.1), rng.uniform(0.015, 0.1)
        out += np.outer(topo, amplitude * np.exp(-0.5 * ((t - latency) / width) ** 2))
    out[known] -= out[known].mean(axis=0)
    return out


def quiet_epochs(data: np.ndarray, positions: np.ndarray, n_epoch: int, keep: float = 0.5) -> np.ndarray:
    """The ``keep`` share of the ``n_epoch``-sample epochs of ``data`` ``(n_channels, n_times)`` with the
    smallest frontal peak-to-peak amplitude (blinks dominate it), concatenated in their order.

    The frontal electrodes are those :func:`~.context.eog_proxies` picks from ``positions``; without
    two known positions every channel counts.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.zeros((2, 1000)); x[:, 100:120] = 1.0  # a "blink" in the first of ten epochs
    >>> quiet_epochs(x, np.full((2, 3), np.nan), 100).shape  # the quieter half
    (2, 500)
    """
    known = np.isfinite(positions).all(axis=1)
    frontal = eog_proxies(positions)[0] if known.sum() >= 2 else np.arange(len(data))
    starts = np.arange(0, data.shape[1] - n_epoch + 1, n_epoch)
    if len(starts) == 0:
        return data[:, :0]
    ptp = np.array([np.ptp(data[frontal, s : s + n_epoch], axis=1).max() for s in starts])
    order = np.sort(np.argsort(ptp, kind="stable")[: max(1, int(round(keep * len(starts))))])
    return np.concatenate([data[:, starts[i] : starts[i] + n_epoch] for i in order], axis=1)


def simulated_pool(cfg: dict[str, Any], sfreq: float, window: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """``[train] recordings`` simulated recordings of ``recording_seconds`` (19 channels of the 10-20 system
    unless ``channels`` says otherwise); :func:`training_batches` adds their evoked transients."""
    from wavediff.datasets.eeg import simulate_epochs

    names = list(cfg.get("channels", TEN_TWENTY))
    clean = simulate_epochs(
        int(cfg.get("recordings", 64)), n_seconds=float(cfg.get("recording_seconds", 40.0)), sfreq=sfreq,
        ch_names=names, rng=rng, highpass=float(cfg.get("highpass", 0.0)),
    )
    if clean.shape[-1] < window:
        raise InvalidInputError(f"[train] recording_seconds gives {clean.shape[-1]} samples, fewer than one window ({window})")
    positions = electrode_positions(names)
    return [{"clean": rec, "names": names, "positions": positions, "simulated": True} for rec in clean]


def recorded_artifacts(data: np.ndarray, sfreq: float, names: list[str]) -> np.ndarray | None:
    """The recording's own ocular and muscle activity ``(n_channels, n_times)``, as ICA separates it (ART's recipe).

    ICA (:func:`~.baselines.ica_clean`, ocular and muscle components rejected) is fitted on the whole
    recording; what it removes is the back-projection of those components: real blinks, saccades
    and muscle bursts with this head's and this cap's topographies. None when ICA cannot run (fewer
    than 10 placed channels, too short) or finds nothing.
    """
    import warnings

    from .baselines import ica_clean
    from .context import ica_unavailable

    if ica_unavailable(data, electrode_positions(names), (), sfreq) is not None:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # FastICA's convergence notes
        try:
            cleaned = ica_clean(data, sfreq, names, reject_emg=True)
        except InvalidInputError:
            return None
    out = data - cleaned
    return out if np.sqrt(np.mean(out**2)) > 1e-3 * np.sqrt(np.mean(data**2)) else None


def recordings_pool(room: Any, files: list[Path], cfg: dict[str, Any]) -> list[dict[str, Any]]:
    """The user's recordings as a training pool: the good EEG channels of each file, high-passed at
    ``[train] highpass`` Hz like the simulated pool, at the model rate; the blink-free half of the
    windows (:func:`quiet_epochs`) is the clean reference, cut into ``recording_seconds`` pieces.

    The pieces are repeated to ``[train] data_recordings`` entries (default 64), so that each is
    contaminated several times, with other artifacts and SNRs, as the simulated pool's recordings are.
    With ``[train] recorded_fraction`` above 0, each entry also carries the file's own artifacts as ICA
    separates them (:func:`recorded_artifacts`), which :func:`training_batches` adds in that share of
    the contaminations instead of simulated ones.
    """
    highpass = float(cfg.get("highpass", 0.0))
    piece = int(round(float(cfg.get("recording_seconds", 40.0)) * room.sfreq))
    pool = []
    for path in files:
        obj = room.read(path)
        raw = mne.concatenate_raws([mne.io.RawArray(e, obj.info, verbose="error") for e in obj.get_data()]) if isinstance(obj, mne.BaseEpochs) else obj
        picks = mne.pick_types(raw.info, eeg=True, exclude="bads")
        if len(picks) == 0:
            continue
        raw = raw.copy().pick(picks)
        if highpass > 0:
            raw.filter(highpass, None, verbose="error")
        if raw.info["sfreq"] != room.sfreq:
            raw.resample(room.sfreq, verbose="error")
        names = list(raw.ch_names)
        positions = electrode_positions(names)
        data = raw.get_data()
        recorded = recorded_artifacts(data, room.sfreq, names) if cfg.get("recorded_fraction", 0.0) else None
        quiet = quiet_epochs(data, positions, room.window)
        for start in range(0, quiet.shape[1] - room.window + 1, max(piece, room.window)):
            chunk = quiet[:, start : start + max(piece, room.window)]
            if chunk.shape[1] >= room.window:
                pool.append({"clean": np.ascontiguousarray(chunk), "names": names, "positions": positions, "file": path.name, "recorded": recorded})
    if not pool:
        raise DataNotFoundError(
            f"none of the {len(files)} file(s) holds a window ({room.window / room.sfreq:g} s) of good EEG channels; "
            "check the channel types and info['bads']"
        )
    copies = max(len(pool), int(cfg.get("data_recordings", 64)))
    return [dict(pool[i % len(pool)]) for i in range(copies)]


def training_batches(room: Any, recipe: dict[str, Any], seed: int = 0, data: Path | None = None) -> Any:
    """The batch function ``fn(generator, batch_size) -> (clean (B, 1, W), contaminated (B, 1 + context, W))``.

    Windows are scaled by the model input's standard deviation, as :meth:`EEG.to_tensor` scales them.
    Each pool recording is contaminated as a whole with one artifact type (``[train] artifacts``) at an
    SNR uniform in ``snr_db`` (EEGdenoiseNet's definition over the recording, realistic topographies);
    a share ``clean_fraction`` is left clean, so clean EEG is known to need no change. ``variety =
    "wide"`` draws half the ocular, muscle and drift artifacts from the wider families of
    :mod:`.artifacts.variety`, and a share ``bandlimit_fraction`` of the recordings is low-passed, clean
    and contaminated alike, at 30-100 Hz (:func:`band_limited`), as lower-rate or pre-filtered
    recordings are. With
    ``context_channels = 4`` ICA's ocular estimate (:func:`~.context.ica_ocular`) is computed on each
    contaminated recording and, in draws that see the whole named montage, taken out first, as
    restoring it would. A draw is one window of one channel at a random offset, with its context
    windows and the montage :func:`training_montage` gives it.
    """
    from tqdm.auto import tqdm

    from .artifacts import contaminate

    cfg = recipe.get("train", {})
    rng = np.random.default_rng(seed)
    if data is None:
        pool = simulated_pool(cfg, room.sfreq, room.window, rng)
    else:
        pool = recordings_pool(room, room.data_files(data), cfg)
    artifacts = list(cfg.get("artifacts", ["eog", "emg", "mix", "line", "pop", "drift"]))
    lo, hi = (float(v) for v in cfg.get("snr_db", [-7.0, 2.0]))
    clean_fraction = float(cfg.get("clean_fraction", 0.0))
    erp_fraction = float(cfg.get("erp_fraction", 0.0))
    variety = str(cfg.get("variety", "standard"))
    bandlimit = float(cfg.get("bandlimit_fraction", 0.0))
    recorded = float(cfg.get("recorded_fraction", 0.0))
    w, n_context = room.window, room.context_channels
    for rec in tqdm(pool, desc="contaminating the training recordings", disable=None):
        n_times = rec["clean"].shape[-1]
        for _ in range(rng.poisson(erp_fraction * n_times / w) if rec.get("simulated") else 0):
            start = rng.integers(n_times - w + 1)  # brain transients to keep, not only rhythms (real EEG has its own)
            rec["clean"][:, start : start + w] += evoked_transient(rec["positions"], w, room.sfreq, rng)
        if rng.random() < clean_fraction:  # artifact-free EEG must come out as it went in
            rec["noisy"] = rec["clean"]
        elif rec.get("recorded") is not None and rng.random() < recorded:  # the recording's own artifacts (ART's recipe)
            rec["noisy"] = add_recorded(rec["clean"], rec["recorded"], rng, rng.uniform(lo, hi))
        else:
            artifact = artifacts[rng.integers(len(artifacts))]
            rec["noisy"] = contaminate(rec["clean"], room.sfreq, rng, artifact, rng.uniform(lo, hi), ch_names=rec["names"], variety=variety)[0]
        if rng.random() < bandlimit:  # recorded at a lower rate or filtered before export (173.61 Hz, 0.5-40 Hz ...)
            cutoff = float(np.exp(rng.uniform(np.log(30.0), np.log(100.0))))
            rec["clean"], rec["noisy"] = (band_limited(x, room.sfreq, cutoff) for x in (rec["clean"], rec["noisy"]))
        rec["ocular"] = ica_ocular(rec["noisy"], room.sfreq, rec["names"], rec["positions"]) if room.context_channels == 4 else None
    sizes = np.array([rec["clean"].shape[0] * (rec["clean"].shape[1] - w + 1) for rec in pool], dtype=np.float64)
    weights = None if np.all(sizes == sizes[0]) else sizes / sizes.sum()  # every window of every channel equally likely

    def batch(generator: torch.Generator, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        r = np.random.default_rng(int(torch.randint(0, 2**62, (1,), generator=generator)))
        x = np.empty((batch_size, w))
        y = np.empty((batch_size, 1 + n_context, w))
        for i in range(batch_size):
            rec = pool[r.integers(len(pool)) if weights is None else r.choice(len(pool), p=weights)]
            n_ch, n_times = rec["clean"].shape
            ch, start = r.integers(n_ch), r.integers(n_times - w + 1)
            span = slice(start, start + w)
            keep, named = training_montage(n_ch, ch, r)
            ocular = rec["ocular"]
            with_ica = ocular is not None and named and len(keep) == n_ch  # ICA needs the whole named montage, as when restoring
            window = rec["noisy"][:, span] - ocular[:, span] if with_ica else rec["noisy"][:, span]
            scale = window[ch].std() or 1.0
            x[i], y[i, 0] = rec["clean"][ch, span] / scale, window[ch] / scale
            if n_context:
                pos = rec["positions"][keep] if named else np.full((len(keep), 3), np.nan)
                refs = spatial_context(window[keep], pos)[int(np.flatnonzero(keep == ch)[0])]
                y[i, 1:4] = context_windows(y[i, :1], refs[None])[0]
            if n_context == 4:
                y[i, 4] = ocular[ch, span] / scale if with_ica else 0.0
        return torch.from_numpy(x[:, None]).float(), torch.from_numpy(y).float()

    return batch


def add_recorded(clean: np.ndarray, artifact: np.ndarray, rng: np.random.Generator, snr_db: float) -> np.ndarray:
    """``clean`` plus a random stretch of a recorded ``artifact`` (same channels) at an EEGdenoiseNet SNR.

    The stretch is as long as ``clean`` (the artifact repeated when shorter) and starts anywhere;
    ``lambda = RMS(clean) / (RMS(stretch) * 10**(snr_db / 10))`` as in :func:`~.artifacts.contaminate`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> clean, art = rng.normal(size=(2, 500)), rng.normal(size=(2, 2000))
    >>> noise = add_recorded(clean, art, rng, -3.0) - clean
    >>> round(float(10 * np.log10(np.sqrt(np.mean(clean**2)) / np.sqrt(np.mean(noise**2)))), 9)
    -3.0
    """
    n = clean.shape[-1]
    reps = -(-n // artifact.shape[-1]) + 1
    long = np.tile(artifact, (1, reps))
    start = int(rng.integers(0, long.shape[-1] - n + 1))
    stretch = long[:, start : start + n]
    size = np.sqrt(np.mean(stretch**2))
    if size == 0:
        return clean.copy()
    lam = np.sqrt(np.mean(clean**2)) / (size * 10.0 ** (snr_db / 10.0))
    return clean + lam * stretch


def band_limited(data: np.ndarray, sfreq: float, cutoff: float) -> np.ndarray:
    """``data`` low-passed at ``cutoff`` Hz (MNE's zero-phase FIR), as a recording at a lower rate or
    filtered before export has it (EEG from a 173.61 Hz amplifier, a 0.5-40 Hz clinical export).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(1, 2560))
    >>> y = band_limited(x, 256.0, 40.0)
    >>> f = np.fft.rfftfreq(2560, 1 / 256.0)
    >>> bool(np.abs(np.fft.rfft(y[0]))[f > 50].mean() < 0.05 * np.abs(np.fft.rfft(x[0]))[f > 50].mean())
    True
    """
    if cutoff >= sfreq / 2:
        return data
    return mne.filter.filter_data(data, sfreq, None, cutoff, verbose="error")


def training_montage(n_ch: int, ch: int, r: np.random.Generator) -> tuple[np.ndarray, bool]:
    """The channels a training draw of channel ``ch`` comes with, and whether their positions are known.

    Most draws use the whole named montage; some drop the positions (files with unknown channel
    names) and some keep only a few channels, down to the channel alone, so that the model also
    knows what context from a sparse or anonymous montage is worth.
    """
    u = r.random()
    if u < 0.1:  # the channel alone
        return np.array([ch]), True
    if u < 0.25:  # a sparse montage of 2-8 channels, the cleaned one among them
        others = r.permutation(np.setdiff1d(np.arange(n_ch), [ch]))[: r.integers(1, 8)]
        return np.concatenate([[ch], others]), True
    return np.arange(n_ch), u >= 0.4  # the whole montage, without positions in 15 % of the draws
