"""Per-packet rewriting between two legs that negotiated different numbers or laws.

Payload type numbers are rewritten to what the receiver expects (RFC 3264 lets each side pick
its own dynamic PTs), and a μ-law leg and an A-law leg are joined by converting the payload with
one 256-byte table (bytes.translate), so callfloor never needs a transcoder.
"""

from __future__ import annotations

from telephony.calls.commands import SetMediaPeer
from telephony.rtp.g711 import ALAW_DECODE, ALAW_ENCODE, ULAW_DECODE, ULAW_ENCODE

__all__ = ["A2U", "U2A", "pt_map", "transcode", "xlat"]

# Direct G.711 law conversion (RFC 3551 §4.5.14): one byte table each way, applied with bytes.translate.
U2A = bytes(ALAW_ENCODE[ULAW_DECODE.view("uint16")].tobytes())
A2U = bytes(ULAW_ENCODE[ALAW_DECODE.view("uint16")].tobytes())


def pt_map(sender: SetMediaPeer, receiver: SetMediaPeer) -> dict[int, int]:
    """PT rewrites for packets from ``sender`` to ``receiver`` (empty when the numbers agree)."""
    mapping: dict[int, int] = {}
    if sender.audio_pt != receiver.audio_pt:
        mapping[sender.audio_pt] = receiver.audio_pt
    if sender.event_pt is not None and receiver.event_pt is not None and sender.event_pt != receiver.event_pt:
        mapping[sender.event_pt] = receiver.event_pt
    return mapping


def xlat(sender: SetMediaPeer, receiver: SetMediaPeer) -> tuple[bytes | None, int]:
    """The law conversion for packets from ``sender`` to ``receiver``, keyed on the sender's PT."""
    pair = (sender.codec.upper(), receiver.codec.upper())
    table = {("PCMU", "PCMA"): U2A, ("PCMA", "PCMU"): A2U}.get(pair)
    return table, sender.audio_pt if table is not None else -1


def transcode(data: bytes, table: bytes) -> bytes:
    """Convert an RTP packet's G.711 payload (header, CSRCs and extension kept as they are)."""
    offset = 12 + 4 * (data[0] & 0x0F)
    if data[0] & 0x10 and len(data) >= offset + 4:
        offset += 4 + 4 * int.from_bytes(data[offset + 2 : offset + 4], "big")
    return data[:offset] + data[offset:].translate(table)
