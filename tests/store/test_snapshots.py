"""Snapshots of the read models: restore + the rest of the tape equals a full replay, and
decoding never builds anything outside the project's own read-model classes."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from projections.bundle import ProjectionBundle
from projections.default import default_bundle
from store import open_tape
from store.snapshot_codec import SnapshotError, dumps, loads
from tests.store.test_tape_contract import bar


def test_restore_then_fold_the_rest_equals_a_full_replay(tmp_path: Path) -> None:
    tape = open_tape(f"sqlite:///{tmp_path}/tape.sqlite")
    tape.append([bar(v, close=str(100 + v)) for v in range(1, 40)])
    full = default_bundle()
    tape.replay(full.apply)

    early = default_bundle()
    tape.replay(early.apply, stop=20)
    tape.save_snapshot("projector", 20, dumps(list(early.projections.values())))
    position, blob = tape.latest_snapshot("projector")
    restored = ProjectionBundle(loads(blob))
    tape.replay(restored.apply, after=position)
    assert restored.digests() == full.digests()
    tape.close()


@pytest.mark.parametrize(
    "payload",
    [
        {"$o": "os:system", "a": {}},
        {"$o": "builtins:eval", "a": {}},
        {"$e": "subprocess:Popen", "v": 1},
        {"$o": "projections.positions:<lambda>", "a": {}},
    ],
)
def test_foreign_classes_are_refused(payload: dict) -> None:
    with pytest.raises(SnapshotError):
        loads(orjson.dumps(payload))


def test_no_callables_are_stored() -> None:
    blob = dumps(list(default_bundle().projections.values()))
    assert b"_handlers" not in blob
