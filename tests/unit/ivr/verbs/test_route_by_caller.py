"""``route_by_caller``: number lists, then the customer table, else default."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.commands import FlowFinished, Hangup, StoreVariables
from ivr.flow import Flow
from ivr.loader import FlowError
from tests.unit.ivr.ladder import Customers, Ladder, flow_from

FLOW = """
    start = "who"
    [steps.who]
    verb = "route_by_caller"
    lookup = {lookup}
    default = "other"
    [steps.who.lists]
    staff = ["+49 30 1234*", "5550001"]
    vip = ["+15550199", "+4930*"]
    [steps.who.branches]
    staff = "staff"
    vip = "vip"
    gold = "vip"
    [steps.staff]
    verb = "hangup"
    reason = "staff"
    [steps.vip]
    verb = "hangup"
    reason = "vip"
    [steps.other]
    verb = "hangup"
    reason = "other"
"""


def route_flow(tmp_path: Path, lookup: bool = True) -> Flow:
    return flow_from(FLOW.replace("{lookup}", str(lookup).lower()), tmp_path)


def reason(ladder: Ladder) -> tuple[str, dict[str, str]]:
    commands = ladder.start()
    hangup = commands[-2]
    assert isinstance(hangup, Hangup) and isinstance(commands[-1], FlowFinished)
    return hangup.reason, ladder.session.variables


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        ("+493012345", "staff"),  # first list wins over the second one's +4930* prefix
        ("+49309999", "vip"),
        ("15550199", "vip"),
        ("555-0001", "staff"),
        ("+15550198", "other"),
        ("anonymous", "other"),
        ("", "other"),
    ],
)
def test_lists(tmp_path: Path, caller: str, expected: str) -> None:
    ladder = Ladder(route_flow(tmp_path, lookup=False), caller=caller)
    got, variables = reason(ladder)
    assert got == expected
    assert variables.get("caller_tier") == (expected if expected != "other" else None)


def test_customer_table_tiers(tmp_path: Path) -> None:
    customers = Customers({"+15551111": "gold", "+15552222": "bronze"})
    ladder = Ladder(route_flow(tmp_path), caller="+15551111", customers=customers)
    assert ladder.start() == [StoreVariables({"caller_tier": "gold"}), Hangup("vip"), FlowFinished("hangup", "vip")]
    # A tier without a branch is stored, and the caller goes to default.
    ladder = Ladder(route_flow(tmp_path), caller="+15552222", customers=customers)
    assert reason(ladder) == ("other", {"caller_tier": "bronze"})
    ladder = Ladder(route_flow(tmp_path), caller="+15553333", customers=customers)
    assert reason(ladder) == ("other", {})
    assert customers.asked == ["+15551111", "+15552222", "+15553333"]


def test_lists_are_asked_before_the_table_and_lookup_false_never_asks(tmp_path: Path) -> None:
    customers = Customers({"+15550199": "bronze", "+15551111": "gold"})
    assert reason(Ladder(route_flow(tmp_path), caller="+15550199", customers=customers))[0] == "vip"
    assert reason(Ladder(route_flow(tmp_path, False), caller="+15551111", customers=customers))[0] == "other"
    assert reason(Ladder(route_flow(tmp_path), caller="+15551111"))[0] == "other"  # no table given
    assert customers.asked == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('"5550001"', '"555x"'), "steps.who.lists.staff[1]: '555x' is not a number or a prefix ending in *"),
        (('gold = "vip"', "gold = 3"), "steps.who.branches.gold: must be a step name"),
        (("vip = [", "vip = 5 #"), "steps.who.lists.vip: must be a list of numbers"),
    ],
)
def test_bad_steps(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    with pytest.raises(FlowError) as caught:
        flow_from(FLOW.replace("{lookup}", "true").replace(*change), tmp_path)
    assert caught.value.problems[0].endswith(message)


def test_needs_lists_or_lookup(tmp_path: Path) -> None:
    with pytest.raises(FlowError) as caught:
        flow_from("""
            start = "who"
            [steps.who]
            verb = "route_by_caller"
            default = "bye"
            [steps.bye]
            verb = "hangup"
        """, tmp_path)
    assert caught.value.problems[0].endswith("steps.who: needs lists, lookup = true, or both")
