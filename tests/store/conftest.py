"""A tape on every backend: in-memory, SQLite file and PostgreSQL (a fresh schema per test)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from store import Tape, open_tape

BACKENDS = ["memory", "sqlite", "postgres"]


def _postgres_url() -> str:
    url = os.environ.get("TAPELINE_TEST_PG_URL")
    if not url:
        pytest.skip(
            "PostgreSQL not available (scripts/postgres.sh start sets TAPELINE_TEST_PG_URL)"
        )
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return f"{url}?schema={schema}"


def tape_url(backend: str, tmp_path: Path) -> str:
    if backend == "memory":
        return "memory://"
    if backend == "sqlite":
        return f"sqlite:///{tmp_path}/tape.sqlite"
    return _postgres_url()


@pytest.fixture(params=BACKENDS)
def tape(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Tape]:
    t = open_tape(tape_url(request.param, tmp_path))
    yield t
    t.close()
