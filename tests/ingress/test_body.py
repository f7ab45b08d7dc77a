from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from domain.signals import RefusalCode, Refused
from ingress.body import check_media_type, decode_text, media_type, read_limited


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def read(content_length: str | None, *parts: bytes, limit: int = 10) -> bytes:
    return asyncio.run(read_limited(content_length, chunks(*parts), limit))


def test_body_within_the_limit_is_read_whole() -> None:
    assert read("6", b"abc", b"def") == b"abcdef"


@pytest.mark.parametrize("declared", ["11", None, "3", "junk", "²"])
def test_too_large_whatever_the_declared_length_says(declared: str | None) -> None:
    with pytest.raises(Refused) as caught:
        read(declared, b"x" * 6, b"y" * 6)
    assert caught.value.code is RefusalCode.TOO_LARGE


def test_declared_length_over_the_limit_is_refused_before_reading() -> None:
    with pytest.raises(Refused):
        read("99999999999999999999", b"")


def test_media_types() -> None:
    assert media_type("Application/JSON; charset=UTF-8") == ("application/json", "utf-8")
    assert media_type(None) == (None, None)
    assert media_type(" ") == (None, None)
    check_media_type("application/vnd.x+json", None)
    check_media_type(None, None)
    for kind, charset in [("image/png", None), ("text/plain", "latin-1")]:
        with pytest.raises(Refused) as caught:
            check_media_type(kind, charset)
        assert caught.value.code is RefusalCode.UNSUPPORTED_MEDIA_TYPE


def test_utf8_only_and_bom_stripped() -> None:
    assert decode_text("\ufeffbuy".encode()) == "buy"
    with pytest.raises(Refused) as caught:
        decode_text(b"\xc3\x28")
    assert caught.value.code is RefusalCode.MALFORMED
