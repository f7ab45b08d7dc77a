"""Builds a venue adapter from its configuration entry; ``kind`` picks the adapter.

Kinds: ``paper``, ``binance``, ``coinbase``, ``kraken``, ``hyperliquid``. A live venue names its
credentials by keystore entry (``credentials: main`` or ``binance/main``); the keystore file
is ``keystore`` (or ``$TAPELINE_KEYSTORE``), opened with the raw key in
``$TAPELINE_KEYSTORE_KEY`` (or the variable named by ``keystore_key_env``), or a passphrase
from the variable named by ``keystore_passphrase_env``. Secrets go straight into the adapter;
they are never logged or returned. ``base_url`` overrides the venue's address (tests point it
at a local fake).

Settings may stand at the top level of the entry or inside its ``params`` dict.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from domain.execution.published import VenueLimits, published_limits
from venues.base import VenueAdapter
from venues.keystore import KEY_ENV, Credentials, KeySource, Keystore
from venues.ratelimit import key_id

KINDS = ("paper", "binance", "coinbase", "kraken", "hyperliquid")
CCXT_KINDS = {
    "binance": ("venues.binance.adapter", "BinanceAdapter"),
    "coinbase": ("venues.coinbase.adapter", "CoinbaseAdapter"),
    "kraken": ("venues.kraken.adapter", "KrakenAdapter"),
}


class VenueConfigError(ValueError):
    """The venue entry cannot be turned into an adapter (messages carry no secret)."""


def setting(cfg: dict[str, Any], name: str, default: Any = None) -> Any:
    params = cfg.get("params") or {}
    if name in cfg:
        return cfg[name]
    return params.get(name, default)


@dataclass(frozen=True)
class BuiltVenue:
    adapter: VenueAdapter
    limits: VenueLimits | None
    key_id: str | None  # non-secret id of the key: requests with the same key share limits


def load_credentials(cfg: dict[str, Any]) -> Credentials:
    kind = str(cfg.get("kind", "paper"))
    entry = setting(cfg, "credentials")
    if not entry:
        raise VenueConfigError(f"venue {cfg.get('name')!r} ({kind}) names no credentials entry")
    venue, account = str(entry).split("/", 1) if "/" in str(entry) else (kind, str(entry))
    path = setting(cfg, "keystore") or os.environ.get("TAPELINE_KEYSTORE")
    if not path:
        raise VenueConfigError(f"venue {cfg.get('name')!r}: no keystore file configured")
    passphrase_env = setting(cfg, "keystore_passphrase_env")
    if passphrase_env:
        value = os.environ.get(str(passphrase_env))
        if not value:
            raise VenueConfigError(f"environment variable {passphrase_env} is not set")
        key = KeySource(passphrase=SecretStr(value))
    else:
        key = KeySource.from_env(str(setting(cfg, "keystore_key_env") or KEY_ENV))
    return Keystore(path, key).get(venue, account)


def _secret(value: SecretStr | None, what: str, venue: str) -> str:
    if value is None:
        raise VenueConfigError(f"venue {venue!r}: the credentials entry has no {what}")
    return value.get_secret_value()


def build_venue(cfg: dict[str, Any]) -> BuiltVenue:
    kind = str(cfg.get("kind", "paper"))
    name = str(cfg.get("name", kind))
    limits = (
        published_limits(kind, tier=setting(cfg, "tier", "starter")) if kind != "paper" else None
    )
    if kind == "paper":
        from venues.paper.adapter import build

        return BuiltVenue(build(cfg), None, None)
    if kind not in KINDS:
        raise VenueConfigError(f"unknown venue kind {kind!r} for venue {name!r}")
    creds = load_credentials(cfg)
    timeout_s = float(setting(cfg, "timeout_s", 10.0))
    allow = bool(setting(cfg, "allow_withdrawal_keys", False))
    base_url = setting(cfg, "base_url")
    if kind == "hyperliquid":
        from hyperliquid.utils.constants import MAINNET_API_URL

        from venues.hyperliquid.adapter import HyperliquidAdapter

        if not creds.account_address:
            raise VenueConfigError(f"venue {name!r}: hyperliquid credentials need an account")
        adapter: Any = HyperliquidAdapter(
            base_url=base_url or MAINNET_API_URL,
            account_address=creds.account_address,
            agent_key=SecretStr(_secret(creds.secret, "agent key (secret)", name)),
            venue=name,
            timeout_s=timeout_s,
            allow_account_key=allow,
        )
        return BuiltVenue(adapter, limits, key_id(kind, creds.account_address.lower()))
    module_name, class_name = CCXT_KINDS[kind]
    try:
        module = __import__(module_name, fromlist=[class_name])
    except ImportError:
        raise VenueConfigError(f"the {kind} adapter is not available in this build") from None
    cls = getattr(module, class_name)
    api_key = _secret(creds.api_key, "api key", name)
    options: dict[str, Any] = {
        "timeout_s": timeout_s,
        "allow_withdrawal_keys": allow,
        "watch": setting(cfg, "watch"),
    }
    if base_url:
        options["base_url"] = base_url
    adapter = cls(api_key, _secret(creds.secret, "secret", name), **options)
    return BuiltVenue(adapter, limits, key_id(kind, api_key))


def build_adapter(cfg: dict[str, Any]) -> VenueAdapter:
    return build_venue(cfg).adapter
