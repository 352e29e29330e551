"""Fixtures for bus tests: an embedded broker on a free loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from callfloor.bus import EmbeddedBroker
from callfloor.settings import MqttEndpoint


@pytest.fixture
async def broker() -> AsyncIterator[EmbeddedBroker]:
    async with EmbeddedBroker("127.0.0.1", 0) as running:
        yield running


@pytest.fixture
def endpoint(broker: EmbeddedBroker) -> MqttEndpoint:
    return MqttEndpoint(broker.host, broker.port)
