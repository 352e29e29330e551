"""Campaigns stored over the HTTP API beside the campaign files (a real SQLite file)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from callfloor.store import Store
from callfloor.store.dialer import DialerStore, UnknownCampaignError
from callfloor.store.dialer.core import CampaignSourceError
from dialer.campaign import Campaign

T0 = 1_772_000_000.0


def campaign(ident: str = "spring", **changes: Any) -> Campaign:
    return Campaign(id=ident, caller_id="+12125550100", **changes)


def rows(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT id, name, source, active, created_at, updated_at FROM campaigns"
                            " ORDER BY id").fetchall()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "callfloor.db")
    yield s
    await s.close()


async def test_an_api_campaign_is_created_then_replaced(store: Store) -> None:
    d = DialerStore(store)
    assert await d.save_api_campaign(campaign(name="Spring"), T0) is True
    assert await d.save_api_campaign(campaign(name="Spring 2", mode="predictive"), T0 + 5) is False
    assert rows(store.path) == [("spring", "Spring 2", "api", 1, T0, T0 + 5)]
    fresh = DialerStore(store)  # read back from the config column
    assert await fresh.api_campaigns() == [campaign(name="Spring 2", mode="predictive")]
    assert await fresh.campaign("spring") == campaign(name="Spring 2", mode="predictive")
    assert await fresh.campaign_source("spring") == "api"
    assert await fresh.campaign_source("nope") is None


async def test_the_id_of_a_file_campaign_is_refused(store: Store) -> None:
    d = DialerStore(store)
    await d.sync_campaigns([campaign("renewals")], T0)
    with pytest.raises(CampaignSourceError, match="'renewals' is defined in a campaign file"):
        await d.save_api_campaign(campaign("renewals", name="taken"), T0 + 1)
    assert rows(store.path) == [("renewals", "", "file", 1, T0, T0)]
    assert await d.api_campaigns() == []


async def test_syncing_the_files_leaves_api_campaigns_alone(store: Store) -> None:
    d = DialerStore(store)
    await d.save_api_campaign(campaign("spring"), T0)
    await d.sync_campaigns([campaign("renewals")], T0 + 1)
    await d.sync_campaigns([], T0 + 2)  # every file gone: file campaigns stop, API ones do not
    assert rows(store.path) == [("renewals", "", "file", 0, T0 + 1, T0 + 2), ("spring", "", "api", 1, T0, T0)]


async def test_a_file_of_the_same_id_takes_an_api_campaign_over(store: Store) -> None:
    d = DialerStore(store)
    await d.save_api_campaign(campaign("spring", name="from the API"), T0)
    await d.sync_campaigns([campaign("spring", name="from the file")], T0 + 1)
    assert rows(store.path) == [("spring", "from the file", "file", 1, T0, T0 + 1)]
    assert await DialerStore(store).api_campaigns() == []


async def test_active_is_set_in_the_row_and_the_settings(store: Store) -> None:
    d = DialerStore(store)
    await d.save_api_campaign(campaign("spring"), T0)
    await d.sync_campaigns([campaign("renewals")], T0)
    assert (await d.set_campaign_active("spring", False, T0 + 1)).active is False
    assert (await d.set_campaign_active("renewals", False, T0 + 2)).active is False
    assert rows(store.path) == [("renewals", "", "file", 0, T0, T0 + 2), ("spring", "", "api", 0, T0, T0 + 1)]
    fresh = DialerStore(store)
    assert (await fresh.campaign("spring")).active is False
    assert [c.active for c in await fresh.api_campaigns()] == [False]
    await fresh.sync_campaigns([campaign("renewals")], T0 + 3)  # at the next start the file wins
    assert rows(store.path)[0] == ("renewals", "", "file", 1, T0, T0 + 3)
    with pytest.raises(UnknownCampaignError):
        await d.set_campaign_active("nope", True, T0)
