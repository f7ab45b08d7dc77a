"""The Parquet archive's one wide schema, and how a tape row becomes an archive row.

Every topic goes into the same table: the envelope columns are always set, the typed payload
columns only for the topics that have that field (null otherwise). Money and quantities come
twice: as float64 for analytics and as the exact decimal string (``*_dec``). ``event_json`` is
the event as recorded (without stream and version, which are columns) and ``chain_hash`` its
hash-chain link, so the archive re-imports losslessly and can be verified.

Rows are built straight from the stored JSON (no event objects), which keeps an export cheap.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from domain.events.base import event_class
from store.codec import split_chain

NS = 1_000_000_000

DICT = pa.string()  # low-cardinality strings: Parquet dictionary-encodes them on its own

ENVELOPE: tuple[tuple[str, pa.DataType], ...] = (
    ("position", pa.int64()),
    ("stream", pa.string()),
    ("version", pa.int64()),
    ("topic", DICT),
    ("event_id", pa.string()),
    ("ts_ns", pa.int64()),
    ("source", DICT),
    ("correlation_id", pa.string()),
    ("causation_id", pa.string()),
    ("traceparent", pa.string()),
)

# payload fields copied when the event has them: (name, arrow type)
STRINGS = (
    "client_order_id",
    "strategy",
    "venue",
    "instrument",
    "side",
    "order_type",
    "liquidity",
    "fill_id",
    "venue_order_id",
    "signal_event_id",
    "intent_event_id",
    "intent",
    "rule",
    "reason",
)
INTS = ("fill_ts_ns", "open_ts_ns", "interval_s")
FLOATS = ("limit_price", "stop_price", "open", "high", "low", "volume")
DECIMALS = ("quantity", "price", "fee", "close")
"""Written as ``name`` (float64) and ``name_dec`` (the exact decimal string)."""

DERIVED: tuple[tuple[str, pa.DataType], ...] = (
    ("close_ts_ns", pa.int64()),  # bars: open_ts_ns + interval_s seconds
    ("fill_key", pa.int64()),  # fills: 64-bit hash of (client_order_id, fill_id), for dedupe
    ("quantity_scale", pa.int8()),  # decimal places of quantity_dec: exact integer arithmetic
    ("repeat", pa.bool_()),  # fills: this (order, fill id) was archived before at a lower position
)
TAIL: tuple[tuple[str, pa.DataType], ...] = (
    ("event_json", pa.string()),
    ("chain_hash", pa.string()),
)


def _fields() -> list[pa.Field]:
    out = [
        pa.field(n, t, nullable=n not in ("position", "stream", "version", "topic"))
        for n, t in ENVELOPE
    ]
    out += [pa.field(n, DICT if n in _DICT_NAMES else pa.string()) for n in STRINGS]
    out += [pa.field(n, pa.int64()) for n in INTS]
    out += [pa.field(n, pa.float64()) for n in FLOATS]
    for n in DECIMALS:
        out += [pa.field(n, pa.float64()), pa.field(f"{n}_dec", pa.string())]
    out += [pa.field(n, t) for n, t in DERIVED]
    out += [pa.field(n, t) for n, t in TAIL]
    return out


_DICT_NAMES = {"strategy", "venue", "instrument", "side", "order_type", "liquidity", "intent"}
SCHEMA = pa.schema(_fields())
COLUMNS: tuple[str, ...] = tuple(SCHEMA.names)
DICTIONARY_COLUMNS = ("topic", "source", *sorted(_DICT_NAMES))
"""Columns worth reading back as dictionary arrays (few distinct values)."""
ENCODED_COLUMNS = (*DICTIONARY_COLUMNS, "stream", "client_order_id", "rule", "reason")
"""Columns written with dictionary encoding (numbers and ids are cheaper to read plain)."""


def fill_key(client_order_id: str, fill_id: str) -> int:
    """A stable 64-bit id of one execution: the same fill recorded twice has the same key."""
    digest = hashlib.blake2b(f"{client_order_id}\x00{fill_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


_ENVELOPE_KEYS = ("event_id", "ts_ns", "source", "correlation_id", "causation_id", "traceparent")
_TYPES = {f.name: f.type for f in SCHEMA}
Row = tuple[int, str, int, dict[str, Any], bytes, str | None]


def _signal_values(datas: list[dict[str, Any]]) -> dict[str, list[Any]]:
    signals = [d.get("signal") or {} for d in datas]
    return {
        "strategy": [s.get("source") for s in signals],
        "instrument": [s.get("instrument") for s in signals],
        "intent": [s.get("intent") for s in signals],
        "venue": [s.get("venue") for s in signals],
        "price": [s.get("price_hint") for s in signals],
    }


SPECIAL: dict[str, Callable[[list[dict[str, Any]]], dict[str, list[Any]]]] = {
    "SignalReceived": _signal_values,
}


def _payload_names(topic: str, sample: dict[str, Any]) -> set[str]:
    try:
        return set(event_class(topic).model_fields)
    except LookupError:
        return set(sample)


def _array(values: list[Any], kind: pa.DataType) -> pa.Array:
    """Typed Arrow array of JSON values; anything of another JSON type is converted first."""
    try:
        return pa.array(values, kind)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        convert = str if kind == pa.string() else int
        return pa.array(
            [None if v is None or isinstance(v, dict | list) else convert(v) for v in values], kind
        )


def _decimal_scale(text: pa.Array) -> pa.Array:
    """Decimal places of each decimal string (0 without a point)."""
    dot = pc.find_substring(text, ".")
    places = pc.subtract(pc.subtract(pc.utf8_length(text), dot), 1)
    return pc.if_else(pc.less(dot, 0), 0, places).cast(pa.int8())


class RowBuilder:
    """Collects tape rows (parsed once) per topic; ``table()`` builds the archive columns of
    each topic with whole-column conversions and returns them in tape order.

    ``seen_fills`` holds the ``fill_key`` of every fill archived before (it grows as rows are
    added), so a fill recorded twice is flagged ``repeat`` without a replay having to hash."""

    def __init__(self, seen_fills: set[int] | None = None) -> None:
        self.seen_fills = set() if seen_fills is None else seen_fills
        self._rows: dict[str, list[Row]] = {}
        self._n = 0
        self.last_position = 0

    def __len__(self) -> int:
        return self._n

    def add(self, position: int, stream: str, version: int, topic: str, state: bytes) -> None:
        body, chain = split_chain(state)
        row = (position, stream, version, orjson.loads(body), body, chain)
        self._rows.setdefault(topic, []).append(row)
        self._n += 1
        self.last_position = position

    def table(self) -> pa.Table:
        if not self._n:
            return SCHEMA.empty_table()
        parts = [self._topic_table(topic, rows) for topic, rows in self._rows.items()]
        table = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
        position = table.column("position").to_numpy()
        if len(parts) > 1:
            table = table.take(pa.array(np.argsort(position, kind="stable")))
        return table

    def _topic_table(self, topic: str, rows: list[Row]) -> pa.Table:
        n = len(rows)
        datas = [r[3] for r in rows]
        cols: dict[str, pa.Array] = {
            "position": pa.array([r[0] for r in rows], pa.int64()),
            "stream": pa.array([r[1] for r in rows], pa.string()),
            "version": pa.array([r[2] for r in rows], pa.int64()),
            "topic": pa.array([topic] * n, pa.string()),
            "event_json": pa.array([r[4] for r in rows], pa.string()),
            "chain_hash": pa.array([r[5] for r in rows], pa.string()),
        }
        for key in _ENVELOPE_KEYS:
            cols[key] = _array([d.get(key) for d in datas], _TYPES[key])
        special = SPECIAL.get(topic)
        values = special(datas) if special is not None else {}
        names = _payload_names(topic, datas[0])
        for name in (*STRINGS, *INTS, *FLOATS, *DECIMALS):
            if name in names and name not in values:
                values[name] = [d.get(name) for d in datas]
        for name, column in values.items():
            if name in DECIMALS:
                text = _array(column, pa.string())
                cols[name] = text.cast(pa.float64())
                cols[f"{name}_dec"] = text
            elif name in FLOATS:
                cols[name] = _array(column, pa.string()).cast(pa.float64())
            else:
                cols[name] = _array(column, _TYPES[name])
        if "quantity_dec" in cols:
            cols["quantity_scale"] = _decimal_scale(cols["quantity_dec"])
        if "open_ts_ns" in cols and "interval_s" in cols:
            seconds = pc.multiply(cols["interval_s"], NS)
            cols["close_ts_ns"] = pc.add(cols["open_ts_ns"], seconds)
        if topic == "OrderFilled":
            keys = [fill_key(d["client_order_id"], d["fill_id"]) for d in datas]
            seen = self.seen_fills
            repeat = []
            for key in keys:
                repeat.append(key in seen)
                seen.add(key)
            cols["fill_key"] = pa.array(keys, pa.int64())
            cols["repeat"] = pa.array(repeat, pa.bool_())
        arrays = [cols.get(f.name, pa.nulls(n, f.type)) for f in SCHEMA]
        return pa.Table.from_arrays(arrays, schema=SCHEMA)
