"""RTP port pool and the codecs offered to the second leg of a call."""

from __future__ import annotations

import pytest

from telephony.calls.media import PortPool, PortsExhausted, relay_codecs
from telephony.sip.sdp import SessionDescription
from tests.unit.calls.ladder import sdp


def names(codecs: list) -> list[str]:  # type: ignore[type-arg]
    return [c.name for c in codecs]


def test_port_pool_hands_out_even_ports_of_the_range() -> None:
    pool = PortPool(20001, 20010)                            # an odd low end rounds up
    assert pool.size == 4 and len(pool) == 4
    assert [pool.take() for _ in range(4)] == [20002, 20004, 20006, 20008]
    with pytest.raises(PortsExhausted):
        pool.take()


def test_released_ports_are_reused_last() -> None:
    pool = PortPool(20000, 20006)
    first = pool.take()
    pool.release(first)
    assert [pool.take() for _ in range(3)] == [20002, 20004, 20000]


def test_release_of_a_port_not_taken_is_ignored_and_discard_retires_it() -> None:
    pool = PortPool(20000, 20004)
    pool.release(20000)                                      # not taken: no duplicate
    a = pool.take()
    pool.discard(a)                                          # could not be bound
    pool.release(a)                                          # and is never handed out again
    assert pool.take() == 20002
    with pytest.raises(PortsExhausted):
        pool.take()


def test_no_offer_gets_both_laws_and_events() -> None:
    codecs, event = relay_codecs(None)
    assert names(codecs) == ["PCMU", "PCMA"] and event == 101


def test_carrier_pcma_offer_keeps_its_order_and_adds_the_other_law() -> None:
    offer = SessionDescription.parse(sdp("203.0.113.5", 30000, "PCMA", event=96))
    codecs, event = relay_codecs(offer)
    assert names(codecs) == ["PCMA", "PCMU"] and event == 96


def test_seats_are_offered_pcmu_first_whatever_the_caller_preferred() -> None:
    offer = SessionDescription.parse(sdp("203.0.113.5", 30000, "PCMA", event=None))
    codecs, event = relay_codecs(offer, toward_seat=True)
    assert names(codecs) == ["PCMU", "PCMA"] and event == 101


def test_offer_without_g711_gives_nothing() -> None:
    offer = SessionDescription.parse(sdp("203.0.113.5", 30000, "G729 GSM"))
    assert relay_codecs(offer) == ([], None)
    assert relay_codecs(offer, toward_seat=True) == ([], None)


def test_rejected_audio_stream_gives_nothing() -> None:
    offer = SessionDescription.parse(sdp("203.0.113.5", 0, "PCMU"))
    assert relay_codecs(offer) == ([], None)


def test_wideband_telephone_event_is_not_taken_for_g711() -> None:
    body = sdp("203.0.113.5", 30000, "PCMU", event=None).replace(
        b"m=audio 30000 RTP/AVP 0", b"m=audio 30000 RTP/AVP 0 97") + b"a=rtpmap:97 telephone-event/16000\r\n"
    codecs, event = relay_codecs(SessionDescription.parse(body))
    assert names(codecs) == ["PCMU", "PCMA"] and event is None
