"""The service's daily QA sampling: each finished local day of the last week is drawn once, with
the same picks as ``callfloor qa sample`` would make for it (the seed is the day)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from callfloor.qajob import draw_day, load_policy, sample_finished_days
from callfloor.settings import ConfigError, Settings
from callfloor.store import CallStart, Store
from callfloor.store.qa import QaStore
from qa.sampling import SamplingPolicy

SETTINGS = Settings.model_validate({"seats": [{"id": "1001", "password": "secret1001"}]})


def noon(day: date) -> float:
    return datetime(day.year, day.month, day.day, 12).timestamp()


async def calls_on(store: Store, day: date, n: int) -> None:
    for k in range(n):
        uuid, at = f"{day.isoformat()}-{k}", noon(day) + 600 * k
        await store.call_started(CallStart(uuid, uuid, "inbound", "+12125550199", "100", None, None, at))
        await store.call_answered(uuid, at + 1, "1001")
        await store.call_ended(uuid, at + 181, "hangup")


async def test_finished_days_are_sampled_once_and_today_waits(tmp_path: Path) -> None:
    today = date(2026, 3, 10)
    now = noon(today)
    policy = SamplingPolicy()
    async with await Store.open(tmp_path / "callfloor.db") as store:
        for back, n in ((1, 6), (2, 5), (9, 4), (0, 3)):
            await calls_on(store, today - timedelta(days=back), n)
        drawn = await sample_finished_days(store, SETTINGS, policy, now)
        # Every finished day of the week is drawn (an empty one too: it is done), oldest first.
        assert [s.day for s in drawn] == [today - timedelta(days=back) for back in range(7, 0, -1)]
        assert [(s.day, sum(s.calls.values()), len(s.picks)) for s in drawn if s.calls] == [
            (today - timedelta(days=2), 5, 4), (today - timedelta(days=1), 6, 4)]
        assert await sample_finished_days(store, SETTINGS, policy, now + 60) == []
        qa = QaStore(store)
        assert await qa.sample_seed(today) is None  # not finished
        assert await qa.sample_seed(today - timedelta(days=9)) is None  # beyond the catch-up week
        assert await qa.sample_seed(today - timedelta(days=1)) == 20260309
    # The same day drawn by hand on a fresh copy picks the same calls.
    async with await Store.open(tmp_path / "again.db") as again:
        await calls_on(again, today - timedelta(days=1), 6)
        by_hand = await draw_day(again, SETTINGS, policy, today - timedelta(days=1), now)
    assert by_hand is not None
    assert [p.call for p in by_hand.picks] == [p.call for p in drawn[-1].picks]


def test_load_policy_names_the_file_of_every_problem(tmp_path: Path) -> None:
    assert load_policy(None) == SamplingPolicy()
    missing = tmp_path / "none.toml"
    with pytest.raises(ConfigError) as info:
        load_policy(missing)
    assert info.value.problems == (f"{missing}: cannot read: No such file or directory",)
    broken = tmp_path / "broken.toml"
    broken.write_text("rate = [\n")
    with pytest.raises(ConfigError) as info:
        load_policy(broken)
    assert info.value.problems[0].startswith(f"{broken}: TOML syntax error: ")
