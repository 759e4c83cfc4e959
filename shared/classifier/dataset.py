"""Labelled CSV files (docs/contract.md §8): a header with ``text`` and ``label`` (``1``
spam, ``0`` ham), optionally ``author_name``, ``author_email``, ``author_url``.

The whole file is read and checked before anything uses it, so a bad file is refused
with a message naming the row and nothing half-done. UTF-8 (a byte-order mark is fine);
gzip-compressed files are read as they are (``sms_spam.csv.gz``).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import zlib
from dataclasses import dataclass
from pathlib import Path

REQUIRED = ("text", "label")
OPTIONAL = ("author_name", "author_email", "author_url")
MAX_BYTES = 256 * 1024 * 1024  # after decompression
MAX_NAME = 100
MAX_EMAIL = 254
MAX_URL = 2048


class BadFile(ValueError):
    """The file is not a labelled CSV Parley can use; the message says why and where."""


@dataclass(frozen=True)
class Row:
    """One labelled example of a file."""

    text: str
    label: int  # 1 spam, 0 ham
    author_name: str = ""
    author_email: str = ""
    author_url: str | None = None

    def digest(self) -> str:
        """SHA-256 of the text and author fields: the same example imported twice is one."""
        parts = (self.text, self.author_name, self.author_url or "")
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def _decompress(data: bytes) -> bytes:
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
            out = f.read(MAX_BYTES + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise BadFile(f"not a readable gzip file ({exc})") from None
    if len(out) > MAX_BYTES:
        raise BadFile(f"larger than {MAX_BYTES // 2**20} MiB once decompressed")
    return out


def _header(names: list[str]) -> dict[str, int]:
    columns = [name.strip().lower() for name in names]
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        found = ", ".join(repr(c) for c in columns[:10]) or "nothing"
        raise BadFile(f"the header must name the columns text and label (found {found})")
    repeated = {c for c in columns if c in REQUIRED + OPTIONAL and columns.count(c) > 1}
    if repeated:
        raise BadFile(f"the header names {', '.join(sorted(repeated))} more than once")
    return {name: columns.index(name) for name in REQUIRED + OPTIONAL if name in columns}


def _row(fields: list[str], where: dict[str, int], width: int, line: int) -> Row:
    if len(fields) != width:
        raise BadFile(f"line {line}: {len(fields)} fields where the header has {width}")
    get = lambda name: fields[where[name]].strip() if name in where else ""  # noqa: E731
    label = get("label")
    if label not in ("0", "1"):
        raise BadFile(f"line {line}: label must be 1 (spam) or 0 (ham), not {label[:20]!r}")
    text = get("text")
    if not text:
        raise BadFile(f"line {line}: empty text")
    return Row(
        text=text,
        label=int(label),
        author_name=get("author_name")[:MAX_NAME],
        author_email=get("author_email")[:MAX_EMAIL],
        author_url=get("author_url")[:MAX_URL] or None,
    )


def parse(data: bytes) -> list[Row]:
    """Every row of a labelled CSV file's bytes, or :class:`BadFile`."""
    data = _decompress(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadFile(f"not UTF-8 text (byte {exc.start})") from None
    if "\x00" in text:
        raise BadFile("not a CSV file (it holds NUL bytes)")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[Row] = []
    try:
        header = next(reader, None)
        if header is None:
            raise BadFile("the file is empty")
        where = _header(header)
        for fields in reader:
            if fields:  # blank lines are no rows
                rows.append(_row(fields, where, len(header), reader.line_num))
    except csv.Error as exc:
        raise BadFile(f"line {reader.line_num}: not valid CSV ({exc})") from None
    if not rows:
        raise BadFile("no rows after the header")
    return rows


def read(path: str | Path) -> list[Row]:
    """The rows of the labelled CSV file at ``path``, or :class:`BadFile`."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as exc:
        raise BadFile(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise BadFile(f"larger than {MAX_BYTES // 2**20} MiB")
    return parse(data)
