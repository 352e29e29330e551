"""A call's recording as an HTTP response, from the archive: the live WAV while it is there,
else the archived FLAC verified against its checksum (damaged audio is never served)."""

from __future__ import annotations

from pathlib import Path

from starlette.responses import FileResponse, JSONResponse, Response

from callfloor.archivejob import Archiver, RecordingNotFoundError
from callfloor.store.db import CallRow
from callfloor.web.complaints import RecordingSource
from recordings.storage import StorageError

__all__ = ["archive_source"]


def archive_source(archiver: Archiver) -> RecordingSource:
    """A ``RecordingSource`` reading through the archive (None: the call has no recording)."""

    async def source(call: CallRow) -> Response | None:
        try:
            body, media_type = await archiver.open_recording(call.uuid)
        except RecordingNotFoundError:
            return None
        except StorageError as exc:  # a checksum mismatch included
            return JSONResponse({"error": f"recording unreadable: {exc}"}, status_code=500)
        if isinstance(body, Path):
            return FileResponse(body, media_type=media_type)
        return Response(body, media_type=media_type)

    return source
