"""The ``_single_thread`` fixture, for test modules whose nets and tensors are tiny.

Import it into a test module (``from _threads import _single_thread  # noqa: F401``); it is autouse and
module-scoped, so every test of that module runs with one intra-op torch thread.
"""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def _single_thread():
    """One intra-op thread: these nets and tensors are tiny, and two OpenMP threads on two busy CI cores can
    make a training step ten times slower (threads spin at barriers while their partner is descheduled)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
