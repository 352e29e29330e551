"""``callfloor qa sample`` reads the risk flags: the stored analytics flags of each call (migration
009) and its complaint links put it in the risk stratum with its exact inclusion probability,
and the stored sample says why each call was picked (stratum and flags)."""

from __future__ import annotations

import argparse
import asyncio
import io
from datetime import date
from pathlib import Path

import pytest

from callfloor import qacli
from callfloor.store import CallStart, Store
from callfloor.store.analytics import CallAnalyticsStore, analytics_row, config_version
from callfloor.store.complaints import ComplaintStore
from callfloor.store.qa import QaStore
from recordings.analytics import AnalyticsConfig, analyze_call, flags
from tests.unit.recordings.analytics_kit import RATE, Call

ROOT = Path(__file__).resolve().parents[3]
START = 1_741_910_400.0  # 2025-03-14 00:00 UTC
NOW = START + 86400 + 3600
VERSION = config_version(AnalyticsConfig())
# Calls c0..c7 of seat 1001, 200 s each (none is short). c0's recording has 24 s of dead air;
# c2 and c3 are stored with the flags the analytics would give a call with that much overtalk
# and clipping; c1 is linked to a complaint.
STORED = {"c2": ("overtalk", "clipping"), "c3": ("clipping",)}


def _db(config: Path) -> Path:
    return config.parent / "data" / "callfloor.db"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "callfloor.toml"
    path.write_text(f'[storage]\ndata_dir = "{tmp_path / "data"}"\n[[teams]]\nid = "front"\n'
                    '[[seats]]\nid = "1001"\npassword = "x"\nteam = "front"\n', encoding="utf-8")

    async def setup() -> None:
        async with await Store.open(_db(path)) as store:
            for k in range(8):
                uuid, at = f"c{k}", START + 3600 * (k + 1)
                await store.call_started(CallStart(uuid, uuid, "inbound", "+12125550199", "100", None, None, at))
                await store.call_answered(uuid, at + 1, "1001")
                await store.call_ended(uuid, at + 201, "hangup")
            rows = CallAnalyticsStore(store)
            quiet = analyze_call(Call(30.0).talk(1, 0.0, 2.0).talk(0, 26.0, 28.0).int16(), RATE)
            await rows.save(analytics_row("c0", "c0.wav", quiet, flags(quiet), VERSION, START))
            plain = analyze_call(Call(4.0).talk(0, 0.5, 2.0).int16(), RATE)
            for uuid, raised in STORED.items():
                await rows.save(analytics_row(uuid, f"{uuid}.wav", plain, raised, VERSION, START))
            complaints = ComplaintStore(store)
            case = await complaints.open_case("+12125550199", START + 7200, 900, "phone", "rude agent",
                                              by="qa1", now=NOW - 60, region="US")
            await complaints.link_call(case.id, "c1", by="qa1", now=NOW - 30)

    asyncio.run(setup())
    return path


def cli(config: Path, *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="callfloor")
    qacli.add_parser(parser.add_subparsers(dest="command"))
    out, err = io.StringIO(), io.StringIO()
    args = parser.parse_args(["qa", *argv, "--config", str(config), "--tz", "UTC",
                              "--forms", str(ROOT / "config" / "qa")])
    return qacli.run(args, now=NOW, out=out, err=err), out.getvalue(), err.getvalue()


async def _picks(config: Path) -> dict[str, tuple[str, float, tuple[str, ...]]]:
    async with await Store.open(_db(config)) as store:
        rows = await QaStore(store).samples(date(2025, 3, 14))
    return {r.call: (r.stratum, r.probability, r.flags) for r in rows}


def test_sampling_flags_of_the_day(config: Path) -> None:
    async def read() -> dict[str, frozenset[str]]:
        async with await Store.open(_db(config)) as store:
            return await CallAnalyticsStore(store).sampling_flags(START, START + 86400)

    assert asyncio.run(read()) == {"c0": frozenset({"dead_air"}), "c1": frozenset({"complaint"}),
                                   "c2": frozenset({"overtalk", "clipping"}), "c3": frozenset({"clipping"})}


def test_flagged_calls_land_in_the_risk_stratum(config: Path) -> None:
    code, out, err = cli(config, "sample", "--day", "2025-03-14", "--seed", "5")
    assert (code, err) == (0, "")
    # The default policy counts every analytics flag and complaints: 4 risky calls, 2 of them
    # drawn (quota 4, risk_share 0.5); 2 of the other 4.
    picks = asyncio.run(_picks(config))
    risk = {call: p for call, p in picks.items() if p[0] == "risk"}
    assert len(risk) == 2 and set(risk) <= {"c0", "c1", "c2", "c3"}
    expected = {"c0": ("dead_air",), "c1": ("complaint",), "c2": ("clipping", "overtalk"), "c3": ("clipping",)}
    assert all(p == ("risk", 0.5, expected[call]) for call, p in risk.items()), risk
    rest = {call: p for call, p in picks.items() if p[0] == "random"}
    assert len(rest) == 2 and set(rest) <= {"c4", "c5", "c6", "c7"}
    assert all(p == ("random", 0.5, ()) for p in rest.values())
    lines = out.splitlines()
    assert lines[0] == "2025-03-14: 4 calls sampled from 8 (seed 5, 1 seats)"
    assert sum(" risk   p=0.500 (2/4)  " in line for line in lines) == 2


def test_a_policy_can_count_more_analytics_flags(config: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('quota = 8\nrisk_flags = ["dead_air", "complaint", "clipping"]\n', encoding="utf-8")
    code, _, err = cli(config, "sample", "--day", "2025-03-14", "--seed", "5", "--policy", str(policy))
    assert (code, err) == (0, "")
    picks = asyncio.run(_picks(config))
    # Four risky calls, four drawn of them (8 x 0.5): each picked for sure, and why is kept.
    assert {call: p for call, p in picks.items() if p[0] == "risk"} == {
        "c0": ("risk", 1.0, ("dead_air",)), "c1": ("risk", 1.0, ("complaint",)),
        "c2": ("risk", 1.0, ("clipping",)), "c3": ("risk", 1.0, ("clipping",))}
    assert sorted(p[1] for p in picks.values() if p[0] == "random") == [1.0] * 4
