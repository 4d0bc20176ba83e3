"""The project's benchmarks: every quality claim of a README comes from one of these.

Each prints a markdown table of the learned model beside the classical baseline and the untouched
input, on the same data, and writes it to ``benchmarks/results/<name>.md`` behind a provenance block
(:func:`wavediff.report.provenance`). Run them from the repository root: ``python3 -m benchmarks.eeg``,
``python3 benchmarks/engine.py``.
"""
