"""``callfloor report outbound`` and ``GET /api/reports/outbound`` on a generated day in a real
SQLite file: the figures they print reconcile with the call-detail rows."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from callfloor.reportcli import add_parser, read_report, run
from callfloor.settings import Settings, load_settings
from callfloor.web.reports import report_routes
from dialer.reports import NO_SEAT, Period
from dialer.reports_format import render, to_csv, to_json
from tests.unit.store.test_reports_store import (
    PERIOD,
    TEAMS,
    ZONE,
    Expected,
    Floor,
    build_floor,
)

NOW = PERIOD.end + 3 * 86400

CONFIG = """\
[storage]
data_dir = "{data}"

[[teams]]
id = "north"

[[teams]]
id = "south"
{seats}
"""


@dataclass
class Site:
    config: Path
    settings: Settings
    floor: Floor


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    root = tmp_path_factory.mktemp("site")
    seats = "".join(f'\n[[seats]]\nid = "{seat}"\npassword = "pw"\n'
                    + (f'team = "{team}"\n' if team else "") for seat, team in TEAMS.items())
    config = root / "callfloor.toml"
    config.write_text(CONFIG.format(data=root / "data", seats=seats))
    settings = load_settings(config, {})
    floor = asyncio.run(build_floor(settings.storage.db_path))
    return Site(config, settings, floor)


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="callfloor")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["report", "outbound", *argv])


def cli(site: Site, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run(parse("--config", str(site.config), *argv), now=NOW)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_table_is_the_report_of_the_configured_database(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(site, capsys, "--day", "2025-03-14", "--tz", "Europe/Berlin")
    assert (code, err) == (0, "")
    report = asyncio.run(read_report(site.settings, PERIOD, by="seat", now=NOW))
    assert out == render(report, "table")
    assert out.splitlines()[0] == "Outbound report, day 2025-03-14 (Europe/Berlin), by seat, all campaigns"


def test_the_csv_reconciles_with_the_call_detail_rows(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(site, capsys, "--day", "2025-03-14", "--tz", "Europe/Berlin", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    expected = Expected(site.floor, PERIOD, NOW)
    for row in rows:
        if row["level"] == "seat":
            figures = expected.seat[None if row["key"] == NO_SEAT else row["key"]]
        elif row["level"] == "campaign":
            figures = expected.campaign[row["key"]]
        else:
            continue
        for name in ("dials", "connects", "conversions", "refusals"):
            assert int(row[name]) == figures.get(name, 0), (row["key"], name)
        assert float(row["talk_s"]) == pytest.approx(figures.get("talk_s", 0), abs=1e-3)
        if row["level"] == "seat" and row["key"] != NO_SEAT:
            assert float(row["logged_in_s"]) == pytest.approx(figures["logged_in_s"], abs=1e-3)
    total = rows[-1]
    seats = [r for r in rows if r["level"] == "seat"]
    for name in ("dials", "connects", "conversions", "refusals"):
        assert sum(int(r[name]) for r in seats) == int(total[name])
    assert total["level"] == "total" and float(total["abandon_rate"]) == pytest.approx(
        int(total["abandoned"]) / int(total["live_answers"]), abs=1e-6)


def test_json_by_team_for_one_campaign(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(site, capsys, "--day", "2025-03-14", "--tz", "Europe/Berlin", "--format",
                       "json", "--by", "team", "--campaign", "renewals")
    data = json.loads(out)
    assert code == 0 and (data["by"], data["campaign"]) == ("team", "renewals")
    assert [c["key"] for c in data["campaigns"]] == ["renewals"]
    assert data["total"]["dials"] == Expected(site.floor, PERIOD, NOW).campaign["renewals"]["dials"]
    assert {r["key"] for r in data["rows"]} <= {"north", "south", "(no team)", NO_SEAT}


def test_the_zone_moves_the_day_and_a_month_holds_its_days(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    _, berlin, _ = cli(site, capsys, "--day", "2025-03-14", "--tz", "Europe/Berlin", "--format", "json")
    _, utc, _ = cli(site, capsys, "--day", "2025-03-14", "--tz", "UTC", "--format", "json")
    assert json.loads(utc)["period"]["start"] == json.loads(berlin)["period"]["start"] + 3600
    _, month, _ = cli(site, capsys, "--month", "2025-03", "--tz", "Europe/Berlin", "--format", "json")
    total = json.loads(month)["total"]
    # the generated floor spans the 14th and a few hours either side, all inside March
    with_edges = Period("day", "edges", PERIOD.start - 4 * 3600, PERIOD.end + 4 * 3600, "")
    assert total["dials"] == sum(Expected(site.floor, with_edges, NOW).campaign[c]["dials"]
                                 for c in ("renewals", "survey"))


@pytest.mark.parametrize(("argv", "code", "message"), [
    (("--day", "2025-02-30"), 2, "callfloor report: not a date of the form YYYY-MM-DD: '2025-02-30'"),
    (("--month", "2025-03", "--tz", "Nowhere/Land"), 2, "unknown time zone 'Nowhere/Land'"),
])
def test_bad_arguments_exit_2(site: Site, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...],
                              code: int, message: str) -> None:
    got, out, err = cli(site, capsys, *argv)
    assert (got, out) == (code, "") and message in err


def test_a_missing_database_or_a_bad_config_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f'[storage]\ndata_dir = "{tmp_path / "none"}"\n')
    assert run(parse("--config", str(config), "--day", "2025-03-14")) == 1
    assert f"no database at {tmp_path / 'none' / 'callfloor.db'}" in capsys.readouterr().err
    config.write_text("[storage]\ndata_dri = 1\n")
    assert run(parse("--config", str(config), "--day", "2025-03-14")) == 2
    assert "storage.data_dri: unknown key" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse("--day", "2025-03-14", "--month", "2025-03")
    with pytest.raises(SystemExit):
        parse("--by", "team")  # a day or a month is required


# -- HTTP -----------------------------------------------------------------------------------------

def client(settings: Settings, db: Path) -> httpx.AsyncClient:
    app = Starlette(routes=report_routes(settings, db, clock=lambda: NOW, tz=ZONE))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://floor")


async def test_http_json_and_csv_are_the_cli_report(site: Site) -> None:
    report = await read_report(site.settings, PERIOD, by="team", now=NOW)
    async with client(site.settings, site.settings.storage.db_path) as http:
        got = await http.get("/api/reports/outbound", params={"day": "2025-03-14", "by": "team"})
        assert got.status_code == 200 and got.json() == to_json(report)
        got = await http.get("/api/reports/outbound?day=2025-03-14&by=team&format=csv")
        assert got.status_code == 200 and got.text == to_csv(report)
        assert got.headers["content-type"] == "text/csv; charset=utf-8"
        assert got.headers["content-disposition"] == 'attachment; filename="outbound-2025-03-14-team.csv"'
        utc = (await http.get("/api/reports/outbound?month=2025-03&tz=UTC&campaign=survey")).json()
    assert (utc["period"]["zone"], utc["period"]["label"], utc["campaign"]) == ("UTC", "2025-03", "survey")


@pytest.mark.parametrize(("query", "message"), [
    ("", "either a day"),
    ("day=2025-03-14&month=2025-03", "either a day"),
    ("day=yesterday", "YYYY-MM-DD"),
    ("day=2025-03-14&by=campaign", "by is seat or team"),
    ("day=2025-03-14&format=xml", "format is json or csv"),
    ("day=2025-03-14&tz=Mars/Base", "unknown time zone"),
    ("day=2025-03-14&seat=s1", "unknown parameter 'seat'"),
])
async def test_http_bad_parameters_answer_400(site: Site, query: str, message: str) -> None:
    async with client(site.settings, site.settings.storage.db_path) as http:
        got = await http.get(f"/api/reports/outbound?{query}")
    assert got.status_code == 400 and message in got.json()["error"]


async def test_http_without_a_database_answers_503(tmp_path: Path) -> None:
    async with client(Settings(), tmp_path / "none.db") as http:
        got = await http.get("/api/reports/outbound?day=2025-03-14")
    assert got.status_code == 503 and "no database at" in got.json()["error"]
