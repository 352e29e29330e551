"""The outbound report's SQL on a real SQLite file: a generated day of attempts, calls,
dispositions and seat events, checked figure by figure against independent counts over the rows."""

from __future__ import annotations

import random
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from callfloor.store import CallStart, Store, StoreError
from callfloor.store.reports import ReportReader, outbound_report
from dialer.reports import NO_SEAT, NO_TEAM, OutboundReport, Period

ZONE = ZoneInfo("Europe/Berlin")
DAY = date(2025, 3, 14)
PERIOD = Period.day(DAY, ZONE)
H = 3600.0
TEAMS: dict[str, str | None] = {"s1": "north", "s2": "north", "s3": "south", "s4": "south",
                                "s5": None, "s6": "south"}
# Login sessions in hours from the day's local midnight; None: still logged in when it was built.
SESSIONS: dict[str, list[tuple[float, float | None]]] = {
    "s1": [(-1.0, 8.0), (9.0, 17.0)],   # logged in since the evening before
    "s2": [(7.0, 26.0)],                # logs out the next day
    "s3": [(8.0, 16.0)],
    "s4": [(-5.0, -3.0), (10.0, 12.0)],  # a shift the day before
    "s5": [(6.0, 14.0)],
    "s6": [(9.0, 10.0)],                # logged in, never connected
    "x9": [(11.0, 13.5)],               # a seat since removed from the settings
}
OUTCOMES = {"answered": 30, "abandoned": 3, "machine": 10, "busy": 10, "no_answer": 30,
            "rejected": 5, "network_error": 3, "cancelled": 5, "lost": 4}
KINDS = ("conversion", "refusal", "callback", "dnc", "other")


@dataclass
class Floor:
    """What a generated database holds, as the generator knows it."""

    path: Path
    sessions: dict[str, list[tuple[float, float | None]]]
    busy: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: defaultdict(list))
    events: list[tuple[str, float, dict[str, Any]]] = field(default_factory=list)


def _state(seat: str, at: float, presence: str, call_state: str, before: tuple[str, str],
           call: str | None = None, reason: str | None = None) -> tuple[str, float, dict[str, Any]]:
    """A seat.state event shaped like the switchboard's."""
    return (seat, at, {"seat": seat, "presence": presence, "call_state": call_state,
                       "reason": reason, "call": call, "since": at - 1.0,
                       "previous_presence": before[0], "previous_call_state": before[1],
                       "previous_reason": None, "by": "seat", "ts": at})


def _session_events(floor: Floor, start: float) -> None:
    for seat, sessions in floor.sessions.items():
        for login, logout in sessions:
            t0 = start + login * H
            floor.events.append(_state(seat, t0, "ready", "idle", ("logged-out", "idle")))
            # a pause and back: still logged in, the report must not see a login here
            floor.events.append(_state(seat, t0 + 600, "paused", "idle", ("ready", "idle"), reason="break"))
            floor.events.append(_state(seat, t0 + 900, "ready", "idle", ("paused", "idle")))
            if logout is not None:
                floor.events.append(_state(seat, start + logout * H, "logged-out", "idle", ("ready", "idle")))


def _free_seat(floor: Floor, rng: random.Random, start: float, begin: float, end: float) -> str | None:
    """A seat logged in (and not on a call) for all of [begin, end]."""
    free = [s for s, sessions in floor.sessions.items() if s != "s6"
            and any(start + a * H + 1000 < begin and (b is None or end + 30 < start + b * H)
                    for a, b in sessions)
            and all(end < x or y < begin for x, y in floor.busy[s])]
    return rng.choice(sorted(free)) if free else None


def _pick_time(rng: random.Random, period: Period) -> float:
    while True:  # keep clear of midnight so a call and its attempt fall on the same day
        t = rng.uniform(period.start - 3 * H, period.end + 3 * H)
        if abs(t - period.start) > 900 and abs(t - period.end) > 900:
            return t


def _attempt(floor: Floor, rng: random.Random, n: int, period: Period) -> dict[str, Any]:
    t = _pick_time(rng, period)
    outcome = rng.choices(list(OUTCOMES), weights=list(OUTCOMES.values()))[0]
    row: dict[str, Any] = {"id": n, "lead_id": n, "campaign_id": rng.choice(["renewals", "survey"]),
                           "number": f"+4930555{n:04d}", "call_uuid": f"att-{n}", "mode": "predictive",
                           "state": "closed", "outcome": outcome, "created_at": t, "answered_at": None,
                           "connected_at": None, "seat_id": None, "closed_at": None,
                           "call": None, "disposition": None}
    ring = rng.uniform(4, 20)
    if outcome == "answered":
        talk = rng.uniform(20, 400)
        seat = _free_seat(floor, rng, period.start, t, t + ring + talk + 20)
        if seat is None:
            outcome = row["outcome"] = "abandoned"  # no seat within the 2 s: a real abandon
        else:
            floor.busy[seat].append((t, t + ring + talk + 20))
            answered, connected = t + ring, t + ring + 0.4
            row.update(answered_at=answered, connected_at=connected, seat_id=seat,
                       closed_at=answered + talk, call=(answered, answered + talk, seat))
            floor.events += [
                _state(seat, connected, "ready", "on-call", ("ready", "idle"), call=row["call_uuid"]),
                _state(seat, answered + talk, "wrap-up", "idle", ("ready", "on-call")),
                _state(seat, answered + talk + 15, "ready", "idle", ("wrap-up", "idle")),
            ]
            if rng.random() < 0.9:
                row["disposition"] = (rng.choice(KINDS), answered + talk + 5)
    if outcome in ("abandoned", "machine"):
        row.update(answered_at=t + ring, closed_at=t + ring + 10, call=(t + ring, t + ring + 10, None))
    elif outcome != "answered" and outcome != "lost":
        row.update(closed_at=t + ring, call=(None, t + ring, None))
        if outcome == "no_answer" and rng.random() < 0.1:  # a preview dial reserved for a seat
            row["seat_id"] = _free_seat(floor, rng, period.start, t, t + ring)
    return row


async def build_floor(path: Path, *, seed: int = 7, attempts: int = 300,
                      period: Period = PERIOD) -> Floor:
    """A database with a generated day around ``period``: the store's own migrations and CDR
    writer, the dialer's tables written as the runtime will (their schema, plain SQL)."""
    rng = random.Random(seed)
    floor = Floor(path, {s: list(v) for s, v in SESSIONS.items()})
    _session_events(floor, period.start)
    rows = [_attempt(floor, rng, n, period) for n in range(1, attempts + 1)]
    async with await Store.open(path) as store:
        for row in rows:
            if row["call"] is None:
                continue  # lost before its CDR was written
            answered, ended, seat = row["call"]
            uuid = row["call_uuid"]
            await store.call_started(CallStart(uuid, f"{uuid}@callfloor", "outbound", "+4940999000",
                                               row["number"], None, None, row["created_at"] + 0.05))
            if answered is not None:
                await store.call_answered(uuid, answered, seat)
            await store.call_ended(uuid, ended, row["outcome"])
        for seat, at, data in sorted(floor.events, key=lambda e: e[1]):
            await store.record_event("seat.state", seat, at, data)
            await store.record_event("seat.availability", seat, at, {"seat": seat, "reachable": True})
    _write_ledger(path, rows)
    return floor


def _write_ledger(path: Path, rows: list[dict[str, Any]]) -> None:
    with sqlite3.connect(path) as db:
        for campaign in ("renewals", "survey"):
            db.execute("INSERT INTO campaigns (id, name, config, created_at, updated_at)"
                       " VALUES (?, ?, '{}', 0, 0)", (campaign, campaign.title()))
        for r in rows:
            db.execute("INSERT INTO leads (id, campaign_id, number, imported_at) VALUES (?, ?, ?, 0)",
                       (r["lead_id"], r["campaign_id"], r["number"]))
            db.execute(
                "INSERT INTO attempts (id, lead_id, campaign_id, number, call_uuid, mode, state,"
                " outcome, created_at, answered_at, connected_at, seat_id, closed_at)"
                " VALUES (:id, :lead_id, :campaign_id, :number, :call_uuid, :mode, :state,"
                " :outcome, :created_at, :answered_at, :connected_at, :seat_id, :closed_at)", r)
            if r["disposition"] is not None:
                kind, at = r["disposition"]
                db.execute("INSERT INTO dispositions (attempt_id, lead_id, campaign_id, seat_id,"
                           " code, kind, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           (r["id"], r["lead_id"], r["campaign_id"], r["seat_id"], kind.upper(),
                            kind, at))


def rows_of(path: Path, sql: str) -> list[sqlite3.Row]:
    """Plain rows, read on a plain connection."""
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        return list(db.execute(sql))


class Expected:
    """The report's figures counted independently, one row at a time, from the CDRs, the ledger
    and the generator's own login sessions."""

    def __init__(self, floor: Floor, period: Period, now: float) -> None:
        self.seat: dict[str | None, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.campaign: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))

        def inside(t: float) -> bool:
            return period.start <= t < period.end

        attempt_of = {r["call_uuid"]: r for r in rows_of(floor.path, "SELECT * FROM attempts")}
        for a in attempt_of.values():
            if inside(a["created_at"]):
                self.seat[a["seat_id"]]["dials"] += 1
                self.campaign[a["campaign_id"]]["dials"] += 1
        for call in rows_of(floor.path, "SELECT * FROM calls WHERE direction = 'outbound'"):
            if not inside(call["started_at"]):
                continue
            campaign = self.campaign[attempt_of[call["uuid"]]["campaign_id"]]
            if call["seat_id"] is not None:  # a CDR with a seat is a connect
                for figures in (self.seat[call["seat_id"]], campaign):
                    figures["connects"] += 1
                    figures["talk_s"] += call["duration"]
                campaign["live_answers"] += 1
            if call["end_reason"] == "abandoned":
                campaign["abandoned"] += 1
                campaign["live_answers"] += 1
        sql = "SELECT d.*, c.started_at FROM dispositions d JOIN attempts a ON a.id = d.attempt_id" \
              " JOIN calls c ON c.uuid = a.call_uuid"
        for d in rows_of(floor.path, sql):
            if inside(d["started_at"]) and d["kind"] in ("conversion", "refusal"):
                name = d["kind"] + "s"
                self.seat[d["seat_id"]][name] += 1
                self.campaign[d["campaign_id"]][name] += 1
        stop = min(period.end, now)
        for seat, sessions in floor.sessions.items():
            for login, logout in sessions:
                end = now if logout is None else period.start + logout * H
                overlap = min(end, stop) - max(period.start + login * H, period.start)
                self.seat[seat]["logged_in_s"] += max(0.0, overlap)


FIGURES = ("dials", "connects", "talk_s", "conversions", "refusals")


def _check_row(row: Any, expected: dict[str, float], names: tuple[str, ...]) -> None:
    for name in names:
        assert getattr(row, name) == pytest.approx(expected.get(name, 0), abs=1e-6), (row.key, name)


def _sum(rows: Any, name: str) -> float:
    return sum(getattr(r, name) or 0 for r in rows)


async def _report(path: Path, now: float, **options: Any) -> OutboundReport:
    async with await ReportReader.open(path) as reader:
        return await outbound_report(reader, PERIOD, teams=TEAMS, now=now, **{"by": "seat", **options})


async def test_a_generated_day_reconciles_with_the_call_detail_rows(tmp_path: Path) -> None:
    floor = await build_floor(tmp_path / "floor.db")
    now = PERIOD.end + 2 * 86400
    report = await _report(floor.path, now)
    expected = Expected(floor, PERIOD, now)

    seats = {r.key: r for r in report.rows}
    assert list(seats) == ["s1", "s2", "s3", "s4", "s5", "s6", "x9", NO_SEAT]
    for seat, row in seats.items():
        key = None if seat == NO_SEAT else seat
        _check_row(row, expected.seat[key], FIGURES)
        if key is not None:
            assert row.logged_in_s == pytest.approx(expected.seat[key]["logged_in_s"])
            assert row.team == TEAMS.get(seat) and row.abandoned is None
    assert seats["s1"].logged_in_s == pytest.approx(16 * H)  # 0-8 h and 9-17 h: clipped at midnight
    assert seats["s2"].logged_in_s == pytest.approx(17 * H)  # 7-24 h: clipped at the day's end
    assert seats["s4"].logged_in_s == pytest.approx(2 * H)
    assert seats["s6"].connects == 0 and seats["s6"].logged_in_s == pytest.approx(H)
    assert seats[NO_SEAT].connects == 0 and seats[NO_SEAT].logged_in_s is None

    for row in report.campaigns:
        _check_row(row, expected.campaign[row.key], (*FIGURES, "abandoned", "live_answers"))
        assert row.logged_in_s is None
    assert [r.key for r in report.campaigns] == ["renewals", "survey"]

    total = report.total
    cdrs = rows_of(floor.path, "SELECT * FROM calls")
    lost = rows_of(floor.path, "SELECT * FROM attempts WHERE outcome = 'lost'")
    in_day = [c for c in cdrs if PERIOD.start <= c["started_at"] < PERIOD.end]
    assert total.dials == len(in_day) + sum(PERIOD.start <= a["created_at"] < PERIOD.end for a in lost)
    assert total.connects == sum(c["seat_id"] is not None for c in in_day)
    assert total.talk_s == pytest.approx(sum(c["duration"] for c in in_day if c["seat_id"]))
    for name in (*FIGURES, "logged_in_s"):
        assert _sum(report.rows, name) == pytest.approx(getattr(total, name)), name
    for name in (*FIGURES, "abandoned", "live_answers"):
        assert _sum(report.campaigns, name) == pytest.approx(getattr(total, name)), name
    assert total.connect_rate == pytest.approx(total.connects / total.dials)
    assert total.conversion_rate == pytest.approx(total.conversions / total.connects)
    assert total.abandoned is not None and total.live_answers
    assert total.abandon_rate == pytest.approx(total.abandoned / total.live_answers)
    assert 200 < total.dials < 300 and total.connects > 40 and total.abandoned and total.conversions

    teams = await _report(floor.path, now, by="team")
    assert [r.key for r in teams.rows] == ["north", "south", NO_TEAM, NO_SEAT]
    by_team: dict[str, list[Any]] = defaultdict(list)
    for seat_row in report.rows:
        by_team[NO_SEAT if seat_row.key == NO_SEAT else seat_row.team or NO_TEAM].append(seat_row)
    for team_row in teams.rows:
        for name in (*FIGURES, "logged_in_s"):
            assert (getattr(team_row, name) or 0) == pytest.approx(_sum(by_team[team_row.key], name))
    assert teams.total == report.total and teams.campaigns == report.campaigns


async def test_one_campaign_lists_only_its_seats(tmp_path: Path) -> None:
    floor = await build_floor(tmp_path / "floor.db")
    now = PERIOD.end + 86400
    both = await _report(floor.path, now)
    survey = await _report(floor.path, now, campaign="survey")
    assert [r.key for r in survey.campaigns] == ["survey"]
    assert survey.total.dials == next(r for r in both.campaigns if r.key == "survey").dials
    assert "s6" not in {r.key for r in survey.rows}  # logged in, but no attempt in this campaign
    logged = {r.key: r.logged_in_s for r in both.rows}
    for row in survey.rows:
        if row.key != NO_SEAT:
            assert row.logged_in_s == logged[row.key]  # presence is not per campaign


async def test_a_day_not_over_counts_logins_and_open_calls_up_to_now(tmp_path: Path) -> None:
    path = tmp_path / "floor.db"
    start = PERIOD.start
    async with await Store.open(path) as store:
        await store.record_event("seat.state", "s1", start + 8 * H, {"presence": "ready"})
        await store.call_started(CallStart("open-1", "x@y", "outbound", "+1", "+2", None, None,
                                           start + 9 * H))
        await store.call_answered("open-1", start + 9 * H + 10, "s1")
    _write_ledger(path, [{"id": 1, "lead_id": 1, "campaign_id": "renewals", "number": "+2",
                          "call_uuid": "open-1", "mode": "progressive", "state": "dialing",
                          "outcome": None, "created_at": start + 9 * H, "answered_at": start + 9 * H + 10,
                          "connected_at": start + 9 * H + 11, "seat_id": "s1", "closed_at": None,
                          "disposition": None}])
    with sqlite3.connect(path) as db:  # a machine that AMD passed to the seat: no live answer
        db.execute("INSERT INTO leads (id, campaign_id, number, imported_at) VALUES (2, 'renewals', '+3', 0)")
        db.execute("INSERT INTO attempts (id, lead_id, campaign_id, number, call_uuid, mode, state,"
                   " outcome, created_at, answered_at, connected_at, seat_id, amd, closed_at)"
                   " VALUES (2, 2, 'renewals', '+3', 'm-2', 'predictive', 'closed', 'answered', ?, ?,"
                   " ?, 's1', 'machine', ?)", (start + 8.5 * H, start + 8.5 * H + 5,
                                               start + 8.5 * H + 6, start + 8.5 * H + 30))
    now = start + 9 * H + 70
    report = await _report(path, now)
    (row,) = report.rows
    assert (row.key, row.dials, row.connects) == ("s1", 2, 2)
    assert row.talk_s == pytest.approx(60.0)  # the machine's call has no CDR here: no talk
    assert row.logged_in_s == pytest.approx(H + 70)
    # the open call is a live answer already; the machine is not one
    assert (report.total.live_answers, report.total.abandoned) == (1, 0)


async def test_presence_marks_keep_only_logins_and_logouts(tmp_path: Path) -> None:
    floor = await build_floor(tmp_path / "floor.db", attempts=40)
    async with await ReportReader.open(floor.path) as reader:
        marks = await reader.presence_marks(PERIOD.start, PERIOD.end, seats=["s1", "s4", "nobody"])
    before = {m.seat: m for m in marks if m.at < PERIOD.start}
    # one mark per seat before the period: its last state then (s1 logged in, s4 gone home)
    assert {s: m.logged_in for s, m in before.items()} == {"s1": True, "s4": False}
    assert before["s1"].at > PERIOD.start - H and before["s4"].at == PERIOD.start - 3 * H
    changes: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    inside: dict[str, int] = defaultdict(int)
    for seat in sorted({m.seat for m in marks}):
        state = before[seat].logged_in if seat in before else False
        for m in (m for m in marks if m.seat == seat and m.at >= PERIOD.start):
            inside[seat] += 1
            if m.logged_in != state:
                changes[seat].append((round((m.at - PERIOD.start) / H, 3), m.logged_in))
            state = m.logged_in
    assert changes == {
        "s1": [(8.0, False), (9.0, True), (17.0, False)], "s2": [(7.0, True)],
        "s3": [(8.0, True), (16.0, False)], "s4": [(10.0, True), (12.0, False)],
        "s5": [(6.0, True), (14.0, False)], "s6": [(9.0, True), (10.0, False)],
        "x9": [(11.0, True), (13.5, False)],
    }
    # pauses, calls and wrap-ups are left in the database: at most the first mark repeats a state
    assert all(inside[s] <= len(changes[s]) + 1 for s in changes)


async def test_the_reader_only_reads_and_names_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no database at"):
        await ReportReader.open(tmp_path / "absent.db")
    bare = tmp_path / "bare.db"
    sqlite3.connect(bare).execute("CREATE TABLE calls (id INTEGER)").connection.close()
    with pytest.raises(StoreError, match="no attempts, dispositions, events table"):
        await ReportReader.open(bare)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match="cannot read"):
        await ReportReader.open(junk)
    async with await Store.open(tmp_path / "ok.db"):
        pass
    async with await ReportReader.open(tmp_path / "ok.db") as reader:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await reader._db.execute("DELETE FROM calls")
        assert await reader.attempt_cells(PERIOD.start, PERIOD.end, now=PERIOD.end) == []
