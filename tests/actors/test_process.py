"""An actor process's collector settings: start-up objects frozen, collections spaced out."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from actors.process import GC_THRESHOLDS, tune_gc


@pytest.fixture
def restored_gc() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_tune_gc_freezes_what_start_up_made_and_spaces_collections(restored_gc: None) -> None:
    kept = [object() for _ in range(10)]
    tune_gc()
    assert gc.get_threshold() == GC_THRESHOLDS
    assert gc.get_freeze_count() >= len(kept)


def test_cycles_made_later_are_still_collected(restored_gc: None) -> None:
    tune_gc()

    class Node:
        other: object = None

    a, b = Node(), Node()
    a.other, b.other = b, a
    del a, b
    assert gc.collect() >= 2
