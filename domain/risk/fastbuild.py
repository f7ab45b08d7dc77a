"""The decision hot path's cheap builders: event ids, client order ids, and trusted events.

``decide`` builds its approval from inputs that were validated already (the signal, the config,
the view) and checks the few values it computes itself (quantity and prices above zero), so it
may skip pydantic's second validation. ``envelope`` gives exactly ``EventMeta.envelope`` (the same
``derive_id``), and ``client_order_id`` exactly ``derive_id("coid", event_id).hex``, without
building intermediate ``UUID`` objects or strings twice.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any, TypeVar

from pydantic_core import PydanticUndefined

from domain.events.base import TAPE_NAMESPACE, Event, EventMeta

_NAMESPACE = TAPE_NAMESPACE.bytes
_new = object.__new__
_setattr = object.__setattr__
_UNKNOWN = uuid.SafeUUID.unknown
_sha1 = hashlib.sha1
_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_SET_V5 = (0x8000 << 48) | (5 << 76)

E = TypeVar("E", bound=Event)


def _uuid5_hex(name: str) -> str:
    """``uuid5(TAPE_NAMESPACE, name).hex``."""
    digest = bytearray(_sha1(_NAMESPACE + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    return digest.hex()


def _uuid5(name: str) -> uuid.UUID:
    """``uuid5(TAPE_NAMESPACE, name)`` without ``UUID.__init__``'s argument checks."""
    value = int.from_bytes(_sha1(_NAMESPACE + name.encode()).digest()[:16], "big")
    obj = _new(uuid.UUID)
    _setattr(obj, "int", (value & _CLEAR) | _SET_V5)
    _setattr(obj, "is_safe", _UNKNOWN)
    return obj


def uuid_str(value: uuid.UUID) -> str:
    h = f"{value.int:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_last_cause: list[Any] = [None, "None"]


def _cause_str(cause: uuid.UUID | None) -> str:
    """``str(cause)``, remembered for the last cause (a signal is decided once, then retried)."""
    if cause is None:
        return "None"
    if _last_cause[0] is not cause:
        _last_cause[0], _last_cause[1] = cause, uuid_str(cause)
    return str(_last_cause[1])


def envelope(meta: EventMeta, stream: str, version: int) -> dict[str, Any]:
    """Exactly ``meta.envelope(stream, version)``, cheaper."""
    name = f"{stream}/{version}/{_cause_str(meta.causation_id)}/{meta.ts_ns}/{meta.source}"
    return {
        "event_id": _uuid5(name),
        "stream": stream,
        "version": version,
        "ts_ns": meta.ts_ns,
        "source": meta.source,
        "correlation_id": meta.correlation_id,
        "causation_id": meta.causation_id,
        "traceparent": meta.traceparent,
    }


def client_order_id(approval_event_id: uuid.UUID) -> str:
    """``derive_id("coid", approval_event_id).hex``."""
    return _uuid5_hex(f"coid/{uuid_str(approval_event_id)}")


class _Template:
    """Per event class: every field in declaration order, with its default (or a marker)."""

    __slots__ = ("factories", "fields_set", "required", "slots")

    def __init__(self, cls: type[Event]) -> None:
        self.slots: dict[str, Any] = {}
        self.factories: list[tuple[str, Any]] = []
        for name, info in cls.model_fields.items():
            if info.is_required():
                self.slots[name] = PydanticUndefined
            elif info.default_factory is not None:
                self.slots[name] = PydanticUndefined
                self.factories.append((name, info.default_factory))
            else:
                self.slots[name] = info.default
        self.required = frozenset(n for n, i in cls.model_fields.items() if i.is_required())
        self.fields_set = set(cls.model_fields)


_TEMPLATES: dict[type[Event], _Template] = {}


def trusted(cls: type[E], fields: dict[str, Any]) -> E:
    """An event built from already-valid values, without validation (like a trusted decode).

    Every required field must be given; defaults fill the rest. Only for values the caller has
    checked itself: nothing here enforces the field constraints.
    """
    template = _TEMPLATES.get(cls)
    if template is None:
        template = _TEMPLATES[cls] = _Template(cls)
    if not template.required.issubset(fields):
        missing = sorted(template.required - set(fields))
        raise TypeError(f"{cls.__name__} needs {missing}")
    data = dict(template.slots)  # declaration order, which the serializer follows
    for name, factory in template.factories:
        data[name] = factory()
    data.update(fields)
    if len(data) != len(template.slots):
        extra = sorted(set(data) - template.fields_set)
        raise TypeError(f"{cls.__name__} has no fields {extra}")
    obj = _new(cls)
    _setattr(obj, "__dict__", data)
    _setattr(obj, "__pydantic_fields_set__", template.fields_set)
    _setattr(obj, "__pydantic_extra__", None)
    _setattr(obj, "__pydantic_private__", None)
    return obj


_FIELDS: dict[type[Event], set[str]] = {}


def construct(cls: type[E], data: dict[str, Any]) -> E:
    """``cls`` holding exactly ``data``: every field, in declaration order, already valid.

    The hot path's variant of ``trusted``: nothing is checked or filled in (tests compare what it
    builds with the validated event).
    """
    fields_set = _FIELDS.get(cls)
    if fields_set is None:
        fields_set = _FIELDS[cls] = set(cls.model_fields)
    obj = _new(cls)
    _setattr(obj, "__dict__", data)
    _setattr(obj, "__pydantic_fields_set__", fields_set)
    _setattr(obj, "__pydantic_extra__", None)
    _setattr(obj, "__pydantic_private__", None)
    return obj
