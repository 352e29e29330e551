"""``callfloor complaint`` and ``callfloor blacklist`` against a real database file."""

from __future__ import annotations

import argparse
import io
import sqlite3
from pathlib import Path

import pytest

from callfloor import complaintcli

NOW = 1_772_000_000.0  # 2026-02-25 06:13:20 UTC


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "callfloor.toml"
    path.write_text(f'[storage]\ndata_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    return path


def cli(config: Path, *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="callfloor")
    complaintcli.add_parser(parser.add_subparsers(dest="command"))
    out, err = io.StringIO(), io.StringIO()
    code = complaintcli.run(parser.parse_args([*argv, "--config", str(config)]), now=NOW, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_a_case_from_open_to_blacklist_and_back(config: Path) -> None:
    code, out, err = cli(config, "complaint", "open", "(212) 555-0101", "--at", "2026-02-25T05:10:00+00:00",
                         "--description", "rude agent", "--by", "qa1")
    assert (code, err, out) == (0, "", "opened #1     open               +12125550101     2026-02-25 05:10:00Z phone: rude agent\n")
    with sqlite3.connect(config.parent / "data" / "callfloor.db") as db:
        db.execute("INSERT INTO calls (uuid, sip_call_id, direction, caller, callee, seat_id, started_at, ended_at,"
                   " status) VALUES ('c1', 's', 'inbound', '+12125550101', '100', '1001', ?, ?, 'ended')",
                   (NOW - 3800, NOW - 3700))
    assert cli(config, "complaint", "link", "1", "c1", "--by", "qa1")[1] == "call c1 linked to complaint 1\n"
    assert cli(config, "complaint", "show", "1")[1].splitlines()[1] == (
        "  linked    c1 inbound 2026-02-25 05:10:00Z seat 1001 (0 s away)")
    code, out, _ = cli(config, "complaint", "close", "1", "--outcome", "groundless", "--by", "qa1")
    assert (code, out.split(" ")[0]) == (0, "closed")
    code, _, err = cli(config, "blacklist", "add", "2125550101", "--reason", "groundless", "--complaint", "1",
                       "--call", "c1", "--days", "30", "--by", "qa1", "--approved-by", "qa1")
    assert (code, err) == (1, "callfloor: qa1 proposed record 1: a second person approves it\n")
    code, out, _ = cli(config, "blacklist", "add", "2125550101", "--reason", "groundless", "--complaint", "1",
                       "--call", "c1", "--days", "30", "--by", "qa1", "--approved-by", "lead1")
    assert code == 0 and out.splitlines()[-1] == (
        "approved #2     active    +12125550101     global       until 2026-03-27 06:13:20Z (qa1/lead1): groundless")
    with sqlite3.connect(config.parent / "data" / "callfloor.db") as db:
        assert db.execute("SELECT number, campaign_id, source FROM dnc").fetchall() == [("+12125550101", "", "blacklist")]
    assert cli(config, "blacklist", "preview", "+12125550101")[1] == (
        "+12125550101: would suppress 0 pending leads (none) (already on that do-not-call list)\n")
    code, out, _ = cli(config, "blacklist", "revoke", "2", "--reason", "paid", "--by", "lead1")
    assert (code, out.split(" ")[0]) == (0, "revoked")
    states = [line.split()[1] for line in cli(config, "blacklist", "list")[1].splitlines()]
    assert states == ["revoked", "proposed"]
    with sqlite3.connect(config.parent / "data" / "callfloor.db") as db:
        assert db.execute("SELECT count(*) FROM dnc").fetchone() == (0,)
    assert cli(config, "complaint", "show", "9")[0:3:2] == (1, "callfloor: no complaint 9\n")
