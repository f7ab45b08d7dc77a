"""Signs Hyperliquid actions with the SDK and sends them over aiohttp, on the caller's loop.

Writes are the latency-critical calls. The SDK sends over synchronous ``requests``, which the
adapter could only use from a thread pool: a thread hop each way plus requests' own cost, about
0.7 ms per order on top of the same request sent with aiohttp. The action, its hash and its
signature still come from the SDK's own functions (``sign_l1_action``); only the HTTP leg is ours.
HTTP failures are raised as the SDK raises them (``ClientError`` / ``ServerError``, built the way
``hyperliquid.api.API.post`` builds them) so ``errors.map_error`` treats both paths alike.

The signing key is parsed once (``SigningWallet``): eth_account re-parses a ``LocalAccount``'s key
and derives its public key on every signature; the signature itself is unchanged.

The nonce comes from a per-signer monotonic clock shared by the process: the SDK reads the
millisecond clock per call, and two writes in the same millisecond would share a nonce, which the
venue refuses.

A session belongs to one event loop; used from another loop (tests that ``asyncio.run`` each
call), the sender opens a new one.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import aiohttp
from eth_account import Account
from eth_account.messages import SignableMessage
from eth_account.signers.local import LocalAccount
from eth_keys import keys
from hyperliquid.exchange import Exchange
from hyperliquid.utils.constants import MAINNET_API_URL
from hyperliquid.utils.error import ClientError, ServerError
from hyperliquid.utils.signing import sign_l1_action
from requests.structures import CaseInsensitiveDict
from yarl import URL


class NonceClock:
    """Strictly increasing millisecond nonces per signer, shared by the whole process."""

    _lock = threading.Lock()
    _last: dict[str, int] = {}

    @classmethod
    def next(cls, signer: str) -> int:
        with cls._lock:
            nonce = max(time.time_ns() // 1_000_000, cls._last.get(signer, 0) + 1)
            cls._last[signer] = nonce
            return nonce


class SigningWallet:
    """What ``sign_l1_action`` needs of a wallet (``sign_message``), with the key parsed once."""

    def __init__(self, account: LocalAccount) -> None:
        self.account = account
        self.address = account.address
        key = keys.PrivateKey(account.key)  # kept in a closure: its repr would show the key
        self._sign: Callable[[SignableMessage], Any] = lambda message: Account.sign_message(
            message, private_key=key
        )

    def sign_message(self, signable_message: SignableMessage) -> Any:
        return self._sign(signable_message)

    def __repr__(self) -> str:
        return f"SigningWallet(address={self.address!r})"


class ActionSender:
    """POSTs signed L1 actions to ``/exchange`` for one signer."""

    def __init__(self, base_url: str, timeout_s: float) -> None:
        self._url = URL(base_url.rstrip("/") + "/exchange")
        self._timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=timeout_s, sock_read=timeout_s
        )  # requests' meaning of a timeout: to connect, and between bytes read
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._proxy: URL | None = None
        self._wallet: SigningWallet | None = None

    async def send(self, exchange: Exchange, signer: str, action: dict[str, Any]) -> Any:
        """Sign ``action`` with the SDK for ``exchange``'s wallet and send it; the venue's JSON
        answer, or ``{"error": ...}`` for a 2xx body that is not JSON (as the SDK answers)."""
        nonce = NonceClock.next(signer.lower())
        if self._wallet is None or self._wallet.account is not exchange.wallet:
            self._wallet = SigningWallet(exchange.wallet)
        signature = sign_l1_action(
            self._wallet,  # type: ignore[arg-type]
            action,
            exchange.vault_address,
            nonce,
            exchange.expires_after,
            exchange.base_url == MAINNET_API_URL,
        )
        payload = {
            "action": action,
            "nonce": nonce,
            "signature": signature,
            "vaultAddress": exchange.vault_address,
            "expiresAfter": exchange.expires_after,
        }
        session = self._session_for_loop()
        async with session.post(
            self._url, json=payload, timeout=self._timeout, proxy=self._proxy
        ) as reply:
            text = await reply.text(errors="replace")
            status, headers = reply.status, CaseInsensitiveDict(reply.headers)
        raise_for_status(status, text, headers)
        try:
            return json.loads(text)
        except ValueError:
            return {"error": "Could not parse JSON"}

    def _session_for_loop(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._loop is not loop or self._session.closed:
            self._session = aiohttp.ClientSession(headers={"Content-Type": "application/json"})
            self._loop = loop
            self._proxy = _env_proxy(self._url)
        return self._session

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None and self._loop is asyncio.get_running_loop():
            await session.close()


def raise_for_status(status: int, text: str, headers: CaseInsensitiveDict[str]) -> None:
    """Raise for a 4xx or 5xx reply exactly as the SDK's ``API.post`` does."""
    if status < 400:
        return
    if status >= 500:
        raise ServerError(status, text)
    try:
        err = json.loads(text)
    except ValueError:
        raise ClientError(status, None, text, None, headers) from None
    if err is None:
        raise ClientError(status, None, text, None, headers)
    error_data = err.get("data")
    raise ClientError(status, err["code"], err["msg"], headers, error_data)


def _env_proxy(url: URL) -> URL | None:
    """The proxy the environment names for ``url`` (``requests`` honours it; so do we)."""
    if urllib.request.proxy_bypass(url.host or ""):
        return None
    proxy = urllib.request.getproxies().get(url.scheme)
    return URL(proxy) if proxy else None
