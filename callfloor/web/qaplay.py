"""Playback for the QA page: the recording behind a call (live WAV or archived FLAC), served
with HTTP Range (RFC 9110 §14) so the browser can seek, and its analytics for the player's
markers: the row the archive job stored (migration 009) when there is one, else computed from
the recording once per call and kept in a small cache.

The recording comes from a :class:`RecordingSource`: the archive job's ``Archiver`` (WAV while
it is there, else the verified FLAC), or :class:`LocalRecordings` (the WAV only) when no
archive runs.
"""

from __future__ import annotations

import asyncio
import re
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import aiosqlite
from starlette.responses import Response

from callfloor.archivejob import analyse_recording
from callfloor.store.analytics import CallAnalyticsStore
from callfloor.store.db import Store
from recordings.analyze_file import AudioFileError
from recordings.archive import ArchiveError
from recordings.storage import StorageError

__all__ = [
    "AnalyticsCache",
    "ByteRange",
    "LocalRecordings",
    "RangeError",
    "RecordingMissing",
    "RecordingSource",
    "audio_response",
    "parse_range",
]

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RecordingMissing(LookupError):
    """The call has no recording to play (none made, deleted by retention, file gone)."""


class RecordingSource(Protocol):
    """Where a call's recording is read from (``callfloor.archivejob.Archiver`` has this)."""

    async def open_recording(self, call_uuid: str) -> tuple[bytes | Path, str]:
        """(the WAV path or the FLAC bytes, its media type); LookupError when there is none."""
        ...


class LocalRecordings:
    """The live WAVs under the recordings directory (no archive)."""

    def __init__(self, store: Store, recordings_dir: Path) -> None:
        self.store = store
        self.root = recordings_dir.resolve()

    async def open_recording(self, call_uuid: str) -> tuple[bytes | Path, str]:
        """The WAV of ``call_uuid``; RecordingMissing when there is none."""
        row = await self.store.call(call_uuid)
        if row is None or not row.recording_path:
            raise RecordingMissing(f"no recording of call {call_uuid}")
        path = (self.root / row.recording_path).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise RecordingMissing(f"the recording of call {call_uuid} is missing from the disk")
        return path, "audio/wav"


class RangeError(ValueError):
    """A Range header that cannot be satisfied (answered 416)."""


@dataclass(frozen=True, slots=True)
class ByteRange:
    """An inclusive byte range [first, last] of a representation of ``size`` bytes."""

    first: int
    last: int
    size: int

    @property
    def length(self) -> int:
        """Bytes in the range."""
        return self.last - self.first + 1

    def content_range(self) -> str:
        """The Content-Range header value."""
        return f"bytes {self.first}-{self.last}/{self.size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one byte range asked for (RFC 9110 §14.1.2), or None for the whole representation
    (no header, another unit, or several ranges: a server may ignore Range). RangeError when the
    range starts past the end."""
    if not header:
        return None
    found = _RANGE.match(header.strip().replace(" ", ""))
    if found is None:
        return None
    first_text, last_text = found.groups()
    if not first_text:
        if not last_text or int(last_text) == 0:
            raise RangeError(f"unsatisfiable range {header!r}")
        suffix = min(int(last_text), size)
        return ByteRange(size - suffix, size - 1, size) if size else None
    first = int(first_text)
    if first >= size:
        raise RangeError(f"range {header!r} starts past the end ({size} bytes)")
    last = min(int(last_text), size - 1) if last_text else size - 1
    if last < first:
        return None  # syntactically invalid: ignored, the whole file is sent
    return ByteRange(first, last, size)


def _read(source: bytes | Path, span: ByteRange | None) -> bytes:
    if isinstance(source, bytes):
        return source if span is None else source[span.first: span.last + 1]
    with source.open("rb") as handle:
        if span is None:
            return handle.read()
        handle.seek(span.first)
        return handle.read(span.length)


async def audio_response(source: bytes | Path, media: str, range_header: str | None,
                         name: str) -> Response:
    """200 with the whole recording, 206 with one range, or 416 (RFC 9110 §15.3.7, §15.5.17)."""
    size = len(source) if isinstance(source, bytes) else source.stat().st_size
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "no-store",
               "Content-Disposition": f'inline; filename="{name}"'}
    try:
        span = parse_range(range_header, size)
    except RangeError:
        return Response(b"", status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    body = await asyncio.to_thread(_read, source, span)
    if span is None:
        return Response(body, media_type=media, headers=headers)
    return Response(body, status_code=206, media_type=media,
                    headers={**headers, "Content-Range": span.content_range()})


class AnalyticsCache:
    """Analytics per call: the stored row (``call_analytics``) when the call has one, else
    computed on first use in a worker thread, the last ``size`` kept (a recording does not
    change once the call has ended).

    The rows are read on ``store``; without one, on the source's ``store`` when it has one (the
    ``Archiver`` and ``LocalRecordings`` do)."""

    def __init__(self, size: int = 64, store: Store | aiosqlite.Connection | None = None) -> None:
        self.size = size
        self.store = store
        self._found: OrderedDict[str, dict[str, Any]] = OrderedDict()

    async def _stored(self, call: str, source: RecordingSource) -> dict[str, Any] | None:
        db = self.store if self.store is not None else getattr(source, "store", None)
        if not isinstance(db, Store | aiosqlite.Connection):
            return None
        row = await CallAnalyticsStore(db).get(call)
        return None if row is None else row.data()

    async def get(self, call: str, source: RecordingSource) -> tuple[dict[str, Any] | None, str | None]:
        """(the analytics as JSON-ready data, None) or (None, why there are none)."""
        stored = await self._stored(call, source)  # read each time: a re-analysis replaces it
        if stored is not None:
            return stored, None
        if call in self._found:
            self._found.move_to_end(call)
            return self._found[call], None
        try:
            recording, _ = await source.open_recording(call)
            figures = (await asyncio.to_thread(analyse_recording, recording, f"call {call}")).to_dict()
        except LookupError as exc:
            return None, str(exc.args[0]) if exc.args else "no recording"
        except (AudioFileError, ArchiveError, StorageError, ValueError, OSError) as exc:
            return None, f"the recording cannot be analysed: {exc}"
        self._found[call] = figures
        while len(self._found) > self.size:
            self._found.popitem(last=False)
        return figures, None
