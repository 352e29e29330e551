"""``callfloor archive`` end to end on a real database: run, verify, find, retention, hold."""

from __future__ import annotations

import argparse
import asyncio
import io
from pathlib import Path

import pytest

from callfloor.archivecli import add_parser, parse_time, run
from callfloor.store import CallStart, Store
from tests.unit.recordings.archive_helpers import make_wav

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def _cli(config: Path, *argv: str, now: float = T0 + 1000) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["archive", *argv[:1], "--config", str(config), *argv[1:]])
    out, err = io.StringIO(), io.StringIO()
    code = run(args, now=now, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    data = tmp_path / "data"

    async def setup() -> None:
        async with await Store.open(data / "callfloor.db") as store:
            for i, caller in enumerate(("+15551110000", "+15552220000")):
                uuid, path = f"c{i}", f"2026/01/01/c{i}.wav"
                await store.call_started(CallStart(uuid, uuid, "inbound", caller, "+15550100", None,
                                                   f"100{i + 1}", T0 + i * 60, path))
                make_wav(data / "recordings" / path, seconds=1.0, seed=i)
                await store.call_answered(uuid, T0 + i * 60, f"100{i + 1}")
                await store.call_ended(uuid, T0 + i * 60 + 1, "bye")

    asyncio.run(setup())
    path = tmp_path / "callfloor.toml"
    path.write_text(f'[storage]\ndata_dir = "{data}"\n'
                    '[[teams]]\nid = "a"\n[[seats]]\nid = "1001"\npassword = "x"\nteam = "a"\n'
                    '[[seats]]\nid = "1002"\npassword = "y"\n')
    return path


def test_run_verify_find_retention_hold(config: Path) -> None:
    code, out, _ = _cli(config, "run")
    assert code == 0 and out.splitlines()[-1] == "archive run: 2 archived, 0 finished, 0 problem, 0 failed"
    code, out, _ = _cli(config, "verify")
    assert code == 0 and out.splitlines() == [
        "flac     c0 2026/01/01/c0.wav", "flac     c1 2026/01/01/c1.wav", "verify: 2 recordings, 0 not ok"]
    code, out, _ = _cli(config, "find", "--number", "15552220000")
    assert code == 0 and out.splitlines()[0].startswith("2026-01-01 00:01:00Z c1 inbound  +15552220000 -> +15550100 seat 1002 1.0s")
    assert _cli(config, "find", "--team", "a")[1].splitlines()[-1] == "1 recordings"
    assert _cli(config, "find", "--since", "2026-01-01T00:00:30")[1].splitlines()[-1] == "1 recordings"
    assert _cli(config, "find", "--team", "nope")[0] == 2
    assert _cli(config, "hold", "c0", "--reason", "complaint 7") == (0, "hold c0: done\n", "")
    later = T0 + 1000 + 91 * 86400
    code, out, _ = _cli(config, "retention", "--dry-run", now=later)
    assert code == 0 and out.splitlines()[-1] == "retention: would delete 1 recordings, " + out.split(", ")[-1].strip()
    assert "c1 2026/01/01/c1.flac (class default" in out
    code, out, _ = _cli(config, "retention", now=later)
    assert code == 0 and "deleted c1 " in out
    assert "[held]" in _cli(config, "find", "--call", "c0")[1]
    code, _, err = _cli(config, "release", "missing")
    assert code == 1 and "no archived recording of call missing" in err


def test_analyse(config: Path) -> None:
    code, out, _ = _cli(config, "run")
    assert code == 0 and "sha256 " in out and out.count(", flags -") == 2
    assert _cli(config, "analyse", "--missing") == (0, "analyse: 0 analysed, 0 not analysed\n", "")

    async def forget() -> None:  # as for calls archived before migration 009
        async with await Store.open(config.parent / "data" / "callfloor.db") as store:
            await store._db.execute("DELETE FROM call_analytics WHERE call_uuid = 'c1'")

    asyncio.run(forget())
    code, out, _ = _cli(config, "analyse", "--missing")
    assert (code, out.splitlines()) == (0, ["analysed   c1 2026/01/01/c1.wav: 1.0 s, flags -",
                                            "analyse: 1 analysed, 0 not analysed"])
    code, out, _ = _cli(config, "analyse")
    assert code == 0 and out.splitlines()[-1] == "analyse: 2 analysed, 0 not analysed"
    code, out, _ = _cli(config, "analyse", "--call", "c0")
    assert code == 0 and out.splitlines()[0].startswith("analysed   c0 ")
    code, out, err = _cli(config, "analyse", "--call", "nope")
    assert (code, out, err) == (1, "", "callfloor archive: no archived recording of call nope\n")
    with pytest.raises(SystemExit):
        _cli(config, "analyse", "--limit", "0")


def test_parse_time() -> None:
    assert parse_time("2026-01-01") == T0
    assert parse_time("2026-01-01T08:00+08:00") == T0
    assert parse_time("1767225600") == T0
    with pytest.raises(argparse.ArgumentTypeError, match="not a time: 'yesterday'"):
        parse_time("yesterday")
