"""Coinbase's CDP JWT with the key parsed once is the token ccxt itself would sign."""

from __future__ import annotations

from collections.abc import Iterator

import ccxt.async_support as ccxt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from venues.coinbase.auth import CoinbaseExchange
from venues.fakes import coinbase as fake_coinbase

URL = "http://127.0.0.1:5/api/v3/brokerage/orders/historical/batch?limit=250&product_id=BTC-USD"


def _pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture
def pair() -> Iterator[tuple[ccxt.Exchange, ccxt.Exchange]]:
    _, name, secret = fake_coinbase.create()
    ours = CoinbaseExchange({"apiKey": name, "secret": secret})
    theirs = ccxt.coinbase({"apiKey": name, "secret": secret})
    for exchange in (ours, theirs):
        exchange.random_bytes = lambda n: "5a" * n  # the JWT nonce, fixed to compare tokens
    yield ours, theirs


@pytest.mark.parametrize(
    ("method", "url"), [("POST", URL), ("GET", URL.split("?")[0]), (None, None)]
)
def test_token_is_ccxts_own(
    pair: tuple[ccxt.Exchange, ccxt.Exchange], method: str | None, url: str | None
) -> None:
    ours, theirs = pair
    mine = ours.create_auth_token(1_700_000_000, method, url)
    assert mine == theirs.create_auth_token(1_700_000_000, method, url)
    assert mine.count(".") == 2


def test_a_new_secret_is_used_at_once(pair: tuple[ccxt.Exchange, ccxt.Exchange]) -> None:
    ours, theirs = pair
    ours.create_auth_token(1_700_000_000, "GET", URL)
    ours.secret = theirs.secret = _pem()
    assert ours.create_auth_token(1_700_000_001, "GET", URL) == theirs.create_auth_token(
        1_700_000_001, "GET", URL
    )


def test_a_secret_that_is_not_an_ec_pem_key_takes_ccxts_path(
    pair: tuple[ccxt.Exchange, ccxt.Exchange],
) -> None:
    ours, theirs = pair
    ours.secret = theirs.secret = "not-a-pem-key"
    with pytest.raises(Exception) as expected:
        theirs.create_auth_token(1_700_000_000, "GET", URL)
    with pytest.raises(type(expected.value)):
        ours.create_auth_token(1_700_000_000, "GET", URL)
