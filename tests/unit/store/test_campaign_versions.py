"""A campaign's history: every definition it has had, kept beside its row (a real SQLite file)."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from callfloor.store import Store
from callfloor.store.dialer import DialerStore, UnknownCampaignError
from callfloor.store.schema import MIGRATIONS_DIR
from dialer.campaign import Campaign
from dialer.records import changed_keys, history_rows

T0 = 1_772_000_000.0


def campaign(ident: str = "spring", **changes: Any) -> Campaign:
    return Campaign(id=ident, caller_id="+12125550100", **changes)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "callfloor.db")
    yield s
    await s.close()


async def history(d: DialerStore, ident: str) -> list[tuple[Any, ...]]:
    """(source, change, by, at, name, mode, active) per version, oldest first."""
    return [(v.source, v.change, v.changed_by, v.at, v.config["name"], v.config["mode"], v.config["active"])
            for v in await d.versions(ident)]


async def test_api_changes_are_versions_and_a_repeat_is_not(store: Store) -> None:
    d = DialerStore(store)
    await d.save_api_campaign(campaign(name="Spring"), T0, by="lead1")
    await d.save_api_campaign(campaign(name="Spring"), T0 + 1, by="lead1")  # the same keys again
    await d.save_api_campaign(campaign(name="Spring", mode="predictive"), T0 + 2, by="api:127.0.0.1")
    await d.set_campaign_active("spring", False, T0 + 3, by="lead2")
    await d.set_campaign_active("spring", False, T0 + 4, by="lead2")  # already stopped
    await d.set_campaign_active("spring", True, T0 + 5)
    assert await history(d, "spring") == [
        ("api", "created", "lead1", T0, "Spring", "progressive", True),
        ("api", "updated", "api:127.0.0.1", T0 + 2, "Spring", "predictive", True),
        ("api", "stopped", "lead2", T0 + 3, "Spring", "predictive", False),
        ("api", "started", None, T0 + 5, "Spring", "predictive", True),
    ]


async def test_file_syncs_are_versions_only_when_the_file_changed(store: Store) -> None:
    d = DialerStore(store)
    await d.sync_campaigns([campaign("renewals")], T0)
    await d.sync_campaigns([campaign("renewals")], T0 + 1)  # the same file at the next start
    await d.sync_campaigns([campaign("renewals", grace=1.5)], T0 + 2)
    await d.set_campaign_active("renewals", False, T0 + 3, by="lead1")
    await d.sync_campaigns([campaign("renewals", grace=1.5)], T0 + 4)  # the file wins again
    await d.sync_campaigns([], T0 + 5)  # the file is gone
    assert await history(d, "renewals") == [
        ("file", "created", None, T0, "", "progressive", True),
        ("file", "updated", None, T0 + 2, "", "progressive", True),
        ("file", "stopped", "lead1", T0 + 3, "", "progressive", False),
        ("file", "started", None, T0 + 4, "", "progressive", True),
        ("file", "file-removed", None, T0 + 5, "", "progressive", False),
    ]
    assert (await d.versions("renewals"))[1].config["grace"] == 1.5
    assert (await DialerStore(store).campaign("renewals")).active is False  # the row's settings agree


async def test_a_file_taking_over_an_api_campaign_keeps_the_api_definition(store: Store) -> None:
    d = DialerStore(store)
    await d.save_api_campaign(campaign(name="from the API", mode="predictive", grace=1.0), T0, by="lead1")
    await d.sync_campaigns([campaign(name="from the file")], T0 + 1)
    assert await history(d, "spring") == [
        ("api", "created", "lead1", T0, "from the API", "predictive", True),
        ("file", "file-took-over", None, T0 + 1, "from the file", "progressive", True),
    ]
    kept = Campaign.model_validate((await d.versions("spring"))[0].config)
    assert kept == campaign(name="from the API", mode="predictive", grace=1.0)


async def test_an_unknown_campaign_has_no_history(store: Store) -> None:
    with pytest.raises(UnknownCampaignError, match="no campaign 'nope'"):
        await DialerStore(store).versions("nope")


async def test_the_migration_keeps_the_campaigns_stored_before_it(tmp_path: Path) -> None:
    older = tmp_path / "migrations"
    older.mkdir()
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if int(path.name[:3]) < 10:
            shutil.copy(path, older / path.name)
    db = tmp_path / "old.db"
    async with await Store.open(db, migrations=older):
        pass
    with sqlite3.connect(db) as conn:  # a campaign stored before the history existed
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'campaign_versions'").fetchone() == (0,)
        conn.execute("INSERT INTO campaigns (id, name, config, source, active, created_at, updated_at)"
                     " VALUES ('renewals', 'Renewals', ?, 'file', 1, ?, ?)",
                     (campaign("renewals", name="Renewals").model_dump_json(), T0 - 9, T0))
    async with await Store.open(db) as s:
        assert await history(DialerStore(s), "renewals") == [
            ("file", "existing", None, T0, "Renewals", "progressive", True)]


def test_changed_keys_and_history_rows() -> None:
    assert changed_keys(None, {"b": 1, "a": 2}) == ["a", "b"]
    assert changed_keys({"a": 1, "b": [1], "c": 3}, {"a": 1, "b": [2], "d": 4}) == ["b", "c", "d"]
    assert changed_keys({"a": 1}, {"a": 1}) == []


async def test_history_rows_are_newest_first_with_what_changed(store: Store) -> None:
    d = DialerStore(store)
    await d.save_api_campaign(campaign(), T0, by="lead1")
    await d.save_api_campaign(campaign(grace=1.0, target_abandon=0.02), T0 + 1, by="lead1")
    rows = history_rows(await d.versions("spring"))
    assert [(r["change"], r["at"], r["by"], r["changed"]) for r in rows] == [
        ("updated", T0 + 1, "lead1", ["grace", "target_abandon"]),
        ("created", T0, "lead1", sorted(campaign().model_dump(mode="json"))),
    ]
    assert rows[0]["campaign"]["target_abandon"] == 0.02
    assert rows[0]["version"] > rows[1]["version"]
