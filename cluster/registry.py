"""The registry: the one actor that owns the running topology.

Adding, removing or replacing an actor goes through it and is recorded on the tape first
(``ActorAdded``, ``ActorRemoved``, ``ConfigApplied``); a restarted registry folds those events
back into the topology and makes sure every actor in it exists. It also supervises: an actor
that keeps crashing is stopped and an alert is recorded instead of restarting it forever.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import ray

from actors.tape_access import StreamWriter, TapeFollower
from cluster.config import TapelineConfig
from cluster.spawn import spawn
from cluster.topology import (
    ActorSpec,
    Change,
    config_digest,
    desired,
    diff,
    native_bracket_venues,
)
from domain.events import (
    SYSTEM_STREAM,
    ActorAdded,
    ActorQuarantined,
    ActorReconfigured,
    ActorRemoved,
    ConfigApplied,
    Event,
)
from store import open_tape

log = logging.getLogger("tapeline.registry")

MAX_RESTARTS_IN_WINDOW = 5
RESTART_WINDOW_S = 60.0


def fold_topology(events: list[Event], into: dict[str, ActorSpec]) -> None:
    for e in events:
        if isinstance(e, ActorAdded):
            into[e.name] = ActorSpec(name=e.name, kind=e.kind, params=e.params)  # type: ignore[arg-type]
        elif isinstance(e, ActorReconfigured) and e.name in into:
            into[e.name] = into[e.name].model_copy(update={"params": e.params})
        elif isinstance(e, ActorRemoved):
            into.pop(e.name, None)


@ray.remote(max_restarts=-1, max_task_retries=-1)
class RegistryActor:
    def __init__(self, tape_url: str, namespace: str) -> None:
        self.tape_url = tape_url
        self.namespace = namespace
        self.tape = open_tape(tape_url)
        self.writer = StreamWriter(self.tape, "registry")
        self.topology: dict[str, ActorSpec] = {}
        self.follower = TapeFollower(self.tape, ("ActorAdded", "ActorRemoved", "ActorReconfigured"))
        self.follower.drain(lambda e: fold_topology([e], self.topology))
        self.handles: dict[str, Any] = {}
        self.restarts: dict[str, list[float]] = {}
        self.seen_restarts: dict[str, int] = {}
        self.quarantined: set[str] = set()
        self._supervisor: asyncio.Task[None] | None = None

    # topology --------------------------------------------------------------------------------

    def _record(self, events: list[Event]) -> None:
        self.writer.append(events)

    def _meta(self) -> Any:
        return self.writer.meta()

    def _handle(self, name: str) -> Any | None:
        try:
            return ray.get_actor(name, namespace=self.namespace)
        except ValueError:
            return None

    async def ensure(self) -> list[str]:
        """Create every actor of the topology that is not running (after a registry restart)."""
        created = []
        for spec in sorted(self.topology.values(), key=lambda s: s.name):
            if spec.name in self.quarantined:
                continue
            handle = self._handle(spec.name)
            if handle is None:
                handle = spawn(spec, self.tape_url, self.namespace)
                created.append(spec.name)
            self.handles[spec.name] = handle
        await self._wire()
        return created

    async def _wire(self) -> None:
        """Market data feeds every gateway and strategy; risk managers recover."""
        md = self.handles.get("market_data")
        waits = []
        if md is not None:
            for name, handle in self.handles.items():
                if name.startswith(("gateway.", "strategy.", "risk.")):
                    waits.append(md.subscribe.remote(name, handle))
        for name, handle in self.handles.items():
            if name.startswith("risk."):
                waits.append(handle.recover.remote())
            if name == "projector":
                waits.append(handle.start.remote())
        if waits:
            await asyncio.gather(*waits)

    async def _execute(self, changes: list[Change]) -> None:
        events: list[Event] = []
        head = self.writer.head(SYSTEM_STREAM)
        for change in changes:
            meta = self._meta()
            if change.action == "reconfigure" and change.spec is not None:
                events.append(
                    ActorReconfigured(
                        **meta.envelope(SYSTEM_STREAM, head + len(events) + 1),
                        name=change.name,
                        params=change.spec.recorded().params,
                    )
                )
                continue
            if change.action in ("remove", "replace"):
                events.append(
                    ActorRemoved(
                        **meta.envelope(SYSTEM_STREAM, head + len(events) + 1),
                        name=change.name,
                        reason="replaced" if change.action == "replace" else "requested",
                    )
                )
            if change.spec is not None:
                events.append(
                    ActorAdded(
                        **meta.envelope(SYSTEM_STREAM, head + len(events) + 1),
                        name=change.name,
                        kind=change.spec.kind,
                        params=change.spec.recorded().params,
                    )
                )
        self._record(events)  # the change is a fact before it happens
        fold_topology(events, self.topology)
        for change in changes:  # keep the real parameters (with secrets) in memory only
            if change.spec is not None:
                self.topology[change.name] = change.spec
        for change in changes:
            if change.action in ("remove", "replace"):
                await self._stop(change.name)
        for change in changes:
            if change.action == "reconfigure" and change.spec is not None:
                handle = self.handles.get(change.name) or self._handle(change.name)
                if handle is not None:
                    await handle.apply_config.remote(change.spec.params.get("config", {}))
            elif change.spec is not None:
                self.handles[change.name] = spawn(change.spec, self.tape_url, self.namespace)
                self.quarantined.discard(change.name)
        await self._wire()

    async def _stop(self, name: str) -> None:
        md = self.handles.get("market_data")
        if md is not None and name != "market_data":
            await md.unsubscribe.remote(name)
        handle = self.handles.pop(name, None) or self._handle(name)
        if handle is not None:
            ray.kill(handle, no_restart=True)
            # wait until the name is free, so a replacement can take it
            for _ in range(100):
                if self._handle(name) is None:
                    break
                await asyncio.sleep(0.05)

    async def plan(self, cfg: dict[str, Any]) -> list[str]:
        wanted = desired(TapelineConfig.model_validate(cfg))
        return [c.describe() for c in diff(self.topology, wanted)]

    async def apply(self, cfg: dict[str, Any]) -> list[str]:
        """Make the running topology what ``cfg`` describes; returns the changes made."""
        config = TapelineConfig.model_validate(cfg)
        wanted = desired(config)
        changes = diff(self.topology, wanted)
        for name, spec in wanted.items():  # unchanged: keep the real parameters (secrets) in
            if name in self.topology:  # memory, not the redacted tape record
                self.topology[name] = spec
        await self._execute(changes)
        lines = [c.describe() for c in changes]
        head = self.writer.head(SYSTEM_STREAM)
        self._record(
            [
                ConfigApplied(
                    **self._meta().envelope(SYSTEM_STREAM, head + 1),
                    digest=config_digest(config),
                    changes=lines,
                )
            ]
        )
        return lines

    def _with_defaults(self, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        """Fill what a new actor needs from the running topology (venues for a risk profile,
        and which of them hold bracket children natively)."""
        out = dict(params)
        if kind == "risk":
            gateways = sorted(n.split(".", 1)[1] for n in self.topology if n.startswith("gateway."))
            out.setdefault("venues", gateways)
            out.setdefault("default_venue", gateways[0] if gateways else "paper")
            out.setdefault("config", {})
            out.setdefault("native_bracket_venues", native_bracket_venues(self.topology.values()))
        if kind == "strategy":
            out.setdefault("class", "domain.strategies.ma_cross:MACrossover")
            out.setdefault("params", {})
            out.setdefault("risk", "main")
            out.setdefault("instruments", None)
        return out

    async def add(self, kind: str, name: str, params: dict[str, Any]) -> str:
        spec = ActorSpec(name=name, kind=kind, params=self._with_defaults(kind, params))  # type: ignore[arg-type]
        if name in self.topology:
            raise ValueError(f"an actor named {name!r} is already running")
        await self._execute([Change(action="add", name=name, spec=spec)])
        return name

    async def remove(self, name: str) -> str:
        if name not in self.topology:
            raise ValueError(f"no actor named {name!r}; see `tapeline actors list`")
        await self._execute([Change(action="remove", name=name)])
        return name

    # observation and supervision ---------------------------------------------------------------

    def _records(self) -> dict[str, dict[str, Any]]:
        """Ray's record (state, node, restarts) of each topology actor, found by actor id: the
        GCS actor table carries no namespace, and other namespaces may reuse our names."""
        import ray._private.state as gcs

        by_id = {a.get("ActorID"): a for a in gcs.actors().values()}
        out = {}
        for name in self.topology:
            handle = self.handles.get(name) or self._handle(name)
            info = by_id.get(handle._actor_id.hex()) if handle is not None else None
            if info is not None:
                out[name] = info
        return out

    async def list(self) -> list[dict[str, Any]]:
        table = self._records()
        rows = []
        for name, spec in sorted(self.topology.items()):
            info = table.get(name, {})
            row = {
                "name": name,
                "kind": spec.kind,
                "node": (info.get("Address") or {}).get("NodeID", "")[:12],
                "state": "QUARANTINED" if name in self.quarantined else info.get("State", "?"),
                "restarts": info.get("NumRestarts", 0),
                "lag": None,
            }
            handle = self.handles.get(name)
            if info.get("State") == "ALIVE" and hasattr(handle, "stats"):  # market data has none
                try:
                    stats = await asyncio.wait_for(handle.stats.remote(), timeout=2)
                    row["lag"] = stats.get("lag")
                except Exception:
                    row["state"] = "UNRESPONSIVE"
            rows.append(row)
        return rows

    async def start_supervision(self, interval_s: float = 2.0) -> None:
        if self._supervisor is None:
            self._supervisor = asyncio.get_running_loop().create_task(self._supervise(interval_s))

    async def _supervise(self, interval_s: float) -> None:
        while True:
            try:
                await self.check_restarts()
            except Exception:
                log.exception("supervision pass failed")
            await asyncio.sleep(interval_s)

    async def check_restarts(self) -> list[str]:
        """Quarantine actors that restarted too often within the window; returns their names."""
        now = time.monotonic()
        stopped = []
        restarted = False
        for name, a in self._records().items():
            if name in self.quarantined:
                continue
            count = int(a.get("NumRestarts", 0))
            new = count - self.seen_restarts.get(name, count)
            self.seen_restarts[name] = count
            window = [t for t in self.restarts.get(name, []) if now - t < RESTART_WINDOW_S]
            window += [now] * max(new, 0)
            self.restarts[name] = window
            if len(window) > MAX_RESTARTS_IN_WINDOW and name not in self.quarantined:
                self.quarantined.add(name)
                await self._stop(name)
                self._record_alert(name, len(window))
                stopped.append(name)
            elif new > 0:
                restarted = True
        if restarted:
            await self._wire()  # a restarted market data actor has lost its subscribers
        return stopped

    def _record_alert(self, name: str, restarts: int) -> None:
        head = self.writer.head(SYSTEM_STREAM)
        event = ActorQuarantined(
            **self._meta().envelope(SYSTEM_STREAM, head + 1),
            name=name,
            restarts=restarts,
            window_s=RESTART_WINDOW_S,
        )
        self._record([event])

    async def stats(self) -> dict[str, Any]:
        return {"actors": len(self.topology), "quarantined": sorted(self.quarantined), "lag": 0}
