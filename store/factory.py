"""Opens a tape from a URL: the backend is configuration, never a code edit.

- ``sqlite:///relative/path.sqlite`` or ``sqlite:////absolute/path.sqlite`` (the default)
- ``memory://`` (in-process, for unit tests)
- ``postgresql://user:password@host:port/dbname`` (a multi-node cluster)
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from eventsourcing.persistence import InfrastructureFactory

from store.sqlite_reader import SQLiteReader
from store.sqlite_writer import SQLiteWriter
from store.tape import Tape

DEFAULT_URL = "sqlite:///var/tape.sqlite"


def _env_for(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    env = {"ORIGINATOR_ID_TYPE": "text", "CREATE_TABLE": "y"}
    if parts.scheme == "memory":
        env["PERSISTENCE_MODULE"] = "eventsourcing.popo"
    elif parts.scheme == "sqlite":
        raw = unquote(url[len("sqlite://") :])
        path = raw[1:]  # sqlite:///rel -> "rel"; sqlite:////abs -> "/abs"
        if not path:
            raise ValueError(f"sqlite URL {url!r} names no file; e.g. sqlite:///var/tape.sqlite")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        env.update(
            PERSISTENCE_MODULE="eventsourcing.sqlite",
            SQLITE_DBNAME=path,
            SQLITE_LOCK_TIMEOUT="30",
        )
    elif parts.scheme in ("postgresql", "postgres"):
        if not parts.hostname or not parts.path.strip("/"):
            raise ValueError("postgresql URL needs a host and a database name")
        env.update(
            PERSISTENCE_MODULE="eventsourcing.postgres",
            POSTGRES_DBNAME=parts.path.strip("/"),
            POSTGRES_HOST=parts.hostname,
            POSTGRES_PORT=str(parts.port or 5432),
            POSTGRES_USER=unquote(parts.username or "postgres"),
            POSTGRES_PASSWORD=unquote(parts.password or ""),
            POSTGRES_LOCK_TIMEOUT="30",
            POSTGRES_POOL_SIZE="2",
            POSTGRES_MAX_OVERFLOW="4",
        )
        schema = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p).get("schema")
        if schema:
            env["POSTGRES_SCHEMA"] = schema
    else:
        raise ValueError(
            f"unsupported tape URL scheme {parts.scheme!r}: use sqlite:///path, memory:// "
            "or postgresql://user:password@host/db"
        )
    return env


def open_tape(url: str = DEFAULT_URL) -> Tape:
    env = _env_for(url)
    factory = InfrastructureFactory.construct(env)
    recorder = factory.application_recorder()
    if "SQLITE_DBNAME" not in env:
        return Tape(factory, recorder, url)
    path = env["SQLITE_DBNAME"]
    return Tape(factory, recorder, url, SQLiteReader(path), SQLiteWriter(path))


def redact(url: str) -> str:
    """The URL without its password, for logs and output."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url
