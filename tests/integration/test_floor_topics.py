"""The floor's retained topic tree and its seat commands on real brokers: the embedded amqtt one
and Mosquitto (Debian). A wallboard that subscribes late gets every queue, seat and campaign as
it is now; a command reaches the live floor's handler; a bad one gets an error reply."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import aiomqtt
import pytest

from callfloor.bus import EmbeddedBroker, EventBus
from callfloor.bus.floorcommands import SeatCommand
from callfloor.bus.floortopics import FloorPublisher
from callfloor.settings import MqttEndpoint
from floor.metrics import CampaignSpec, FloorMetrics, QueueSpec, SeatSpec
from tests.integration.peers.mosquitto import mosquitto
from tests.integration.peers.waits import until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

T = TypeVar("T")
ROOT = "callfloor/it"
T0 = 1_702_000_000.0


def event_clock() -> Callable[[], float]:
    """Real time, running on from just after the events (so "today" is their day)."""
    start = time.monotonic()
    return lambda: T0 + 100.0 + time.monotonic() - start


def within(awaitable: Awaitable[T], seconds: float = 10.0) -> Awaitable[T]:
    return asyncio.wait_for(awaitable, seconds)


@pytest.fixture(params=["amqtt", "mosquitto"])
async def endpoint(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[MqttEndpoint]:
    if request.param == "amqtt":
        async with EmbeddedBroker("127.0.0.1", 0) as embedded:
            yield MqttEndpoint(embedded.host, embedded.port)
    else:
        async with mosquitto(tmp_path / "mosquitto") as broker:
            yield MqttEndpoint(broker.host, broker.port)


def floor_metrics() -> FloorMetrics:
    return FloorMetrics(queues=[QueueSpec("sales", 20.0)], campaigns=[CampaignSpec("demo")],
                        seats=[SeatSpec("1001", "Ann", "red", ("sales",)),
                               SeatSpec("1002", "Bo", "red", ("sales", "campaign-demo"))])


def state(seat: str, at: float, presence: str, call_state: str = "idle", reason: str | None = None,
          call: str | None = None) -> tuple[str, float, dict[str, Any]]:
    return "seat.state", at, {"seat": seat, "presence": presence, "call_state": call_state,
                              "reason": reason, "call": call, "ts": at}


def queue(kind: str, at: float, call: str, **data: Any) -> tuple[str, float, dict[str, Any]]:
    return f"queue.{kind}", at, {"call": call, "queue": "sales", "wait_s": 0.0, "seat": None,
                                 **data, "ts": at}


# A morning in a few seconds: seat 1001 changes state five times within the coalescing interval.
EVENTS = [
    ("seat.availability", T0, {"seat": "1001", "reachable": True, "busy_elsewhere": False,
                               "lent_to": None}),
    ("seat.availability", T0, {"seat": "1002", "reachable": True, "busy_elsewhere": False,
                               "lent_to": None}),
    state("1001", T0 + 1, "ready"),
    state("1002", T0 + 1, "ready"),
    queue("joined", T0 + 10, "c1", priority="0"),
    state("1001", T0 + 10, "ready", "ringing", call="c1"),
    queue("answered", T0 + 14, "c1", seat="1001", wait_s=4.0, within_threshold="true"),
    state("1001", T0 + 14, "ready", "on-call", call="c1"),
    queue("ended", T0 + 74, "c1", seat="1001", wait_s=4.0, talk_s="60.000", wrap_up_s="10"),
    state("1001", T0 + 74, "wrap-up"),
    state("1001", T0 + 80, "paused", reason="lunch"),
    queue("joined", T0 + 90, "c2", priority="0"),
    ("dialer.dial", T0 + 95, {"campaign": "demo", "call": "d1", "lead": 7, "mode": "predictive"}),
]


async def retained(endpoint: MqttEndpoint, topics: set[str]) -> dict[str, aiomqtt.Message]:
    """Subscribe now (late) and collect one retained message per topic."""
    got: dict[str, aiomqtt.Message] = {}
    async with aiomqtt.Client(endpoint.host, endpoint.port) as client:
        for pattern in ("queues/+/stats", "seats/+/state", "campaigns/+/stats"):
            await client.subscribe(f"{ROOT}/{pattern}", qos=1)
        messages = aiter(client.messages)
        while set(got) != topics:
            message = await within(anext(messages))
            got[message.topic.value] = message
    return got


async def test_a_late_subscriber_gets_the_floor_as_it_is(endpoint: MqttEndpoint) -> None:
    metrics = floor_metrics()
    async with EventBus(endpoint, site="it") as bus:
        await within(bus.wait_connected())
        clock = event_clock()
        async with FloorPublisher(bus, clock=clock) as publisher:
            for kind, at, payload in EVENTS:
                publisher.publish_subjects(metrics, metrics.apply(kind, at, payload), clock())
            await until(lambda: publisher.coalescer.pending == 0 and bus.pending == 0,
                        "the changed subjects to go out")
            subjects = metrics.subjects()
            # each subject went out at most twice: the first change at once, the rest coalesced
            assert len(subjects) <= publisher.published <= 2 * len(subjects)
            topics = {publisher.topic(s) for s in subjects}
            got = await retained(endpoint, topics)
    assert topics == {f"{ROOT}/queues/sales/stats", f"{ROOT}/queues/campaign-demo/stats",
                      f"{ROOT}/seats/1001/state", f"{ROOT}/seats/1002/state",
                      f"{ROOT}/campaigns/demo/stats"}
    for subject in subjects:
        message = got[publisher.topic(subject)]
        assert message.retain is True
        assert isinstance(message.payload, bytes)
        payload = json.loads(message.payload)
        # the latest figures, exactly as the board computes them for that instant
        assert payload == metrics.view(subject, payload["at"]), subject
    ann = json.loads(got[f"{ROOT}/seats/1001/state"].payload)
    assert (ann["presence"], ann["reason"], ann["calls"], ann["talk_s"]) == ("paused", "lunch", 1, 60.0)
    sales = json.loads(got[f"{ROOT}/queues/sales/stats"].payload)
    assert (sales["waiting"], sales["answered"], sales["sl"]["today"]) == (1, 1, 1.0)
    assert sales["seats"] == {"ready": 1, "ringing": 0, "talking": 0, "wrap_up": 0, "paused": 1,
                              "logged_out": 0}
    demo = json.loads(got[f"{ROOT}/campaigns/demo/stats"].payload)
    assert (demo["in_flight"], demo["seats"], demo["pacing_ratio"]) == (1, {"busy": 0, "idle": 1}, 1.0)


async def commands_round(endpoint: MqttEndpoint, sends: list[tuple[str, bytes]], replies: int,
                         handler: Any) -> list[tuple[str, dict[str, Any]]]:
    """Publish ``sends`` on the command topics; return the first ``replies`` replies."""
    async with EventBus(endpoint, site="it") as bus:
        await within(bus.wait_connected())
        async with FloorPublisher(bus, handler=handler) as publisher, \
                aiomqtt.Client(endpoint.host, endpoint.port) as client:
            await within(publisher.commands_ready.wait())
            await client.subscribe(f"{ROOT}/commands/replies/#", qos=1)
            for topic, body in sends:
                await client.publish(f"{ROOT}/commands/seats/{topic}", body, qos=1)
            messages = aiter(client.messages)
            out = []
            for _ in range(replies):
                message = await within(anext(messages))
                assert isinstance(message.payload, bytes)
                out.append((message.topic.value.removeprefix(f"{ROOT}/commands/replies/"),
                            json.loads(message.payload)))
    return out


async def test_a_command_reaches_the_handler_and_is_answered(endpoint: MqttEndpoint) -> None:
    received: list[SeatCommand] = []

    async def handler(command: SeatCommand) -> Mapping[str, Any]:
        received.append(command)
        return {"seat": command.seat, "queues": ["support"]}

    body = json.dumps({"target": "queue:support", "by": "lead:amy", "correlation_id": "r-1"})
    [(address, reply)] = await commands_round(endpoint, [("1001/move", body.encode())], 1, handler)
    assert received == [SeatCommand("1001", "move", target="queue:support", by="lead:amy",
                                    correlation_id="r-1")]
    assert address == "r-1"
    assert reply == {"ok": True, "seat": "1001", "command": "move", "correlation_id": "r-1",
                     "at": reply["at"], "result": {"seat": "1001", "queues": ["support"]}}


async def test_bad_commands_get_an_error_reply(endpoint: MqttEndpoint) -> None:
    received: list[SeatCommand] = []

    async def handler(command: SeatCommand) -> Mapping[str, Any]:
        received.append(command)
        raise LookupError(f"no seat {command.seat!r}")

    sends = [
        ("1001/presence", json.dumps({"action": "sleep", "correlation_id": "r-2"}).encode()),
        ("1001/move", b"queue:sales"),  # not JSON
        ("1001/jump", b"{}"),
        ("9999/presence", json.dumps({"action": "ready", "correlation_id": "r-3"}).encode()),
    ]
    replies = await commands_round(endpoint, sends, 4, handler)
    assert [(address, r["ok"], r["field"], r["error"]) for address, r in replies] == [
        ("r-2", False, "action", "field 'action' must be one of ready, pause, logout, not 'sleep'"),
        ("1001", False, None, "the payload must be a JSON object"),
        ("1001", False, "command", "unknown command 'jump' (one of move, presence)"),
        ("r-3", False, None, "no seat '9999'"),
    ]
    assert received == [SeatCommand("9999", "presence", action="ready", correlation_id="r-3")]


async def test_refresh_republishes_time_based_figures(endpoint: MqttEndpoint) -> None:
    metrics = floor_metrics()
    for kind, at, payload in EVENTS:
        metrics.apply(kind, at, payload)
    async with EventBus(endpoint, site="it") as bus:
        await within(bus.wait_connected())
        async with FloorPublisher(bus, refresh=5.0, clock=event_clock()) as publisher:
            assert publisher.refresh(metrics, T0 + 200) is True
            assert publisher.refresh(metrics, T0 + 204) is False  # not yet
            assert publisher.refresh(metrics, T0 + 205) is True
            await until(lambda: bus.pending == 0, "the refresh to go out")
            assert publisher.published == 2 * len(metrics.subjects())
            got = await retained(endpoint, {publisher.topic(s) for s in metrics.subjects()})
    ann = json.loads(got[f"{ROOT}/seats/1001/state"].payload)
    assert (ann["at"], ann["time_in_state_s"]) == (T0 + 205, 125.0)  # paused since T0 + 80
    sales = json.loads(got[f"{ROOT}/queues/sales/stats"].payload)
    assert sales["longest_wait_s"] == 115.0  # c2 joined at T0 + 90
