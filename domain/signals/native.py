"""Our own JSON: the canonical ``Signal`` as JSON, plus the source's ``secret``.

``source`` may be left out (the URL names it) and ``ts_ns`` too (the time of receipt is used).
The instrument goes through the symbol map like every other format, so ``BTCUSDT`` works and a
source limited to some instruments stays limited.
"""

from __future__ import annotations

from typing import Any

from domain.signals.build import (
    Parsed,
    drop_format_hint,
    make_signal,
    returns_refusal,
    take_secret,
)
from domain.signals.coerce import invalid, to_text
from domain.signals.settings import SignalFormat, SourceSettings
from domain.signals.strict_json import loads_object


def parse_native_object(
    obj: dict[str, Any], source: str, settings: SourceSettings, now_ns: int
) -> Parsed:
    obj = dict(obj)
    take_secret(obj, settings)
    drop_format_hint(obj)
    claimed = obj.pop("source", None)
    if claimed is not None and claimed != source:
        raise invalid("field 'source' does not match the source named in the URL")
    if "instrument" not in obj:
        raise invalid("field 'instrument' is required")
    resolved = settings.symbols.resolve(to_text(obj.pop("instrument"), "instrument"))
    obj.setdefault("ts_ns", now_ns)
    if obj.get("venue") is None and resolved.venue is not None:
        obj["venue"] = resolved.venue
    signal = make_signal(source=source, instrument=resolved.instrument, **obj)
    return Parsed(signal=signal, format=SignalFormat.NATIVE)


@returns_refusal(SignalFormat.NATIVE)
def parse_native(
    body: str, content_type: str | None, source: str, settings: SourceSettings, now_ns: int
) -> Parsed:
    """Parse a native JSON body (``content_type`` is not needed: the body must be JSON)."""
    return parse_native_object(loads_object(body), source, settings, now_ns)
