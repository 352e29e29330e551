"""RTCP compound packets and the RFC 3550 appendix A receiver statistics."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telephony.rtp.packet import RtpError
from telephony.rtp.rtcp import (
    Bye,
    ReceiverReport,
    ReceptionStats,
    ReportBlock,
    RtcpUnknown,
    SdesChunk,
    SenderReport,
    SourceDescription,
    ntp_timestamp,
    parse_rtcp,
    serialize_rtcp,
)
from tests.unit.rtp.hexfixtures import load_hex

COMPOUND = load_hex("rtcp_sr_sdes_bye.hex")


def test_parse_compound_sr_sdes_bye() -> None:
    sr, sdes, bye = parse_rtcp(COMPOUND)
    assert sr == SenderReport(
        ssrc=0xDEADBEEF,
        ntp_timestamp=0xE8F0A1B2_80000000,
        rtp_timestamp=8000,
        packet_count=50,
        octet_count=8000,
        reports=[ReportBlock(0x01020304, 0x40, 5, 0x00010064, 33, 0xA1B28000, 0x8000)],
    )
    assert isinstance(sdes, SourceDescription)
    assert sdes.chunks == [SdesChunk(0xDEADBEEF, [(1, b"callfloor@lab")])]
    assert sdes.chunks[0].cname == "callfloor@lab"
    assert bye == Bye([0xDEADBEEF], "hangup")


def test_compound_round_trip_is_byte_exact() -> None:
    assert serialize_rtcp(parse_rtcp(COMPOUND)) == COMPOUND


def test_padded_rr_parses_and_reserializes_without_padding() -> None:
    (rr,) = parse_rtcp(load_hex("rtcp_rr_padded.hex"))
    assert rr == ReceiverReport(0xCAFEBABE, [])
    assert rr.serialize() == bytes.fromhex("80c90001cafebabe")


def test_negative_cumulative_loss_is_24_bit_twos_complement() -> None:
    block = ReportBlock(1, 0, -1, 2, 3)
    assert block.serialize()[4:8] == bytes.fromhex("00ffffff")
    (rr,) = parse_rtcp(ReceiverReport(9, [block]).serialize())
    assert isinstance(rr, ReceiverReport) and rr.reports == [block]


def test_sdes_chunk_padding_when_not_aligned() -> None:
    sdes = SourceDescription([SdesChunk(1, [(1, b"ab")]), SdesChunk(2, [(1, b"x"), (6, b"y")])])
    data = sdes.serialize()
    assert data == bytes.fromhex(
        "82ca0006" "00000001 0102 6162 00000000" "00000002 0101 78 0601 79 0000"
    )
    assert parse_rtcp(data) == [sdes]


def test_bye_without_reason_and_unknown_types_are_kept() -> None:
    app = RtcpUnknown(204, 1, bytes.fromhex("00000001") + b"NAME" + b"data")
    packets = [ReceiverReport(5), Bye([5, 6]), app]
    data = serialize_rtcp(packets)
    assert data[8:20] == bytes.fromhex("82cb0002 00000005 00000006")
    assert parse_rtcp(data) == packets


@pytest.mark.parametrize(
    ("hexdata", "message"),
    [
        ("80c9", "too short"),
        ("40c90001cafebabe", "version 1"),
        ("80c90002cafebabe", "runs past"),
        ("80c90001cafebabe00", "trailing"),
        ("81c90001cafebabe", "report blocks"),
        ("80c80001cafebabe", "sender info"),
        ("80c90000", "shorter than its SSRC"),
        ("a0c9000100000000", "padding"),
        ("81ca000100000001", "not terminated"),
        ("81ca0002000000010105 6162", "item is truncated"),
        ("82cb0001cafebabe", "BYE source list"),
        ("81cb0002cafebabe09616200", "reason is truncated"),
    ],
)
def test_malformed_rtcp_raises_rtp_error(hexdata: str, message: str) -> None:
    with pytest.raises(RtpError, match=message):
        parse_rtcp(bytes.fromhex(hexdata))


@given(st.binary(max_size=96))
def test_garbage_raises_only_rtp_error(data: bytes) -> None:
    with contextlib.suppress(RtpError):
        parse_rtcp(data)


def test_ntp_timestamp() -> None:
    assert ntp_timestamp(0.0) == 2_208_988_800 << 32
    assert ntp_timestamp(1.5) == ((2_208_988_801 << 32) | 0x80000000)


def feed(stats: ReceptionStats, seqs: list[int], spacing: int = 160) -> None:
    for seq in seqs:
        stats.update(seq, seq * spacing, seq * spacing + 1000)


def test_loss_counts_and_fraction() -> None:
    stats = ReceptionStats()
    feed(stats, [0, 1, 2, 4, 5, 6, 8, 9])
    assert (stats.expected, stats.received, stats.lost) == (10, 8, 2)
    assert stats.loss_ratio == pytest.approx(0.2)
    block = stats.report_block(0xABCD)
    assert (block.ssrc, block.fraction_lost, block.packets_lost, block.highest_sequence) == (
        0xABCD, 51, 2, 9,
    )
    # The next interval has no loss: fraction resets, the cumulative count does not.
    feed(stats, [10, 11])
    block = stats.report_block(0xABCD)
    assert (block.fraction_lost, block.packets_lost, block.highest_sequence) == (0, 2, 11)


def test_an_interval_with_nothing_received_reports_fraction_255() -> None:
    stats = ReceptionStats()
    feed(stats, [0])
    stats.report_block(1)
    feed(stats, [20])  # 19 lost, 1 received
    assert stats.report_block(1).fraction_lost == (19 << 8) // 20
    assert ReceptionStats().report_block(1).fraction_lost == 0


def test_sequence_wrap_extends_the_highest_sequence() -> None:
    stats = ReceptionStats()
    for seq in [65533, 65534, 65535, 0, 1]:
        stats.update(seq, 0, 0)
    assert stats.extended_highest_seq == 65536 + 1
    assert (stats.expected, stats.lost) == (5, 0)


def test_duplicates_and_reordering() -> None:
    stats = ReceptionStats()
    for seq in [10, 12, 11, 12]:
        assert stats.update(seq, 0, 0)
    assert stats.extended_highest_seq == 12
    assert (stats.expected, stats.received, stats.lost) == (3, 4, -1)
    assert stats.loss_ratio == 0.0


def test_a_wild_jump_is_ignored_until_confirmed_then_restarts() -> None:
    stats = ReceptionStats()
    feed(stats, [100, 101])
    assert not stats.update(30000, 0, 0)  # one stray packet: set aside
    assert stats.extended_highest_seq == 101
    assert stats.update(30001, 0, 0)  # the next in line confirms a restarted source
    assert (stats.extended_highest_seq, stats.expected, stats.received) == (30001, 1, 1)


def test_jitter_follows_rfc_3550_a8() -> None:
    stats = ReceptionStats()
    stats.update(0, 0, 5000)
    stats.update(1, 160, 5160)  # same transit: no jitter
    assert stats.jitter == 0.0
    stats.update(2, 320, 5480)  # 160 ticks late: J += (160 - 0) / 16
    assert stats.jitter == 10.0
    stats.update(3, 480, 5640)  # transit unchanged from the late one: J += (0 - 10) / 16
    assert stats.jitter == pytest.approx(9.375)
    assert stats.report_block(1).jitter == 9


def test_jitter_survives_timestamp_wrap() -> None:
    stats = ReceptionStats()
    ts = 0xFFFFFFFF - 159
    for i in range(4):
        stats.update(i, (ts + 160 * i) & 0xFFFFFFFF, 160 * i)
    assert stats.jitter == 0.0
