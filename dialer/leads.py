"""Lead lists from CSV: text in, a validated report out (the store writes it, in one transaction).

The file is UTF-8 (a BOM and CRLF line ends are fine) with a header row. Columns, by header
name (case-insensitive for these three):

- ``number`` (or ``phone`` when there is no ``number`` column): required, any written form;
  normalised to E.164 with the campaign's default region (see ``dialer.numbers``).
- ``name``: optional, shown to the seat.
- ``time_zone``: optional IANA zone; overrides the zone derived from the number.

Every other column is kept, by its header as written, as the lead's data (the seat's screen
pop); empty cells are left out. Commas separate fields; a header with more semicolons or tabs
than commas switches to that separator (spreadsheets in many locales write ``;``).

A bad row is reported by its line number and reason and skipped; a row with an E.164 number
seen before is merged into the first one (its non-empty fields fill the first row's gaps).
Whether any bad row refuses the whole file is the caller's choice (``--strict``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field, replace

from dialer.numbers import NumberError, check_zone, normalise, resolve_zone

__all__ = ["ImportReport", "Lead", "LeadFileError", "Merge", "RowError", "decode_csv", "parse_leads"]

_NUMBER_COLUMNS = ("number", "phone")
_SEPARATORS = (",", ";", "\t")
_UTF16_32_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


class LeadFileError(ValueError):
    """The whole file is refused (encoding, header, CSV syntax); the message names the line."""


@dataclass(frozen=True, slots=True)
class Lead:
    """One lead to import; ``time_zone`` None means unknown: it is imported as held."""

    line: int
    number: str
    country: str
    time_zone: str | None
    name: str | None = None
    data: dict[str, str] = field(default_factory=dict)
    lines: tuple[int, ...] = ()  # every line merged into this lead, its own first


@dataclass(frozen=True, slots=True)
class RowError:
    """A row that was not imported, and why."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Merge:
    """Line ``line`` has the same number as line ``into`` and was merged into it."""

    line: int
    into: int
    number: str

    def __str__(self) -> str:
        return f"line {self.line}: same number as line {self.into} ({self.number}), merged"


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What a CSV holds: the leads to import, the bad rows and the merged duplicates."""

    leads: tuple[Lead, ...]
    errors: tuple[RowError, ...]
    merges: tuple[Merge, ...]
    rows: int  # data rows read, blank ones not counted
    columns: tuple[str, ...]  # the header as written

    @property
    def held(self) -> int:
        """Leads whose time zone is unknown (imported as held, not dialled)."""
        return sum(1 for lead in self.leads if lead.time_zone is None)


def decode_csv(data: bytes) -> str:
    """UTF-8 bytes (optional BOM) to text; any other encoding is a ``LeadFileError``."""
    if data.startswith(_UTF16_32_BOMS):
        raise LeadFileError("the file is UTF-16 or UTF-32; save it as UTF-8 (CSV UTF-8)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise LeadFileError(
            f"line {line}: not UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8, "
            "e.g. iconv -f GB18030 -t UTF-8 (Chinese) or -f CP1252 (Western)"
        ) from None


def parse_leads(
    data: bytes | str,
    *,
    region: str | None,
    now: float,
    countries: Collection[str] = (),
) -> ImportReport:
    """Read a lead CSV; ``countries`` (if any) are the only countries the campaign may call."""
    text = decode_csv(data) if isinstance(data, bytes) else data.removeprefix("\ufeff")
    rows = _rows(text)
    try:
        header_line, header = next(rows)
    except StopIteration:
        raise LeadFileError("the file is empty (a header row with a 'number' column is needed)") from None
    columns = _Columns.from_header(header, header_line)
    leads: dict[str, Lead] = {}
    errors: list[RowError] = []
    merges: list[Merge] = []
    count = 0
    for line, row in rows:
        count += 1
        if len(row) != len(header):
            errors.append(RowError(line, f"wrong column count: {len(row)} fields, the header has {len(header)}"))
            continue
        try:
            lead = columns.lead(line, row, region, now, countries)
        except NumberError as exc:
            errors.append(RowError(line, str(exc)))
            continue
        first = leads.get(lead.number)
        if first is None:
            leads[lead.number] = lead
        else:
            leads[lead.number] = _merge(first, lead)
            merges.append(Merge(line, first.line, lead.number))
    return ImportReport(tuple(leads.values()), tuple(errors), tuple(merges), count, tuple(header))


def _separator(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {sep: first.count(sep) for sep in _SEPARATORS}
    best = max(_SEPARATORS, key=lambda sep: counts[sep])
    return best if counts[best] > counts[","] else ","


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """(first line number, cells) of each non-blank record; blank records are skipped."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_separator(text), strict=True)
    line = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise LeadFileError(f"line {line}: CSV syntax error: {exc} (a quote never closed?)") from None
        start, line = line, reader.line_num + 1
        if any(cell.strip() for cell in row):
            yield start, [cell.strip() for cell in row]


@dataclass(frozen=True)
class _Columns:
    """Where the number, name and time zone are in a row; every other column is data."""

    number: int
    name: int | None
    zone: int | None
    data: tuple[tuple[int, str], ...]

    @classmethod
    def from_header(cls, header: list[str], line: int) -> _Columns:
        seen: dict[str, int] = {}
        for index, title in enumerate(header):
            if not title:
                raise LeadFileError(f"line {line}: column {index + 1} of the header has no name")
            if title.lower() in seen:
                raise LeadFileError(f"line {line}: column {title!r} appears twice in the header")
            seen[title.lower()] = index
        number = next((seen[c] for c in _NUMBER_COLUMNS if c in seen), None)
        if number is None:
            raise LeadFileError(f"line {line}: no 'number' (or 'phone') column in the header {header}")
        name, zone = seen.get("name"), seen.get("time_zone")
        used = {number, name, zone}
        data = tuple((i, title) for i, title in enumerate(header) if i not in used)
        return cls(number, name, zone, data)

    def lead(
        self, line: int, row: list[str], region: str | None, now: float, countries: Collection[str]
    ) -> Lead:
        """The row as a lead; ``NumberError`` for a bad number or time zone."""
        cell = row[self.number]
        try:
            number = normalise(cell, region)
        except NumberError as exc:
            raise NumberError(f"bad number {cell!r}: {exc}") from None
        if countries and number.country not in countries:
            raise NumberError(f"{number.e164} is in {number.country}, which the campaign does not call")
        zone_text = row[self.zone] if self.zone is not None else ""
        zone = check_zone(zone_text) if zone_text else resolve_zone(number.zones, now)
        name = (row[self.name] or None) if self.name is not None else None
        data = {title: row[i] for i, title in self.data if row[i]}
        return Lead(line, number.e164, number.country, zone, name, data, (line,))


def _merge(first: Lead, later: Lead) -> Lead:
    """The first row wins; the later row's non-empty fields fill its gaps."""
    return replace(
        first,
        name=first.name or later.name,
        time_zone=first.time_zone or later.time_zone,
        data=first.data | {k: v for k, v in later.data.items() if k not in first.data},
        lines=(*first.lines, later.line),
    )
