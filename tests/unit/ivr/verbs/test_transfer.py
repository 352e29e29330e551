"""``transfer``: to a seat or an outside number."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.commands import FlowFinished, Hangup, StoreVariables, Transfer
from ivr.events import SeatHungUp, TransferOutcome
from ivr.loader import FlowError
from ivr.session import SessionState
from tests.unit.ivr.ladder import Ladder, flow_from

FLOW = """
    start = "out"
    [steps.out]
    verb = "transfer"
    kind = "number"
    target = "+4930123456"
    failed = "bye"
    [steps.bye]
    verb = "hangup"
    reason = "transfer failed"
"""


def test_transfer_to_a_number_answered(tmp_path: Path) -> None:
    ladder = Ladder(flow_from(FLOW, tmp_path), variables={"account": "9071"})
    assert ladder.start() == [Transfer("number", "+4930123456", {"account": "9071"})]
    assert ladder.send(TransferOutcome("answered"), 8.0) == [StoreVariables({"transfer_status": "answered"})]
    assert ladder.session.state is SessionState.BRIDGED
    assert ladder.send(SeatHungUp(), 60.0) == [Hangup("seat hung up"), FlowFinished("completed", "out")]


@pytest.mark.parametrize("status", ["busy", "no_answer", "failed"])
def test_transfer_fails(tmp_path: Path, status: str) -> None:
    ladder = Ladder(flow_from(FLOW, tmp_path))
    ladder.start()
    assert ladder.send(TransferOutcome(status), 20.0) == [
        StoreVariables({"transfer_status": status}), Hangup("transfer failed"), FlowFinished("hangup", "bye"),
    ]


def test_transfer_to_a_seat(tmp_path: Path) -> None:
    flow = flow_from(FLOW.replace('"number"', '"seat"').replace('"+4930123456"', '"1003"'), tmp_path,
                     seats=("1003",))
    assert Ladder(flow).start() == [Transfer("seat", "1003", {})]


def test_kind_must_be_seat_or_number(tmp_path: Path) -> None:
    with pytest.raises(FlowError) as caught:
        flow_from(FLOW.replace('"number"', '"queue"'), tmp_path)
    assert caught.value.problems[0].endswith('steps.out.kind: \'queue\' is not "seat" or "number"')
