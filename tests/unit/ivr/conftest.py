"""Fixtures for the IVR tests."""

from __future__ import annotations

import pytest

from ivr.flow import Flow
from ivr.loader import FlowSet, load_flows
from tests.unit.ivr.ladder import ROOT

QUEUES = ("sales", "support", "vip")
SEATS = ("1001", "1002", "1003", "1004")


@pytest.fixture(scope="session")
def demo_set() -> FlowSet:
    """The demo flows, as the service loads them."""
    return load_flows(ROOT / "config" / "ivr", queues=QUEUES, seats=SEATS)


@pytest.fixture()
def demo(demo_set: FlowSet) -> Flow:
    """The demo flow."""
    flow = demo_set.for_number("+15550100")
    assert flow is not None
    return flow

