"""Deleting a campaign clears its retained MQTT topics on a real Mosquitto: an open wallboard is
told (an empty retained message), and one subscribing later is not shown the campaign."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from callfloor.bus.subscription import Subscription
from callfloor.settings import MqttEndpoint
from tests.integration.peers.mosquitto import mosquitto
from tests.unit.web.test_campaign_topics import (
    ROOT,
    any_payload,
    latest,
    publishing,
    received,
    topic,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


async def test_deleting_a_campaign_clears_its_retained_topics(tmp_path: Path) -> None:
    autumn = {"id": "autumn", "caller_id": "+12125550100", "seats": ["1003"]}
    queue_topic = f"{ROOT}/queues/campaign-autumn/stats"
    async with mosquitto(tmp_path / "mosquitto") as broker:
        endpoint = MqttEndpoint(broker.host, broker.port)
        async with publishing(tmp_path, endpoint) as p:
            async with Subscription(endpoint, f"{ROOT}/+/+/+", qos=1) as sub:
                await p.admin.put(autumn, time.time(), by="amy")
                await latest(sub, {topic("autumn"), queue_topic, topic("spring")})
                await p.admin.set_active("autumn", False, time.time(), by="amy")
                await p.admin.delete("autumn", time.time(), by="amy")
                for gone in (topic("autumn"), queue_topic):  # an open wallboard is told: empty
                    cleared = await received(sub, gone, lambda payload: payload is None)
                    assert cleared.raw == b""
            assert p.live.publisher is not None
            bus = p.live.publisher.bus
            for name in (topic("autumn"), queue_topic, topic("spring")):
                # Mosquitto sends a topic's retained message right after the SUBACK, before
                # anything published later: a marker comes first only when nothing is retained.
                async with Subscription(endpoint, name, qos=1) as late:
                    bus.publish(name, {"marker": True}, qos=1, stamp=False)
                    first = await received(late, name, any_payload)
                    kept = first.retain and first.payload != {"marker": True}
                    assert kept is (name == topic("spring")), name  # the others keep theirs
