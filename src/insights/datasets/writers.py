"""Writing one kind of log to a CSV, JSON-lines or Parquet file, chunk by chunk, in bounded memory.

Rows travel as `RawTable`s: the contract's columns, with timestamps as int64 UTC milliseconds and a
per-row UTC offset code. `RawTable.finish` turns them into what the file holds: ISO-8601 text in the
row's offset for csv/jsonl, UTC timestamps for Parquet. Planted bad rows go through `write_bad`, so
a CSV row can even have too few fields.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from insights.contract import Kind
from insights.datasets.timeline import iso_strings, utc_timestamps

FileFormat = Literal["csv", "jsonl", "parquet"]
FILE_FORMATS: tuple[str, ...] = ("csv", "jsonl", "parquet")
_ARROW_TYPES = {"text": pa.string(), "count": pa.int64(), "number": pa.float64(), "boolean": pa.bool_()}


def raw_schema(kind: Kind) -> pa.Schema:
    """The contract's columns, with timestamps as int64 milliseconds since the epoch (UTC)."""
    return pa.schema([(c.name, pa.int64() if c.type == "timestamp" else _ARROW_TYPES[c.type]) for c in kind.columns])


def file_schema(kind: Kind, file_format: str) -> pa.Schema:
    """The columns as written: timestamps are ISO-8601 text in csv/jsonl, UTC timestamps in Parquet."""
    stamp = pa.timestamp("ms", tz="UTC") if file_format == "parquet" else pa.string()
    return pa.schema([(c.name, stamp if c.type == "timestamp" else _ARROW_TYPES[c.type]) for c in kind.columns])


def file_name(kind: Kind, file_format: str, compress: bool) -> str:
    """For example 'chat_events.csv.gz'."""
    return f"{kind.name}.{file_format}" + (".gz" if compress else "")


@dataclass(frozen=True)
class RawTable:
    """Rows of one kind before formatting: timestamps in UTC ms, `offsets` codes into timeline.OFFSETS."""

    kind: Kind
    table: pa.Table
    offsets: npt.NDArray[np.int8]
    unit: str = "s"

    @classmethod
    def from_columns(
        cls, kind: Kind, columns: Mapping[str, object], offsets: npt.NDArray[np.int8], unit: str = "s"
    ) -> RawTable:
        """Build from a mapping of column name to array; missing columns are all null."""
        schema = raw_schema(kind)
        n = len(offsets)
        arrays = []
        for f in schema:
            value = columns.get(f.name)
            if value is None:
                arrays.append(pa.nulls(n, f.type))
            elif isinstance(value, pa.Array) and value.type == f.type:
                arrays.append(value)  # no copy
            else:
                arrays.append(pa.array(value, type=f.type))
        return cls(kind, pa.Table.from_arrays(arrays, schema=schema), offsets, unit)

    @property
    def num_rows(self) -> int:
        return int(self.table.num_rows)

    def slice(self, start: int, stop: int) -> RawTable:
        """Rows [start, stop)."""
        return RawTable(self.kind, self.table.slice(start, stop - start), self.offsets[start:stop], self.unit)

    def finish(self, file_format: str) -> pa.Table:
        """The table as the file holds it."""
        columns = []
        for c in self.kind.columns:
            chunked = self.table.column(c.name)
            col = chunked.chunk(0) if chunked.num_chunks == 1 else chunked.combine_chunks()  # avoid a copy
            if c.type == "timestamp":
                mask = col.is_null().to_numpy(zero_copy_only=False)
                ms = col.fill_null(0).to_numpy()
                if file_format == "parquet":
                    col = utc_timestamps(ms, self.unit, mask).cast(pa.timestamp("ms", tz="UTC"))
                else:
                    col = iso_strings(ms, self.offsets, self.unit, mask)
            columns.append(col)
        return pa.Table.from_arrays(columns, schema=file_schema(self.kind, file_format))


class LogWriter:
    """Writes tables of one kind to one file; use as a context manager.

    >>> import tempfile
    >>> from insights.contract import ASSIGNMENTS
    >>> path = Path(tempfile.mkdtemp()) / "a.csv"
    >>> with LogWriter(path, ASSIGNMENTS, "csv") as w:
    ...     w.write_bad({"experiment_id": "e", "unit_id": "u"}, n_fields=2)
    >>> path.read_text().splitlines()[1]
    '"e","u"'
    """

    def __init__(self, path: Path, kind: Kind, file_format: str, compress: bool = False) -> None:
        self.path = path
        self.kind = kind
        self.file_format = file_format
        self.schema = file_schema(kind, file_format)
        self.rows_written = 0
        self._parquet: pq.ParquetWriter | None = None
        self._raw: IO[bytes] | None = None
        self._out: IO[bytes] | None = None
        path.parent.mkdir(parents=True, exist_ok=True)
        if file_format == "parquet":
            self._parquet = pq.ParquetWriter(path, self.schema, compression="zstd")
            return
        raw: IO[bytes] = open(path, "wb")  # noqa: SIM115 - closed in close()
        out: IO[bytes] = raw
        if compress:
            # mtime=0 and no file name in the header: the same rows give the same bytes
            out = gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0)  # type: ignore[assignment]
        self._raw, self._out = raw, out
        if file_format == "csv":
            header = io.BytesIO()
            pcsv.write_csv(self.schema.empty_table(), header)
            out.write(header.getvalue())

    def __enter__(self) -> LogWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def write(self, table: pa.Table) -> None:
        """Append rows (a table with `file_schema`)."""
        if table.num_rows == 0:
            return
        if self._parquet is not None:
            self._parquet.write_table(table)
        elif self.file_format == "csv":
            pcsv.write_csv(table, self._sink(), pcsv.WriteOptions(include_header=False))
        else:
            self._sink().write(json_lines(table))
        self.rows_written += table.num_rows

    def write_bad(self, values: Mapping[str, object], n_fields: int | None = None) -> None:
        """Append one row given as Python values; a CSV row may be cut to its first `n_fields` fields."""
        if self._parquet is not None:
            row = {name: values.get(name) for name in self.schema.names}
            self._parquet.write_table(pa.Table.from_pylist([row], schema=self.schema))
        elif self.file_format == "csv":
            names = self.schema.names[: n_fields or len(self.schema.names)]
            line = ",".join(_csv_field(values.get(name)) for name in names) + "\n"
            self._sink().write(line.encode())
        else:
            row = {name: values.get(name) for name in self.schema.names}
            self._sink().write((json.dumps(row, separators=(",", ":"), ensure_ascii=False) + "\n").encode())
        self.rows_written += 1

    def close(self) -> None:
        """Flush and close the file."""
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None
        if self._out is not None and self._out is not self._raw:
            self._out.close()
        if self._raw is not None:
            self._raw.close()
        self._out = self._raw = None

    def _sink(self) -> IO[bytes]:
        if self._out is None:
            raise ValueError(f"The writer of {self.path} is closed.")
        return self._out


def _csv_field(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(pa.scalar(value).cast(pa.string()))
    text = str(value).replace('"', '""')
    return f'"{text}"'


def json_lines(table: pa.Table) -> bytes:
    """Rows as JSON objects, one per line, built column-wise by Arrow (no per-row Python)."""
    parts = []
    for field in table.schema:
        col = table.column(field.name).combine_chunks()
        key = json.dumps(field.name) + ":"
        if pa.types.is_string(field.type):
            text = col
            for old, new in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
                text = pc.replace_substring(text, old, new)
            value = pc.binary_join_element_wise(pa.scalar(key + '"'), text, pa.scalar('"'), "")
        else:
            value = pc.binary_join_element_wise(pa.scalar(key), col.cast(pa.string()), "")
        parts.append(pc.fill_null(value, key + "null"))
    body = pc.binary_join_element_wise(*parts, ",")
    lines = pc.binary_join_element_wise(pa.scalar("{"), body, pa.scalar("}\n"), "")
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset : lines.offset + len(lines) + 1]
    return bytes(lines.buffers()[2][int(offsets[0]) : int(offsets[-1])])
