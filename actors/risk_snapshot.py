"""Snapshots of a risk profile's folded state, so a restart folds only the tape after one.

A snapshot is a cache beside the tape, never a fact: losing or refusing one only costs a longer
replay. It is saved under ``risk.<profile>`` with the tape position it reflects, through the
safe codec (no code runs on decoding; events and the configuration are validated again).

It carries a key, and a snapshot whose key differs is ignored. The key covers the snapshot
format, the code that folds (the view, brackets, configuration, the manager, this module, the
codec: any change to them means a full replay once), and what the fold depends on besides the
tape (the profile's stream, its signal sources, the venues that hold brackets natively). A
snapshot that does not decode, has the wrong shape, or claims a position past the tape's end is
ignored too.

What is stored is what a full fold of the tape up to that position holds, not what the live
manager has consumed since: every bracket action and cancel request folded so far (pruned to
those that can still do something), and approvals whose submission is in flight count as
unsubmitted. So a restart from a snapshot does what a restart from the whole tape would do.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any
from uuid import UUID

from actors.snapshot_budget import SNAPSHOT_DUTY as SNAPSHOT_DUTY
from domain.events import OrderIntentApproved, SignalReceived
from domain.risk.brackets import BracketAction, BracketBook, CancelChild
from domain.risk.view import RiskView
from store import Tape, snapshot_codec

log = logging.getLogger("tapeline.risk")

SNAPSHOT_FORMAT = 1
SNAPSHOT_EVERY = 10_000
"""Tape positions between snapshots: at a modest pace, a restart folds at most about this many
events (under a heavy load, ``actors.snapshot_budget`` spaces them further)."""
clock = time.monotonic

FOLDED = (
    "view",
    "book",
    "decided",
    "undecided",
    "unsubmitted",
    "venue_of",
    "cancel_requested",
    "parents",
    "approved",
    "emitted",
)
"""The manager's attributes a snapshot holds (all of its state that the tape determines)."""

_TYPES: dict[str, type | tuple[type, ...]] = {
    "view": RiskView,
    "book": BracketBook,
    "decided": set,
    "undecided": dict,
    "unsubmitted": dict,
    "venue_of": dict,
    "cancel_requested": dict,
    "parents": dict,
    "approved": set,
    "emitted": list,
}
_CODE = (
    "domain.risk.view",
    "domain.risk.brackets",
    "domain.risk.config",
    "actors.risk_manager",
    "actors.risk_fold",
    "actors.risk_snapshot",
    "store.snapshot_codec",
)


def snapshot_name(profile: str) -> str:
    return f"risk.{profile}"


@cache
def code_digest() -> str:
    """A digest of the modules whose code decides what the fold holds."""
    import importlib

    h = hashlib.sha256(f"format {SNAPSHOT_FORMAT}".encode())
    for name in _CODE:
        module = importlib.import_module(name)
        h.update(name.encode())
        h.update(Path(str(module.__file__)).read_bytes())
    return h.hexdigest()


def snapshot_key(stream: str, sources: Iterable[str] | None, native_venues: Iterable[str]) -> str:
    """What a snapshot must match to be used by a manager configured like this."""
    h = hashlib.sha256(code_digest().encode())
    h.update(f"|stream {stream}".encode())
    h.update(f"|sources {sorted(sources) if sources is not None else '*'}".encode())
    h.update(f"|native {sorted(native_venues)}".encode())
    return h.hexdigest()


def outstanding(
    actions: Iterable[BracketAction], approved: set[str], pending: Mapping[str, Any]
) -> list[BracketAction]:
    """The bracket actions that can still do something: children not yet approved, cancels of
    orders not known to be closed. The others are no-ops now and forever."""
    out: list[BracketAction] = []
    for action in actions:
        coid = action.client_order_id
        if isinstance(action, CancelChild):
            if coid in pending or coid not in approved:
                out.append(action)
        elif coid not in approved:
            out.append(action)
    return out


def prune(state: dict[str, Any]) -> dict[str, Any]:
    """``state`` (the ``FOLDED`` attributes) without what can never matter again: venues and
    cancel requests of closed orders, finished bracket actions, parents of closed brackets."""
    view: RiskView = state["view"]
    book: BracketBook = state["book"]
    emitted = outstanding(state["emitted"], state["approved"], view.pending)
    keep_parents = set(book.brackets) | {a.parent_client_order_id for a in emitted}
    return {
        **state,
        "venue_of": {k: v for k, v in state["venue_of"].items() if k in view.pending},
        "cancel_requested": {
            k: v for k, v in state["cancel_requested"].items() if k in view.pending
        },
        "parents": {k: v for k, v in state["parents"].items() if k in keep_parents},
        "emitted": emitted,
    }


def encode(key: str, state: dict[str, Any]) -> bytes:
    body = prune(state)
    return snapshot_codec.dumps({"format": SNAPSHOT_FORMAT, "key": key, "state": body})


def decode(blob: bytes, key: str) -> dict[str, Any] | None:
    """The state in ``blob`` when it was saved by a manager like this one; None otherwise."""
    try:
        doc = snapshot_codec.loads(blob)
    except Exception as exc:  # any undecodable snapshot is only a cache miss
        log.warning("risk.snapshot_unusable", extra={"error": type(exc).__name__})
        return None
    if not isinstance(doc, dict) or doc.get("format") != SNAPSHOT_FORMAT or doc.get("key") != key:
        log.info("risk.snapshot_stale")
        return None
    state = doc.get("state")
    if not isinstance(state, dict) or not _well_formed(state):
        log.warning("risk.snapshot_malformed")
        return None
    return state


def _well_formed(state: dict[str, Any]) -> bool:
    if set(state) != set(FOLDED):
        return False
    if not all(isinstance(state[k], t) for k, t in _TYPES.items()):
        return False
    return all(
        isinstance(k, UUID) and isinstance(v, SignalReceived) for k, v in state["undecided"].items()
    ) and all(
        isinstance(v, OrderIntentApproved)
        for v in (*state["unsubmitted"].values(), *state["parents"].values())
    )


def capture(manager: Any) -> dict[str, Any]:
    """What a full fold of the tape up to ``manager.follower.position`` holds: the ``FOLDED``
    attributes, with approvals whose submission is in flight still unsubmitted."""
    state = {name: getattr(manager, name) for name in FOLDED}
    state["unsubmitted"] = {**manager.unsubmitted, **manager.submitting}
    return state


def restore(manager: Any) -> int:
    """Put the latest usable snapshot into ``manager`` (a fresh ``RiskManager``); returns the
    tape position to fold from (0 when there is none: the whole tape)."""
    found = load(manager.tape, manager.name, manager.snapshot_key)
    if found is None:
        return 0
    position, state = found
    for name in FOLDED:
        setattr(manager, name, state[name])
    manager.actions = list(manager.emitted)  # a full fold would act on them all again
    manager.to_cancel = dict(manager.cancel_requested)
    return position


def save_from(manager: Any) -> int | None:
    """Save what ``manager`` folded, with the tape position it reflects; returns that position
    (None while events it recorded are not folded yet: never right after a sync)."""
    if manager.awaiting:
        return None
    position = manager.follower.position
    state = prune(capture(manager))
    size = save(manager.tape, manager.name, position, manager.snapshot_key, state)
    for name in ("venue_of", "cancel_requested", "parents", "emitted"):
        setattr(manager, name, state[name])  # what can never matter again leaves memory too
    log.info("risk.snapshot_saved", extra={"profile": manager.name, "bytes": size})
    return int(position)


def save(tape: Tape, profile: str, position: int, key: str, state: dict[str, Any]) -> int:
    """Save ``state`` (folded through ``position``); returns the snapshot's size in bytes."""
    blob = encode(key, state)
    tape.save_snapshot(snapshot_name(profile), position, blob)
    return len(blob)


def load(tape: Tape, profile: str, key: str) -> tuple[int, dict[str, Any]] | None:
    """The latest usable snapshot of ``profile``: (position, state), or None."""
    found = tape.latest_snapshot(snapshot_name(profile))
    if found is None:
        return None
    position, blob = found
    if position > tape.max_position():
        log.warning("risk.snapshot_ahead_of_tape", extra={"position": position})
        return None
    state = decode(blob, key)
    return None if state is None else (position, state)
