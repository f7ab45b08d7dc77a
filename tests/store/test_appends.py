"""Appends on every backend: chain heads found on the tape, several writers, and durability."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from domain.events import BarClosed
from store import ConcurrencyConflict, Tape, open_tape
from store.tape import verify_chain
from tests.store.conftest import tape_url
from tests.store.test_tape_contract import bar

ROOT = Path(__file__).resolve().parents[2]
INSTRUMENTS = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT")


def second_writer(tape: Tape) -> Tape:
    if tape.url.startswith("memory"):
        pytest.skip("every memory:// tape is a store of its own")
    return open_tape(tape.url)


def test_one_append_continues_many_streams_recorded_by_another_writer(tape: Tape) -> None:
    tape.append([bar(v, instrument=i) for i in INSTRUMENTS for v in (1, 2)])
    with second_writer(tape) as other:  # knows no chain head: finds them all on the tape
        positions = other.append([bar(3, instrument=i) for i in INSTRUMENTS])
        assert positions == sorted(positions) and positions[0] > 8
        assert verify_chain(other) == []
    assert [r.position for r in tape.read(8, 100)] == positions


def test_writers_taking_turns_on_one_stream_keep_the_chain(tape: Tape) -> None:
    with second_writer(tape) as other:
        tape.append([bar(1)])
        other.append([bar(2)])
        tape.append([bar(3), bar(4)])  # its own head (version 1) is stale: read from the tape
        other.append([bar(5)])
        assert verify_chain(tape) == []
        assert [r.event.version for r in other.read(0, 10)] == [1, 2, 3, 4, 5]


def test_a_refused_append_leaves_the_chain_whole(tape: Tape) -> None:
    tape.append([bar(1), bar(2)])
    with pytest.raises(ConcurrencyConflict):
        tape.append([bar(1, instrument="ETH-USDT"), bar(2, close="7")])
    assert [r.event.version for r in tape.read(0, 10)] == [1, 2]
    tape.append([bar(3)])
    tape.append([bar(1, instrument="ETH-USDT")])
    assert verify_chain(tape) == []
    assert len(tape.read(0, 10)) == 4


def test_positions_are_the_global_order(tape: Tape) -> None:
    first = tape.append([bar(1), bar(1, instrument="ETH-USDT")])
    second = tape.append([bar(2), bar(3), bar(2, instrument="ETH-USDT")])
    recorded = tape.read(0, 10)
    assert [r.position for r in recorded] == first + second
    assert [(r.event.instrument, r.event.version) for r in recorded] == [
        ("BTC-USDT", 1),
        ("ETH-USDT", 1),
        ("BTC-USDT", 2),
        ("BTC-USDT", 3),
        ("ETH-USDT", 2),
    ]


def test_an_append_that_returned_survives_the_process_being_killed(tmp_path: Path) -> None:
    url = tape_url("sqlite", tmp_path)
    child = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path.insert(0, {str(ROOT)!r})
        from store import open_tape
        from tests.store.test_tape_contract import bar
        tape = open_tape({url!r})
        tape.append([bar(v) for v in range(1, 51)])
        tape.append([bar(51)])
        os.kill(os.getpid(), signal.SIGKILL)  # no close, no checkpoint, no clean exit
        """
    )
    done = subprocess.run([sys.executable, "-c", child], timeout=120, check=False)
    assert done.returncode == -9
    with open_tape(url) as tape:
        events = [r.event for r in tape.read(0, 100)]
        assert len(events) == 51 and all(isinstance(e, BarClosed) for e in events)
        assert verify_chain(tape) == []
        tape.append([bar(52)])
        assert verify_chain(tape) == []
