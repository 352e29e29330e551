"""RTP packets: byte fixtures, round trips, malformed input, the hot-path peeks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telephony.rtp.packet import (
    RtpError,
    RtpPacket,
    is_rtcp,
    is_rtp_or_rtcp,
    peek_payload_type,
    peek_seq_ts_ssrc,
    replace_seq_ts_ssrc,
)
from tests.unit.rtp.hexfixtures import load_hex

PCMU = load_hex("pcmu_marker.hex")
EVERYTHING = load_hex("pcma_csrc_ext_padding.hex")


def test_parse_pcmu_with_marker() -> None:
    p = RtpPacket.parse(PCMU)
    assert (p.version, p.padding, p.extension, p.marker) == (2, 0, None, True)
    assert (p.payload_type, p.sequence_number, p.timestamp, p.ssrc) == (0, 0x1234, 160, 0xDEADBEEF)
    assert p.csrc == []
    assert p.payload == b"\xff" * 160
    assert p.serialize() == PCMU


def test_parse_csrc_extension_and_padding() -> None:
    p = RtpPacket.parse(EVERYTHING)
    assert (p.marker, p.payload_type, p.sequence_number, p.timestamp, p.ssrc) == (
        False, 8, 0xFFFF, 0xFFFFFFFF, 1,
    )
    assert p.csrc == [0x11111111, 0x22222222]
    assert (p.extension_profile, p.extension) == (0xBEDE, bytes.fromhex("10ab0000"))
    assert p.padding == 3
    assert p.payload == bytes.fromhex("d5d5d5d5")
    assert p.serialize() == EVERYTHING


def test_serialize_hand_computed_bytes() -> None:
    p = RtpPacket(marker=True, payload_type=101, sequence_number=1, timestamp=2, ssrc=3,
                  payload=bytes.fromhex("050a00a0"))
    assert p.serialize() == bytes.fromhex("80e50001" "00000002" "00000003" "050a00a0")


def test_empty_payload_is_valid() -> None:
    p = RtpPacket.parse(bytes.fromhex("8000000100000002 00000003"))
    assert p.payload == b"" and p.sequence_number == 1


@pytest.mark.parametrize(
    ("hexdata", "message"),
    [
        ("", "too short"),
        ("8000000100000002000000", "too short"),
        ("4000000100000002 00000003", "version 1"),
        ("c000000100000002 00000003", "version 3"),
        ("8f00000100000002 00000003 11111111", "CSRC"),
        ("9000000100000002 00000003 bede", "extension is truncated"),
        ("9000000100000002 00000003 bede0002 00000000", "extension runs past"),
        ("a000000100000002 00000003 d5d5 00", "padding length 0"),
        ("a000000100000002 00000003 d5d5 05", "padding length 5"),
    ],
)
def test_malformed_packets_raise_rtp_error(hexdata: str, message: str) -> None:
    with pytest.raises(RtpError, match=message):
        RtpPacket.parse(bytes.fromhex(hexdata))


def test_rtp_error_is_a_value_error() -> None:
    assert issubclass(RtpError, ValueError)


def test_padding_may_cover_the_whole_payload() -> None:
    p = RtpPacket.parse(bytes.fromhex("a000000100000002 00000003 00000004"))
    assert (p.payload, p.padding) == (b"", 4)


@pytest.mark.parametrize(
    "packet",
    [
        RtpPacket(payload_type=128),
        RtpPacket(sequence_number=65536),
        RtpPacket(timestamp=-1),
        RtpPacket(csrc=list(range(16))),
        RtpPacket(extension=b"abc"),
    ],
)
def test_serialize_rejects_out_of_range_fields(packet: RtpPacket) -> None:
    with pytest.raises(ValueError):
        packet.serialize()


packets = st.builds(
    RtpPacket,
    padding=st.integers(0, 255),
    extension=st.none() | st.binary(max_size=16).map(lambda b: b + bytes(-len(b) % 4)),
    marker=st.booleans(),
    payload_type=st.integers(0, 127),
    sequence_number=st.integers(0, 0xFFFF),
    timestamp=st.integers(0, 0xFFFFFFFF),
    ssrc=st.integers(0, 0xFFFFFFFF),
    csrc=st.lists(st.integers(0, 0xFFFFFFFF), max_size=15),
    extension_profile=st.integers(0, 0xFFFF),
    payload=st.binary(max_size=200),
)


@given(packets)
def test_round_trip(packet: RtpPacket) -> None:
    if packet.extension is None:
        packet.extension_profile = 0  # not on the wire without the X bit
    assert RtpPacket.parse(packet.serialize()) == packet


@given(st.binary(max_size=64))
def test_garbage_raises_only_rtp_error(data: bytes) -> None:
    try:
        packet = RtpPacket.parse(data)
    except RtpError:
        return
    assert RtpPacket.parse(packet.serialize()) == packet


def test_peeks_read_the_fixed_header() -> None:
    assert peek_payload_type(PCMU) == 0
    assert peek_payload_type(EVERYTHING) == 8
    assert peek_seq_ts_ssrc(PCMU) == (0x1234, 160, 0xDEADBEEF)
    assert peek_seq_ts_ssrc(EVERYTHING) == (0xFFFF, 0xFFFFFFFF, 1)


@pytest.mark.parametrize("data", [b"", b"\x80\x00", bytes(11)])
def test_peeks_on_short_data_raise_rtp_error(data: bytes) -> None:
    with pytest.raises(RtpError):
        peek_payload_type(data)
    with pytest.raises(RtpError):
        peek_seq_ts_ssrc(data)


def test_demux_rtp_and_rtcp_per_rfc_5761() -> None:
    rtcp_rr = bytes.fromhex("80c90001cafebabe")
    assert is_rtp_or_rtcp(PCMU) and is_rtp_or_rtcp(rtcp_rr)
    assert not is_rtp_or_rtcp(b"\x00\x01\x00\x00" + bytes(16))  # a STUN binding request
    assert not is_rtp_or_rtcp(b"\x80\x00")
    assert is_rtcp(rtcp_rr)
    assert is_rtcp(bytes.fromhex("81c8"))  # SR
    assert is_rtcp(bytes.fromhex("80df"))  # 223: top of the RTCP range
    assert not is_rtcp(PCMU)  # PT 0 with the marker set (0x80)
    assert not is_rtcp(bytes.fromhex("80e5"))  # telephone-event 101 with the marker
    assert not is_rtcp(bytes.fromhex("80e0"))  # PT 96 with the marker: 96 is outside 64-95


def test_replace_seq_ts_ssrc_rewrites_only_those_fields() -> None:
    out = replace_seq_ts_ssrc(EVERYTHING, 7, 8, 9)
    assert peek_seq_ts_ssrc(out) == (7, 8, 9)
    assert out[:2] == EVERYTHING[:2] and out[12:] == EVERYTHING[12:]
    with pytest.raises(RtpError):
        replace_seq_ts_ssrc(b"\x80", 1, 2, 3)
