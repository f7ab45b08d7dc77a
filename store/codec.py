"""Turns domain events into eventsourcing ``StoredEvent`` rows and back.

Stream and version live in the row's own columns (``originator_id``, ``originator_version``);
the state is the rest of the event as compact JSON. Two ways back:

- ``decode``: full pydantic validation plus upcasting. For anything that did not come from our
  own tape, and for events written in an older schema.
- ``decode_trusted``: for replaying our own tape, where every row was validated when written.
  It rebuilds the same frozen event objects with per-field converters and no validation, which
  is what makes replay fast. Rows of an older schema version fall back to ``decode``.
- ``fields_decoder``: for a fold that reads only a few fields of an event (also our own rows
  only): a light tuple holding just those attributes, converted exactly as ``decode_trusted``
  converts them. Rows of another shape are decoded in full, which reads the same.
"""

from __future__ import annotations

import hashlib
import types
import typing
import uuid
from collections import namedtuple
from collections.abc import Callable, Sequence
from decimal import Decimal
from enum import Enum, Flag
from typing import Any

import orjson
from eventsourcing.persistence import StoredEvent
from pydantic import BaseModel

import domain.events  # noqa: F401  (registers every event topic)
from domain.events.base import Event, event_class, upcast

_ROW_FIELDS = {"stream", "version"}
_new = object.__new__
_loads = orjson.loads
_setattr = object.__setattr__
Converter = Callable[[Any], Any]


GENESIS = "0" * 64
_CHAIN_KEY = b',"_h":"'
_CHAIN_TAIL = len(_CHAIN_KEY) + 64 + 2  # ,"_h":"<64 hex>"}


def link(prev: str, stream: str, version: int, topic: str, body: bytes) -> str:
    """The hash of one event: it covers the previous event's hash in the same stream."""
    h = hashlib.sha256(prev.encode())
    h.update(f"|{stream}|{version}|{topic}|".encode())
    h.update(body)
    return h.hexdigest()


def encode(event: Event, prev: str = GENESIS) -> StoredEvent:
    """The row for ``event``, chained to ``prev`` (its stream's previous hash)."""
    return encode_chained(event, prev)[0]


def encode_chained(event: Event, prev: str = GENESIS) -> tuple[StoredEvent, str]:
    """The row for ``event`` and its chain hash (``prev`` is the stream's previous hash)."""
    body = event.__pydantic_serializer__.to_json(event, exclude=_ROW_FIELDS)
    digest = link(prev, event.stream, event.version, event.topic, body)
    stored = StoredEvent(
        originator_id=event.stream,
        originator_version=event.version,
        topic=event.topic,
        state=body[:-1] + _CHAIN_KEY + digest.encode() + b'"}',
    )
    return stored, digest


def split_chain(state: bytes) -> tuple[bytes, str | None]:
    """A stored state's event body and chain hash (``None`` for rows written without one)."""
    tail = state[-_CHAIN_TAIL:]
    if tail.startswith(_CHAIN_KEY) and state.endswith(b'"}'):
        return state[:-_CHAIN_TAIL] + b"}", tail[len(_CHAIN_KEY) : -2].decode()
    return state, None


def decode(topic: str, stream: str, version: int, state: bytes) -> Event:
    data = orjson.loads(state)
    data.pop("_h", None)
    data["stream"] = stream
    data["version"] = version
    return event_class(topic).model_validate(upcast(topic, data))


_UUID = uuid.UUID
_UNKNOWN = uuid.SafeUUID.unknown


def _fast_uuid(value: str) -> uuid.UUID:
    """``uuid.UUID(value)`` without its pure-Python parsing (the hot spot of a replay)."""
    obj = _new(_UUID)
    _setattr(obj, "int", int(value.replace("-", ""), 16))
    _setattr(obj, "is_safe", _UNKNOWN)
    return obj


def _converter_for(annotation: Any) -> Converter | None:
    """A cheap function turning a JSON value into the Python value the field holds."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _converter_for(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _converter_for(options[0]) if len(options) == 1 else None
    if origin in (tuple, list):
        (item, *_) = typing.get_args(annotation) or (Any,)
        inner = _converter_for(item)
        container = tuple if origin is tuple else list
        if inner is None:
            return container
        return lambda v: container(inner(x) for x in v)
    if origin is dict:
        _, value_type = typing.get_args(annotation) or (Any, Any)
        convert = _converter_for(value_type)
        if convert is None:
            return None
        return lambda v: {k: convert(x) for k, x in v.items()}
    if annotation is Decimal:
        return Decimal
    if annotation is uuid.UUID:
        return _fast_uuid
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        if issubclass(annotation, Flag):
            return annotation  # combined flags are made on demand
        return annotation._value2member_map_.__getitem__  # the member itself, without __call__
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation.model_validate
    return None


class _Plan:
    """Per event class: a generated function turning the JSON dict into the event's fields.

    The converters are unrolled into straight-line code once per class (no per-field loop on
    the hot path); fields that hold plain JSON values (str, int, bool) are left as they are.
    """

    __slots__ = ("build", "cls", "fields_set", "size", "version")

    def __init__(self, cls: type[Event]) -> None:
        self.cls = cls
        self.version = cls.SCHEMA_VERSION
        self.size = len(set(cls.model_fields) - _ROW_FIELDS)
        self.fields_set = set(cls.model_fields)
        env: dict[str, Any] = {"_new": _new, "_setattr": _setattr, "cls": cls}
        env["fs"] = self.fields_set
        lines = ["def build(f, stream, version):"]
        for i, (name, info) in enumerate(cls.model_fields.items()):
            conv = _converter_for(info.annotation)
            if conv is None:
                continue
            env[f"c{i}"] = conv
            if info.is_required() and info.default is None and not _optional(info.annotation):
                lines.append(f"    f[{name!r}] = c{i}(f[{name!r}])")
            else:
                lines.append(f"    v = f[{name!r}]")
                lines.append(f"    if v is not None: f[{name!r}] = c{i}(v)")
        lines += [
            "    f['stream'] = stream",
            "    f['version'] = version",
            "    o = _new(cls)",
            "    _setattr(o, '__dict__', f)",
            "    _setattr(o, '__pydantic_fields_set__', fs)",
            "    _setattr(o, '__pydantic_extra__', None)",
            "    _setattr(o, '__pydantic_private__', None)",
            "    return o",
        ]
        exec("\n".join(lines), env)
        self.build: Callable[[dict[str, Any], str, int], Event] = env["build"]


def _optional(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _optional(typing.get_args(annotation)[0])
    return origin in (typing.Union, types.UnionType) and type(None) in typing.get_args(annotation)


_PLANS: dict[str, _Plan] = {}


def _plan(topic: str) -> _Plan:
    plan = _PLANS.get(topic)
    if plan is None:
        plan = _PLANS[topic] = _Plan(event_class(topic))
    return plan


def decode_trusted(topic: str, stream: str, version: int, state: bytes) -> Event:
    plan = _PLANS.get(topic) or _plan(topic)
    fields = _loads(state)
    fields.pop("_h", None)
    if fields.get("schema_version") != plan.version or len(fields) != plan.size:
        return decode(topic, stream, version, state)  # older shape: upcast and validate
    return plan.build(fields, stream, version)


RowDecoder = Callable[[str, int, bytes], Any]


def fields_decoder(topic: str, names: Sequence[str]) -> RowDecoder:
    """``(stream, version, state) ->`` an object whose attributes ``names`` equal those of
    ``decode_trusted``'s event for the row. Only for rows this tape wrote (no validation).

    The object is a named tuple of just those fields (``stream`` and ``version`` allowed); a
    row of another schema version or shape comes back as the full event instead.
    """
    key = (topic, tuple(names))
    cached = _DECODERS.get(key)
    if cached is not None:
        return cached
    plan = _plan(topic)
    cls = plan.cls
    unknown = set(names) - set(cls.model_fields)
    if unknown:
        raise ValueError(f"{topic} has no field {sorted(unknown)[0]!r}")
    view = namedtuple(f"{cls.__name__}Fields", names)  # type: ignore[misc]
    env: dict[str, Any] = {"_loads": _loads, "_tnew": tuple.__new__, "view": view}
    env.update(full=decode_trusted, topic=topic, V=plan.version, SIZE=plan.size)
    items = []
    for i, name in enumerate(names):
        if name in _ROW_FIELDS:
            items.append(name)
            continue
        info = cls.model_fields[name]
        conv = _converter_for(info.annotation)
        raw = f"f[{name!r}]"
        if conv is None:
            items.append(raw)
            continue
        env[f"c{i}"] = conv
        if info.is_required() and info.default is None and not _optional(info.annotation):
            items.append(f"c{i}({raw})")
        else:
            items.append(f"(None if (x{i} := {raw}) is None else c{i}(x{i}))")
    lines = [
        "def build(stream, version, state):",
        "    f = _loads(state)",
        "    f.pop('_h', None)",
        "    if f.get('schema_version') != V or len(f) != SIZE:",
        "        return full(topic, stream, version, state)",
        f"    return _tnew(view, ({''.join(item + ', ' for item in items)}))",
    ]
    exec("\n".join(lines), env)
    decoder: RowDecoder = env["build"]
    _DECODERS[key] = decoder
    return decoder


_DECODERS: dict[tuple[str, tuple[str, ...]], RowDecoder] = {}
