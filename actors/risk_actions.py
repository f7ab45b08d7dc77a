"""What the risk manager does on the tape besides deciding: it hands single approvals on, sends
bracket exits and cancels the children of closed brackets, and asks the gateways for the
cancels a halt requested.

A mixin of ``actors.risk_manager.RiskManager``, like the gateway's ``OrderFlow``: it uses the
manager's view, books, writer and gateways. Nothing leaves while trading is halted except
cancels; what was held back is sent on resume.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from actors.risk_batch import Gateway
from actors.tape_access import StreamWriter
from domain.events import Event, OrderIntentApproved
from domain.risk.brackets import BracketAction, CancelChild, child_approval
from domain.risk.config import TradingState
from domain.risk.view import RiskView


class RiskActions:
    """``_submit``, ``_act`` and ``_bracket`` of the risk manager."""

    view: RiskView
    writer: StreamWriter
    stream: str
    gateway_for: Callable[[str], Gateway]
    actions: list[BracketAction]
    to_cancel: dict[str, str]
    venue_of: dict[str, str]
    parents: dict[str, OrderIntentApproved]
    approved: set[str]
    unsubmitted: dict[UUID, OrderIntentApproved]
    submitting: dict[UUID, OrderIntentApproved]
    counts: dict[str, int]

    def sync(self) -> int: ...  # pragma: no cover - the manager's

    def _record(self, build: Callable[[int], list[Event]]) -> list[Event]: ...  # pragma: no cover

    def _venue(self, approval: OrderIntentApproved) -> str: ...  # pragma: no cover

    async def _submit(self, approval: OrderIntentApproved) -> str:
        venue = self._venue(approval)
        self.unsubmitted.pop(approval.event_id, None)
        self.submitting[approval.event_id] = approval  # unsubmitted, as far as a snapshot knows
        try:
            return await self.gateway_for(venue).submit(approval)
        except BaseException:
            self.unsubmitted.setdefault(approval.event_id, approval)  # retried by recover()
            raise
        finally:
            self.submitting.pop(approval.event_id, None)

    async def _act(self) -> int:
        n = 0
        queue, self.actions = self.actions, []
        deferred: list[BracketAction] = []
        try:
            while queue:
                action = queue.pop(0)
                if self.view.state is TradingState.HALTED and not isinstance(action, CancelChild):
                    deferred.append(action)  # nothing leaves while halted: sent on resume
                    continue
                n += await self._bracket(action)
        finally:
            self.actions[:0] = deferred + queue
        for coid, reason in list(self.to_cancel.items()):
            if coid not in self.view.pending:
                del self.to_cancel[coid]  # closed meanwhile (filled, canceled, rejected)
            elif coid in self.venue_of:
                del self.to_cancel[coid]
                try:
                    await self.gateway_for(self.venue_of[coid]).cancel(coid, reason)
                except BaseException:
                    self.to_cancel.setdefault(coid, reason)  # asked again on the next step
                    raise
                n += 1
        if n:
            self.sync()
        return n

    async def _bracket(self, action: BracketAction) -> int:
        if isinstance(action, CancelChild):
            coid = action.client_order_id
            if coid not in self.view.pending or coid not in self.venue_of:
                return 0
            await self.gateway_for(self.venue_of[coid]).cancel(coid, action.reason)
            return 1
        parent = self.parents.get(action.parent_client_order_id)
        if action.client_order_id in self.approved or parent is None:
            return 0  # sent before a restart, or a parent this profile does not own
        meta = self.writer.meta(parent)
        (approval,) = self._record(lambda v: [child_approval(action, parent, meta, self.stream, v)])
        assert isinstance(approval, OrderIntentApproved)
        self.counts["bracket_orders"] += 1
        await self._submit(approval)
        return 1
