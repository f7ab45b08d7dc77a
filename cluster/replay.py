"""Rebuilding every projection from the tape, in one process, and checking it.

``verify`` looks for three kinds of trouble and says where: a stream whose versions have a gap,
an event whose hash no longer matches the chain of its stream (the tape was edited), and a
projection whose rebuilt state differs from what the live system recorded
(``ProjectionRecorded``) at the same tape position.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from domain.events import ProjectionRecorded
from projections.bundle import ProjectionBundle
from projections.default import default_bundle
from store import Tape
from store.tape import verify_chain


@dataclass
class ReplayResult:
    bundle: ProjectionBundle
    events: int
    position: int
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def rebuild(tape: Tape, starting_cash: Decimal, stop: int | None = None) -> ReplayResult:
    bundle = default_bundle(starting_cash)
    stop = tape.max_position() if stop is None else stop
    n = tape.replay(bundle.apply, stop=stop, topics=sorted(bundle.topics))
    return ReplayResult(bundle, n, stop)


def _diff(path: str, live: Any, rebuilt: Any, out: list[str], limit: int = 20) -> None:
    if len(out) >= limit or live == rebuilt:
        return
    if isinstance(live, dict) and isinstance(rebuilt, dict):
        for key in sorted(set(live) | set(rebuilt), key=str):
            _diff(f"{path}.{key}", live.get(key), rebuilt.get(key), out, limit)
        return
    if isinstance(live, list) and isinstance(rebuilt, list) and len(live) == len(rebuilt):
        for i, (a, b) in enumerate(zip(live, rebuilt, strict=True)):
            _diff(f"{path}[{i}]", a, b, out, limit)
        return
    out.append(f"{path}: recorded live {live!r}, rebuilt {rebuilt!r}")


def verify(tape: Tape, starting_cash: Decimal) -> ReplayResult:
    """Rebuild at each recorded checkpoint and compare; also check every stream for gaps."""
    problems = verify_chain(tape)  # names a version gap, or an edit, per stream
    checkpoints = [
        r.event
        for r in tape.iter_all(topics=["ProjectionRecorded"])
        if isinstance(r.event, ProjectionRecorded)
    ]
    latest: dict[str, ProjectionRecorded] = {}
    for cp in checkpoints:
        latest[cp.projection] = cp
    for through in sorted({cp.through_position for cp in latest.values()}):
        rebuilt = rebuild(tape, starting_cash, stop=through)
        for name, cp in latest.items():
            if cp.through_position != through:
                continue
            state = rebuilt.bundle.state().get(name)
            if state is None:
                problems.append(f"projection {name}: recorded live but unknown to this version")
                continue
            if rebuilt.bundle[name].digest() != cp.digest:
                diffs: list[str] = []
                _diff(name, cp.state, state, diffs)
                problems.append(
                    f"projection {name} differs from what was recorded live at position "
                    f"{through}: " + ("; ".join(diffs) or "digest differs")
                )
    result = rebuild(tape, starting_cash)
    result.problems = problems
    if not latest:
        result.notes.append("no recorded projection state on the tape: only streams were checked")
    else:
        result.notes.append(f"compared {len(latest)} recorded projections")
    return result
