"""Sans-IO RTP: packets and RTCP (RFC 3550), G.711 tables, RFC 4733 telephone-events, test tones."""

from __future__ import annotations

from telephony.rtp.dtmf import (
    DtmfDigit,
    DtmfError,
    DtmfInfo,
    DtmfReceiver,
    TelephoneEvent,
    events_for_digit,
    parse_dtmf_info,
    parse_info,
)
from telephony.rtp.g711 import decode, encode
from telephony.rtp.packet import (
    RtpError,
    RtpPacket,
    is_rtcp,
    is_rtp_or_rtcp,
    peek_payload_type,
    peek_seq_ts_ssrc,
    replace_seq_ts_ssrc,
)
from telephony.rtp.rtcp import (
    Bye,
    ReceiverReport,
    ReceptionStats,
    ReportBlock,
    RtcpPacket,
    RtcpUnknown,
    SdesChunk,
    SenderReport,
    SourceDescription,
    parse_rtcp,
    serialize_rtcp,
)
from telephony.rtp.tone import dual_tone, frames, tone, tone_power_db

__all__ = [
    "Bye",
    "DtmfDigit",
    "DtmfError",
    "DtmfInfo",
    "DtmfReceiver",
    "ReceiverReport",
    "ReceptionStats",
    "ReportBlock",
    "RtcpPacket",
    "RtcpUnknown",
    "RtpError",
    "RtpPacket",
    "SdesChunk",
    "SenderReport",
    "SourceDescription",
    "TelephoneEvent",
    "decode",
    "dual_tone",
    "encode",
    "events_for_digit",
    "frames",
    "is_rtcp",
    "is_rtp_or_rtcp",
    "parse_dtmf_info",
    "parse_info",
    "parse_rtcp",
    "peek_payload_type",
    "peek_seq_ts_ssrc",
    "replace_seq_ts_ssrc",
    "serialize_rtcp",
    "tone",
    "tone_power_db",
]
