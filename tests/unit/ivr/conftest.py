"""Fixtures for the IVR tests."""

from __future__ import annotations

import pytest

from ivr.flow import Flow
from ivr.loader import FlowSet, load_flows
from tests.unit.ivr.ladder import ROOT

QUEUES = ("sales", "support", "vip")
SEATS = ("1001", "1002", "1003", "1004")


OFFICE_HOURS = 'weekly = ["mon-fri 09:00-18:00", "sat 10:00-14:00"]'


@pytest.fixture(scope="session")
def demo_set(tmp_path_factory: pytest.TempPathFactory) -> FlowSet:
    """The demo flows as the service loads them, but with office hours: the shipped demo is open
    around the clock (so the demo always reaches a seat), and these tests walk its closed branch."""
    source = ROOT / "config" / "ivr"
    text = (source / "demo.toml").read_text()
    weekly = next(line for line in text.splitlines() if line.startswith("weekly = "))
    directory = tmp_path_factory.mktemp("ivr")
    (directory / "demo.toml").write_text(text.replace(weekly, OFFICE_HOURS))
    (directory / "prompts").symlink_to(source / "prompts")
    return load_flows(directory, queues=QUEUES, seats=SEATS)



@pytest.fixture()
def demo(demo_set: FlowSet) -> Flow:
    """The demo flow."""
    flow = demo_set.for_number("+15550100")
    assert flow is not None
    return flow

