"""EEG room: artifact removal for real recordings, MNE objects in and out.

The adapter (:mod:`.adapter`) registers the ``"eeg"`` modality (I/O, tensors, restore). Beside it:
:mod:`.montage` (electrode positions from names), :mod:`.artifacts` (the field's corruptions),
:mod:`.metrics` (EEGdenoiseNet's metrics), :mod:`.measures` (downstream and blink measures),
:mod:`.baselines` and :mod:`.cleaners` (the classical methods, and the one list every comparison
uses), :mod:`.context` (what the model sees beside a channel), :mod:`.training` (training pools,
simulated or from the user's recordings) and :mod:`.demo`.
"""
