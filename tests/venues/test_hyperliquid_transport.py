"""Writes go over aiohttp, but HTTP failures are raised exactly as the SDK's own transport raises
them, and the cached-key wallet signs exactly as the SDK's wallet does."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from eth_account import Account
from hyperliquid.api import API
from hyperliquid.utils.signing import order_wires_to_order_action, sign_l1_action
from requests.structures import CaseInsensitiveDict

from venues.hyperliquid.transport import SigningWallet, raise_for_status

REPLIES = [
    (200, '{"status": "ok"}'),
    (429, "null"),
    (418, "null"),
    (422, "Failed to deserialize the JSON body"),
    (400, '{"code": 7, "msg": "bad", "data": {"x": 1}}'),
    (400, '{"msg": "no code"}'),
    (400, "[1, 2]"),
    (500, "Internal Server Error"),
    (502, "Bad Gateway"),
]


def _outcome(fn: Any) -> tuple[str, dict[str, Any]]:
    try:
        fn()
    except Exception as exc:
        return type(exc).__name__, {**vars(exc), "args": exc.args}
    return "ok", {}


@pytest.mark.parametrize(("status", "body"), REPLIES)
def test_http_failures_are_raised_as_the_sdk_raises_them(status: int, body: str) -> None:
    headers = CaseInsensitiveDict({"Retry-After": "3", "Content-Type": "application/json"})
    response = requests.Response()
    response.status_code = status
    response._content = body.encode()
    response.headers = headers
    sdk = _outcome(lambda: API("http://127.0.0.1:1")._handle_exception(response))
    ours = _outcome(lambda: raise_for_status(status, body, headers))
    assert ours == sdk


def test_cached_key_wallet_signs_as_the_sdk_wallet() -> None:
    account = Account.create()
    wire = {"a": 0, "b": True, "p": "55000", "s": "0.0002", "r": False,
            "t": {"limit": {"tif": "Gtc"}}, "c": "0x" + "ab" * 16}  # fmt: skip
    action = order_wires_to_order_action([wire])
    for mainnet in (False, True):
        expected = sign_l1_action(account, action, None, 1_700_000_000_000, None, mainnet)
        wallet: Any = SigningWallet(account)
        assert sign_l1_action(wallet, action, None, 1_700_000_000_000, None, mainnet) == expected
    assert account.key.hex().removeprefix("0x") not in repr(wallet) + str(vars(wallet))
