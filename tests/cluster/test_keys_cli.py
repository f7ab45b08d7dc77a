"""``tapeline keys`` through typer's CliRunner: secrets come from prompts or stdin, never argv."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from cluster.keys_cli import app
from venues.keystore import KEY_ENV, KeySource, Keystore

SECRET = "cli-secret-do-not-print"
runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.delenv(KEY_ENV, raising=False)
    return {"TAPELINE_KEYSTORE": str(tmp_path / "ks.json"), "KS_PASS": "pass-one"}


def keys(env: dict[str, str], *args: str, input: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=input, env=env)
    return result.exit_code, result.output


def opened(env: dict[str, str], passphrase: str = "pass-one") -> Keystore:
    return Keystore(env["TAPELINE_KEYSTORE"], KeySource(passphrase=passphrase))


def test_add_from_stdin_and_list(env: dict[str, str]) -> None:
    secrets = json.dumps({"api_key": "ak-123", "secret": SECRET})
    code, out = keys(env, "add", "binance", "main", "--passphrase-env", "KS_PASS", "--stdin",
                     input=secrets)  # fmt: skip
    assert code == 0, out
    assert SECRET not in out
    assert opened(env).get("binance", "main").secret == SecretStr(SECRET)
    code, out = keys(env, "list", "--passphrase-env", "KS_PASS", "--json")
    assert code == 0
    [entry] = json.loads(out)
    assert entry["venue"] == "binance" and entry["has_secret"] and not entry["has_passphrase"]
    assert SECRET not in out and "ak-123" not in out
    code, out = keys(env, "list", "--passphrase-env", "KS_PASS")
    assert code == 0 and "binance" in out and SECRET not in out


def test_add_from_hidden_prompts_with_new_passphrase(env: dict[str, str]) -> None:
    # passphrase + confirmation (new file), then api key, secret, passphrase (empty = none)
    answers = "pw-typed\npw-typed\n\n" + SECRET + "\n\n"
    code, out = keys(env, "add", "hyperliquid", "perps", "--address", "0x" + "12" * 20,
                     "--extra", "network=testnet", input=answers)  # fmt: skip
    assert code == 0, out
    assert SECRET not in out and "pw-typed" not in out
    entry = opened(env, "pw-typed").get("hyperliquid", "perps")
    assert entry.secret == SecretStr(SECRET) and entry.api_key is None
    assert entry.extra == {"network": "testnet"}


def test_wrong_passphrase_is_a_clear_error(env: dict[str, str]) -> None:
    keys(env, "add", "binance", "main", "--passphrase-env", "KS_PASS", "--stdin",
         input=json.dumps({"secret": SECRET}))  # fmt: skip
    code, out = keys(env | {"KS_PASS": "wrong"}, "list", "--passphrase-env", "KS_PASS")
    assert code == 2 and "wrong passphrase" in out
    code, out = keys(env, "list", "--passphrase-env", "UNSET_VAR")
    assert code == 2 and "UNSET_VAR" in out


def test_rotate_secret_then_passphrase(env: dict[str, str]) -> None:
    keys(env, "add", "binance", "main", "--passphrase-env", "KS_PASS", "--stdin",
         input=json.dumps({"api_key": "ak", "secret": SECRET}))  # fmt: skip
    code, out = keys(env, "rotate", "binance", "main", "--passphrase-env", "KS_PASS", "--stdin",
                     input=json.dumps({"secret": "rotated"}))  # fmt: skip
    assert code == 0, out
    entry = opened(env).get("binance", "main")
    assert entry.secret == SecretStr("rotated") and entry.api_key == SecretStr("ak")
    code, out = keys(env | {"NEW_PASS": "pass-two"}, "rotate", "--passphrase-env", "KS_PASS",
                     "--new-passphrase-env", "NEW_PASS")  # fmt: skip
    assert code == 0, out
    assert opened(env, "pass-two").get("binance", "main").secret == SecretStr("rotated")
    code, _ = keys(env, "list", "--passphrase-env", "KS_PASS")
    assert code == 2
    code, out = keys(env, "rotate", "--passphrase-env", "KS_PASS")
    assert code == 2 and "VENUE ACCOUNT" in out


def test_remove(env: dict[str, str]) -> None:
    for account in ("a", "b"):
        keys(env, "add", "kraken", account, "--passphrase-env", "KS_PASS", "--stdin",
             input=json.dumps({"api_key": "k", "secret": "s"}))  # fmt: skip
    code, out = keys(env, "remove", "kraken", "a", "--passphrase-env", "KS_PASS", "--yes")
    assert code == 0, out
    assert [e.account for e in opened(env).list()] == ["b"]
    code, out = keys(env, "remove", "kraken", "a", "--passphrase-env", "KS_PASS", "--yes")
    assert code == 2 and "no credentials" in out


def test_raw_key_from_environment(env: dict[str, str]) -> None:
    raw = os.urandom(32).hex()
    secrets = json.dumps({"api_key": "organizations/x/apiKeys/y", "secret": SECRET})
    code, out = keys(env | {KEY_ENV: raw}, "add", "coinbase", "main", "--stdin", input=secrets)
    assert code == 0, out
    store = Keystore(env["TAPELINE_KEYSTORE"], KeySource(raw_key=bytes.fromhex(raw)))
    assert store.get("coinbase", "main").secret == SecretStr(SECRET)


def test_secrets_are_not_options(env: dict[str, str]) -> None:
    code, _ = keys(env, "add", "binance", "main", "--secret", SECRET)
    assert code != 0
