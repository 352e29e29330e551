"""RFC 4733 telephone-events: payloads, the exactly-once receiver, the sender, SIP INFO bodies."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telephony.rtp.dtmf import (
    DtmfDigit,
    DtmfError,
    DtmfInfo,
    DtmfReceiver,
    TelephoneEvent,
    digit_for_event,
    event_for_digit,
    events_for_digit,
    parse_dtmf_info,
    parse_info,
)
from telephony.rtp.packet import RtpPacket
from tests.unit.rtp.hexfixtures import load_hex_lines


def test_event_payload_bytes() -> None:
    assert TelephoneEvent.parse(bytes.fromhex("058a0320")) == TelephoneEvent(5, True, 10, 800)
    assert TelephoneEvent(11, False, 63, 160).serialize() == bytes.fromhex("0b3f00a0")


def test_reserved_bit_is_ignored_and_cleared() -> None:
    event = TelephoneEvent.parse(bytes.fromhex("05ca0320"))
    assert event == TelephoneEvent(5, True, 10, 800)
    assert event.serialize() == bytes.fromhex("058a0320")


def test_several_events_in_one_payload() -> None:
    payload = bytes.fromhex("010a00a0 028a0140")
    assert TelephoneEvent.parse_all(payload) == [
        TelephoneEvent(1, False, 10, 160), TelephoneEvent(2, True, 10, 320),
    ]
    assert TelephoneEvent.parse(payload) == TelephoneEvent(1, False, 10, 160)


@pytest.mark.parametrize("payload", [b"", b"\x05\x8a\x03", b"\x05\x8a\x03\x20\x00"])
def test_bad_payload_length(payload: bytes) -> None:
    with pytest.raises(DtmfError):
        TelephoneEvent.parse_all(payload)


def test_short_payload_raises() -> None:
    with pytest.raises(DtmfError):
        TelephoneEvent.parse(b"\x05\x8a")


def test_digit_mapping() -> None:
    assert "".join(digit_for_event(e) or "?" for e in range(18)) == "0123456789*#ABCD!?"
    assert [event_for_digit(d) for d in "09*#Ad"] == [0, 9, 10, 11, 12, 15]
    for bad in ("!", "E", "16", ""):
        with pytest.raises(ValueError):
            event_for_digit(bad)


def feed(receiver: DtmfReceiver, packets: list[bytes]) -> list[DtmfDigit]:
    out = []
    for data in packets:
        p = RtpPacket.parse(data)
        out += receiver.receive(p.timestamp, p.marker, p.payload)
    return out


def test_sipp_capture_gives_one_digit() -> None:
    receiver = DtmfReceiver()
    digits = feed(receiver, load_hex_lines("sipp_dtmf_2833_5.hex"))
    assert digits == [DtmfDigit("5", 5, 43200, 2240, 280)]
    assert receiver.flush() == []


def packet(ts: int, event: int, duration: int, *, end: bool = False, marker: bool = False) -> bytes:
    payload = TelephoneEvent(event, end, 10, duration).serialize()
    return RtpPacket(marker=marker, payload_type=101, timestamp=ts, payload=payload).serialize()


def test_digit_is_reported_on_the_first_end_packet_only() -> None:
    receiver = DtmfReceiver()
    assert feed(receiver, [packet(1000, 1, 160, marker=True), packet(1000, 1, 320)]) == []
    assert feed(receiver, [packet(1000, 1, 480, end=True)]) == [DtmfDigit("1", 1, 1000, 480, 60)]
    # The two redundant end packets and a late retransmitted start change nothing.
    late = [packet(1000, 1, 480, end=True), packet(1000, 1, 480, end=True),
            packet(1000, 1, 160, marker=True)]
    assert feed(receiver, late) == []


def test_lost_first_end_packet() -> None:
    receiver = DtmfReceiver()
    feed(receiver, [packet(50, 3, 160, marker=True)])
    assert feed(receiver, [packet(50, 3, 800, end=True)]) == [DtmfDigit("3", 3, 50, 800, 100)]


def test_all_end_packets_lost_next_event_flushes_it() -> None:
    receiver = DtmfReceiver()
    assert feed(receiver, [packet(0, 7, 160, marker=True), packet(0, 7, 320)]) == []
    assert feed(receiver, [packet(4000, 8, 160, marker=True)]) == [DtmfDigit("7", 7, 0, 320, 40)]
    assert receiver.flush() == [DtmfDigit("8", 8, 4000, 160, 20)]
    assert receiver.flush() == []


def test_same_digit_twice_is_two_presses() -> None:
    receiver = DtmfReceiver()
    first = [packet(0, 9, 160, marker=True), packet(0, 9, 400, end=True)]
    second = [packet(2000, 9, 160, marker=True), packet(2000, 9, 400, end=True)]
    assert [d.timestamp for d in feed(receiver, first + first[1:] + second)] == [0, 2000]


def test_same_digit_twice_without_end_packets_is_still_two_presses() -> None:
    receiver = DtmfReceiver()
    digits = feed(receiver, [packet(0, 4, 160, marker=True), packet(2000, 4, 160, marker=True)])
    assert digits == [DtmfDigit("4", 4, 0, 160, 20)]
    assert receiver.flush() == [DtmfDigit("4", 4, 2000, 160, 20)]


def test_long_event_segments_make_one_digit() -> None:
    # RFC 4733 2.5.1.3: past 0xffff ticks the sender starts a segment: new timestamp, no marker.
    receiver = DtmfReceiver()
    assert feed(receiver, [packet(0, 0, 0xFFFF, marker=True), packet(0, 0, 0xFFFF)]) == []
    assert feed(receiver, [packet(0xFFFF, 0, 800, end=True)]) == [
        DtmfDigit("0", 0, 0, 0xFFFF + 800, (0xFFFF + 800) * 1000 // 8000),
    ]


def test_flash_is_received_and_other_events_are_ignored() -> None:
    receiver = DtmfReceiver()
    assert feed(receiver, [packet(0, 32, 800, end=True, marker=True)]) == []  # a modem tone
    assert feed(receiver, [packet(80, 16, 800, end=True, marker=True)])[0].digit == "!"


def test_events_for_digit_exact_packets() -> None:
    packets = events_for_digit("5", start_ts=1000, start_seq=65534, ssrc=0x1234, pt=101)
    offsets = [offset for offset, _ in packets]
    assert offsets == pytest.approx([0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.12])
    assert packets[0][1] == bytes.fromhex("80e5fffe000003e800001234" "050a00a0")
    assert packets[1][1] == bytes.fromhex("8065ffff000003e800001234" "050a0140")
    assert packets[3][1] == bytes.fromhex("80650001000003e800001234" "050a0280")
    ends = [bytes.fromhex(f"8065000{i}000003e800001234058a0320") for i in (2, 3, 4)]
    assert [data for _, data in packets[4:]] == ends


def test_events_for_digit_round_trip_through_the_receiver() -> None:
    for digit in "0123456789*#ABCD":
        packets = events_for_digit(digit, 160, 1, 2, 96, duration_ms=250, ptime=30)
        assert len(packets) == 9 + 2
        digits = feed(DtmfReceiver(), [data for _, data in packets])
        assert digits == [DtmfDigit(digit, "0123456789*#ABCD".index(digit), 160, 2000, 250)]


def test_events_for_digit_never_sends_flash() -> None:
    with pytest.raises(ValueError):
        events_for_digit("!", 0, 0, 0, 101)


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("application/dtmf-relay", b"Signal=5\r\nDuration=160\r\n", DtmfInfo("5", 160)),
        ("application/dtmf-relay", b"Signal= *\nDuration= 250", DtmfInfo("*", 250)),
        ("Application/DTMF-Relay; charset=utf-8", "signal=#\r\n", DtmfInfo("#")),
        ("application/dtmf-relay", b"Signal=10\r\nDuration=100\r\n", DtmfInfo("*", 100)),
        ("application/dtmf-relay", b"Signal=11\r\n", DtmfInfo("#")),
        ("application/dtmf-relay", b"Signal=16\r\nDuration=x\r\n", DtmfInfo("!")),
        ("application/dtmf-relay", b"Signal=d\r\n", DtmfInfo("D")),
        ("application/dtmf", b"7", DtmfInfo("7")),
        ("application/dtmf", b"#\r\n", DtmfInfo("#")),
        ("application/dtmf", b"11", DtmfInfo("#")),
    ],
)
def test_info_bodies(content_type: str, body: bytes | str, expected: DtmfInfo) -> None:
    assert parse_dtmf_info(content_type, body) == expected
    assert parse_info(content_type, body) == expected.digit


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("application/dtmf-relay", b"Duration=160\r\n", 400),
        ("application/dtmf-relay", b"Signal=X\r\n", 400),
        ("application/dtmf-relay", b"Signal=99\r\n", 400),
        ("application/dtmf-relay", b"Signal=" + b"9" * 5000, 400),
        ("application/dtmf", b"", 400),
        ("text/plain", b"Signal=5", 415),
    ],
)
def test_bad_info_bodies(content_type: str, body: bytes, status: int) -> None:
    with pytest.raises(DtmfError) as caught:
        parse_dtmf_info(content_type, body)
    assert caught.value.status == status


def test_parse_info_passes_over_other_info_packages() -> None:
    assert parse_info("application/media_control+xml", b"<x/>") is None
    with pytest.raises(DtmfError):
        parse_info("application/dtmf-relay", b"nonsense")


@given(st.lists(st.tuples(st.integers(0, 3), st.booleans(), st.binary(max_size=9)), max_size=20))
def test_receiver_takes_any_stream_without_crashing(stream: list[tuple[int, bool, bytes]]) -> None:
    receiver = DtmfReceiver()
    seen = []
    for ts, marker, payload in stream:
        try:
            seen += receiver.receive(ts * 800, marker, payload)
        except DtmfError:
            continue
    seen += receiver.flush()
    assert len({d.timestamp for d in seen}) == len(seen)  # never one start reported twice


@given(st.text(max_size=60), st.sampled_from(["application/dtmf-relay", "application/dtmf"]))
def test_info_parse_is_total(body: str, content_type: str) -> None:
    try:
        info = parse_dtmf_info(content_type, body)
    except DtmfError as exc:
        assert exc.status == 400
    else:
        assert info.digit in "0123456789*#ABCD!"
