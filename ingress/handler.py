"""One webhook request, start to finish: every step that can refuse, in a fixed order.

Order: known source (404), client address allowed (403), rate limit (429, before any parsing
so a flood costs little), content type (415), body size (413), UTF-8 (400), then the pure
decoder (secret 401, syntax 400, content 422, staleness 422), then duplicates (409). An accepted
signal is answered 200 only after the sink's ``record`` returns. Every outcome goes to the sink
exactly once; no refusal is ever a 5xx, and no response or outcome contains a secret.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from starlette.requests import Request
from starlette.responses import Response

from domain.signals import (
    Deduper,
    Refusal,
    RefusalCode,
    Refused,
    SourceSettings,
    TokenBucket,
    decode_signal,
    fingerprint,
    scrub,
)
from domain.signals.refusal import show
from ingress.body import check_media_type, decode_text, media_type, read_limited
from ingress.client_ip import (
    Network,
    is_allowed,
    networks,
    resolve_client_ip,
    source_allowlist,
)
from ingress.outcomes import HTTP_STATUS, AcceptedSignal, RefusedRequest, SignalSink
from ingress.settings import IngressSettings

log = logging.getLogger("tapeline.ingress")


@dataclass
class _SourceState:
    settings: SourceSettings
    allowlist: tuple[Network, ...]
    bucket: TokenBucket | None
    deduper: Deduper


class _Refusal(Exception):
    def __init__(self, refusal: Refusal, retry_after_s: float | None = None) -> None:
        super().__init__(refusal.code.value)
        self.refusal = refusal
        self.retry_after_s = retry_after_s


class WebhookHandler:
    def __init__(
        self, settings: IngressSettings, sink: SignalSink, clock: Callable[[], int] = time.time_ns
    ) -> None:
        self.settings = settings
        self.sink = sink
        self.clock = clock
        self.trusted = networks(settings.trusted_proxies)
        self.sources = {name: _state(s) for name, s in settings.sources.items()}
        self._secrets = [s.secret.get_secret_value() for s in settings.sources.values()]

    def deduper(self, source: str) -> Deduper:
        """The source's dedupe memory, e.g. to seed alert ids from the tape after a restart."""
        return self.sources[source].deduper

    async def handle(self, source: str, request: Request) -> Response:
        request_id = uuid.uuid4()
        now_ns = self.clock()
        client_ip: str | None = None
        try:
            client_ip = resolve_client_ip(
                request.client.host if request.client else None,
                request.headers.getlist("x-forwarded-for"),
                self.trusted,
            )
            accepted = await self._accept(source, request, request_id, now_ns, client_ip)
        except _Refusal as refused:
            return await self._refuse(
                source, request_id, now_ns, client_ip, refused.refusal, refused.retry_after_s
            )
        except Exception:
            log.exception("webhook request failed", extra={"source": source[:100]})
            refusal = Refusal(
                code=RefusalCode.PARSER_ERROR,
                reason="the request could not be interpreted",
            )
            return await self._refuse(source, request_id, now_ns, client_ip, refusal, None)
        return await self._record(accepted)

    async def _accept(
        self, source: str, request: Request, request_id: uuid.UUID, now_ns: int, ip: str | None
    ) -> AcceptedSignal:
        state = self.sources.get(source)
        if state is None:
            raise _refusal(
                RefusalCode.UNKNOWN_SOURCE, f"unknown source {show(source)}: check the URL"
            )
        if not is_allowed(ip, state.allowlist):
            raise _refusal(RefusalCode.IP_NOT_ALLOWED, f"address {show(ip)} may not send here")
        if state.bucket is not None:
            wait = state.bucket.take(now_ns)
            if wait > 0:
                raise _Refusal(
                    Refusal(
                        code=RefusalCode.RATE_LIMITED,
                        reason=f"too many requests for this source; retry in {wait:.2f} s",
                    ),
                    retry_after_s=wait,
                )
        try:
            kind, charset = media_type(request.headers.get("content-type"))
            check_media_type(kind, charset)
            raw = await read_limited(
                request.headers.get("content-length"),
                request.stream(),
                self.settings.max_body_bytes,
            )
            text = decode_text(raw)
        except Refused as refused:
            raise _Refusal(refused.to_refusal()) from None
        parsed = decode_signal(text, kind, source, state.settings, now_ns)
        if isinstance(parsed, Refusal):
            raise _Refusal(parsed)
        body_hash = fingerprint(text, state.settings.secret.get_secret_value())
        try:
            state.deduper.reserve(parsed.signal.alert_id, body_hash, now_ns)
        except Refused as refused:
            raise _Refusal(refused.to_refusal(format=parsed.format.value)) from None
        return AcceptedSignal(
            signal_id=request_id,
            source=source,
            format=parsed.format.value,
            signal=parsed.signal,
            fingerprint=body_hash,
            client_ip=ip,
            received_ns=now_ns,
        )

    async def _record(self, accepted: AcceptedSignal) -> Response:
        try:
            await self.sink.record(accepted)
        except Exception:
            self.sources[accepted.source].deduper.release(
                accepted.signal.alert_id, accepted.fingerprint
            )
            log.exception(
                "could not record an accepted signal",
                extra={"source": accepted.source, "signal_id": str(accepted.signal_id)},
            )
            return json_response(
                {"status": "error", "error": "the signal could not be recorded; retry"},
                status_code=503,
            )
        if log.isEnabledFor(logging.DEBUG):  # every outcome is on the tape already
            log.debug(
                "signal accepted",
                extra={
                    "source": accepted.source,
                    "signal_id": str(accepted.signal_id),
                    "format": accepted.format,
                    "client_ip": accepted.client_ip,
                },
            )
        return json_response(
            {
                "status": "accepted",
                "signal_id": str(accepted.signal_id),
                "format": accepted.format,
                "instrument": accepted.signal.instrument,
                "intent": accepted.signal.intent.value,
            }
        )

    async def _refuse(
        self,
        source: str,
        request_id: uuid.UUID,
        now_ns: int,
        client_ip: str | None,
        refusal: Refusal,
        retry_after_s: float | None,
    ) -> Response:
        status = HTTP_STATUS[refusal.code]
        reason = scrub(refusal.reason, self._secrets)
        outcome = RefusedRequest(
            request_id=request_id,
            source=scrub(source, self._secrets)[:100],
            code=refusal.code,
            reason=reason,
            status=status,
            format=refusal.format,
            client_ip=client_ip,
            received_ns=now_ns,
        )
        try:
            await self.sink.record(outcome)
        except Exception:
            log.exception("could not record a refusal", extra={"source": outcome.source})
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "signal refused",
                extra={
                    "source": outcome.source,
                    "code": refusal.code.value,
                    "status": status,
                    "client_ip": client_ip,
                },
            )
        headers = {"Retry-After": str(max(1, math.ceil(retry_after_s)))} if retry_after_s else None
        return json_response(
            {"status": "refused", "code": refusal.code.value, "error": reason},
            status_code=status,
            headers=headers,
        )


def json_response(
    content: dict[str, str], status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A JSON answer serialised with orjson (the standard library's encoder costs more)."""
    return Response(orjson.dumps(content), status_code, headers, media_type="application/json")


def _refusal(code: RefusalCode, reason: str) -> _Refusal:
    return _Refusal(Refusal(code=code, reason=reason))


def _state(settings: SourceSettings) -> _SourceState:
    limit = settings.rate_limit
    return _SourceState(
        settings=settings,
        allowlist=source_allowlist(settings),
        bucket=TokenBucket(limit.per_second, limit.burst) if limit else None,
        deduper=Deduper(settings.dedupe_window_s, settings.alert_id_ttl_s),
    )
