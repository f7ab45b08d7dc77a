"""How much CPU a fake venue spent handling requests.

The fakes run in a thread of the process that measures them, so a round trip's wall time holds
both the client's work and the venue's. The benchmark reads this meter before and after a call to
tell the venue's share (signature checks, matching, the reply) from the client's. Thread CPU time
is used, not wall time: it excludes waits for the GIL and for a loaded machine.
"""

from __future__ import annotations

import threading
import time


class BusyMeter:
    """Total thread CPU nanoseconds spent in request handlers, and how many were handled."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.cpu_ns = 0
        self.requests = 0

    def add(self, cpu_ns: int) -> None:
        with self._lock:
            self.cpu_ns += cpu_ns
            self.requests += 1

    def read(self) -> tuple[int, int]:
        """(CPU nanoseconds, requests) so far."""
        with self._lock:
            return self.cpu_ns, self.requests


def thread_cpu_ns() -> int:
    return time.thread_time_ns()
