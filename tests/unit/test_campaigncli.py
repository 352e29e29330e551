"""``callfloor campaign``: list, import (dry run, strict, bad rows) and the DNC commands."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from callfloor import campaigncli
from callfloor.store import Store
from callfloor.store.dialer import DialerStore
from callfloor.store.dialer.core import CampaignSourceError
from dialer.campaign import parse_campaign

ROOT = Path(__file__).resolve().parents[2]
NOW = 1_772_000_000.0  # 2026-02-25


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A configuration with the demo campaign in its own folder and a database under tmp_path."""
    folder = tmp_path / "campaigns"
    folder.mkdir()
    for name in ("demo.toml", "demo-leads.csv"):
        shutil.copy(ROOT / "config" / "campaigns" / name, folder / name)
    path = tmp_path / "callfloor.toml"
    path.write_text(
        f'[storage]\ndata_dir = "{tmp_path / "data"}"\n[dialer]\ncampaigns = "{folder}"\n'
        '[[teams]]\nid = "front"\n'
        '[[seats]]\nid = "1001"\npassword = "x"\n[[seats]]\nid = "1002"\npassword = "y"\n',
        encoding="utf-8",
    )
    return path


def cli(*argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="callfloor")
    campaigncli.add_parser(parser.add_subparsers(dest="command"))
    out, err = io.StringIO(), io.StringIO()
    code = campaigncli.run(parser.parse_args(["campaign", *argv]), now=NOW, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def leads(config: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(config.parent / "data" / "callfloor.db") as db:
        return db.execute("SELECT number, status FROM leads ORDER BY id").fetchall()


def test_import_the_demo_list_then_list(config: Path) -> None:
    csv = config.parent / "campaigns" / "demo-leads.csv"
    code, out, err = cli("import", "demo", str(csv), "--config", str(config))
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"{csv}: 30 rows, 30 leads, 0 merged, 0 bad",
        "imported 30 new leads into demo (1 held: time zone unknown; 0 already in the campaign; "
        "0 on a do-not-call list)",
    ]
    assert len(leads(config)) == 30 and leads(config)[10] == ("+12085550111", "held")
    code, out, _ = cli("list", "--config", str(config))
    assert code == 0
    assert out.splitlines()[1].split() == ["demo", "file", "predictive", "yes", "30", "29", "0", "0", "0", "0", "1"]
    # 2026 is published, 2027 is not: only its statutory days are closed
    assert "warning: no published CN holiday arrangement for 2027" in out
    assert "only its statutory holidays are closed" in out


def test_export_writes_the_results_file_and_audits_it(config: Path, tmp_path: Path) -> None:
    csv = config.parent / "campaigns" / "demo-leads.csv"
    assert cli("import", "demo", str(csv), "--config", str(config))[0] == 0
    code, out, err = cli("export", "demo", "--config", str(config))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("lead_id,number,name,status,attempts,last_outcome,") and len(lines) == 31
    assert lines[11].startswith("11,+12085550111,") and ",held," in lines[11]  # the lead held for its zone
    target = tmp_path / "out" / "demo.csv"
    assert cli("export", "demo", "--out", str(target), "--config", str(config))[0] == 1  # no such folder
    target.parent.mkdir()
    code, out, _ = cli("export", "demo", "--out", str(target), "--config", str(config))
    assert (code, out) == (0, f"{target}: 30 leads of demo\n")
    assert target.read_bytes().startswith(b"\xef\xbb\xbflead_id,") and target.read_text("utf-8-sig").splitlines() == lines
    assert cli("export", "nope", "--config", str(config))[0] == 1
    with sqlite3.connect(config.parent / "data" / "callfloor.db") as db:
        audited = db.execute("SELECT actor, subject FROM audit_log WHERE action = 'campaign.exported'").fetchall()
    assert len(audited) == 2 and all(a.startswith("cli") and s == "campaign:demo" for a, s in audited)


def test_recycle_reopens_finished_unreached_leads(config: Path) -> None:
    csv = config.parent / "campaigns" / "demo-leads.csv"
    assert cli("import", "demo", str(csv), "--config", str(config))[0] == 0
    db_path = config.parent / "data" / "callfloor.db"
    with sqlite3.connect(db_path) as db:  # as the ledger leaves leads that ran out of attempts
        db.execute("UPDATE leads SET status = 'done', attempts = 3, last_outcome = 'no_answer' WHERE id IN (1, 2)")
        db.execute("UPDATE leads SET status = 'done', attempts = 3, last_outcome = 'busy' WHERE id = 3")
    code, out, _ = cli("recycle", "demo", "--outcome", "no_answer", "--dry-run", "--config", str(config))
    assert (code, out) == (0, "would recycle 2 leads of demo (last outcome no_answer)\n")
    code, out, _ = cli("recycle", "demo", "--outcome", "no_answer", "--outcome", "busy", "--config", str(config))
    assert code == 0 and out.startswith("recycled 3 leads of demo (last outcome busy, no_answer)")
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT status, attempts, next_at FROM leads WHERE id <= 3").fetchall() == [
            ("retry", 0, NOW)] * 3
        assert db.execute("SELECT count(*) FROM audit_log WHERE action = 'campaign.recycled'").fetchone() == (1,)
    assert cli("recycle", "nope", "--outcome", "busy", "--config", str(config))[0] == 1
    with pytest.raises(SystemExit):  # argparse names the outcomes it takes
        cli("recycle", "demo", "--outcome", "answered", "--config", str(config))


def test_dry_run_writes_nothing(config: Path) -> None:
    csv = config.parent / "campaigns" / "demo-leads.csv"
    code, out, _ = cli("import", "demo", str(csv), "--dry-run", "--config", str(config))
    assert code == 0 and "would import 30 new leads into demo" in out
    assert leads(config) == []


def test_bad_rows_are_reported_and_the_rest_imported(config: Path, tmp_path: Path) -> None:
    csv = tmp_path / "mixed.csv"
    csv.write_text("number,name\n212-555-0101,Avery\n12,Short\n+1 212 555 0101,Again\n+49 30 1234567,Berlin\n",
                   encoding="utf-8")
    code, out, _ = cli("import", "demo", str(csv), "--config", str(config))
    assert code == campaigncli.PARTIAL
    assert out.splitlines() == [
        f"{csv}: 4 rows, 1 leads, 1 merged, 2 bad",
        "  line 3: bad number '12': too short for US",
        "  line 5: +49301234567 is in DE, which the campaign does not call",
        "  line 4: same number as line 2 (+12125550101), merged",
        "imported 1 new leads into demo (0 held: time zone unknown; 0 already in the campaign; "
        "0 on a do-not-call list)",
    ]
    code, out, _ = cli("import", "demo", str(csv), "--config", str(config))
    assert "  line 2: +12125550101 is already a lead of demo, left as it is" in out


def test_strict_refuses_the_whole_file(config: Path, tmp_path: Path) -> None:
    csv = tmp_path / "mixed.csv"
    csv.write_text("number\n212-555-0101\n12\n", encoding="utf-8")
    code, _, err = cli("import", "demo", str(csv), "--strict", "--config", str(config))
    assert code == campaigncli.REFUSED
    assert err == f"callfloor campaign: {csv}: 1 bad rows and --strict: nothing imported\n"
    assert leads(config) == []


def test_file_errors(config: Path, tmp_path: Path) -> None:
    csv = tmp_path / "gbk.csv"
    csv.write_bytes("number,name\n+86 10 5555 0101,王芳\n".encode("gbk"))
    code, _, err = cli("import", "demo", str(csv), "--config", str(config))
    assert code == campaigncli.REFUSED and err.startswith(f"callfloor campaign: {csv}: line 2: not UTF-8")
    assert err.rstrip().endswith("nothing imported")
    code, _, err = cli("import", "demo", str(tmp_path / "none.csv"), "--config", str(config))
    assert code == campaigncli.REFUSED and "cannot read" in err
    code, _, err = cli("import", "nope", str(csv), "--config", str(config))
    assert (code, err) == (campaigncli.REFUSED, "callfloor campaign: unknown campaign 'nope' (known: demo)\n")


def test_dnc_add_check_remove(config: Path) -> None:
    code, out, _ = cli("dnc", "add", "(212) 555-0101", "--reason", "groundless complaint", "--by", "qa1",
                       "--config", str(config))
    assert (code, out) == (0, "+12125550101 added to the global do-not-call list\n")
    code, out, _ = cli("dnc", "add", "+1 212 555 0101", "--config", str(config))
    assert (code, out) == (0, "+12125550101 is already on the global do-not-call list\n")
    assert cli("dnc", "add", "+44 20 7946 0011", "--campaign", "demo", "--config", str(config))[0] == 0
    code, out, _ = cli("dnc", "check", "212-555-0101", "--config", str(config))
    assert (code, out) == (0, "+12125550101: on the global list since 2026-02-25 06:13:20Z (cli by qa1: groundless complaint)\n")
    code, out, _ = cli("dnc", "check", "+44 20 7946 0011", "--config", str(config))
    assert out == "+442079460011: on the campaign demo list since 2026-02-25 06:13:20Z (cli: added with the CLI)\n"
    code, out, _ = cli("dnc", "remove", "212-555-0101", "--config", str(config))
    assert (code, out) == (0, "+12125550101 removed from the global do-not-call list\n")
    code, out, _ = cli("dnc", "remove", "212-555-0101", "--config", str(config))
    assert (code, out) == (campaigncli.REFUSED, "+12125550101 is not on the global do-not-call list\n")
    code, out, _ = cli("dnc", "check", "212-555-0101", "--campaign", "demo", "--config", str(config))
    assert (code, out) == (campaigncli.REFUSED, "+12125550101: not on any do-not-call list that demo honours\n")


def test_dnc_refuses_bad_numbers_and_campaigns(config: Path) -> None:
    code, _, err = cli("dnc", "add", "12", "--config", str(config))
    assert (code, err) == (campaigncli.REFUSED, "callfloor campaign: '12': too short for US\n")
    code, _, err = cli("dnc", "check", "+12125550101", "--campaign", "x", "--config", str(config))
    assert (code, err) == (campaigncli.REFUSED, "callfloor campaign: unknown campaign 'x' (known: demo)\n")


def test_bad_configuration(config: Path, tmp_path: Path) -> None:
    (config.parent / "campaigns" / "demo.toml").write_text('caller_id = "+12125550100"\ngrace = 5\n', encoding="utf-8")
    code, _, err = cli("list", "--config", str(config))
    assert code == campaigncli.BAD_CONFIG
    assert err.splitlines() == [
        "callfloor: configuration refused:",
        f"{config.parent / 'campaigns' / 'demo.toml'}: grace: at most 2 s (the 2-second rule), got 5.0",
    ]


def test_no_campaigns_configured(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f'[storage]\ndata_dir = "{tmp_path}"\n', encoding="utf-8")
    code, out, _ = cli("list", "--config", str(path))
    assert (code, out) == (0, "no campaigns ([dialer].campaigns names no directory, or it has no *.toml,"
                              " and none was made over the HTTP API)\n")
    assert cli("dnc", "add", "+12125550101", "--config", str(path)) == (0, "+12125550101 added to the global do-not-call list\n", "")


def test_campaigns_made_over_the_api_are_listed_and_take_imports(config: Path, tmp_path: Path) -> None:
    assert cli("list", "--config", str(config))[0] == 0  # creates the database
    spring = parse_campaign({"id": "spring", "caller_id": "+12125550100", "mode": "progressive",
                             "seats": ["1001"]}, "body", seats=["1001", "1002"], teams=["front"])
    shadowed = parse_campaign({"id": "demo", "caller_id": "+12125550100"}, "body")

    async def store() -> None:
        async with await Store.open(config.parent / "data" / "callfloor.db") as db:
            dialer = DialerStore(db)
            assert await dialer.save_api_campaign(spring, NOW) is True
            with pytest.raises(CampaignSourceError):  # the file's id
                await dialer.save_api_campaign(shadowed, NOW)

    asyncio.run(store())
    csv = tmp_path / "spring.csv"
    csv.write_text("number\n+12125550123\n+12125550124\n", encoding="utf-8")
    code, _, err = cli("import", "spring", str(csv), "--config", str(config))
    assert (code, err) == (0, "")
    code, out, _ = cli("list", "--config", str(config))
    rows = [line.split()[:6] for line in out.splitlines()[1:] if not line.startswith("  ")]
    assert rows == [["demo", "file", "predictive", "yes", "0", "0"],
                    ["spring", "api", "progressive", "yes", "2", "2"]]


def test_history_lists_each_definition_newest_first(config: Path) -> None:
    assert cli("list", "--config", str(config))[0] == 0  # the demo file: its first version
    spring = parse_campaign({"id": "spring", "caller_id": "+12125550100"}, "body")

    async def change() -> None:
        async with await Store.open(config.parent / "data" / "callfloor.db") as db:
            dialer = DialerStore(db)
            await dialer.save_api_campaign(spring, NOW + 60, by="lead1")
            await dialer.save_api_campaign(spring.model_copy(update={"grace": 1.5, "wrap_up": 10.0}),
                                           NOW + 120, by="api:127.0.0.1")
            await dialer.set_campaign_active("spring", False, NOW + 180, by="lead1")

    asyncio.run(change())
    code, out, err = cli("history", "spring", "--config", str(config))
    assert (code, err) == (0, "")
    assert [line.split() for line in out.splitlines()] == [
        ["at", "source", "change", "by", "changed"],
        ["2026-02-25", "06:16:20Z", "api", "stopped", "lead1", "active"],
        ["2026-02-25", "06:15:20Z", "api", "updated", "api:127.0.0.1", "grace,", "wrap_up"],
        ["2026-02-25", "06:14:20Z", "api", "created", "lead1", "(all)"],
    ]
    code, out, _ = cli("history", "demo", "--config", str(config))
    assert out.splitlines()[1].split() == ["2026-02-25", "06:13:20Z", "file", "created", "-", "(all)"]
    code, out, _ = cli("history", "spring", "--json", "--config", str(config))
    versions = json.loads(out)["versions"]
    assert [(v["change"], v["campaign"]["grace"]) for v in versions] == [
        ("stopped", 1.5), ("updated", 1.5), ("created", 2.0)]
    code, _, err = cli("history", "autumn", "--config", str(config))
    assert (code, err) == (1, "callfloor campaign: no campaign 'autumn'\n")
