"""The retained MQTT campaign topic carries what the monitor's tile shows: the figures and the
dialer's state (``active``, ``mode``, ``pacing_now``, ``teams``), on the periodic refresh, on a
change and when a campaign is stopped. A LiveFloor with a real FloorPublisher on the service's
dialer wiring (monitorkit.dialer_floor), an in-process amqtt broker and a real subscriber."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from callfloor.bus import EmbeddedBroker, EventBus
from callfloor.bus.subscription import BusMessage, Subscription
from callfloor.campaignadmin import CampaignAdmin
from callfloor.floorlive import LiveFloor
from callfloor.settings import MqttEndpoint
from dialer.abandon import CallKind
from tests.unit.floor.schemacheck import errors, load
from tests.unit.web.monitorkit import DialerFloor, dialer_floor, dialer_settings
from tests.unit.web.test_monitor_campaigns import CAMPAIGNS

ROOT = "acme/floor1"
DIALLING = ("active", "mode", "pacing_now", "teams")


@dataclass
class Published:
    """The floor under test: a LiveFloor publishing to the broker, its admin, and the broker."""

    floor: DialerFloor
    live: LiveFloor
    admin: CampaignAdmin
    endpoint: MqttEndpoint


@asynccontextmanager
async def publishing(tmp_path: Path, broker: MqttEndpoint | None = None) -> AsyncIterator[Published]:
    """CAMPAIGNS on the dialer wiring, with a LiveFloor built as ``callfloor.app`` builds it
    (``bus=``) and started (its tick refreshes the topics), and the admin that stops campaigns;
    on ``broker``, else on an in-process one."""
    settings = dialer_settings(tmp_path, bus={"site": "floor1", "topic_prefix": "acme"})
    async with contextlib.AsyncExitStack() as stack:
        if broker is None:
            embedded = await stack.enter_async_context(EmbeddedBroker("127.0.0.1", 0))
            broker = MqttEndpoint(embedded.host, embedded.port)
        f = await stack.enter_async_context(dialer_floor(settings, CAMPAIGNS))
        endpoint = broker
        async with EventBus(endpoint, topic_prefix="acme", site="floor1") as bus:
            await asyncio.wait_for(bus.wait_connected(), 10)
            live = LiveFloor(settings, f.live.sip, f.board, CAMPAIGNS, f.audit, bus=bus)
            live.dialer = f.runtime
            admin = CampaignAdmin(settings, f.runtime.store, f.audit, runtime=f.runtime, live=live)
            await live.start()
            try:
                yield Published(f, live, admin, endpoint)
            finally:
                await live.close()


async def received(sub: Subscription, topic: str, wanted: Callable[[dict[str, Any]], bool]) -> BusMessage:
    """The next message on ``topic`` whose payload is ``wanted`` (others skipped), within 10 s."""
    async with asyncio.timeout(10):
        while True:
            message = await sub.get()
            if message.topic == topic and wanted(message.payload):
                return message


async def latest(sub: Subscription, topics: set[str]) -> dict[str, BusMessage]:
    """One message on each of ``topics`` (in whatever order they come), within 10 s."""
    got: dict[str, BusMessage] = {}
    async with asyncio.timeout(10):
        while set(got) != topics:
            message = await sub.get()
            if message.topic in topics:
                got[message.topic] = message
    return got


def topic(campaign: str) -> str:
    return f"{ROOT}/campaigns/{campaign}/stats"


def any_payload(payload: dict[str, Any]) -> bool:
    return True


async def test_the_refresh_publishes_each_campaign_as_the_monitor_tile_shows_it(tmp_path: Path) -> None:
    async with publishing(tmp_path) as p, Subscription(p.endpoint, f"{ROOT}/+/+/+", qos=1) as sub:
        seat_topic = f"{ROOT}/seats/1001/state"
        got = await latest(sub, {topic(c.id) for c in CAMPAIGNS} | {seat_topic})
    seat = got.pop(seat_topic)
    payloads = {m.payload["id"]: m.payload for m in got.values()}
    assert {cid: tuple(c[k] for k in DIALLING) for cid, c in payloads.items()} == {
        "spring": (True, "predictive", "predictive", ["north"]),
        "winback": (True, "progressive", "progressive", ["north"]),
        "renewals": (True, "progressive", "progressive", []),
    }
    for cid, payload in payloads.items():
        # the very object the monitor's tile shows at that instant, and a valid campaign-stats
        assert payload == p.live.campaign_tile(cid, payload["at"]), cid
        assert errors(payload, load("campaign-stats.json")) == [], cid
    assert errors({"queues": {}, "seats": {}, "campaigns": payloads, "at": 0.0}, load("board.json")) == []
    # a seat's payload stays the metrics' own figures
    assert seat.payload == p.live.metrics.view(("seat", "1001"), seat.payload["at"])
    assert not set(DIALLING) & set(seat.payload)


async def test_a_change_publishes_the_fallback_to_progressive_pacing(tmp_path: Path) -> None:
    async with publishing(tmp_path) as p, Subscription(p.endpoint, topic("spring"), qos=1) as sub:
        now = time.time()
        # An abandoned call spends the 3% budget: the dialer paces spring progressive.
        p.floor.runtime.runs["spring"].tracker.add(now - 10, CallKind.ABANDONED)
        p.live.on_event("dialer.dial", {"campaign": "spring", "call": "d1", "lead": 1,
                                        "mode": "predictive", "ts": now - 12})
        p.live.on_event("dialer.abandoned", {"campaign": "spring", "call": "d1", "ts": now - 10})
        message = await received(sub, topic("spring"), lambda c: c["drops"] == 1)
    spring = message.payload
    assert (spring["dials"], spring["drops"], spring["drop_rate_24h"]) == (1, 1, 1.0)
    assert tuple(spring[k] for k in DIALLING) == (True, "predictive", "progressive", ["north"])
    assert errors(spring, load("campaign-stats.json")) == []


async def test_stopping_a_campaign_publishes_active_false_retained(tmp_path: Path) -> None:
    async with publishing(tmp_path) as p:
        async with Subscription(p.endpoint, topic("spring"), qos=1) as sub:
            stopped = await p.admin.set_active("spring", False, time.time(), by="amy")
            assert stopped.active is False
            pushed = await received(sub, topic("spring"), lambda c: c["active"] is False)
        # a wallboard subscribing now gets the stopped campaign at once, retained
        async with Subscription(p.endpoint, topic("spring"), qos=1) as late:
            retained = await received(late, topic("spring"), any_payload)
        async with Subscription(p.endpoint, topic("spring"), qos=1) as sub:
            await p.admin.set_active("spring", True, time.time(), by="amy")
            started = await received(sub, topic("spring"), lambda c: c["active"] is True)
    assert retained.retain is True
    for message in (pushed, retained):
        assert tuple(message.payload[k] for k in DIALLING) == (False, "predictive", "predictive", ["north"])
        assert errors(message.payload, load("campaign-stats.json")) == []
    assert started.payload["active"] is True


async def test_without_the_dialer_a_campaign_is_published_as_its_figures(tmp_path: Path) -> None:
    async with dialer_floor(dialer_settings(tmp_path), CAMPAIGNS) as f:
        f.live.dialer = None
        now = time.time()
        spring = f.live.published(("campaign", "spring"), now)
        assert spring == f.live.metrics.view(("campaign", "spring"), now)
        assert not set(DIALLING) & set(spring) and errors(spring, load("campaign-stats.json")) == []
        f.live.dialer = f.runtime
        assert f.live.published(("queue", "support"), now) == f.live.metrics.view(("queue", "support"), now)

