"""Strict JSON for webhook bodies: one object, exact decimals, no NaN, no duplicate keys.

orjson validates first (it refuses NaN/Infinity, lone surrogates, and nesting deeper than it
supports, so the second pass cannot recurse without bound); the standard library then builds
the object with ``Decimal`` numbers and refuses a key given twice, which would otherwise let two
readers of the same body disagree about what it says.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import orjson

from domain.signals.refusal import RefusalCode, Refused, show

_NON_FINITE = re.compile(r"(?<![\w\"])-?(NaN|Infinity)(?![\w\"])")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise Refused(
                RefusalCode.MALFORMED, f"JSON key {show(key)} appears twice in one object"
            )
        result[key] = value
    return result


def _refuse_constant(name: str) -> Any:
    raise Refused(RefusalCode.MALFORMED, f"{name} is not a valid JSON number")


def loads_object(text: str) -> dict[str, Any]:
    """The JSON object in ``text``, or ``Refused(malformed)`` saying what is wrong."""
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        if _NON_FINITE.search(text):
            raise Refused(
                RefusalCode.MALFORMED, "NaN and Infinity are not valid JSON numbers"
            ) from None
        raise Refused(RefusalCode.MALFORMED, f"body is not valid JSON: {exc}") from None
    try:
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_float=Decimal,
            parse_constant=_refuse_constant,
        )
    except (ValueError, RecursionError) as exc:
        raise Refused(RefusalCode.MALFORMED, f"body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise Refused(
            RefusalCode.MALFORMED, f"the JSON body must be an object, not {type(value).__name__}"
        )
    return value
