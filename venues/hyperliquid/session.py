"""The connection one Hyperliquid adapter holds: the SDK objects, reads, writes and Cloids.

The SDK is synchronous, so reads (``Info`` queries) run in a small thread pool. Writes are signed
with the SDK's own functions and sent over aiohttp on the caller's loop (see ``transport``). The
account trades through an API (agent) wallet that signs for it. Client order ids map to Cloids
and back, so an order whose answer was lost is found again by its Cloid.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any, TypeVar

from eth_account import Account
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info
from pydantic import SecretStr

from venues.base import OrderRefused
from venues.hyperliquid.errors import check_answer, map_error
from venues.hyperliquid.symbols import SymbolMap, UnknownInstrument, cloid_for
from venues.hyperliquid.transport import ActionSender

log = logging.getLogger(__name__)
T = TypeVar("T")


class HyperliquidSession:
    """SDK objects, the read pool and the write sender of one account and agent wallet."""

    def __init__(
        self,
        *,
        base_url: str,
        account_address: str,
        agent_key: SecretStr | str,
        venue: str = "hyperliquid",
        timeout_s: float = 10.0,
        allow_account_key: bool = False,
        market_slippage: Decimal = Decimal("0.05"),
        max_workers: int = 4,
    ) -> None:
        self.venue = venue
        self.base_url = base_url.rstrip("/")
        self.account_address = account_address
        self._key = agent_key if isinstance(agent_key, SecretStr) else SecretStr(agent_key)
        try:
            self.signer_address: str = Account.from_key(self._key.get_secret_value()).address
        except Exception:
            raise ValueError("the Hyperliquid agent key is not a valid private key") from None
        self._timeout_s = timeout_s
        self._allow_account_key = allow_account_key
        self._slippage = market_slippage
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="hyperliquid")
        self._sender = ActionSender(self.base_url, timeout_s)
        self._exchange: Exchange | None = None
        self._symbols: SymbolMap | None = None
        self._init_lock = asyncio.Lock()
        self._client_ids: dict[str, str] = {}

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(venue={self.venue!r}, account={self.account_address!r}, "
            f"signer={self.signer_address!r}, base_url={self.base_url!r})"
        )

    async def _run(self, fn: Callable[[], T], *, write: bool, what: str) -> T:
        loop = asyncio.get_running_loop()
        try:
            answer = await loop.run_in_executor(self._pool, fn)
        except Exception as exc:
            raise self._failed(exc, write=write, what=what) from None
        return check_answer(answer, write=write, what=what)

    def _failed(self, exc: Exception, *, write: bool, what: str) -> Exception:
        error = map_error(exc, write=write, what=what)
        log.warning("hyperliquid.call_failed", extra={"what": what, "error": str(error)})
        return error

    async def _sdk(self) -> tuple[Exchange, SymbolMap]:
        if self._exchange is None or self._symbols is None:
            async with self._init_lock:
                if self._exchange is None:
                    exchange, meta = await self._run(self._connect, write=False, what="connect")
                    self._exchange, self._symbols = exchange, SymbolMap(meta["universe"])
        assert self._exchange is not None and self._symbols is not None
        return self._exchange, self._symbols

    def _connect(self) -> tuple[Exchange, Any]:
        empty_meta: Any = {"universe": []}
        empty_spot: Any = {"universe": [], "tokens": []}
        bare = Info(self.base_url, True, empty_meta, empty_spot, None, self._timeout_s)
        meta, spot_meta = bare.meta(), bare.spot_meta()
        bare.session.close()
        wallet = Account.from_key(self._key.get_secret_value())
        exchange = Exchange(
            wallet,
            self.base_url,
            meta=meta,
            spot_meta=spot_meta,
            account_address=self.account_address,
            timeout=self._timeout_s,
        )
        return exchange, meta

    async def _write(self, action: dict[str, Any], what: str) -> Any:
        """Sign and send one action; a failure is mapped as for the SDK's own transport."""
        exchange, _ = await self._sdk()
        try:
            answer = await self._sender.send(exchange, self.signer_address, action)
        except Exception as exc:
            raise self._failed(exc, write=True, what=what) from None
        return check_answer(answer, write=True, what=what)

    async def _read(self, fn: Callable[[Info], T], what: str) -> T:
        exchange, _ = await self._sdk()
        return await self._run(lambda: fn(exchange.info), write=False, what=what)

    def _client_id(self, cloid: str) -> str:
        """Our client order id for a Cloid when we have seen it; the raw Cloid otherwise."""
        return self._client_ids.get(cloid.lower(), cloid)

    def _cloid(self, client_order_id: str) -> str:
        cloid = cloid_for(client_order_id)
        self._client_ids[cloid] = client_order_id
        return cloid

    async def _coin(self, instrument: str) -> tuple[str, int]:
        _, symbols = await self._sdk()
        try:
            coin = symbols.coin(instrument)
        except UnknownInstrument as exc:
            raise OrderRefused(str(exc), code="unknown_instrument") from None
        return coin, symbols.sz_decimals(coin)

    async def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        await self._sender.close()
        if self._exchange is not None:
            self._exchange.session.close()
            self._exchange.info.session.close()
