"""Secrets never enter an event: actor parameters are recorded on the tape with every
credential-like value replaced. The running actors keep the real values (Ray keeps their
creation arguments across restarts); a cluster started from scratch gets them again from the
configuration file."""

from __future__ import annotations

import re
from typing import Any

REDACTED = "***"
_SECRET_KEY = re.compile(
    r"(secret|password|passphrase|token|private_key|api_key|apikey|webhook_url|^url$|headers)",
    re.IGNORECASE,
)


def redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: (REDACTED if _SECRET_KEY.search(str(k)) and v not in (None, "") else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value
