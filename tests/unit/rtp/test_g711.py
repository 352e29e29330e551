"""G.711 tables: bit-exact with the stdlib ``audioop`` over every input value."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from telephony.rtp import g711
from telephony.rtp.packet import RtpError

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

ALL_PCM = np.arange(-32768, 32768, dtype=np.int16)
ALL_CODES = bytes(range(256))


def test_ulaw_encode_matches_audioop_for_every_sample() -> None:
    assert g711.ulaw_encode(ALL_PCM) == audioop.lin2ulaw(ALL_PCM.astype("<i2").tobytes(), 2)


def test_alaw_encode_matches_audioop_for_every_sample() -> None:
    assert g711.alaw_encode(ALL_PCM) == audioop.lin2alaw(ALL_PCM.astype("<i2").tobytes(), 2)


def test_ulaw_decode_matches_audioop_for_every_code() -> None:
    assert g711.ulaw_decode(ALL_CODES).astype("<i2").tobytes() == audioop.ulaw2lin(ALL_CODES, 2)


def test_alaw_decode_matches_audioop_for_every_code() -> None:
    assert g711.alaw_decode(ALL_CODES).astype("<i2").tobytes() == audioop.alaw2lin(ALL_CODES, 2)


def test_known_values() -> None:
    # Silence is 0xff in mu-law and 0xd5 in A-law; the loudest codes decode to +-32124 / +-32256.
    assert g711.encode(np.zeros(3, np.int16), "PCMU") == b"\xff\xff\xff"
    assert g711.encode(np.zeros(3, np.int16), "PCMA") == b"\xd5\xd5\xd5"
    assert g711.decode(b"\x00\x80\xff\x7f", "pcmu").tolist() == [-32124, 32124, 0, 0]
    assert g711.decode(b"\x2a\xaa\xd5\x55", "pcma").tolist() == [-32256, 32256, 8, -8]


def test_decode_returns_int16_and_encode_accepts_bytes() -> None:
    pcm = g711.decode(b"\x10\x20", "PCMU")
    assert pcm.dtype == np.int16
    assert g711.encode(pcm.astype("<i2").tobytes(), "PCMU") == b"\x10\x20"


def test_every_code_survives_decode_then_encode() -> None:
    assert g711.encode(g711.decode(ALL_CODES, "PCMA"), "PCMA") == ALL_CODES
    # mu-law has two zeros: 0x7f ("negative zero") comes back as 0xff.
    expected = ALL_CODES[:0x7F] + b"\xff" + ALL_CODES[0x80:]
    assert g711.encode(g711.decode(ALL_CODES, "PCMU"), "PCMU") == expected


def test_unknown_codec_raises() -> None:
    with pytest.raises(RtpError, match="G722"):
        g711.decode(b"\x00", "G722")
    with pytest.raises(RtpError, match="opus"):
        g711.encode(np.zeros(1, np.int16), "opus")


def test_tables_are_read_only() -> None:
    with pytest.raises(ValueError):
        g711.ULAW_DECODE[0] = 1
