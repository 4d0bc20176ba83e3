"""EEG room: artifact removal for real recordings, MNE objects in and out.

The adapter (:mod:`.adapter`) registers the ``"eeg"`` modality; :mod:`.artifacts` simulates the field's
corruptions, :mod:`.metrics` holds the EEGdenoiseNet metrics and :mod:`.baselines` the classical methods.
"""
