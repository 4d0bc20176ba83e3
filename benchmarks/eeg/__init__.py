"""EEG room benchmark: the learned restorer beside the room's classical cleaners and the untouched input.

Usage, from the repository root::

    python3 -m benchmarks.eeg [--data ../shared/data/eeg] [--eegdenoisenet DIR] [--quick] [--draws N]
                              [--seed S] [--finetune-steps N] [--out benchmarks/results/eeg.md]
    python3 -m benchmarks.eeg.checks [--edf ../shared/data/eeg/S001R01.edf] [--seed S] [--quick]
    python3 -m benchmarks.eeg.denoisenet DIR [--max-segments N] [--seed S] [--device cpu]
                                         [--out benchmarks/results/eegdenoisenet.md]

One module per concept:

* :mod:`.protocol` - the main semi-synthetic protocol: clean EEG (simulated, and real recordings'
  blink-free epochs) contaminated with EOG or EMG at EEGdenoiseNet SNRs, cleaned by every method,
  scored per 2 s epoch; its tables.
* :mod:`.sections` - what else the report says about the shipped model: settings (window overlap,
  posterior mean vs draws), speed, clean EEG in, generalisation, uncertainty coverage.
* :mod:`.checks` - does cleaning keep what scientists measure: occipital alpha power, an averaged
  ERP and, on a real recording, the blinks (measures from :mod:`wavediff.modalities.eeg.measures`).
* :mod:`.finetune` - the shipped model against itself fine-tuned on the user's other recordings
  (``wavediff train eeg --data DIR --init shipped``), on a recording neither saw.
* :mod:`.denoisenet` - EEGdenoiseNet's own protocol on its single-channel segments.
* ``__main__`` - the command line that assembles ``benchmarks/results/eeg.md``.

Every method compared is the untouched input, one of the room's classical cleaners
(:data:`wavediff.modalities.eeg.cleaners.CLEANERS`) or wavediff.
"""
