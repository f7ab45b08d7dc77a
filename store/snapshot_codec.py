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
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import orjson
from pydantic import BaseModel, ValidationError

ALLOWED_PREFIXES = ("projections.", "domain.")


class SnapshotError(ValueError):
    """A snapshot that cannot be decoded safely (unknown class, bad shape)."""


def _name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


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


def _enc(v: Any) -> Any:
    if isinstance(v, Enum):  # before str and int: StrEnum and IntEnum are those too
        return {"$e": _name(type(v)), "v": v.value}
    if v is None or isinstance(v, bool | int | float | str):
        return v
    if isinstance(v, Decimal):
        return {"$d": str(v)}
    if isinstance(v, UUID):
        return {"$u": str(v)}
    if isinstance(v, Counter):
        return {"$counter": [[_enc(k), _enc(x)] for k, x in v.items()]}
    if isinstance(v, OrderedDict):
        return {"$odict": [[_enc(k), _enc(x)] for k, x in v.items()]}
    if isinstance(v, dict):
        return {"$dict": [[_enc(k), _enc(x)] for k, x in v.items()]}
    if isinstance(v, list):
        return [_enc(x) for x in v]
    if isinstance(v, tuple):
        return {"$t": [_enc(x) for x in v]}
    if isinstance(v, frozenset):
        return {"$fs": [_enc(x) for x in v]}
    if isinstance(v, set):
        return {"$s": [_enc(x) for x in v]}
    if isinstance(v, deque):
        return {"$dq": [_enc(x) for x in v], "max": v.maxlen}
    cls = type(v)
    if not cls.__module__.startswith(ALLOWED_PREFIXES):
        raise SnapshotError(f"cannot snapshot a {_name(cls)}")
    if isinstance(v, BaseModel):
        return {"$m": _name(cls), "v": v.model_dump(mode="json")}
    return {"$o": _name(cls), "a": {k: _enc(x) for k, x in _attrs(v).items()}}


def _dec(v: Any) -> Any:
    if isinstance(v, list):
        return [_dec(x) for x in v]
    if not isinstance(v, dict):
        return v
    if "$d" in v:
        return Decimal(v["$d"])
    if "$e" in v:
        cls = _allowed(v["$e"])
        if not issubclass(cls, Enum):
            raise SnapshotError(f"{v['$e']} is not an enum")
        return cls(v["v"])
    if "$u" in v:
        return UUID(v["$u"])
    if "$counter" in v:
        return Counter({_dec(k): _dec(x) for k, x in v["$counter"]})
    if "$odict" in v:
        return OrderedDict((_dec(k), _dec(x)) for k, x in v["$odict"])
    if "$dict" in v:
        return {_dec(k): _dec(x) for k, x in v["$dict"]}
    if "$t" in v:
        return tuple(_dec(x) for x in v["$t"])
    if "$fs" in v:
        return frozenset(_dec(x) for x in v["$fs"])
    if "$s" in v:
        return {_dec(x) for x in v["$s"]}
    if "$dq" in v:
        return deque((_dec(x) for x in v["$dq"]), maxlen=v.get("max"))
    if "$m" in v:
        cls = _allowed(v["$m"])
        if not issubclass(cls, BaseModel):
            raise SnapshotError(f"{v['$m']} is not a model")
        return cls.model_validate(v["v"])
    if "$o" in v:
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
    raise SnapshotError(f"unexpected object in snapshot: keys {sorted(v)[:5]}")


def dumps(obj: Any) -> bytes:
    return orjson.dumps(_enc(obj))


def loads(data: bytes) -> Any:
    try:
        return _dec(orjson.loads(data))
    except (KeyError, TypeError, AttributeError, ImportError, ValidationError) as exc:
        raise SnapshotError(f"snapshot does not decode: {exc}") from None
