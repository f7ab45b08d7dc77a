"""The tape is tamper-evident: each event's hash covers its stream predecessor's."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from store import open_tape
from store.tape import verify_chain
from tests.store.test_tape_contract import bar


def _tape(tmp_path: Path):
    tape = open_tape(f"sqlite:///{tmp_path}/tape.sqlite")
    tape.append([bar(v) for v in range(1, 4)])
    tape.append([bar(4), bar(1, instrument="ETH-USDT")])
    tape.append([bar(5)])
    return tape


def test_untouched_tape_verifies(tmp_path: Path) -> None:
    with _tape(tmp_path) as tape:
        assert verify_chain(tape) == []


def test_a_restarted_writer_continues_the_chain(tmp_path: Path) -> None:
    _tape(tmp_path).close()
    with open_tape(f"sqlite:///{tmp_path}/tape.sqlite") as tape:
        tape.append([bar(6)])
        assert verify_chain(tape) == []


def test_edited_event_is_named_as_first_broken_link(tmp_path: Path) -> None:
    _tape(tmp_path).close()
    db = sqlite3.connect(tmp_path / "tape.sqlite")
    (state,) = db.execute(
        "SELECT state FROM stored_events WHERE originator_id='bars.paper.BTC-USDT' "
        "AND originator_version=2"
    ).fetchone()
    db.execute(
        "UPDATE stored_events SET state=? WHERE originator_id='bars.paper.BTC-USDT' "
        "AND originator_version=2",
        (state.replace(b'"close":"101.5"', b'"close":"999.5"'),),
    )
    db.commit()
    db.close()
    with open_tape(f"sqlite:///{tmp_path}/tape.sqlite") as tape:
        problems = verify_chain(tape)
    assert problems == ["stream bars.paper.BTC-USDT: first broken link at version 2 (position 2)"]


def test_deleted_event_is_named(tmp_path: Path) -> None:
    _tape(tmp_path).close()
    db = sqlite3.connect(tmp_path / "tape.sqlite")
    db.execute(
        "DELETE FROM stored_events WHERE originator_id='bars.paper.BTC-USDT' "
        "AND originator_version=3"
    )
    db.commit()
    db.close()
    with open_tape(f"sqlite:///{tmp_path}/tape.sqlite") as tape:
        problems = verify_chain(tape)
    assert problems == ["stream bars.paper.BTC-USDT: first broken link at version 4 (position 4)"]
