"""EEG data for the EEG room: a physiological simulator and recipes for two public data sets.

Simulator
---------
:func:`simulate_raw` returns an :class:`mne.io.RawArray` (EEG channels, volts, montage set, average
reference) and :func:`simulate_epochs` a ``(n_epochs, n_channels, n_times)`` array of independent
segments for training; :class:`ERP` and :func:`add_erp` add an event-related component of known
latency and amplitude. Both run offline and are reproducible from a :class:`numpy.random.Generator`.

* :mod:`.simulator` - the rhythms, the 1/f background, sensor noise, the input checks;
* :mod:`.head` - the montage layout, the sphere fitted to it, MNE forward-model gains and the dipole
  sources (:data:`DEFAULT_CH_NAMES`: the 19 channels of the 10-20 system);
* :mod:`.erp` - event-related potentials.

Data sets
---------
* :func:`fetch_eegmmidb` (:mod:`.eegmmidb`) - PhysioNet EEG Motor Movement/Imagery (EEGBCI) EDF files
  through :func:`mne.datasets.eegbci.load_data` (64 channels, 160 Hz, 109 subjects, 14 runs each).
* :func:`fetch_eegdenoisenet`, :func:`load_eegdenoisenet`, :func:`eegdenoisenet_split`
  (:mod:`.eegdenoisenet`) - EEGdenoiseNet (Zhang et al. 2021, J. Neural Eng. 18:056057): 4514 clean
  EEG, 3400 EOG and 5598 EMG single-channel segments of 2 s at 256 Hz (512 samples), with the
  benchmark's 80/10/10 split.

Every public name is importable from here (``from wavediff.datasets.eeg import simulate_raw``); code
that replaces one for a test patches this package's attribute (``wavediff.datasets.eeg.simulate_epochs``),
which is what callers look up.

Examples
--------
>>> raw = simulate_raw(n_seconds=4.0, rng=0)
>>> raw.ch_names[:4], raw.info["sfreq"], raw.get_data().shape
(['Fp1', 'Fp2', 'F7', 'F3'], 256.0, (19, 1024))
>>> bool(5e-6 < raw.get_data().std() < 1e-4)  # tens of microvolts, in volts
True
"""

from wavediff.errors import DataNotFoundError

from .eegdenoisenet import (
    EEGDENOISENET_COMMIT,
    EEGDENOISENET_FILES,
    EEGDENOISENET_HASHES_VERIFIED_HERE,
    EEGDENOISENET_SFREQ,
    eegdenoisenet_split,
    fetch_eegdenoisenet,
    load_eegdenoisenet,
)
from .eegmmidb import fetch_eegmmidb
from .erp import ERP, add_erp
from .head import DEFAULT_CH_NAMES
from .simulator import simulate_epochs, simulate_raw

__all__ = [
    "DEFAULT_CH_NAMES",
    "ERP",
    "simulate_raw",
    "simulate_epochs",
    "add_erp",
    "fetch_eegmmidb",
    "EEGDENOISENET_COMMIT",
    "EEGDENOISENET_FILES",
    "EEGDENOISENET_HASHES_VERIFIED_HERE",
    "EEGDENOISENET_SFREQ",
    "fetch_eegdenoisenet",
    "load_eegdenoisenet",
    "eegdenoisenet_split",
    "DataNotFoundError",
]
