"""Snapshots are a cache beside the tape: only the newest few are kept."""

from __future__ import annotations

import pytest

from store.tape import Tape


def test_prune_keeps_the_newest(tape: Tape, request: pytest.FixtureRequest) -> None:
    for position in (10, 20, 30, 40):
        tape.save_snapshot("projector", position, f"state@{position}".encode(), keep=10)
    tape.save_snapshot("risk.main", 15, b"other")
    gone = tape.prune_snapshots("projector", keep=2)
    assert tape.latest_snapshot("projector") == (40, b"state@40")
    assert tape.latest_snapshot("risk.main") == (15, b"other")  # another name is untouched
    if "memory" in request.node.callspec.id:
        assert gone == 0  # an in-memory tape keeps its snapshots
        return
    assert gone == 2
    assert tape.prune_snapshots("projector", keep=2) == 0
    tape.save_snapshot("projector", 50, b"state@50", keep=10)
    assert tape.prune_snapshots("projector", keep=1) == 2
    assert tape.latest_snapshot("projector") == (50, b"state@50")
    for position in (60, 70, 80):
        tape.save_snapshot("projector", position, b"s")  # keeps the newest two by default
    assert tape.prune_snapshots("projector", keep=2) == 0
    assert tape.latest_snapshot("projector") == (80, b"s")
