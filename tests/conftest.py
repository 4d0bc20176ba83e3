"""Fixtures shared by the test modules."""

from __future__ import annotations

import pytest

import wavediff.modality as mod


@pytest.fixture
def registry():
    """Snapshot the modality registry and restore it (same dict objects) after the test."""
    # discover first: a room's adapter registers itself when its module is first imported, which
    # happens once per process, so a snapshot taken before discovery would lose it for later tests
    mod._discover()
    saved_registry = dict(mod._REGISTRY)
    saved_failed = dict(mod._FAILED)
    saved_discovered = mod._DISCOVERED
    try:
        yield mod._REGISTRY
    finally:
        mod._REGISTRY.clear()
        mod._REGISTRY.update(saved_registry)
        mod._FAILED.clear()
        mod._FAILED.update(saved_failed)
        mod._DISCOVERED = saved_discovered


@pytest.fixture
def empty_registry(registry):
    """An empty registry with discovery marked as done: only what the test registers exists."""
    mod._REGISTRY.clear()
    mod._FAILED.clear()
    mod._DISCOVERED = True
    return registry
