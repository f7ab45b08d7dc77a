"""A safe codec for snapshots of read models: plain data plus whitelisted classes.

Unlike pickle, decoding never runs code from the snapshot: it only builds instances of classes
from the project's own ``projections`` and ``domain`` packages (``object.__new__`` then their
attributes), Decimals, enums, and containers. Pydantic models of those packages (events, the
risk configuration) are stored as their JSON dump and validated again on the way back, so a
model whose fields changed since the snapshot refuses to load instead of coming back half-built.
Bound methods and other callables are not stored; a class that caches them rebuilds them in
``__post_restore__``.
"""

from __future__ import annotations

import importlib
from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any
from uuid import UUID

import orjson
from pydantic import BaseModel, ValidationError

ALLOWED_PREFIXES = ("projections.", "domain.")


class SnapshotError(ValueError):
    """A snapshot that cannot be decoded safely (unknown class, bad shape)."""


def _name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


@cache
def _allowed(path: str) -> type:
    module, _, qual = path.partition(":")
    if not module.startswith(ALLOWED_PREFIXES) or not qual or "<" in qual:
        raise SnapshotError(f"class {path!r} is not allowed in a snapshot")
    obj: Any = importlib.import_module(module)
    for part in qual.split("."):
        obj = getattr(obj, part)
    if not isinstance(obj, type):
        raise SnapshotError(f"{path!r} is not a class")
    return obj


def _attrs(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for klass in type(obj).__mro__:
        for slot in getattr(klass, "__slots__", ()):
            if slot not in ("__dict__", "__weakref__") and hasattr(obj, slot):
                out[slot] = getattr(obj, slot)
    out.update(getattr(obj, "__dict__", {}))
    return {k: v for k, v in out.items() if not _is_code(v)}


def _is_code(v: Any) -> bool:
    """Callables and dispatch tables of callables are rebuilt, never stored."""
    if isinstance(v, dict):
        return any(callable(x) and not isinstance(x, type) for x in v.values())
    return callable(v) and not isinstance(v, type)


_PLAIN = frozenset({str, int, float, bool, type(None)})
"""Exact types stored as themselves (an enum is a subclass of str or int: not in here)."""


def _enc(v: Any) -> Any:
    if type(v) in _PLAIN:
        return v
    if isinstance(v, Enum):  # before str and int: StrEnum and IntEnum are those too
        return {"$e": _name(type(v)), "v": v.value}
    if isinstance(v, bool | int | float | str):
        return v
    if isinstance(v, Decimal):
        return {"$d": str(v)}
    if isinstance(v, UUID):
        return {"$u": str(v)}
    if isinstance(v, Counter):
        return {"$counter": _pairs(v)}
    if isinstance(v, OrderedDict):
        return {"$odict": _pairs(v)}
    if isinstance(v, dict):
        return {"$dict": _pairs(v)}
    if isinstance(v, list):
        return _seq(v)
    if isinstance(v, tuple):
        return {"$t": _seq(v)}
    if isinstance(v, frozenset):
        return {"$fs": _seq(v)}
    if isinstance(v, set):
        return {"$s": _seq(v)}
    if isinstance(v, deque):
        return {"$dq": _seq(v), "max": v.maxlen}
    cls = type(v)
    if not cls.__module__.startswith(ALLOWED_PREFIXES):
        raise SnapshotError(f"cannot snapshot a {_name(cls)}")
    if isinstance(v, BaseModel):
        return {"$m": _name(cls), "v": v.model_dump(mode="json")}
    return {"$o": _name(cls), "a": {k: _enc(x) for k, x in _attrs(v).items()}}


def _seq(items: Any) -> list[Any]:
    return [x if type(x) in _PLAIN else _enc(x) for x in items]


def _pairs(d: dict[Any, Any]) -> list[list[Any]]:
    return [[_enc(k), _enc(x)] for k, x in d.items()]


# decoding: one function per tag, found by the tag (a dict's first key, normally) ---------------


def _dec(v: Any) -> Any:
    kind = type(v)
    if kind is list:
        return _items(v)
    if kind is not dict:
        return v
    for tag in v:
        decoder = _DECODERS.get(tag)
        if decoder is not None:
            return decoder(v)
    raise SnapshotError(f"unexpected object in snapshot: keys {sorted(v)[:5]}")


def _items(items: list[Any]) -> list[Any]:
    return [x if type(x) in _PLAIN else _dec(x) for x in items]


def _enum(v: dict[str, Any]) -> Enum:
    cls = _allowed(v["$e"])
    if not issubclass(cls, Enum):
        raise SnapshotError(f"{v['$e']} is not an enum")
    return cls(v["v"])


def _model(v: dict[str, Any]) -> BaseModel:
    cls = _allowed(v["$m"])
    if not issubclass(cls, BaseModel):
        raise SnapshotError(f"{v['$m']} is not a model")
    return cls.model_validate(v["v"])


def _object(v: dict[str, Any]) -> Any:
    cls = _allowed(v["$o"])
    if issubclass(cls, BaseModel):
        raise SnapshotError(f"{v['$o']} is a model: stored unvalidated")
    obj = object.__new__(cls)
    attrs = {k: _dec(x) for k, x in v["a"].items()}
    for k, x in attrs.items():  # object.__setattr__ also fills frozen dataclasses
        object.__setattr__(obj, k, x)
    restore = getattr(obj, "__post_restore__", None)
    if restore is not None:
        restore()
    return obj


_DECODERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "$d": lambda v: Decimal(v["$d"]),
    "$e": _enum,
    "$u": lambda v: UUID(v["$u"]),
    "$t": lambda v: tuple(_items(v["$t"])),
    "$dict": lambda v: {_dec(k): _dec(x) for k, x in v["$dict"]},
    "$s": lambda v: set(_items(v["$s"])),
    "$fs": lambda v: frozenset(_items(v["$fs"])),
    "$dq": lambda v: deque(_items(v["$dq"]), maxlen=v.get("max")),
    "$counter": lambda v: Counter({_dec(k): _dec(x) for k, x in v["$counter"]}),
    "$odict": lambda v: OrderedDict((_dec(k), _dec(x)) for k, x in v["$odict"]),
    "$m": _model,
    "$o": _object,
}


def dumps(obj: Any) -> bytes:
    return orjson.dumps(_enc(obj))


def loads(data: bytes) -> Any:
    try:
        return _dec(orjson.loads(data))
    except (KeyError, TypeError, AttributeError, ImportError, ValidationError) as exc:
        raise SnapshotError(f"snapshot does not decode: {exc}") from None
