"""The inbound floor with SIPp on both sides: a caller on the carrier trunk goes through the demo
IVR (DTMF as RFC 4733 telephone-events or SIP INFO) into a queue, and a seat made ready by its own
feature-code call (``*1``) takes the call from the ACD; the events and the CDR are checked. Also:
an account number keyed in by RFC 4733, and every feature code a seat can dial.

Every SIPp peer runs in its own directory under the test's ``tmp_path`` (message traces there).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from floor.states import Presence
from recordings.wav import read_stereo
from tests.integration.conftest import SippFloor, traced
from tests.integration.harness import SippResult, floor, free_port
from tests.integration.peers.floor import queue_floor_settings, seat_view, stored_events
from tests.integration.peers.waits import until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

DEMO = "+15550100"


@asynccontextmanager
async def sipp_floor(tmp_path: Path, **overrides: Any) -> AsyncIterator[SippFloor]:
    """The demo floor (IVR + queues) with SIPp helpers."""
    async with floor(queue_floor_settings(tmp_path, **overrides)) as service:
        yield SippFloor(service, tmp_path / "sipp")


async def feature_code(f: SippFloor, seat: str, code: str) -> SippResult:
    """The seat's phone dials ``code``; callfloor answers, beeps and hangs up."""
    return await f.seat_uac("floor_seat_feature.xml", seat=seat, password=f"secret{seat}",
                            service=code, keys={"seat": seat}, timeout=20)


async def ready_sipp_seat(f: SippFloor, seat: str, scenario: str) -> asyncio.Task[SippResult]:
    """Register ``seat`` with a SIPp UAS as its phone, then make it ready by dialling ``*1``."""
    port = free_port()
    registered = await f.register(seat, f"secret{seat}", port)
    assert registered.returncode == 0, registered.explain()
    phone = await f.start_seat(scenario, port, timeout=45)
    dialled = await feature_code(f, seat, "*1")
    assert dialled.returncode == 0, dialled.explain()
    view = seat_view(f.service, seat)
    assert (view.presence, view.available) == (Presence.READY, True), view
    return phone


def merged(events: list[dict[str, Any]]) -> dict[str, str]:
    """The call variables a flow stored, in one dict (later events win)."""
    return {k: v for e in events for k, v in e["variables"].items()}


def active(samples: npt.NDArray[np.int16]) -> float:
    """Share of samples louder than a quiet noise floor."""
    return float((np.abs(samples.astype(np.int32)) > 100).mean())


async def test_rfc4733_caller_picks_support_and_a_sipp_seat_takes_the_call(tmp_path: Path) -> None:
    async with sipp_floor(tmp_path) as f:
        phone = await ready_sipp_seat(f, "1001", "seat_answer.xml")
        caller = await f.carrier("floor_caller_2833.xml", DEMO, timeout=40)
        assert caller.returncode == 0, caller.explain()
        seat = await phone
        assert seat.returncode == 0, seat.explain()
        rows = await f.calls_when_idle()
        service = f.service
        await until(lambda: seat_view(service, "1001").presence is Presence.READY, "wrap-up to end")
        joined = await stored_events(service, "queue.joined")
        offered = await stored_events(service, "queue.offered")
        answered = await stored_events(service, "queue.answered")
        ended = await stored_events(service, "queue.ended")
        states = [e for e in await stored_events(service, "seat.state") if e["seat"] == "1001"]
        variables = await stored_events(service, "call.variables")
        recordings = service.settings.storage.recordings_dir
    inbound = [r for r in rows if r.direction == "inbound"]
    feature = [r for r in rows if r.direction == "internal"]
    assert len(inbound) == 1 and len(feature) == 1, rows
    row = inbound[0]
    # The feature-code call: the seat dialled *1, callfloor answered and hung up after the beep.
    assert (feature[0].caller, feature[0].callee, feature[0].hangup_by) == ("1001", "*1", "callfloor")
    # The caller's call: IVR, the support queue, seat 1001, and the caller hung up.
    assert (row.did, row.seat_id, row.status, row.hangup_by) == (DEMO, "1001", "ended", "customer")
    assert [(e["call"], e["queue"]) for e in joined] == [(row.uuid, "support")]
    assert [(e["queue"], e["seat"]) for e in offered] == [("support", "1001")]
    assert [(e["call"], e["queue"], e["seat"]) for e in answered] == [(row.uuid, "support", "1001")]
    assert [(e["queue"], e["seat"]) for e in ended] == [("support", "1001")]
    assert merged(variables) == {"survey": "armed", "menu_choice": "2", "department": "support",
                                 "queue_status": "answered", "seat": "1001"}
    # Logged out -> ready by the feature code; rung by the ACD, answered, wrap-up, ready again.
    assert [(e["previous_presence"], e["presence"], e["call_state"], e["by"]) for e in states] == [
        ("logged-out", "ready", "idle", "seat"), ("ready", "ready", "ringing", "acd"),
        ("ready", "ready", "on-call", "seat"), ("ready", "wrap-up", "idle", "acd"),
        ("wrap-up", "ready", "idle", "acd")]
    assert all(e["call"] == row.uuid for e in states[1:3])
    # The recording: the caller (left) from the bridge on, the seat's echo of it (right).
    assert row.recording_path is not None
    audio, rate = read_stereo(recordings / row.recording_path)
    assert row.duration is not None and len(audio) / rate == pytest.approx(row.duration, abs=0.6)
    assert active(audio[:, 0]) > 0.2 and active(audio[:, 1]) > 0.2


async def test_info_caller_picks_sales_and_rates_the_call_after_the_seat_hangs_up(tmp_path: Path) -> None:
    async with sipp_floor(tmp_path) as f:
        phone = await ready_sipp_seat(f, "1002", "seat_hangup.xml")
        caller = await f.carrier("floor_caller_info.xml", DEMO, keys={"choice": 1, "rating": 4},
                                 extra=["-timeout", "40"], timeout=45)
        assert caller.returncode == 0, caller.explain()
        seat = await phone
        assert seat.returncode == 0, seat.explain()
        rows = await f.calls_when_idle()
        service = f.service
        joined = await stored_events(service, "queue.joined")
        answered = await stored_events(service, "queue.answered")
        ended = await stored_events(service, "queue.ended")
        surveys = await stored_events(service, "call.survey")
        variables = await stored_events(service, "call.variables")
    inbound = [r for r in rows if r.direction == "inbound"]
    assert len(inbound) == 1, rows
    row = inbound[0]
    # The seat hung up after two seconds of talk; the survey took the caller's next key (4 by
    # INFO), thanked the caller, and callfloor hung up.
    assert (row.seat_id, row.status, row.end_reason, row.hangup_by) == ("1002", "ended", "normal", "callfloor")
    assert [float(e["talk_s"]) for e in ended] == [pytest.approx(2.0, abs=0.5)]
    assert [(e["call"], e["queue"]) for e in joined] == [(row.uuid, "sales")]
    assert [(e["call"], e["queue"], e["seat"]) for e in answered] == [(row.uuid, "sales", "1002")]
    assert [(e["call"], e["score"], e["scale"]) for e in surveys] == [(row.uuid, 4, 5)]
    flow = {"survey": "armed", "menu_choice": "1", "department": "sales", "queue_status": "answered",
            "seat": "1002", "survey_score": "4"}
    assert merged(variables) == flow
    assert row.survey_score == 4 and json.loads(row.variables or "{}") == flow
    # Every key went by INFO and was answered 200 in the dialog: the menu choice, then ratings.
    infos = [m for m in traced(caller.messages) if m.cseq.endswith(" INFO")]
    sent = [m.body.splitlines()[0] for m in infos if m.sent]
    assert sent[0] == "Signal=1" and set(sent[1:]) == {"Signal=4"}, sent
    assert [m.start_line for m in infos if not m.sent] == ["SIP/2.0 200 OK"] * len(sent)


async def test_rfc4733_caller_keys_in_an_account_number_then_waits_for_support(tmp_path: Path) -> None:
    """No seat is ready: the caller is read back its account number, waits, and gives up."""
    async with sipp_floor(tmp_path) as f:
        caller = await f.carrier("floor_caller_account.xml", DEMO, timeout=40)
        assert caller.returncode == 0, caller.explain()
        rows = await f.calls_when_idle()
        service = f.service
        joined = await stored_events(service, "queue.joined")
        abandoned = await stored_events(service, "queue.abandoned")
        offered = await stored_events(service, "queue.offered")
        variables = await stored_events(service, "call.variables")
    assert len(rows) == 1
    row = rows[0]
    assert (row.seat_id, row.status, row.hangup_by) == (None, "ended", "customer")
    assert merged(variables) == {"survey": "armed", "menu_choice": "3", "account": "4567",
                                 "department": "support"}
    assert [(e["call"], e["queue"]) for e in joined] == [(row.uuid, "support")]
    assert [(e["call"], e["queue"]) for e in abandoned] == [(row.uuid, "support")] and offered == []


async def test_feature_codes_from_a_sipp_seat_change_its_presence(tmp_path: Path) -> None:
    async with sipp_floor(tmp_path) as f:
        service = f.service
        registered = await f.register("1003", "secret1003", free_port())
        assert registered.returncode == 0, registered.explain()
        seen = []
        for code in ("*1", "*23", "*29", "*2", "*1", "*3"):
            result = await feature_code(f, "1003", code)
            assert result.returncode == 0, f"{code}: {result.explain()}"
            view = seat_view(service, "1003")
            seen.append((code, view.presence, view.reason))
        rows = await f.calls_when_idle()
        states = [e for e in await stored_events(service, "seat.state") if e["seat"] == "1003"]
    # *29: reason 9 is not configured; the seat hears an error tone and stays as it was.
    assert seen == [("*1", Presence.READY, None), ("*23", Presence.PAUSED, "training"),
                    ("*29", Presence.PAUSED, "training"), ("*2", Presence.PAUSED, None),
                    ("*1", Presence.READY, None), ("*3", Presence.LOGGED_OUT, None)]
    assert [(e["presence"], e["reason"], e["by"]) for e in states] == [
        ("ready", None, "seat"), ("paused", "training", "seat"), ("paused", None, "seat"),
        ("ready", None, "seat"), ("logged-out", None, "seat")]
    assert sorted((r.callee, r.end_reason) for r in rows) == sorted(
        (code, "feature done") for code in ("*1", "*23", "*29", "*2", "*1", "*3"))
