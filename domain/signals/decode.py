"""From a body to a fresh canonical signal: detect the format, parse, check freshness.

This is the one entry point the HTTP layer calls. It is pure (the receipt time is passed in)
and total: any body, however broken, yields either a ``Parsed`` or a ``Refusal`` with a reason
meant for the sender, never an exception.
"""

from __future__ import annotations

from typing import Any

from domain.signals.build import Parsed
from domain.signals.native import parse_native_object
from domain.signals.pineconnector import looks_like_pineconnector, parse_pineconnector_line
from domain.signals.refusal import Refusal, RefusalCode, Refused
from domain.signals.settings import SignalFormat, SourceSettings
from domain.signals.staleness import check_fresh, effective_lag
from domain.signals.strict_json import loads_object
from domain.signals.text_command import parse_text_command_line
from domain.signals.threecommas import is_threecommas, parse_threecommas_object
from domain.signals.tradingview import parse_tradingview_object

JSON_MEDIA_TYPES = ("application/json", "text/json")
_JSON_PARSERS = {
    SignalFormat.NATIVE: parse_native_object,
    SignalFormat.TRADINGVIEW: parse_tradingview_object,
    SignalFormat.THREECOMMAS: parse_threecommas_object,
}


def is_json_media_type(content_type: str | None) -> bool:
    if content_type is None:
        return False
    return content_type in JSON_MEDIA_TYPES or content_type.endswith("+json")


def detect_json_format(obj: dict[str, Any]) -> SignalFormat:
    hint = obj.get("format")
    if isinstance(hint, str) and hint.lower() in {f.value for f in _JSON_PARSERS}:
        return SignalFormat(hint.lower())
    if hint is not None:
        raise Refused(
            RefusalCode.INVALID, "field 'format' must be one of native, tradingview, threecommas"
        )
    if is_threecommas(obj):
        return SignalFormat.THREECOMMAS
    if "intent" in obj:
        return SignalFormat.NATIVE
    if any(k in obj for k in ("action", "position_size", "market_position", "ticker")):
        return SignalFormat.TRADINGVIEW
    raise Refused(
        RefusalCode.INVALID,
        "cannot tell the JSON format: native signals have 'intent', TradingView alerts "
        "'action' or 'position_size', 3Commas signals 'bot_uuid'",
    )


def detect_text_format(body: str) -> SignalFormat:
    return SignalFormat.PINECONNECTOR if looks_like_pineconnector(body) else SignalFormat.TEXT


def _require_allowed(fmt: SignalFormat, settings: SourceSettings) -> None:
    if fmt not in settings.formats:
        allowed = ", ".join(sorted(f.value for f in settings.formats))
        raise Refused(
            RefusalCode.FORMAT_NOT_ALLOWED,
            f"this source does not accept the {fmt.value} format (it accepts {allowed})",
        )


def detect(body: str, content_type: str | None) -> tuple[SignalFormat, dict[str, Any] | str]:
    """The body's format and its payload (the JSON object, or the stripped text line)."""
    stripped = body.strip()
    if not stripped:
        raise Refused(RefusalCode.MALFORMED, "the body is empty")
    if is_json_media_type(content_type) or stripped[0] in "{[":
        obj = loads_object(stripped)
        return detect_json_format(obj), obj
    return detect_text_format(stripped), stripped


def _dispatch(
    fmt: SignalFormat,
    payload: dict[str, Any] | str,
    source: str,
    settings: SourceSettings,
    now_ns: int,
) -> Parsed:
    if isinstance(payload, dict):
        return _JSON_PARSERS[fmt](payload, source, settings, now_ns)
    if fmt is SignalFormat.PINECONNECTOR:
        return parse_pineconnector_line(payload, source, settings, now_ns)
    return parse_text_command_line(payload, source, settings, now_ns)


def decode_signal(
    body: str, content_type: str | None, source: str, settings: SourceSettings, now_ns: int
) -> Parsed | Refusal:
    """Parse ``body`` (media type without parameters, lower case) into a fresh signal."""
    secrets = [settings.secret.get_secret_value()]
    fmt: SignalFormat | None = None
    try:
        fmt, payload = detect(body, content_type)
        _require_allowed(fmt, settings)
        parsed = _dispatch(fmt, payload, source, settings, now_ns)
        if secrets[0] in parsed.signal.model_dump_json():
            raise Refused(
                RefusalCode.INVALID,
                "the secret appears outside its own field; it must never be part of a signal",
            )
        check_fresh(
            parsed.signal.ts_ns,
            now_ns,
            effective_lag(settings.max_lag_s, parsed.max_lag_s),
            settings.max_future_s,
        )
        return parsed
    except Refused as refused:
        return refused.to_refusal(secrets, fmt.value if fmt else None)
    except Exception:
        return Refusal(
            code=RefusalCode.PARSER_ERROR,
            reason="the body could not be interpreted; please report this with the body's shape",
            format=fmt.value if fmt else None,
        )
