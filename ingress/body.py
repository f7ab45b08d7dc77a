"""Reading a webhook body safely: bounded size, an honest look at the content type, UTF-8.

The content type is only a hint (TradingView sends application/json exactly when the message
happens to be valid JSON, text/plain otherwise), so the parsers sniff the body themselves; here
we only refuse types that cannot be a signal and charsets other than UTF-8.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.requests import ClientDisconnect

from domain.signals import RefusalCode, Refused
from domain.signals.refusal import show

TEXT_TYPES = frozenset(
    {"text/plain", "application/json", "text/json", "application/x-www-form-urlencoded"}
)
UTF8_CHARSETS = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})


def media_type(header: str | None) -> tuple[str | None, str | None]:
    """``('application/json', 'utf-8')`` from a Content-Type header; Nones when absent."""
    if not header or not header.strip():
        return None, None
    parts = header.split(";")
    kind = parts[0].strip().lower() or None
    charset = None
    for param in parts[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    return kind, charset


def check_media_type(kind: str | None, charset: str | None) -> None:
    if kind is not None and kind not in TEXT_TYPES and not kind.endswith("+json"):
        raise Refused(
            RefusalCode.UNSUPPORTED_MEDIA_TYPE,
            f"content type {show(kind)} is not supported: send application/json or text/plain",
        )
    if charset is not None and charset not in UTF8_CHARSETS:
        raise Refused(
            RefusalCode.UNSUPPORTED_MEDIA_TYPE,
            f"charset {show(charset)} is not supported: send UTF-8",
        )


async def read_limited(
    content_length: str | None, stream: AsyncIterator[bytes], limit: int
) -> bytes:
    """The whole body, or ``Refused(too_large)`` as soon as it exceeds ``limit`` bytes."""
    too_large = Refused(RefusalCode.TOO_LARGE, f"the body is larger than {limit} bytes")
    declared = (content_length or "").strip()
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in stream:
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
    except ClientDisconnect:
        raise Refused(
            RefusalCode.MALFORMED, "the client disconnected before sending the whole body"
        ) from None
    return b"".join(chunks)


def decode_text(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refused(
            RefusalCode.MALFORMED, f"the body is not valid UTF-8 (byte {exc.start})"
        ) from None
    return text.removeprefix("\ufeff")
