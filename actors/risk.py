"""Risk manager actor: the Ray shell around ``actors.risk_manager.RiskManager``.

It resolves gateways by name, keeps a poller folding the tape between bars and signals, asks
market data for every bar, and exposes the control calls the CLI uses (halt, resume, reduce-only,
apply_config). A Ray restart keeps the configuration the tape holds (``tapeline apply`` may have
changed it since the actor was created); a fresh start records the configured one if it differs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from uuid import UUID

import ray

from actors.process import tune_gc
from actors.risk_manager import RiskManager
from actors.wire import pack
from domain.events import OrderIntentApproved, SignalReceived
from domain.risk.config import TradingState
from store import open_tape

log = logging.getLogger("tapeline.risk")


class _RayGateway:
    def __init__(self, handle: Any) -> None:
        self.handle = handle

    async def submit(self, intent: OrderIntentApproved) -> str:
        return str(await self.handle.submit.remote(intent))

    async def submit_many(self, intents: list[OrderIntentApproved]) -> list[str]:
        """The whole batch in one call (one append of its orders at the gateway), the
        approvals as tape rows (``actors.wire``)."""
        return [str(s) for s in await self.handle.submit_rows.remote(pack(intents))]

    async def cancel(self, client_order_id: str, reason: str) -> str:
        return str(await self.handle.cancel.remote(client_order_id, reason))


@ray.remote(max_restarts=-1, max_task_retries=-1)
class RiskActor:
    def __init__(
        self,
        name: str,
        config: dict[str, Any],
        tape_url: str,
        venues: list[str],
        default_venue: str,
        sources: list[str] | None = None,
        namespace: str | None = None,
        native_bracket_venues: list[str] | None = None,
        poll_interval_s: float = 0.25,
    ) -> None:
        started = time.time()
        self.namespace = namespace
        self.gateways: dict[str, _RayGateway] = {}
        self.poll_interval_s = poll_interval_s
        self._poller: asyncio.Task[None] | None = None
        self._subscribed = False
        restarted = ray.get_runtime_context().was_current_actor_reconstructed
        self.manager = RiskManager(
            name,
            config,
            open_tape(tape_url),
            venues,
            default_venue,
            self._gateway,
            sources=sources,
            apply_configured=not restarted,  # a restart keeps what `apply` recorded since
            native_bracket_venues=native_bracket_venues or (),
        )
        self.started = {"init_started": started, "init_s": time.time() - started}
        tune_gc()

    def _gateway(self, venue: str) -> _RayGateway:
        gateway = self.gateways.get(venue)
        if gateway is None:
            handle = ray.get_actor(f"gateway.{venue}", namespace=self.namespace)
            gateway = self.gateways[venue] = _RayGateway(handle)
        return gateway

    def _ensure_poller(self) -> None:
        """Between bars and signals, keep folding fills (breaches, brackets) on our own."""
        if self._poller is None or self._poller.done():
            self._poller = asyncio.get_running_loop().create_task(self._poll())

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_interval_s)
            try:
                await self.manager.step()
            except Exception:
                log.exception("risk.poll_failed", extra={"profile": self.manager.name})

    async def on_signal(self, event: SignalReceived) -> str:
        self._ensure_poller()
        return await self.manager.on_signal(event)

    async def on_signals(self, events: list[SignalReceived]) -> list[str]:
        """Decide a batch of recorded signals with one tape append (outcomes in order)."""
        self._ensure_poller()
        return await self.manager.on_signals(events)

    async def on_recorded(self, signal_ids: list[bytes]) -> list[str]:
        """``on_signals`` for durable signals named by their event ids (16 bytes each): the
        manager takes them from the tape, so the ingress sends no events over Ray."""
        self._ensure_poller()
        return await self.manager.on_recorded([UUID(bytes=i) for i in signal_ids])

    async def recover(self) -> int:
        self._ensure_poller()
        await self._subscribe()
        return await self.manager.recover()

    async def _subscribe(self) -> None:
        """Ask market data for every bar (after the gateways, so a bar's fills come first)."""
        if self._subscribed:
            return
        try:
            md = ray.get_actor("market_data", namespace=self.namespace)
        except ValueError:
            return  # none yet: the poller folds bars meanwhile
        me = ray.get_runtime_context().current_actor
        await md.subscribe.remote(f"risk.{self.manager.name}", me)
        self._subscribed = True

    async def on_bars(self, bars: list[Any]) -> int:
        """Market data subscription: the bars are on the tape already; fold and act on them."""
        self._ensure_poller()
        return await self.manager.step()

    async def halt(self, reason: str = "halted by hand", cancel_open_orders: bool = False) -> dict:
        return await self.manager.change_state(TradingState.HALTED, reason, cancel_open_orders)

    async def resume(self, reason: str = "resumed by hand") -> dict[str, Any]:
        return await self.manager.change_state(TradingState.ACTIVE, reason)

    async def reduce_only(
        self, reason: str = "reducing by hand", cancel_open_orders: bool = False
    ) -> dict[str, Any]:
        return await self.manager.change_state(TradingState.REDUCING, reason, cancel_open_orders)

    async def apply_config(self, config: dict[str, Any]) -> str:
        return self.manager.apply_config(config)

    async def stats(self) -> dict[str, Any]:
        self.manager.sync()
        return {**self.manager.status(), **self.started}
