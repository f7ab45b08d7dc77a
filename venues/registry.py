"""Builds a venue adapter from its configuration entry; ``kind`` picks the adapter.

Kinds: ``paper``, ``binance``, ``coinbase``, ``kraken``, ``hyperliquid``. A live venue names its
credentials by keystore entry (``credentials: main`` or ``binance/main``); the keystore file
is ``keystore`` (or ``$TAPELINE_KEYSTORE``), opened with the raw key in
``$TAPELINE_KEYSTORE_KEY`` (or the variable named by ``keystore_key_env``), or a passphrase
from the variable named by ``keystore_passphrase_env``. Secrets go straight into the adapter;
they are never logged or returned. ``base_url`` overrides the venue's address (tests point it
at a local fake).

Settings may stand at the top level of the entry or inside its ``params`` dict.

``NATIVE_STOPS`` is the one place that says which kinds hold a bracket's children (a stop-market
stop loss and a limit take profit) at the venue; every other kind has its brackets emulated.
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


NATIVE_STOPS: dict[str, bool] = {
    # the paper engine (domain.paper) rests stop-market and limit orders and fills them against
    # later bars by its documented rules: native, so paper behaves like a venue holding them
    "paper": True,
    # the adapter sends stops as trigger orders (triggerPx, isMarket, tpsl "sl"; a "triggered"
    # order reads as open) and a take profit as a resting reduce-only limit; fills carry the
    # cloid back to our client order id, and the local fake rests trigger orders
    "hyperliquid": True,
    # ccxt adapters (venues.ccxt_common) pass our order type ("stop_market") to create_order as
    # it is and send no stop or trigger price, and their fakes model no stop orders: a stop
    # cannot reach the venue, so the system watches prices and fires instead
    "binance": False,
    "coinbase": False,
    "kraken": False,
}


class VenueConfigError(ValueError):
    """The venue entry cannot be turned into an adapter (messages carry no secret)."""


def setting(cfg: dict[str, Any], name: str, default: Any = None) -> Any:
    params = cfg.get("params") or {}
    if name in cfg:
        return cfg[name]
    return params.get(name, default)


BRACKET_MODES = ("auto", "native", "emulated")


def native_stop_kinds() -> frozenset[str]:
    """Venue kinds whose adapters carry a stop-market order to the venue, end to end."""
    return frozenset(kind for kind, native in NATIVE_STOPS.items() if native)


def brackets_native(cfg: dict[str, Any]) -> bool:
    """Whether this venue entry holds bracket children at the venue. ``brackets`` is ``auto``
    (the default: native where the kind supports it), ``native`` or ``emulated``; ``native`` on
    a kind that cannot hold stops is an error, never a silent fallback."""
    kind = str(cfg.get("kind", "paper"))
    mode = str(setting(cfg, "brackets", "auto"))
    if mode not in BRACKET_MODES:
        raise VenueConfigError(
            f"venue {cfg.get('name')!r}: brackets must be one of {', '.join(BRACKET_MODES)}"
        )
    native = kind in native_stop_kinds()
    if mode == "native" and not native:
        raise VenueConfigError(
            f"venue {cfg.get('name')!r}: brackets: native, but {kind} venues cannot hold stop "
            f"orders here (native on: {', '.join(sorted(native_stop_kinds()))}); "
            "use auto or emulated"
        )
    return native and mode != "emulated"


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
