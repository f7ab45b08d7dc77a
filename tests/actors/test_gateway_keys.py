"""Least privilege at gateway start: a key that can withdraw is refused (and nothing trades)
unless explicitly overridden; venue kinds are built from the config dict and the keystore."""

from __future__ import annotations

from pathlib import Path

import pytest

from actors.gateway import Gateway
from domain.events.venue import VenueKeyRefused
from store import open_tape
from venues.keystore import Credentials, KeySource, Keystore
from venues.registry import VenueConfigError, build_venue

from .conftest import RAW_KEY, approval, make_world

pytestmark = pytest.mark.anyio


def _withdrawing_key(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    api_key, secret = world.venue.fake.add_key(enable_withdrawals=True)
    store = Keystore(tmp_path / "keys.json", KeySource(raw_key=RAW_KEY))
    store.add(Credentials(venue="binance", account="wide", api_key=api_key, secret=secret))
    world.cfg["credentials"] = "wide"


async def test_a_key_that_can_withdraw_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with make_world("binance", tmp_path, monkeypatch) as world:
        _withdrawing_key(world, tmp_path)
        tape = open_tape(f"sqlite:///{tmp_path}/t.sqlite")
        gateway = Gateway(world.cfg, tape)
        await gateway.start()
        assert gateway.refused == ["enableWithdrawals"]
        assert await gateway.submit(approval(1, world)) == "rejected"
        assert world.orders() == []
        assert any(isinstance(r.event, VenueKeyRefused) for r in tape.iter_all())
        await gateway.close()


async def test_the_refusal_can_be_overridden_explicitly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with make_world("binance", tmp_path, monkeypatch, allow_withdrawal_keys=True) as world:
        _withdrawing_key(world, tmp_path)
        gateway = Gateway(world.cfg, open_tape(f"sqlite:///{tmp_path}/t.sqlite"))
        await gateway.start()
        assert gateway.refused is None
        assert await gateway.submit(approval(1, world)) == "accepted"
        await gateway.close()


async def test_hyperliquid_account_key_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eth_account import Account

    with make_world("hyperliquid", tmp_path, monkeypatch) as world:
        owner = Account.create()
        world.venue.add_user(owner.address, "1000")
        store = Keystore(tmp_path / "keys.json", KeySource(raw_key=RAW_KEY))
        store.add(
            Credentials(
                venue="hyperliquid",
                account="owner",
                secret=owner.key.hex(),
                account_address=owner.address,
            )
        )
        world.cfg["credentials"] = "owner"
        gateway = Gateway(world.cfg, open_tape(f"sqlite:///{tmp_path}/t.sqlite"))
        await gateway.start()
        assert gateway.refused is not None
        await gateway.close()


def test_registry_kinds_and_secret_free_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert type(build_venue({"name": "paper"}).adapter).__name__ == "PaperVenue"
    with pytest.raises(VenueConfigError):
        build_venue({"name": "x", "kind": "nasdaq"})
    with pytest.raises(VenueConfigError):
        build_venue({"name": "b", "kind": "binance"})  # no credentials entry named
    with make_world("binance", tmp_path, monkeypatch) as world:
        built = build_venue(world.cfg)
        secret = world.venue.secret
        assert secret not in repr(built.adapter) and secret not in str(built.key_id)
        assert built.limits is not None and built.limits.venue_kind == "binance"
