"""Projection actor: keeps the read models current by following the tape.

The fold is ``projections`` code, the same one a replay runs. ``record`` writes what the live
projections hold (state and digest, with the tape position they reflect) as
``ProjectionRecorded``, so ``tapeline replay --verify`` can later prove a rebuild agrees.
"""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from typing import Any

import ray

from actors.tape_access import StreamWriter, TapeFollower
from domain.events import ProjectionRecorded, projection_stream
from projections.default import default_bundle
from store import open_tape

log = logging.getLogger("tapeline.projector")


@ray.remote(max_restarts=-1, max_task_retries=-1)
class ProjectorActor:
    def __init__(self, tape_url: str, starting_cash: str, poll_interval_s: float = 0.05) -> None:
        self.tape = open_tape(tape_url)
        self.writer = StreamWriter(self.tape, "projector")
        self.bundle = default_bundle(Decimal(starting_cash))
        self.follower = TapeFollower(self.tape, tuple(sorted(self.bundle.topics)))
        self.poll_interval_s = poll_interval_s
        self._task: asyncio.Task[None] | None = None
        self.follower.drain(self.bundle.apply)

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._follow())

    async def _follow(self) -> None:
        while True:
            try:
                self.follower.drain(self.bundle.apply)
            except Exception:
                log.exception("projection follower failed; retrying")
            await asyncio.sleep(self.poll_interval_s)

    async def catch_up(self) -> int:
        self.follower.drain(self.bundle.apply)
        return self.follower.position

    async def lag(self) -> int:
        return self.follower.lag()

    async def position(self) -> int:
        return self.follower.position

    async def state(self) -> dict[str, Any]:
        return self.bundle.state()

    async def record(self) -> dict[str, str]:
        """Catch up, then record every projection's state and digest on the tape."""
        through = self.tape.max_position()
        self.follower.drain(self.bundle.apply, stop=through)
        events = []
        digests = {}
        for name, state in self.bundle.state().items():
            stream = projection_stream(name)
            digest = self.bundle[name].digest()
            digests[name] = digest
            envelope = self.writer.meta().envelope(stream, self.writer.next_version(stream))
            events.append(
                ProjectionRecorded(
                    **envelope,
                    projection=name,
                    through_position=through,
                    digest=digest,
                    state=state,
                )
            )
        self.writer.append(events)
        return digests
