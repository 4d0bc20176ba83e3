"""Modality rooms: one sub-package per scientific field (``eeg``, ``mri``, ``ct``, ``speech``, ``hsi``,
``seismic``, ``pde``). Each holds ``adapter.py`` (a :class:`wavediff.Modality` registered with
:func:`wavediff.register_modality`), ``recipe.toml``, the shipped weights and a README. Rooms share
nothing with each other and import only the engine's public names.
"""
