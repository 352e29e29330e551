"""The day's QA sample, drawn by ``callfloor qa sample`` or by the service after midnight.

The risk flags of each call come from its stored analytics and its complaints (docs/qa.md); the
seed defaults to the day (YYYYMMDD), so the service and a person with the same policy draw the
same calls for a day. A day is drawn once: its picks stand.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from datetime import tzinfo as TzInfo
from pathlib import Path

from pydantic import ValidationError

from callfloor.settings import ConfigError, Settings
from callfloor.settings.loader import read_toml
from callfloor.store import Store
from callfloor.store.analytics import CallAnalyticsStore
from callfloor.store.qa import QaStore
from dialer.reports import Period
from qa.sampling import DailySample, SamplingPolicy, draw_daily

__all__ = ["CATCH_UP_DAYS", "draw_day", "load_policy", "sample_finished_days"]

log = logging.getLogger("callfloor.qa")

CATCH_UP_DAYS = 7  # days before yesterday the service still samples when it was down at midnight


def load_policy(path: Path | None) -> SamplingPolicy:
    """The sampling policy from a TOML file (keys of ``SamplingPolicy``), or the defaults."""
    if path is None:
        return SamplingPolicy()
    data = read_toml(path)
    try:
        return SamplingPolicy.model_validate(data)
    except ValidationError as exc:
        lines = [f"{path}: {'.'.join(map(str, e['loc'])) or '(top level)'}: {e['msg']}" for e in exc.errors()]
        raise ConfigError(lines) from None


async def draw_day(store: Store, settings: Settings, policy: SamplingPolicy, day: date, now: float, *,
                   seed: int | None = None, tz: TzInfo | None = None) -> DailySample | None:
    """Draw and save ``day``'s sample; None when the day was sampled already."""
    qa = QaStore(store)
    if await qa.sample_seed(day) is not None:
        return None
    period = Period.day(day, tz)
    seed = int(day.strftime("%Y%m%d")) if seed is None else seed
    teams = {s.id: s.team for s in settings.seats}
    risks = await CallAnalyticsStore(store).sampling_flags(period.start, period.end)
    calls = await qa.day_calls(period.start, period.end, teams, flags=risks)
    sample = draw_daily(calls, day=day, policy=policy, seed=seed)
    await qa.save_sample(sample, policy, now)
    return sample


async def sample_finished_days(store: Store, settings: Settings, policy: SamplingPolicy,
                               now: float) -> list[DailySample]:
    """The service's daily job: every finished local day of the last week not sampled yet."""
    today = datetime.fromtimestamp(now).date()
    drawn = []
    for back in range(CATCH_UP_DAYS, 0, -1):
        day = date.fromordinal(today.toordinal() - back)
        sample = await draw_day(store, settings, policy, day, now)
        if sample is not None and sample.calls:
            log.info("QA sample of %s: %d calls picked of %d", day, len(sample.picks),
                     sum(sample.calls.values()))
        if sample is not None:
            drawn.append(sample)
    return drawn
