"""Recipe for the PhysioNet EEG Motor Movement/Imagery database (EEGBCI), through MNE's own fetcher.

:func:`fetch_eegmmidb` downloads EDF files with :func:`mne.datasets.eegbci.load_data` (64 channels,
160 Hz, 109 subjects, 14 runs each).
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from wavediff.errors import InvalidInputError

__all__ = ["fetch_eegmmidb"]


def fetch_eegmmidb(
    subject: int, runs: int | Sequence[int], path: str | os.PathLike | None = None
) -> list[Path]:
    """Download (once) EDF files of the PhysioNet EEG Motor Movement/Imagery database; return their paths.

    Uses MNE's own fetcher :func:`mne.datasets.eegbci.load_data` (which checks the files against the
    hashes MNE pins). 109 subjects, 64 EEG channels at 160 Hz, 14 runs each: 1 eyes open, 2 eyes
    closed (resting), 3/7/11 left/right fist movement, 4/8/12 imagined, 5/9/13 fists/feet movement,
    6/10/14 imagined. Read a file with ``mne.io.read_raw_edf(path, preload=True)``, then
    ``mne.datasets.eegbci.standardize(raw)`` and ``raw.set_montage("standard_1005")`` for positions.

    Parameters
    ----------
    subject : int
        Subject number, 1-109.
    runs : int or list of int
        Run numbers, 1-14.
    path : path-like or None
        Where to store the data (None: MNE's default, ``~/mne_data`` or ``MNE_DATASETS_EEGBCI_PATH``).
        The MNE configuration is not modified.

    Returns
    -------
    list of pathlib.Path

    Examples
    --------
    >>> paths = fetch_eegmmidb(1, [1, 2])  # doctest: +SKIP
    >>> fetch_eegmmidb(110, [1])  # checked before anything is downloaded
    Traceback (most recent call last):
    ...
    wavediff.errors.InvalidInputError: subject=110 must be an integer in 1..109
    """
    if isinstance(subject, bool) or not isinstance(subject, numbers.Integral) or not 1 <= subject <= 109:
        raise InvalidInputError(f"subject={subject!r} must be an integer in 1..109")
    run_list = [runs] if isinstance(runs, numbers.Integral) and not isinstance(runs, bool) else runs
    if isinstance(run_list, np.ndarray):
        run_list = run_list.tolist()
    if isinstance(run_list, (str, bytes)) or not isinstance(run_list, Sequence) or not run_list:
        raise InvalidInputError(f"runs={runs!r} must be an integer or a non-empty list of integers in 1..14")
    bad = [
        r for r in run_list if isinstance(r, bool) or not isinstance(r, numbers.Integral) or not 1 <= r <= 14
    ]
    if bad:
        raise InvalidInputError(
            f"runs {bad} are not EEGMMIDB runs; use 1..14 (1 eyes open, 2 eyes closed, 3-14 motor tasks)"
        )
    from mne.datasets import eegbci

    paths = eegbci.load_data(
        int(subject), [int(r) for r in run_list], path=None if path is None else str(path), update_path=False
    )
    return [Path(p) for p in paths]
