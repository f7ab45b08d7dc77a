"""Reading the Parquet archive back: as an Arrow table in tape order, or into a tape again.

``read_archive`` is the entry point of columnar replays: it reads only the columns asked for,
keeps the low-cardinality strings as dictionary arrays (no string is materialised per row),
and returns the rows in tape order whatever the partition they sit in. ``import_archive``
decodes ``event_json`` into events with full validation and appends them to a tape: the hash
chain it writes equals the archived ``chain_hash`` column, which is how a re-import is checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from store.archive import archive_layout
from store.archive_schema import DICTIONARY_COLUMNS, SCHEMA
from store.codec import decode
from store.tape import Tape

READ_SCHEMA = pa.schema(
    [
        f.with_type(pa.dictionary(pa.int32(), f.type)) if f.name in DICTIONARY_COLUMNS else f
        for f in SCHEMA
    ]
)
"""The archive's schema as read back: the low-cardinality strings stay dictionary-encoded."""


def _format(columns: Sequence[str] | None) -> ds.ParquetFileFormat:
    wanted = (
        DICTIONARY_COLUMNS if columns is None else [c for c in columns if c in DICTIONARY_COLUMNS]
    )
    return ds.ParquetFileFormat(
        read_options=ds.ParquetReadOptions(dictionary_columns=wanted),
        # local files: reading each column chunk as it is needed beats pre-buffering them
        default_fragment_scan_options=ds.ParquetFragmentScanOptions(pre_buffer=False),
    )


def read_archive(
    root: str | Path,
    columns: Sequence[str] | None = None,
    topics: Sequence[str] = (),
) -> pa.Table:
    """The archive's rows (optionally only ``topics``) in tape order, with ``columns``.

    Files whose position ranges are disjoint are read in order as they are; otherwise (a run
    that wrote to two dates at once) ``position`` is read too and the rows are sorted by it.
    Dictionary columns keep one dictionary shared by every chunk."""
    paths, disjoint = archive_layout(root)
    files = [str(p) for p in paths]
    cols = None if columns is None else list(dict.fromkeys(columns))
    if cols is not None and not disjoint and "position" not in cols:
        cols.insert(0, "position")
    if not files:
        empty = SCHEMA.empty_table()
        return empty if cols is None else empty.select(cols)
    dataset = ds.dataset(files, format=_format(cols), schema=READ_SCHEMA)
    flt = pc.field("topic").isin(list(topics)) if topics else None
    table = dataset.to_table(columns=cols, filter=flt).unify_dictionaries()
    if not disjoint:
        position = table.column("position").to_numpy()
        if len(position) > 1 and not bool(np.all(position[1:] > position[:-1])):
            table = table.take(pa.array(np.argsort(position, kind="stable")))
        if columns is not None and "position" not in columns:
            table = table.drop_columns(["position"])
    return table


def import_archive(root: str | Path, tape: Tape, batch: int = 1000) -> int:
    """Append every archived event to ``tape`` (validated, in tape order); returns how many."""
    table = read_archive(root, ["stream", "version", "topic", "event_json"])
    n = 0
    for chunk in table.to_batches(max_chunksize=batch):
        streams = chunk.column("stream").to_pylist()
        versions = chunk.column("version").to_pylist()
        topics = chunk.column("topic").to_pylist()
        bodies = chunk.column("event_json").to_pylist()
        events = [
            decode(topic, stream, version, body.encode())
            for stream, version, topic, body in zip(streams, versions, topics, bodies, strict=True)
        ]
        tape.append(events)
        n += len(events)
    return n
