"""Which fields of its event a fold handler reads, found in the handler's own bytecode.

A replay can then hand such a handler a light object holding just those fields instead of a
whole decoded event (see ``store.codec.fields_decoder``). The answer is conservative: a handler
qualifies only when its event argument is used for nothing but reading attributes that are
fields of the event (``event.price``), never passed on, stored, called, rebound or captured by a
closure. Anything else, or bytecode this reader does not know, gives ``None``: the handler then
receives full events, as always.
"""

from __future__ import annotations

import dis
import inspect
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from domain.events import Event

_LOADS = frozenset({"LOAD_FAST", "LOAD_FAST_CHECK"})
_LOCAL_OPS = frozenset(dis.haslocal)


def fields_read(handler: Callable[[Any], object], cls: type[Event]) -> tuple[str, ...] | None:
    """The fields of ``cls`` that ``handler(event)`` reads, sorted; ``None`` when unsure."""
    func = getattr(handler, "__func__", handler)
    names = _attributes_read(func, inspect.ismethod(handler))
    if names is None or not names <= cls.model_fields.keys():
        return None
    return tuple(sorted(names))


@lru_cache(maxsize=512)
def _attributes_read(func: Any, bound: bool) -> frozenset[str] | None:
    code = getattr(func, "__code__", None)
    if code is None or code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS):
        return None
    first = 1 if bound else 0
    if code.co_argcount + code.co_kwonlyargcount != first + 1:
        return None  # not a plain one-argument handler
    arg = code.co_varnames[first]
    if arg in code.co_cellvars:
        return None  # a closure sees the event
    names: set[str] = set()
    instructions = list(dis.get_instructions(code))
    for i, ins in enumerate(instructions):
        if ins.opcode not in _LOCAL_OPS:
            continue
        if ins.argval != arg and not (isinstance(ins.argval, tuple) and arg in ins.argval):
            continue
        if ins.opname not in _LOADS:
            return None  # rebound, deleted or loaded by an instruction this does not know
        nxt = instructions[i + 1] if i + 1 < len(instructions) else None
        if nxt is None or nxt.opname != "LOAD_ATTR" or not isinstance(nxt.argval, str):
            return None  # the event itself is used: passed on, stored, compared, called
        names.add(nxt.argval)
    return frozenset(names)
