"""An alert rule fires in the running system: on the tape, then to a local webhook receiver."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import ray

from cluster.config import RiskProfileConfig, TapelineConfig
from cluster.runtime import start_system, stop_system, wait_caught_up
from domain.events import AlertFired
from store import open_tape

pytestmark = pytest.mark.ray


class Receiver(BaseHTTPRequestHandler):
    bodies: list[dict] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        Receiver.bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def test_rejections_in_a_row_fire_an_alert(ray_cluster: object, small_config: TapelineConfig):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    cfg = small_config.model_copy(
        update={
            # every order is far over this limit: every signal is rejected
            "risk": [RiskProfileConfig(config={"limits": {"max_order_notional": "1"}})],
            "alerts": {
                "rules": [{"name": "rejected", "kind": "rejections_in_a_row", "count": 2}],
                "targets": [{"name": "local", "kind": "webhook", "url": url}],
            },
        }
    )
    system = start_system(cfg)
    try:
        ray.get(system.market_data.run.remote(), timeout=240)
        wait_caught_up(system)
        ray.get(system.projector.check_alerts.remote(), timeout=60)
        deadline = time.monotonic() + 30
        while not Receiver.bodies and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop_system(system)
        server.shutdown()
    with open_tape(cfg.tape.url) as tape:
        fired = [r.event for r in tape.iter_all(topics=["AlertFired"])]
        added = [r.event for r in tape.iter_all(topics=["ActorAdded"])]
    assert fired and all(isinstance(e, AlertFired) for e in fired)
    assert fired[0].rule == "rejected" and int(fired[0].observed) >= 2
    assert Receiver.bodies, "the webhook target received nothing"
    assert url not in str([e.model_dump() for e in added])  # the target URL is not on the tape
