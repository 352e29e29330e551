"""The demo's watch on its campaign over callfloor's HTTP API: fresh leads before the run runs
out of them (``POST /api/campaigns/{id}/leads``), and the campaign's figures every minute
(``GET /api/campaigns``: dials, abandonment, the pacing mode now).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from datetime import date
from typing import Any

from callfloor.sim.desk import ApiError, api_request
from callfloor.sim.leads import lead_csv
from callfloor.sim.narration import Narrator

__all__ = ["BATCH", "FIGURES_EVERY", "CampaignWatch"]

BATCH = 100  # fresh leads per top-up
FIGURES_EVERY = 60.0  # seconds between two lines of campaign figures


class CampaignWatch:
    """Watches ``campaign`` on the API at ``api``; prints through ``say``."""

    def __init__(self, api: tuple[str, int], campaign: str, narrator: Narrator, rng: random.Random,
                 say: Callable[[str], None]) -> None:
        self.api = api
        self.campaign = campaign
        self.narrator = narrator
        self.rng = rng
        self.say = say
        self.imported = 0  # fresh leads this run
        self.stats: dict[str, Any] = {}

    async def top_up(self) -> None:
        """Import a fresh batch of fictional leads through the HTTP API."""
        csv = lead_csv(self.rng, BATCH, today=date.today())
        result = await api_request(self.api, "POST", f"/api/campaigns/{self.campaign}/leads", csv,
                                   content_type="text/csv")
        self.imported += int(result.get("inserted", 0))
        self.say(f"campaign {self.campaign}: {result.get('inserted', 0)} fresh leads imported "
                 f"(POST /api/campaigns/{self.campaign}/leads)")

    async def figures(self, *, top_up: bool = True) -> dict[str, Any]:
        """The campaign's line of figures (printed), and a top-up when leads run low."""
        for stats in await api_request(self.api, "GET", "/api/campaigns"):
            if stats.get("id") == self.campaign:
                self.stats = stats
                self.say(self.narrator.campaign_line(stats))
                if top_up and int(stats.get("launched", 0)) + BATCH // 2 > self.imported:
                    await self.top_up()
        return self.stats

    async def run(self, stop: asyncio.Event) -> None:
        """Top up at once, then figures every minute until ``stop``."""
        try:
            await self.top_up()
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), FIGURES_EVERY)
                    return
                await self.figures()
        except ApiError as err:
            self.say(f"campaign {self.campaign}: HTTP API: {err}")
