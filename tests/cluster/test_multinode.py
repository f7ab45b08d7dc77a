"""A real multi-node Ray cluster on this machine (a head and two worker nodes) with the tape on
PostgreSQL: the signal path runs on one worker node, which is removed mid-run. Its actors restart
on the other nodes and rebuild from the tape; no event is lost and no order doubled.

The cluster runs in its own process (tests/cluster/multinode_run.py): a process holds one Ray
connection, and this test session has its own local Ray already.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pg_url() -> str:
    url = os.environ.get("TAPELINE_TEST_PG_URL")
    if not url:
        pytest.skip("PostgreSQL not available (scripts/test.sh sets TAPELINE_TEST_PG_URL)")
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return f"{url}?schema={schema}"


def test_worker_node_lost_mid_run_loses_nothing_and_doubles_nothing(pg_url: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.cluster.multinode_run", pg_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert lines, f"no result (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
    out = json.loads(lines[-1])

    assert out["problems"] == []
    assert proc.returncode == 0
    lost = ["strategy.ma_cross", "risk.main", "gateway.paper"]
    assert {n: out["nodes_before"][n] for n in lost} == dict.fromkeys(lost, "worker_a")
    for name in lost:  # each restarted once, on a node that is still there
        assert out["restarts"][name] >= 1
        assert out["nodes_after"][name] in ("head", "worker_b")
    assert out["nodes_after"]["market_data"] == "head"
    assert out["nodes_after"]["projector"] == "worker_b"
    assert 0 < out["removed_at_step"] < out["steps"]
    assert out["events"]["SignalReceived"] > 0
    assert out["events"]["OrderFilled"] == out["events"]["OrderIntentApproved"]
