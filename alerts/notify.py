"""Sends alert firings to notification targets with httpx, retrying with exponential backoff.

Retried: connection errors, timeouts, HTTP 429 (honouring ``Retry-After`` up to the cap) and
5xx. Not retried: other 4xx (the request itself is wrong). Delays are ``base * 2**k`` capped at
``max_delay_s``. Results name the target and its public URL only; the secret parts of URLs and
tokens are never logged, returned or raised. httpx's own request log line is redacted too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

import httpx
from pydantic import Field

from alerts.rules import AlertFiring
from alerts.targets import Target, build_request, public_part
from domain.values import Frozen

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class RetryPolicy(Frozen):
    attempts: int = Field(default=5, ge=1, le=20)
    base_delay_s: float = Field(default=0.5, ge=0)
    max_delay_s: float = Field(default=30.0, ge=0)
    timeout_s: float = Field(default=10.0, gt=0)

    def delay(self, failures: int, retry_after: float | None = None) -> float:
        """Wait before the next attempt after ``failures`` failed ones (1, 2, ...)."""
        backoff = self.base_delay_s * 2 ** (failures - 1)
        if retry_after is not None:
            backoff = max(backoff, retry_after)
        return min(backoff, self.max_delay_s)


class DeliveryResult(Frozen):
    target: str
    public_url: str
    ok: bool
    attempts: int
    status_code: int | None = None
    error: str | None = None
    delays_s: list[float] = Field(default_factory=list)


class _RedactUrls(logging.Filter):
    """Shows only scheme, host and port of any URL httpx puts in a log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, httpx.URL) for a in record.args):
            record.args = tuple(
                f"{public_part(str(a))}/<redacted>" if isinstance(a, httpx.URL) else a
                for a in record.args
            )
        return True


def _install_redaction() -> None:
    httpx_log = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactUrls) for f in httpx_log.filters):
        httpx_log.addFilter(_RedactUrls())


_install_redaction()


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None


def _telegram_refused(response: httpx.Response) -> bool:
    """The Bot API answers ``{"ok": false, ...}`` when it refuses a message."""
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("ok") is False


class Notifier:
    """Delivers firings to every configured target, concurrently, each with its retries."""

    def __init__(
        self,
        targets: Sequence[Target],
        policy: RetryPolicy | None = None,
        client: httpx.AsyncClient | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.targets = list(targets)
        self.policy = policy or RetryPolicy()
        self._client = client
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"Notifier(targets={[t.name for t in self.targets]!r}, policy={self.policy!r})"

    async def send(self, firing: AlertFiring) -> list[DeliveryResult]:
        if self._client is not None:
            return await self._send_all(self._client, firing)
        async with httpx.AsyncClient(timeout=self.policy.timeout_s, trust_env=False) as client:
            return await self._send_all(client, firing)

    async def _send_all(self, client: httpx.AsyncClient, firing: AlertFiring) -> list:
        jobs = [self._deliver(client, target, firing) for target in self.targets]
        return list(await asyncio.gather(*jobs))

    async def _deliver(
        self, client: httpx.AsyncClient, target: Target, firing: AlertFiring
    ) -> DeliveryResult:
        request = build_request(target, firing)
        headers = {k: v.get_secret_value() for k, v in request.headers.items()}
        delays: list[float] = []
        status: int | None = None
        error: str | None = None
        for attempt in range(1, self.policy.attempts + 1):
            retry_after = None
            try:
                response = await client.post(
                    request.url.get_secret_value(),
                    json=request.json_body,
                    headers=headers,
                    timeout=self.policy.timeout_s,
                )
            except httpx.TransportError as exc:
                status, error, retryable = None, type(exc).__name__, True
            else:
                status = response.status_code
                refused = target.kind == "telegram" and _telegram_refused(response)
                if response.is_success and not refused:
                    log.info(
                        "alert delivered",
                        extra={"target": target.name, "rule": firing.rule, "attempt": attempt},
                    )
                    return DeliveryResult(
                        target=target.name,
                        public_url=target.public_url,
                        ok=True,
                        attempts=attempt,
                        status_code=status,
                        delays_s=delays,
                    )
                retryable = status == 429 or status >= 500
                retry_after = _retry_after(response) if status == 429 else None
                error = f"HTTP {status}" + (" (refused by the Bot API)" if refused else "")
            log.warning(
                "alert delivery failed",
                extra={"target": target.name, "attempt": attempt, "status": status, "error": error},
            )
            if not retryable or attempt == self.policy.attempts:
                return DeliveryResult(
                    target=target.name,
                    public_url=target.public_url,
                    ok=False,
                    attempts=attempt,
                    status_code=status,
                    error=error,
                    delays_s=delays,
                )
            delays.append(self.policy.delay(attempt, retry_after))
            await self._sleep(delays[-1])
        raise AssertionError("unreachable")  # pragma: no cover
