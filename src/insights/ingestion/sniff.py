"""Recognise an input file before anything is written: format, compression, encoding, delimiter, header.

Every problem that makes the whole file unusable is raised here, as one DataContractError sentence
that names the file, the problem and the fix. Formats are read from the bytes, not trusted from the
file name; a name that claims another format is an error, not a guess.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from insights.errors import DataContractError

Format = Literal["csv", "jsonl", "parquet"]

_SAMPLE_BYTES = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"
_DELIMITERS = (",", ";", "\t", "|")
_SUFFIX_FORMATS: dict[str, Format] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_FORMAT_NAMES = {"csv": "CSV", "jsonl": "JSON Lines", "parquet": "Parquet"}


@dataclass(frozen=True)
class SourceFile:
    """What sniffing learned about one input file."""

    path: Path
    format: Format
    compression: Literal["gzip"] | None
    size_bytes: int
    delimiter: str | None = None
    header: tuple[str, ...] = ()

    @property
    def description(self) -> str:
        name = _FORMAT_NAMES[self.format]
        return f"gzip-compressed {name}" if self.compression else name


def _fail(path: Path, problem: str, fix: str) -> DataContractError:
    return DataContractError(f"{path}: {problem}; {fix}.")


def _claimed_format(path: Path) -> tuple[Format | None, bool]:
    suffixes = [s.lower() for s in path.suffixes]
    gz = bool(suffixes) and suffixes[-1] in (".gz", ".gzip")
    if gz:
        suffixes = suffixes[:-1]
    claimed = _SUFFIX_FORMATS.get(suffixes[-1]) if suffixes else None
    return claimed, gz


def _read_sample(path: Path, compressed: bool) -> bytes:
    if not compressed:
        with path.open("rb") as fh:
            return fh.read(_SAMPLE_BYTES)
    try:
        with gzip.open(path, "rb") as gz:
            return gz.read(_SAMPLE_BYTES)
    except (EOFError, OSError, zlib.error) as exc:
        raise _fail(
            path,
            f"the gzip data is truncated or corrupt ({exc})",
            "compress or download the file again",
        ) from None


def _check_text(path: Path, sample: bytes, complete: bool) -> str:
    if b"\x00" in sample:
        raise _fail(path, "the file is binary, not CSV, JSON Lines or Parquet", "export the data as CSV or Parquet")
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is fine; anything else is not UTF-8.
        if complete or exc.start < len(sample) - 4:
            raise _fail(
                path,
                f"the file is not UTF-8 text (byte 0x{sample[exc.start]:02x} at offset {exc.start})",
                "re-export it with UTF-8 encoding",
            ) from None
        text = sample[: exc.start].decode("utf-8")
    return text.lstrip("\ufeff")


def _looks_like_jsonl(text: str) -> bool:
    return text.lstrip().startswith("{")


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line
    return ""


def _pick_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _parse_header(path: Path, text: str, delimiter: str) -> tuple[str, ...]:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise _fail(path, f"the header row cannot be read ({exc})", "check that the file is a CSV export") from None
    names = tuple(h.strip() for h in header)
    if not any(names):
        raise _fail(path, "the header row is empty", "add a header row with the column names")
    return names


def sniff(path: str | Path, *, delimiter: str | None = None) -> SourceFile:
    """Inspect `path` and return what it is, or raise DataContractError naming what is wrong."""
    file = Path(path)
    if not file.exists():
        raise _fail(file, "no such file", "check the path")
    if not file.is_file():
        raise _fail(file, "this is not a regular file", "pass the path of a CSV, JSON Lines or Parquet file")
    size = file.stat().st_size
    if size == 0:
        raise _fail(file, "the file is empty", "export the data again with a header row and at least one row")
    with file.open("rb") as fh:
        head = fh.read(4)
    compressed = head[:2] == _GZIP_MAGIC
    claimed, claimed_gz = _claimed_format(file)

    if head == _PARQUET_MAGIC:
        with file.open("rb") as fh:
            fh.seek(max(size - 4, 0))
            tail = fh.read(4)
        if tail != _PARQUET_MAGIC or size < 12:
            raise _fail(file, "the Parquet file is truncated (no footer)", "copy or export the file again")
        detected: Format = "parquet"
        header: tuple[str, ...] = ()
        sep = None
    else:
        if claimed == "parquet" and not compressed:
            raise _fail(file, "the name says Parquet but the content is not Parquet", "rename it or export again")
        sample = _read_sample(file, compressed)
        if not sample.strip():
            raise _fail(file, "the file holds no data", "export the data again with a header row")
        text = _check_text(file, sample, complete=len(sample) < _SAMPLE_BYTES)
        if _looks_like_jsonl(text):
            detected = "jsonl"
            line = _first_line(text)
            try:
                first = json.loads(line)
            except json.JSONDecodeError as exc:
                raise _fail(
                    file, f"the first line is not valid JSON ({exc.msg})", "export one JSON object per line"
                ) from None
            if not isinstance(first, dict):
                raise _fail(file, "the first line is not a JSON object", "export one JSON object per line")
            header, sep = (), None
        else:
            detected = "csv"
            sep = delimiter or _pick_delimiter(_first_line(text))
            header = _parse_header(file, text, sep)

    if claimed is not None and claimed != detected:
        raise _fail(
            file,
            f"the name says {_FORMAT_NAMES[claimed]} but the content is {_FORMAT_NAMES[detected]}",
            "rename the file to match its content or export it again",
        )
    if claimed_gz and not compressed:
        raise _fail(file, "the name ends in .gz but the file is not gzip-compressed", "rename it without .gz")
    return SourceFile(
        path=file,
        format=detected,
        compression="gzip" if compressed else None,
        size_bytes=size,
        delimiter=sep,
        header=header,
    )


_NON_WORD = re.compile(r"[^0-9a-z]+")


def normalize_name(name: str) -> str:
    """Header name -> contract-style snake_case name ('Post Hour' -> 'post_hour')."""
    return _NON_WORD.sub("_", name.strip().lstrip("\ufeff").lower()).strip("_")
