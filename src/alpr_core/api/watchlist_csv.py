"""Watchlist entries as CSV, for bulk import and export (docs/decisions.md#watchlist-csv).

One header line names the columns (``COLUMNS``, in any order; only ``plate`` is required), then one
entry per line. A cell holding several labels or hours separates them with ``;``. What
:func:`entry_lines` writes, :func:`parse_entries` reads back to the same entries.

Every byte is a client's: a file that cannot be read as a whole (not UTF-8, no usable header, a
broken quote, too many lines) raises :class:`UnreadableCsvError`; a line that is not a valid entry
is a :class:`RejectedLine` with its line number and reasons, and the other lines still count. A
line that repeats an earlier line's (plate, reference) is rejected, naming that line.

A cell that a spreadsheet would run as a formula (one starting with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return) is written with a leading ``'``, which the reader removes again; so is a
cell starting with ``'``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from alpr_core.api.watchlist_models import EntryIn, RejectedLine
from alpr_core.db.watchlists import Entry, EntrySpec

COLUMNS = (
    "plate",
    "match_mode",
    "max_distance",
    "reason",
    "reference",
    "valid_from",
    "valid_until",
    "cameras",
    "sites",
    "directions",
    "hours_of_week",
)
LIST_COLUMNS = frozenset({"cameras", "sites", "directions", "hours_of_week"})
SEPARATOR = ";"
MEDIA_TYPE = "text/csv"
_GUARDED_STARTS = frozenset({"=", "+", "-", "@", "\t", "\r", "'"})
_MAX_ERRORS_PER_LINE = 10


class UnreadableCsvError(ValueError):
    """The file as a whole cannot be read; the message says why, without quoting its content."""


@dataclass(frozen=True, slots=True)
class ParsedEntries:
    entries: list[EntrySpec]
    rejected: list[RejectedLine]


def parse_entries(data: bytes, max_entries: int) -> ParsedEntries:
    """The entries of a CSV file, and its rejected lines; :class:`UnreadableCsvError` when the file
    cannot be read or holds more than ``max_entries`` lines of entries."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableCsvError(f"the file is not UTF-8 (byte {error.start})") from None
    if "\x00" in text:
        raise UnreadableCsvError("the file contains NUL characters")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = _header(next(reader, None))
        entries: list[EntrySpec] = []
        rejected: list[RejectedLine] = []
        first_line: dict[tuple[str, str], int] = {}
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(entries) + len(rejected) >= max_entries:
                raise UnreadableCsvError(f"more than {max_entries} entries in one file")
            line = reader.line_num
            entry = _entry(header, cells)
            if isinstance(entry, list):
                rejected.append(RejectedLine(line, entry))
                continue
            identity = (entry.plate_normalized, entry.reference)
            if identity in first_line:
                repeated = f"repeats the plate and reference of line {first_line[identity]}"
                rejected.append(RejectedLine(line, [repeated]))
                continue
            first_line[identity] = line
            entries.append(entry)
    except csv.Error as error:
        raise UnreadableCsvError(f"line {reader.line_num}: {error}") from None
    return ParsedEntries(entries, rejected)


def _header(cells: list[str] | None) -> list[str]:
    if cells is None:
        raise UnreadableCsvError("the file is empty: its first line must name the columns")
    names = [cell.strip().lower() for cell in cells]
    unknown = sorted(set(names) - set(COLUMNS))
    if unknown:
        shown = ", ".join(name[:40] for name in unknown[:5])
        raise UnreadableCsvError(f"unknown columns: {shown}; the columns are {', '.join(COLUMNS)}")
    if len(set(names)) != len(names):
        raise UnreadableCsvError("a column is named twice")
    if "plate" not in names:
        raise UnreadableCsvError("the first line must name the columns, plate among them")
    return names


def _entry(header: list[str], cells: list[str]) -> EntrySpec | list[str]:
    """The entry of one line, or what is wrong with it."""
    if len(cells) > len(header):
        return [f"{len(cells)} cells for {len(header)} columns"]
    fields: dict[str, Any] = {}
    for name, cell in zip(header, cells, strict=False):
        value = _unquoted(cell.strip())
        if not value:
            continue
        if name in LIST_COLUMNS:
            fields[name] = [part.strip() for part in value.split(SEPARATOR) if part.strip()]
        else:
            fields[name] = value
    try:
        return EntryIn.model_validate(fields).spec()
    except ValidationError as error:
        return [_reason(detail) for detail in error.errors()[:_MAX_ERRORS_PER_LINE]]


def _reason(detail: Any) -> str:
    where = ".".join(str(part) for part in detail["loc"])
    return f"{where}: {detail['msg']}" if where else str(detail["msg"])


def _unquoted(cell: str) -> str:
    """A cell as written, without the ``'`` that :func:`_guarded` put before it."""
    return cell[1:] if cell.startswith("'") and cell[1:2] in _GUARDED_STARTS else cell


def _guarded(cell: str) -> str:
    """A cell a spreadsheet shows as text: ``'`` before a formula's first character (and before
    a ``'``, so that reading it back removes exactly the one added)."""
    return f"'{cell}" if cell[:1] in _GUARDED_STARTS else cell


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return _guarded(SEPARATOR.join(str(item) for item in value))
    return _guarded(str(value))


def header_line() -> str:
    return _line(list(COLUMNS))


def entry_line(entry: Entry | EntrySpec) -> str:
    return _line([_cell(getattr(entry, name)) for name in COLUMNS])


def entry_lines(entries: Iterable[Entry | EntrySpec]) -> Iterator[str]:
    """The header, then one CSV line per entry, as the entries arrive."""
    yield header_line()
    for entry in entries:
        yield entry_line(entry)


def _line(cells: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue()
