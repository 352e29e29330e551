"""``hours``: branch on the calendar at the moment the call passes the step."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.commands import FlowFinished, Hangup
from ivr.loader import FlowError
from tests.unit.ivr.ladder import Ladder, flow_from, local_time

FLOW = """
    start = "hours"
    [steps.hours]
    verb = "hours"
    timezone = "Asia/Tokyo"
    weekly = ["mon-fri 09:00-17:00"]
    special = ["2025-11-29 10:00-12:00"]
    holidays = ["2025-11-24"]
    open = "opened"
    closed = "closed"
    [steps.opened]
    verb = "hangup"
    reason = "open"
    [steps.closed]
    verb = "hangup"
    reason = "closed"
"""


@pytest.mark.parametrize(
    ("when", "reason"),
    [
        ("2025-11-25 09:00", "open"),  # Tuesday
        ("2025-11-25 17:00", "closed"),
        ("2025-11-24 10:00", "closed"),  # holiday
        ("2025-11-29 11:00", "open"),  # a working Saturday
        ("2025-11-30 11:00", "closed"),
    ],
)
def test_branches(tmp_path: Path, when: str, reason: str) -> None:
    ladder = Ladder(flow_from(FLOW, tmp_path), now=local_time(when, "Asia/Tokyo"))
    assert ladder.start() == [Hangup(reason), FlowFinished("hangup", "opened" if reason == "open" else "closed")]


def test_an_hours_step_needs_some_opening_time(tmp_path: Path) -> None:
    with pytest.raises(FlowError, match=r"steps.hours.weekly: needs at least one entry"):
        flow_from(FLOW.replace('weekly = ["mon-fri 09:00-17:00"]', "").replace(
            'special = ["2025-11-29 10:00-12:00"]', ""), tmp_path)


def test_a_bad_special_day_is_named_by_index(tmp_path: Path) -> None:
    with pytest.raises(FlowError) as caught:
        flow_from(FLOW.replace("2025-11-29 10:00-12:00", "2025-11-29 12:00-10:00"), tmp_path)
    assert caught.value.problems[0].endswith(
        "steps.hours.special[0]: '2025-11-29 12:00-10:00': 12:00-10:00 must end after it starts "
        "(split it at 24:00)"
    )
