"""Several nodes need a tape that every node reaches."""

from __future__ import annotations

import pytest

from cluster.runtime import TapeNotShared, check_tape_reachable


def test_one_node_takes_any_tape() -> None:
    check_tape_reachable("sqlite:///var/tape.sqlite", 1)
    check_tape_reachable("memory://", 1)


def test_several_nodes_need_postgresql() -> None:
    check_tape_reachable("postgresql://u:p@db:5432/tapeline", 3)
    with pytest.raises(TapeNotShared, match="2 nodes but the tape is sqlite"):
        check_tape_reachable("sqlite:///var/tape.sqlite", 2)
