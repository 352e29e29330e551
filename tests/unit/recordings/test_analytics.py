"""Call analytics on generated two-channel audio whose talk, silence, overtalk, dead air and hold
are known to the frame (tests/unit/recordings/analytics_kit.py builds it)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from recordings.analytics import FLAGS, AnalyticsConfig, CallAnalytics, Segment, analyze_call, flags
from tests.unit.recordings.analytics_kit import FULL, RATE, Call, scenario


@pytest.fixture(scope="module")
def reference() -> CallAnalytics:
    return analyze_call(scenario().int16(), RATE)


def of(a: CallAnalytics, kind: str) -> list[tuple[float, float]]:
    return [(s.start, s.end) for s in a.segments if s.kind == kind]


def test_talk_per_side_and_its_segments(reference: CallAnalytics) -> None:
    assert of(reference, "customer_talk") == [(6.5, 12.0), (13.0, 13.2), (22.0, 25.0), (50.0, 55.0)]
    assert of(reference, "agent_talk") == [(1.0, 6.0), (10.0, 14.0), (46.5, 50.0)]
    assert reference.customer.talk_s == 13.7 and reference.customer.turns == 4
    assert reference.agent.talk_s == 12.5 and reference.agent.turns == 3
    assert reference.agent_talk_ratio == round(12.5 / 26.2, 6)


def test_overtalk_ignores_a_backchannel(reference: CallAnalytics) -> None:
    # The customer's 200 ms "mhm" under the agent (13.0-13.2) is shorter than 300 ms.
    assert of(reference, "overtalk") == [(10.0, 12.0)]
    assert (reference.overtalk_s, reference.overtalk_count) == (2.0, 1)
    assert reference.agent_interruptions == 1  # the customer was talking since 6.5
    # Anyone talks 1-6, 6.5-14, 22-25 and 46.5-55: 24 s.
    assert reference.overtalk_share == round(2.0 / 24.0, 6)


def test_silence_dead_air_and_hold(reference: CallAnalytics) -> None:
    assert of(reference, "hold") == [(26.0, 46.0)]
    assert (reference.hold_s, reference.hold_count) == (20.0, 1)
    # Neither talks, not on hold: 0-1, 6-6.5, 14-22, 25-26, 46-46.5, 55-60.
    assert reference.silence_s == 16.0
    assert reference.silence_share == round(16 / 60, 6)
    assert of(reference, "dead_air") == [(14.0, 22.0), (55.0, 60.0)]  # 2 s or longer
    assert reference.dead_air_s == 13.0
    assert (reference.longest_dead_air_s, reference.longest_dead_air_start) == (8.0, 14.0)
    assert reference.duration_s == 60.0 and reference.rate == RATE


def test_hold_music_is_not_agent_talk(reference: CallAnalytics) -> None:
    # The music is louder than the agent's speech and lasts longer, yet adds no talk.
    assert reference.agent.rms_dbfs > reference.customer.rms_dbfs
    assert not [s for s in reference.segments if s.kind == "agent_talk" and s.end > 26.0 and s.start < 46.0]


def test_segments_are_ordered_for_the_player(reference: CallAnalytics) -> None:
    keys = [(s.start, s.kind) for s in reference.segments]
    assert keys == sorted(keys, key=lambda k: (k[0], [
        "customer_talk", "agent_talk", "overtalk", "hold", "dead_air"].index(k[1])))
    assert all(isinstance(s, Segment) and s.end > s.start for s in reference.segments)


def test_speech_level_is_the_level_over_talk() -> None:
    call = Call(10.0).talk(0, 1.0, 6.0, levels=(-20.0,))
    a = analyze_call(call.int16(), RATE)
    span = call.int16()[RATE : 6 * RATE, 0].astype(float)
    assert a.customer.speech_dbfs == pytest.approx(10 * np.log10(np.mean(span**2) / FULL**2), abs=1e-3)
    assert a.agent.speech_dbfs is None and a.agent.talk_s == 0.0


def test_customer_interrupting_counts_for_nobody_on_the_agent() -> None:
    call = Call(10.0).talk(1, 1.0, 5.0).talk(0, 3.0, 7.0)
    a = analyze_call(call.int16(), RATE)
    assert of(a, "overtalk") == [(3.0, 5.0)]
    assert a.agent_interruptions == 0


@pytest.mark.parametrize("noise", [-50.0, -45.0])
def test_background_noise_is_not_talk(noise: float) -> None:
    # -45 dBFS is above the fixed minimum (-50): only the adaptive floor keeps it out of talk.
    quiet = analyze_call(Call(30.0, noise_dbfs=noise).int16(), RATE)
    assert (quiet.customer.talk_s, quiet.agent.talk_s, quiet.hold_s) == (0.0, 0.0, 0.0)
    assert quiet.silence_s == 30.0 and quiet.longest_dead_air_s == 30.0
    assert quiet.customer.noise_floor_dbfs == pytest.approx(noise, abs=2.0)
    talk = analyze_call(Call(30.0, noise_dbfs=noise).talk(0, 5.0, 9.0).talk(1, 12.0, 20.0).int16(), RATE)
    assert of(talk, "customer_talk") == [(5.0, 9.0)] and of(talk, "agent_talk") == [(12.0, 20.0)]


def test_a_phone_on_hold_that_stops_sending_is_hold() -> None:
    # The seat's phone holds with sendonly: its channel is digital silence, the customer's line
    # stays live (its noise) and the customer waits in silence.
    call = Call(40.0).talk(1, 1.0, 4.0).zeros(1, 5.0, 30.0).talk(1, 31.0, 35.0)
    a = analyze_call(call.int16(), RATE)
    assert of(a, "hold") == [(5.0, 30.0)]
    assert a.hold_s == 25.0
    assert a.silence_s == 8.0  # 0-1, 4-5 and 30-31 around the hold, 35-40 at the end
    assert of(a, "dead_air") == [(35.0, 40.0)]


def test_a_short_hold_is_dead_air() -> None:
    call = Call(20.0).talk(1, 1.0, 2.0).music(1, 3.0, 9.0).talk(0, 10.0, 12.0)
    a = analyze_call(call.int16(), RATE)
    assert a.hold_s == 0.0
    assert of(a, "dead_air") == [(2.0, 10.0), (12.0, 20.0)]  # the music is not talk either


def test_music_on_the_customer_side_while_the_agent_is_silent_is_hold() -> None:
    call = Call(40.0).talk(1, 1.0, 3.0).music(0, 4.0, 34.0).talk(1, 35.0, 38.0)
    a = analyze_call(call.int16(), RATE)
    assert of(a, "hold") == [(4.0, 34.0)] and a.customer.talk_s == 0.0


def test_hold_survives_a_customer_asking_if_anyone_is_there() -> None:
    call = Call(40.0).talk(1, 1.0, 3.0).music(1, 4.0, 34.0).talk(0, 20.0, 21.0)
    a = analyze_call(call.int16(), RATE)
    assert of(a, "hold") == [(4.0, 34.0)]
    assert of(a, "customer_talk") == [(20.0, 21.0)]


def test_all_digital_silence_is_dead_air_not_hold() -> None:
    a = analyze_call(np.zeros((RATE * 30, 2), dtype=np.int16), RATE)
    assert a.hold_s == 0.0 and a.silence_s == 30.0
    assert of(a, "dead_air") == [(0.0, 30.0)]
    assert (a.customer.rms_dbfs, a.customer.loudness_lufs, a.agent_talk_ratio) == (-96.0, None, None)
    assert flags(a) == ("long_dead_air",)


def test_float_input_gives_the_same_figures() -> None:
    samples = scenario().int16()
    as_int = analyze_call(samples, RATE)
    as_float = analyze_call(samples.astype(np.float32) / np.float32(FULL), RATE)
    assert as_float.segments == as_int.segments
    assert as_float.customer.rms_dbfs == pytest.approx(as_int.customer.rms_dbfs, abs=1e-3)


def test_flags_follow_the_thresholds(reference: CallAnalytics) -> None:
    assert flags(reference) == ()
    strict = AnalyticsConfig(flag_dead_air_s=7.9, flag_overtalk_share=0.08, flag_agent_talk_ratio=0.4,
                             flag_hold_s=19.0)
    assert flags(reference, strict) == ("long_dead_air", "overtalk", "agent_dominates", "long_hold")
    assert set(FLAGS) == {"long_dead_air", "overtalk", "agent_dominates", "clipping", "long_hold"}


def test_to_json_holds_every_figure_and_segment(reference: CallAnalytics) -> None:
    data = json.loads(reference.to_json())
    assert data["hold_s"] == 20.0 and data["customer"]["talk_s"] == 13.7
    assert data["segments"][0] == {"start": 1.0, "end": 6.0, "kind": "agent_talk"}
    assert len(data["segments"]) == len(reference.segments) == 11


def test_a_pause_between_tunes_does_not_end_the_hold() -> None:
    call = Call(40.0).talk(1, 1.0, 3.0).music(1, 4.0, 15.0).music(1, 15.8, 30.0).talk(1, 31.0, 34.0)
    a = analyze_call(call.int16(), RATE)
    assert of(a, "hold") == [(4.0, 30.0)] and a.hold_count == 1
    longer = analyze_call(Call(40.0).talk(1, 1.0, 3.0).music(1, 4.0, 15.0).music(1, 17.0, 30.0).int16(), RATE)
    assert of(longer, "hold") == [(4.0, 15.0), (17.0, 30.0)]  # a 2 s pause ends it
