"""EEGdenoiseNet (Zhang et al. 2021, J. Neural Eng. 18:056057): download, read and split the benchmark.

4514 clean EEG, 3400 EOG and 5598 EMG single-channel segments of 2 s at 256 Hz (512 samples):
:func:`fetch_eegdenoisenet` downloads them (pooch, pinned commit and digests), :func:`load_eegdenoisenet`
reads them without ever unpickling, and :func:`eegdenoisenet_split` draws the benchmark's 80/10/10 split.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from wavediff.errors import (
    CorruptFileError,
    DataNotFoundError,
    InvalidInputError,
    NonFiniteError,
    UnsupportedFormatError,
)

__all__ = [
    "EEGDENOISENET_COMMIT",
    "EEGDENOISENET_FILES",
    "EEGDENOISENET_HASHES_VERIFIED_HERE",
    "EEGDENOISENET_SFREQ",
    "fetch_eegdenoisenet",
    "load_eegdenoisenet",
    "eegdenoisenet_split",
]

#: Commit of https://github.com/ncclabsustech/EEGdenoiseNet whose ``data/`` folder the URLs point to.
EEGDENOISENET_COMMIT = "8d290661146c7189c98cc04812d37371d4b9426c"
_EEGDENOISENET_URL = (
    f"https://raw.githubusercontent.com/ncclabsustech/EEGdenoiseNet/{EEGDENOISENET_COMMIT}/data/"
)

#: File name -> (URL, pooch hash). The SHA-256 values were not computed here (this project's machines
#: have no network access); they are the digests that independent public reproductions recorded for
#: these files (the EOG and EMG digests appear in several, one of them downloaded from this very
#: commit; the EEG digest in one manifest, next to its Git blob 9a115bc5). pooch refuses a file whose
#: digest differs; if the authors ever rewrite the files, download them by hand and call
#: :func:`load_eegdenoisenet` on the folder.
EEGDENOISENET_FILES: dict[str, tuple[str, str]] = {
    "EEG_all_epochs.npy": (
        _EEGDENOISENET_URL + "EEG_all_epochs.npy",
        "sha256:89350579007ab18daf918a26c9f730484ba3755e861bbf8a6f68d1657843a748",
    ),
    "EOG_all_epochs.npy": (
        _EEGDENOISENET_URL + "EOG_all_epochs.npy",
        "sha256:fe31f2c22efce5da7488a1047b6f05d678e80f48d22e20a70972aaf13784fa0a",
    ),
    "EMG_all_epochs.npy": (
        _EEGDENOISENET_URL + "EMG_all_epochs.npy",
        "sha256:8bb16dff87582823488dd2189dba9d8fa019a8cbc9af9a8a19acb421b3fcfb16",
    ),
}
#: False: the pinned digests come from third-party records and have not yet been checked against a
#: download made by this project (no network where it was written). Set to True once a maintainer has.
EEGDENOISENET_HASHES_VERIFIED_HERE = False
#: Sampling rate of the 512-sample EEGdenoiseNet segments.
EEGDENOISENET_SFREQ = 256.0
_EEGDENOISENET_KINDS = {"eeg": "EEG_all_epochs.npy", "eog": "EOG_all_epochs.npy", "emg": "EMG_all_epochs.npy"}
_EEGDENOISENET_SAMPLES = 512


def fetch_eegdenoisenet(path: str | os.PathLike | None = None, progressbar: bool = True) -> Path:
    """Download (once) EEGdenoiseNet's three arrays with pooch and return the folder that holds them.

    The files (about 55 MB in all) come from the authors' GitHub repository at the pinned commit
    :data:`EEGDENOISENET_COMMIT` and are checked against the SHA-256 digests in
    :data:`EEGDENOISENET_FILES` (see there for their provenance). A mirror with the same 256-Hz files
    is https://gin.g-node.org/NCClab/EEGdenoiseNet. Data license: see the authors' repository.

    Parameters
    ----------
    path : path-like or None
        Folder for the files; None uses ``pooch.os_cache("wavediff") / "eegdenoisenet"``.
    progressbar : bool
        Show a tqdm download bar.

    Returns
    -------
    pathlib.Path
        The folder, ready for :func:`load_eegdenoisenet`.

    Examples
    --------
    >>> data = load_eegdenoisenet(fetch_eegdenoisenet())  # doctest: +SKIP
    >>> data["eeg"].shape, data["eog"].shape, data["emg"].shape  # doctest: +SKIP
    ((4514, 512), (3400, 512), (5598, 512))
    """
    import pooch

    folder = Path(pooch.os_cache("wavediff")) / "eegdenoisenet" if path is None else Path(path)
    for fname, (url, known_hash) in EEGDENOISENET_FILES.items():
        pooch.retrieve(url=url, known_hash=known_hash, fname=fname, path=folder, progressbar=progressbar)
    return folder


def _read_npy(path: Path, n_samples: int) -> np.ndarray:
    """Read a 2-D numeric .npy without ever unpickling, with clear errors for every failure."""
    size = path.stat().st_size
    if size == 0:
        raise CorruptFileError(f"{path} is empty (0 bytes); download it again with fetch_eegdenoisenet()")
    with open(path, "rb") as fh:
        try:
            version = np.lib.format.read_magic(fh)
        except ValueError:
            raise UnsupportedFormatError(
                f"{path} is not a NumPy .npy file (bad magic string); EEGdenoiseNet ships .npy arrays"
            ) from None
        try:
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
            else:
                raise UnsupportedFormatError(
                    f"{path}: .npy format version {version} is not supported (use 1.0 or 2.0)"
                )
        except (ValueError, EOFError, SyntaxError) as exc:
            raise CorruptFileError(
                f"{path}: the .npy header is truncated or unreadable ({exc}); download it again"
            ) from None
        offset = fh.tell()
    if dtype.hasobject:
        raise UnsupportedFormatError(
            f"{path} holds Python objects (dtype {dtype}), stored with pickle; wavediff never unpickles files. "
            "Convert it to a numeric array (np.save(path, np.asarray(x, dtype=float))) or download the original"
        )
    if dtype.kind not in "fiu":
        raise UnsupportedFormatError(f"{path} holds dtype {dtype}; expected floating-point samples")
    if len(shape) != 2 or shape[1] != n_samples:
        raise UnsupportedFormatError(
            f"{path} holds an array of shape {shape}; EEGdenoiseNet files are (n_segments, {n_samples}): "
            f"2-s segments at 256 Hz (the *_512hz.npy release with 1024 samples is a different layout)"
        )
    if shape[0] == 0:
        raise CorruptFileError(f"{path} holds no segments (shape {shape}); download it again")
    expected = offset + int(np.prod(shape)) * dtype.itemsize
    if size != expected:
        what = "truncated" if size < expected else "longer than its header says"
        raise CorruptFileError(
            f"{path} is {what}: {size} bytes, the header announces {expected}; download it again "
            "(delete the file, then fetch_eegdenoisenet())"
        )
    try:
        arr = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:  # pragma: no cover - caught by the checks above
        raise CorruptFileError(f"{path} could not be read as .npy ({exc})") from None
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    bad = int(np.size(arr) - np.isfinite(arr).sum())
    if bad:
        raise NonFiniteError(f"{path} holds {bad} NaN or infinite samples; the EEGdenoiseNet files have none")
    return arr


def load_eegdenoisenet(directory: str | os.PathLike) -> dict[str, Any]:
    """Read EEGdenoiseNet's ``EEG_all_epochs.npy``, ``EOG_all_epochs.npy`` and ``EMG_all_epochs.npy``.

    Files are read with ``allow_pickle=False`` after their header has been checked: 2-D, 512 samples
    per segment, numeric, complete. Arrays are returned as float64 (the original unit: the EEG
    segments were recorded in microvolts and each file keeps its own scale; the benchmark normalises
    every mixture by its standard deviation).

    Parameters
    ----------
    directory : path-like
        Folder holding the three files (:func:`fetch_eegdenoisenet` returns one).

    Returns
    -------
    dict
        ``eeg`` (n, 512), ``eog`` (n, 512), ``emg`` (n, 512) float arrays and ``sfreq`` = 256.0.

    Raises
    ------
    DataNotFoundError
        The folder or a file is missing (a ``FileNotFoundError``).
    CorruptFileError
        A file is empty or truncated.
    UnsupportedFormatError
        Not a .npy file, pickled objects, or not ``(n, 512)``.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name in ("EEG", "EOG", "EMG"):
    ...     np.save(folder / f"{name}_all_epochs.npy", np.zeros((4, 512)))
    >>> data = load_eegdenoisenet(folder)
    >>> data["eeg"].shape, data["sfreq"]
    ((4, 512), 256.0)
    """
    if not isinstance(directory, (str, os.PathLike)):
        raise InvalidInputError(
            f"directory={directory!r} must be a path to the folder with the EEGdenoiseNet files"
        )
    folder = Path(directory)
    if not folder.is_dir():
        raise DataNotFoundError(
            f"{folder} is not a folder; download EEGdenoiseNet with fetch_eegdenoisenet({str(folder)!r}) "
            "and pass the folder it returns"
        )
    missing = [f for f in _EEGDENOISENET_KINDS.values() if not (folder / f).is_file()]
    if missing:
        raise DataNotFoundError(
            f"{folder} lacks {', '.join(missing)}; download them with fetch_eegdenoisenet({str(folder)!r}) "
            f"(or by hand from https://github.com/ncclabsustech/EEGdenoiseNet/tree/master/data)"
        )
    out: dict[str, Any] = {
        k: _read_npy(folder / f, _EEGDENOISENET_SAMPLES) for k, f in _EEGDENOISENET_KINDS.items()
    }
    out["sfreq"] = EEGDENOISENET_SFREQ
    return out


def _split_counts(n: int, train_fraction: float) -> tuple[int, int, int]:
    n_train = round(train_fraction * n)  # Python's round, as the benchmark code
    n_val = round((n - n_train) / 2)
    return n_train, n_val, n - n_train - n_val


def eegdenoisenet_split(
    data: Mapping[str, Any], rng: int = 0, artifact: str | None = None, train_fraction: float = 0.8
) -> dict[str, dict[str, np.ndarray]]:
    """EEGdenoiseNet's train/validation/test split (80/10/10), seeded and reproducible.

    This reproduces ``prepare_data`` of the benchmark code (``code/benchmark_networks/data_prepare.py``
    in the authors' repository): segments are shuffled, the first ``round(0.8 n)`` go to training, the
    next ``round((n - n_train) / 2)`` to validation and the rest to test. The original shuffles with
    the unseeded global NumPy generator, so its exact permutation cannot be recovered; here one
    ``np.random.default_rng(rng)`` draws the permutations (EEG first, then EOG, then EMG).

    * ``artifact=None``: every array in ``data`` among ``eeg``, ``eog``, ``emg`` is split on its own;
      the three parts are disjoint and cover all segments.
    * ``artifact="eog"`` or ``"emg"``: the benchmark's pairing of clean EEG with that artifact. For
      EOG (3400 segments) the shuffled EEG is cut to the number of EOG segments; for EMG (5598) the
      first ``n_emg - n_eeg`` shuffled EEG segments are repeated in front so the counts match. Each
      part then holds ``eeg`` and ``noise`` arrays of equal length, paired row by row (the benchmark
      then re-shuffles the training pairs and mixes them at random SNRs in -7..2 dB). With the real
      data the repeated EEG segments all fall in the training part.

    Parameters
    ----------
    data : mapping
        Output of :func:`load_eegdenoisenet` (or any mapping of 2-D arrays under those keys).
    rng : int
        Seed of the permutations (an integer, so that a split can be named by it).
    artifact : {None, "eog", "emg"}
        Split each kind alone (None) or build the benchmark's EEG/artifact pairs.
    train_fraction : float
        Fraction for training (0.8 in the benchmark); the rest is halved into validation and test.

    Returns
    -------
    dict
        ``{"train": {...}, "validation": {...}, "test": {...}}``; each part maps a kind (``eeg``,
        ``eog``, ``emg``, or ``eeg`` and ``noise``) to its segments and ``<kind>_index`` to their row
        numbers in the input arrays.

    Examples
    --------
    >>> data = {"eeg": np.zeros((4514, 512)), "eog": np.zeros((3400, 512)), "emg": np.zeros((5598, 512))}
    >>> parts = eegdenoisenet_split(data)
    >>> [len(parts[p]["eeg"]) for p in ("train", "validation", "test")]
    [3611, 452, 451]
    >>> [len(eegdenoisenet_split(data, artifact="eog")[p]["noise"]) for p in ("train", "validation", "test")]
    [2720, 340, 340]
    """
    if not isinstance(data, Mapping):
        raise InvalidInputError("data must be the dict returned by load_eegdenoisenet (keys eeg, eog, emg)")
    if isinstance(rng, bool) or not isinstance(rng, numbers.Integral) or rng < 0:
        raise InvalidInputError(f"rng={rng!r} must be a non-negative integer seed")
    if (
        isinstance(train_fraction, bool)
        or not isinstance(train_fraction, numbers.Real)
        or not 0 < train_fraction < 1
    ):
        raise InvalidInputError(
            f"train_fraction={train_fraction!r} must lie strictly between 0 and 1 (benchmark: 0.8)"
        )
    if artifact not in (None, "eog", "emg"):
        raise InvalidInputError(f"artifact={artifact!r} must be None, 'eog' or 'emg'")
    kinds = [k for k in ("eeg", "eog", "emg") if k in data]
    needed = ["eeg", artifact] if artifact else kinds
    if not kinds or any(k not in data for k in needed):
        raise InvalidInputError(f"data needs the keys {needed}; got {sorted(data)}")
    arrays = {}
    for k in kinds:
        a = np.asarray(data[k])
        if a.ndim != 2 or a.shape[0] < 3:
            raise InvalidInputError(
                f"data[{k!r}] must be 2-D (n_segments >= 3, n_samples), got shape {a.shape}"
            )
        arrays[k] = a
    rng = np.random.default_rng(int(rng))
    perms = {k: rng.permutation(len(arrays[k])) for k in kinds}
    parts: dict[str, dict[str, np.ndarray]] = {"train": {}, "validation": {}, "test": {}}

    def assign(name: str, source: str, order: np.ndarray) -> None:
        n_train, n_val, _ = _split_counts(len(order), float(train_fraction))
        cuts = {
            "train": order[:n_train],
            "validation": order[n_train : n_train + n_val],
            "test": order[n_train + n_val :],
        }
        for part, idx in cuts.items():
            parts[part][name] = arrays[source][idx]
            parts[part][f"{name}_index"] = idx

    if artifact is None:
        for k in kinds:
            assign(k, k, perms[k])
        return parts
    eeg_order, noise_order = perms["eeg"], perms[artifact]
    if artifact == "emg":
        reuse = max(0, len(noise_order) - len(eeg_order))
        eeg_order = np.concatenate([eeg_order[:reuse], eeg_order])
    eeg_order = eeg_order[: len(noise_order)]
    noise_order = noise_order[: len(eeg_order)]
    assign("eeg", "eeg", eeg_order)
    assign("noise", artifact, noise_order)
    return parts
