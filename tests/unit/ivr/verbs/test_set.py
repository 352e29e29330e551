"""``set``: variables that travel with the call."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.commands import Enqueue, StoreVariables
from ivr.loader import FlowError
from tests.unit.ivr.ladder import Ladder, flow_from


def test_sets_rendered_variables_and_they_travel_with_the_call(tmp_path: Path) -> None:
    flow = flow_from("""
        start = "tag"
        [steps.tag]
        verb = "set"
        next = "queue"
        [steps.tag.variables]
        department = "billing"
        note = "{caller} dialled {dialled} ({call_id}); was {department}{nothing}"
        tries = 2
        vip = true
        [steps.queue]
        verb = "enqueue"
        queue = "support"
        next = "bye"
        [steps.bye]
        verb = "hangup"
    """, tmp_path)
    ladder = Ladder(flow, variables={"department": "general"})
    expected = {
        "department": "billing",
        "note": "+15551234 dialled +15550100 (call-1); was general",
        "tries": "2",
        "vip": "true",
    }
    assert ladder.start() == [StoreVariables(expected), Enqueue("support", 0, {}, expected)]
    assert ladder.session.variables == expected


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ("", "steps.tag.variables: needs at least one variable"),
        ('"bad name" = "x"', "steps.tag.variables.bad name: is not a name (letters, digits, _)"),
        ("when = 2025-01-01", "steps.tag.variables.when: must be a string, an integer or a boolean"),
        ('x = "{a"', "steps.tag.variables.x: has an unbalanced { or }"),
    ],
)
def test_bad_variables(tmp_path: Path, variables: str, message: str) -> None:
    with pytest.raises(FlowError) as caught:
        flow_from(f"""
            start = "tag"
            [steps.tag]
            verb = "set"
            next = "bye"
            [steps.tag.variables]
            {variables}
            [steps.bye]
            verb = "hangup"
        """, tmp_path)
    assert caught.value.problems[0].endswith(message)
