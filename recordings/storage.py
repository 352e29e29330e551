"""Where archived recordings live: a local directory (default) or S3-compatible object storage.

Both keep each object's SHA-256 beside it (a ``.sha256`` sidecar file, or the object's
``x-amz-meta-sha256``) and check it on every read, and against the index's copy when the caller
passes it: a flipped bit on disk or in the bucket is an error, never a silently wrong recording.
Blocking calls: the service runs them in a worker thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import shutil
from pathlib import Path
from typing import Any, Protocol

__all__ = [
    "ChecksumError",
    "DirectoryStore",
    "ObjectStore",
    "S3Store",
    "StorageError",
    "sha256_bytes",
    "sha256_file",
]

_KEY = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")
_SIDE = ".sha256"
_CHUNK = 1 << 20


class StorageError(Exception):
    """An object cannot be written, read or found; the message names the backend and key."""


class ChecksumError(StorageError):
    """An object's bytes do not hash to the SHA-256 stored for it."""

    def __init__(self, where: str, expected: str, actual: str) -> None:
        super().__init__(f"{where}: SHA-256 mismatch: stored {expected}, read {actual}")
        self.expected = expected
        self.actual = actual


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _check_key(key: str) -> str:
    if not _KEY.match(key) or any(part in (".", "..") for part in key.split("/")):
        raise StorageError(f"bad object key {key!r} (want a/b/c.flac of letters, digits, ._-)")
    return key


def _verify(where: str, data: bytes, stored: str | None, expected: str | None) -> bytes:
    actual = sha256_bytes(data)
    for want in (expected, stored):
        if want is not None and want != actual:
            raise ChecksumError(where, want, actual)
    if stored is None and expected is None:
        raise StorageError(f"{where}: no SHA-256 stored for this object, and none given")
    return data


class ObjectStore(Protocol):
    """The interface both backends offer."""

    name: str

    def put(self, key: str, path: Path, sha256: str, *, move: bool = False) -> None:
        """Store the file at ``path`` under ``key`` with its SHA-256 (``move``: the file may be
        taken instead of copied)."""

    def get(self, key: str, sha256: str | None = None) -> bytes:
        """The object's bytes, checked against its stored SHA-256 and ``sha256`` when given."""

    def delete(self, key: str) -> None:
        """Remove the object (nothing happens when it is not there)."""

    def exists(self, key: str) -> bool:
        """True when the object is stored."""

    def describe(self, key: str) -> str:
        """Where the object is, for messages."""


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DirectoryStore:
    """Objects as files under ``root`` (key ``2026/01/02/x.flac`` -> ``root/2026/01/02/x.flac``)."""

    name = "dir"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        """The file that holds ``key``."""
        return self.root / _check_key(key)

    def describe(self, key: str) -> str:
        """Where the object is, for messages."""
        return str(self.path(key))

    def put(self, key: str, path: Path, sha256: str, *, move: bool = False) -> None:
        """Sidecar first, then the data, each written to a temporary name, fsynced and renamed:
        after a crash an object is either absent or whole (a lone sidecar is not an object)."""
        final = self.path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        side = final.with_name(final.name + _SIDE)
        tmp_side = side.with_name(side.name + ".tmp")
        with open(tmp_side, "w", encoding="ascii") as f:
            f.write(sha256 + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_side, side)
        if move and Path(path).stat().st_dev == final.parent.stat().st_dev:
            os.replace(path, final)
        else:
            tmp = final.with_name(final.name + ".tmp")
            with open(path, "rb") as src, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst, _CHUNK)
                dst.flush()
                os.fsync(dst.fileno())
            os.replace(tmp, final)
            if move:
                Path(path).unlink()
        _fsync_dir(final.parent)

    def get(self, key: str, sha256: str | None = None) -> bytes:
        """The file's bytes, checked against its sidecar and ``sha256``."""
        final = self.path(key)
        try:
            data = final.read_bytes()
        except FileNotFoundError as exc:
            raise StorageError(f"{final}: no such archived object") from exc
        except OSError as exc:
            raise StorageError(f"{final}: cannot read: {exc.strerror or exc}") from exc
        stored = None
        with contextlib.suppress(FileNotFoundError):
            stored = final.with_name(final.name + _SIDE).read_text(encoding="ascii").strip()
        return _verify(str(final), data, stored, sha256)

    def delete(self, key: str) -> None:
        """Remove the data, then the sidecar."""
        final = self.path(key)
        for path in (final, final.with_name(final.name + _SIDE)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def exists(self, key: str) -> bool:
        """True when the data file is there."""
        return self.path(key).is_file()


class S3Store:
    """Objects in an S3-compatible bucket (MinIO, SeaweedFS, Garage, AWS) through ``minio``."""

    name = "s3"

    def __init__(self, endpoint: str, bucket: str, *, access_key: str | None, secret_key: str | None,
                 secure: bool = True, region: str | None = None, prefix: str = "",
                 create_bucket: bool = False) -> None:
        from minio import Minio  # imported here: the directory backend needs no S3 client

        self.bucket = bucket
        self.endpoint = endpoint
        self.prefix = prefix.strip("/")
        self._client = Minio(endpoint, access_key=access_key, secret_key=secret_key,
                             secure=secure, region=region)
        if create_bucket and not self._client.bucket_exists(bucket):
            self._client.make_bucket(bucket)

    def _name(self, key: str) -> str:
        _check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def describe(self, key: str) -> str:
        """s3://bucket/key at the endpoint."""
        return f"s3://{self.bucket}/{self._name(key)} at {self.endpoint}"

    def put(self, key: str, path: Path, sha256: str, *, move: bool = False) -> None:
        """Upload with the SHA-256 as metadata; S3 makes the object visible only when whole."""
        from minio.error import MinioException

        try:
            self._client.fput_object(self.bucket, self._name(key), str(path),
                                     content_type="audio/flac", metadata={"sha256": sha256})
        except (MinioException, OSError) as exc:
            raise StorageError(f"{self.describe(key)}: upload failed: {exc}") from exc
        if move:
            Path(path).unlink()

    def get(self, key: str, sha256: str | None = None) -> bytes:
        """Download and check against the object's metadata and ``sha256``."""
        from minio.error import MinioException, S3Error

        response: Any = None
        try:
            response = self._client.get_object(self.bucket, self._name(key))
            data = response.read()
            headers = {k.lower(): v for k, v in response.headers.items()}
        except S3Error as exc:
            raise StorageError(f"{self.describe(key)}: {exc.code}") from exc
        except (MinioException, OSError) as exc:
            raise StorageError(f"{self.describe(key)}: download failed: {exc}") from exc
        finally:
            if response is not None:
                response.close()
                response.release_conn()
        return _verify(self.describe(key), bytes(data), headers.get("x-amz-meta-sha256"), sha256)

    def delete(self, key: str) -> None:
        """Remove the object (S3 answers a missing key with success too)."""
        from minio.error import MinioException

        try:
            self._client.remove_object(self.bucket, self._name(key))
        except (MinioException, OSError) as exc:
            raise StorageError(f"{self.describe(key)}: delete failed: {exc}") from exc

    def exists(self, key: str) -> bool:
        """True when a HEAD of the object succeeds."""
        from minio.error import MinioException, S3Error

        try:
            self._client.stat_object(self.bucket, self._name(key))
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "ResourceNotFound"):
                return False
            raise StorageError(f"{self.describe(key)}: {exc.code}") from exc
        except (MinioException, OSError) as exc:
            raise StorageError(f"{self.describe(key)}: stat failed: {exc}") from exc
        return True

    def put_bytes(self, key: str, data: bytes, metadata: dict[str, str]) -> None:
        """Write raw bytes with any metadata (tests use it to plant a corrupted object)."""
        self._client.put_object(self.bucket, self._name(key), io.BytesIO(data), len(data),
                                metadata=dict(metadata))
