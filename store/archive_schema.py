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

import orjson
import pyarrow as pa

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


def _signal_fields(data: dict[str, Any], row: dict[str, Any]) -> None:
    signal = data.get("signal") or {}
    row["strategy"] = signal.get("source")
    row["instrument"] = signal.get("instrument")
    row["intent"] = signal.get("intent")
    row["venue"] = signal.get("venue")
    if signal.get("price_hint") is not None:
        row["price"] = signal["price_hint"]


SPECIAL: dict[str, Callable[[dict[str, Any], dict[str, Any]], None]] = {
    "SignalReceived": _signal_fields,
}


class RowBuilder:
    """Accumulates archive rows as Python column lists; ``table()`` turns them into Arrow.

    ``seen_fills`` holds the ``fill_key`` of every fill archived before (it grows as rows are
    added), so a fill recorded twice is flagged ``repeat`` without a replay having to hash."""

    def __init__(self, seen_fills: set[int] | None = None) -> None:
        self.cols: dict[str, list[Any]] = {name: [] for name in COLUMNS}
        self.seen_fills = set() if seen_fills is None else seen_fills

    def __len__(self) -> int:
        return len(self.cols["position"])

    def add(self, position: int, stream: str, version: int, topic: str, state: bytes) -> None:
        body, chain = split_chain(state)
        data = orjson.loads(body)
        row: dict[str, Any] = {}
        special = SPECIAL.get(topic)
        if special is not None:
            special(data, row)
        for name in STRINGS:
            value = data.get(name)
            if value is not None and not isinstance(value, dict | list):
                row[name] = str(value)
        for name in INTS + FLOATS + DECIMALS:
            value = data.get(name)
            if value is not None and not isinstance(value, dict | list | bool):
                row[name] = value
        cols = self.cols
        cols["position"].append(position)
        cols["stream"].append(stream)
        cols["version"].append(version)
        cols["topic"].append(topic)
        for name in (
            "event_id",
            "ts_ns",
            "source",
            "correlation_id",
            "causation_id",
            "traceparent",
        ):
            cols[name].append(data.get(name))
        for name in STRINGS:
            cols[name].append(row.get(name))
        for name in INTS:
            cols[name].append(_int(row.get(name)))
        for name in FLOATS:
            cols[name].append(_float(row.get(name)))
        for name in DECIMALS:
            value = row.get(name)
            cols[name].append(_float(value))
            cols[f"{name}_dec"].append(None if value is None else str(value))
        open_ts, interval = _int(row.get("open_ts_ns")), _int(row.get("interval_s"))
        cols["close_ts_ns"].append(
            open_ts + interval * NS if open_ts is not None and interval is not None else None
        )
        coid, fid = row.get("client_order_id"), row.get("fill_id")
        key = fill_key(coid, fid) if coid and fid and topic == "OrderFilled" else None
        cols["fill_key"].append(key)
        cols["repeat"].append(None if key is None else key in self.seen_fills)
        if key is not None:
            self.seen_fills.add(key)
        cols["quantity_scale"].append(_scale(cols["quantity_dec"][-1]))
        cols["event_json"].append(body.decode())
        cols["chain_hash"].append(chain)

    def table(self) -> pa.Table:
        return pa.Table.from_pydict(self.cols, schema=SCHEMA)


def _float(value: Any) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _scale(text: str | None) -> int | None:
    if text is None:
        return None
    dot = text.find(".")
    return 0 if dot < 0 else min(len(text) - dot - 1, 127)


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
