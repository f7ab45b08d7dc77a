"""``tapeline keys``: add, list, rotate and remove venue credentials in the encrypted keystore.

Secrets are read from a hidden prompt or from stdin (a JSON object), never from the command line,
where they would land in shell history and process listings. The keystore passphrase comes from
an environment variable named by ``--passphrase-env``, a raw key from ``--key-env`` (or
``TAPELINE_KEYSTORE_KEY``), or a hidden prompt.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import SecretStr, ValidationError
from rich.console import Console
from rich.table import Table

from venues.keystore import KEY_ENV, Credentials, KeySource, Keystore, KeystoreError

app = typer.Typer(
    name="keys",
    help="Manage venue credentials in the encrypted keystore.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

DEFAULT_PATH = Path("~/.config/tapeline/keystore.json")
SECRET_FIELDS = ("api_key", "secret", "passphrase")
PROMPTS = {
    "api_key": "API key (empty if none)",
    "secret": "API secret or private key (Hyperliquid: the agent wallet's key)",
    "passphrase": "API passphrase (empty if none)",
}

KeystoreOpt = Annotated[
    Path,
    typer.Option("--keystore", envvar="TAPELINE_KEYSTORE", help="keystore file"),
]
PassEnvOpt = Annotated[
    str | None,
    typer.Option("--passphrase-env", help="read the keystore passphrase from this env variable"),
]
KeyEnvOpt = Annotated[
    str | None,
    typer.Option("--key-env", help=f"read a raw 32-byte key (hex/base64) from this env variable "
                                   f"(default: {KEY_ENV} when set)"),
]  # fmt: skip
StdinOpt = Annotated[bool, typer.Option("--stdin", help="read secrets as a JSON object from stdin")]


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[red]{message}[/]")
    return typer.Exit(2)


def _key(passphrase_env: str | None, key_env: str | None, *, new_file: bool) -> KeySource:
    try:
        if passphrase_env:
            value = os.environ.get(passphrase_env)
            if not value:
                raise _fail(f"environment variable {passphrase_env} is not set")
            return KeySource(passphrase=SecretStr(value))
        if key_env or os.environ.get(KEY_ENV):
            return KeySource.from_env(key_env or KEY_ENV)
    except KeystoreError as exc:
        raise _fail(str(exc)) from None
    value = typer.prompt(
        "Keystore passphrase", hide_input=True, confirmation_prompt=new_file, err=True
    )
    return KeySource(passphrase=SecretStr(value))


def _store(path: Path, passphrase_env: str | None, key_env: str | None) -> Keystore:
    path = path.expanduser()
    return Keystore(path, _key(passphrase_env, key_env, new_file=not path.exists()))


def _read_secrets(from_stdin: bool, fields: tuple[str, ...]) -> dict[str, SecretStr | None]:
    if from_stdin:
        try:
            given: Any = json.loads(typer.get_text_stream("stdin").read() or "{}")
        except ValueError:
            raise _fail("stdin must hold a JSON object of secrets") from None
        if not isinstance(given, dict) or set(given) - set(SECRET_FIELDS):
            raise _fail(f"stdin must be a JSON object with keys among {', '.join(SECRET_FIELDS)}")
        values = {f: given.get(f) for f in fields}
    else:
        values = {
            f: typer.prompt(PROMPTS[f], default="", hide_input=True, show_default=False, err=True)
            for f in fields
        }
    return {f: SecretStr(str(v)) if v else None for f, v in values.items()}


def _extra(pairs: list[str] | None) -> dict[str, str]:
    out = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise _fail(f"--extra takes NAME=VALUE, got {name!r}")
        out[name] = value
    return out


@app.command()
def add(
    venue: Annotated[str, typer.Argument(help="venue, e.g. binance, coinbase, hyperliquid")],
    account: Annotated[str, typer.Argument(help="account name, e.g. main")],
    keystore: KeystoreOpt = DEFAULT_PATH,
    passphrase_env: PassEnvOpt = None,
    key_env: KeyEnvOpt = None,
    stdin: StdinOpt = False,
    address: Annotated[
        str | None, typer.Option(help="account address (Hyperliquid: the master account)")
    ] = None,
    extra: Annotated[list[str] | None, typer.Option(help="NAME=VALUE, repeatable")] = None,
    replace: Annotated[bool, typer.Option(help="replace an existing entry")] = False,
) -> None:
    """Add a venue account's credentials (secrets from a hidden prompt or stdin)."""
    store = _store(keystore, passphrase_env, key_env)
    secrets = _read_secrets(stdin, SECRET_FIELDS)
    try:
        entry = Credentials(
            venue=venue, account=account, account_address=address, extra=_extra(extra), **secrets
        )
        store.add(entry, replace=replace)
    except ValidationError as exc:
        fields = ", ".join(str(e["loc"][0]) for e in exc.errors() if e["loc"])
        raise _fail(f"invalid entry: {fields}") from None
    except KeystoreError as exc:
        raise _fail(str(exc)) from None
    console.print(f"added {venue}/{account} to {store.path}")


@app.command("list")
def list_entries(
    keystore: KeystoreOpt = DEFAULT_PATH,
    passphrase_env: PassEnvOpt = None,
    key_env: KeyEnvOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """List the entries (which secrets are set, never their values)."""
    if not keystore.expanduser().exists():
        raise _fail(f"no keystore at {keystore}")
    try:
        entries = _store(keystore, passphrase_env, key_env).list()
    except KeystoreError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps([e.model_dump() for e in entries]))
        return
    table = Table("venue", "account", "address", "api key", "secret", "passphrase", "extra")
    for e in entries:
        flags = ["set" if f else "-" for f in (e.has_api_key, e.has_secret, e.has_passphrase)]
        table.add_row(e.venue, e.account, e.account_address or "-", *flags, ",".join(e.extra_keys))
    console.print(table)


@app.command()
def rotate(
    venue: Annotated[str | None, typer.Argument(help="venue of the entry to rotate")] = None,
    account: Annotated[str | None, typer.Argument(help="account of the entry to rotate")] = None,
    keystore: KeystoreOpt = DEFAULT_PATH,
    passphrase_env: PassEnvOpt = None,
    key_env: KeyEnvOpt = None,
    stdin: StdinOpt = False,
    new_passphrase: Annotated[
        bool, typer.Option("--new-passphrase", help="re-encrypt under a new prompted passphrase")
    ] = False,
    new_passphrase_env: Annotated[
        str | None, typer.Option(help="re-encrypt under the passphrase in this env variable")
    ] = None,
    new_key_env: Annotated[
        str | None, typer.Option(help="re-encrypt under the raw key in this env variable")
    ] = None,
) -> None:
    """Replace an entry's secrets, and/or re-encrypt the whole file under a new passphrase."""
    rekey = new_passphrase or new_passphrase_env or new_key_env
    if (venue is None) != (account is None) or (venue is None and not rekey):
        raise _fail("give VENUE ACCOUNT to rotate an entry's secrets, and/or a new passphrase")
    if not keystore.expanduser().exists():
        raise _fail(f"no keystore at {keystore}")
    store = _store(keystore, passphrase_env, key_env)
    try:
        if venue is not None and account is not None:
            secrets = _read_secrets(stdin, SECRET_FIELDS)
            store.rotate(venue, account, **{k: v for k, v in secrets.items() if v is not None})
            console.print(f"rotated {venue}/{account}")
        if rekey:
            if new_passphrase_env and not os.environ.get(new_passphrase_env):
                raise _fail(f"environment variable {new_passphrase_env} is not set")
            if new_passphrase_env:
                new = KeySource(passphrase=SecretStr(os.environ[new_passphrase_env]))
            elif new_key_env:
                new = KeySource.from_env(new_key_env)
            else:
                value = typer.prompt(
                    "New keystore passphrase", hide_input=True, confirmation_prompt=True, err=True
                )
                new = KeySource(passphrase=SecretStr(value))
            store.change_key(new)
            console.print(f"re-encrypted {store.path} under the new key")
    except KeystoreError as exc:
        raise _fail(str(exc)) from None


@app.command()
def remove(
    venue: Annotated[str, typer.Argument()],
    account: Annotated[str, typer.Argument()],
    keystore: KeystoreOpt = DEFAULT_PATH,
    passphrase_env: PassEnvOpt = None,
    key_env: KeyEnvOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")] = False,
) -> None:
    """Remove an entry."""
    if not keystore.expanduser().exists():
        raise _fail(f"no keystore at {keystore}")
    store = _store(keystore, passphrase_env, key_env)
    if not yes:
        typer.confirm(f"Remove {venue}/{account}?", abort=True, err=True)
    try:
        store.remove(venue, account)
    except KeystoreError as exc:
        raise _fail(str(exc)) from None
    console.print(f"removed {venue}/{account}")
