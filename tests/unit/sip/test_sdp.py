"""SDP parsing/serialization (RFC 4566) and offer/answer (RFC 3264) against real clients' bodies."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telephony.sip.errors import LocalProtocolError, ParseError, SipError
from telephony.sip.sdp import (
    G711,
    TELEPHONE_EVENT,
    Codec,
    Direction,
    Media,
    NegotiatedMedia,
    Origin,
    SdpError,
    SdpSession,
    SessionDescription,
    parse_answer,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sdp"
CRLF_FIXTURES = sorted(p.name for p in FIXTURES.glob("*.sdp") if p.name != "quirks_lf.sdp")
SENDRECV, RECVONLY, SENDONLY, INACTIVE = (
    Direction.SENDRECV, Direction.RECVONLY, Direction.SENDONLY, Direction.INACTIVE,
)
PCMU, PCMA = G711


def load(name: str) -> SessionDescription:
    return SessionDescription.parse((FIXTURES / name).read_bytes())


def sdp(*lines: str) -> SessionDescription:
    return SessionDescription.parse("\r\n".join(lines) + "\r\n")


def offer_with(*media_lines: str, connection: str = "c=IN IP4 192.0.2.9") -> SessionDescription:
    return sdp("v=0", "o=- 1 1 IN IP4 192.0.2.9", "s=-", connection, "t=0 0", *media_lines)


# -- parsing and serializing -------------------------------------------------------------------


@pytest.mark.parametrize("name", CRLF_FIXTURES)
def test_fixtures_round_trip_byte_for_byte(name: str) -> None:
    raw = (FIXTURES / name).read_bytes()
    assert SessionDescription.parse(raw).to_bytes() == raw


def test_parse_baresip() -> None:
    d = load("baresip_offer.sdp")
    assert d.origin == Origin("-", "1592340424", 1836183421, "IN", "IP4", "192.168.1.20")
    assert (d.name, d.connection, d.times) == ("-", "192.168.1.20", [(0, 0)])
    assert d.attributes == [("tool", "baresip 1.0.0")]
    (audio,) = d.media
    assert (audio.media, audio.port, audio.proto, audio.formats) == (
        "audio", 10346, "RTP/AVP", ["9", "0", "8", "101"],
    )
    assert audio.codecs == [
        Codec(9, "G722"), PCMU, PCMA, Codec(101, "telephone-event", fmtp="0-15"),
    ]
    assert audio.bandwidth == [("AS", 64)]
    assert (audio.direction, audio.ptime, audio.rtcp_port) == (SENDRECV, 20, 10346)  # rtcp-mux
    assert audio.attribute("ssrc") == "1266123548 cname:4e9e1d71-2d3c-4cbb-a2f1-bd0b0f4e2a39"
    assert audio.attribute("rtcp-mux") == ""
    assert audio.attribute("nope") is None


def test_parse_linphone_audio_and_video() -> None:
    d = load("linphone_offer.sdp")
    audio, video = d.media
    assert [c.rtpmap() for c in audio.codecs] == [
        "opus/48000/2", "speex/16000", "speex/8000", "PCMU/8000", "PCMA/8000", "G729/8000",
        "telephone-event/48000", "telephone-event/16000", "telephone-event/8000",
    ]
    assert audio.codecs[0] == Codec(96, "opus", 48000, 2, "useinbandfec=1")
    assert audio.codecs[5] == Codec(18, "G729", fmtp="annexb=yes")  # static PT with a fmtp
    assert audio.telephone_event == Codec(101, "telephone-event", 48000)
    assert [c.name for c in video.codecs] == ["VP8", "H264"]
    assert (audio.rtcp_port, video.rtcp_port) == (7079, 9079)


def test_parse_ipv6_bandwidth_and_rtcp_attribute() -> None:
    d = load("ipv6_bandwidth.sdp")
    assert (d.origin.addrtype, d.connection) == ("IP6", "2001:db8::10")
    assert d.bandwidth == [("CT", 128)]
    assert d.other == [("i", "An IPv6 trunk call")]
    assert d.media[0].bandwidth == [("AS", 64), ("TIAS", 64000)]
    assert d.media[0].rtcp_port == 49175


def test_parse_tolerates_real_phone_quirks() -> None:
    d = load("quirks_lf.sdp")
    assert (d.name, d.times, d.connection) == ("-", [(0, 0)], None)
    (audio,) = d.media
    assert d.connection_of(audio) == "10.0.0.9"
    assert audio.codecs == [
        Codec(18, "G729"), Codec(0, "pcmu"), Codec(101, "TELEPHONE-EVENT", fmtp="0-15"),
    ]
    assert audio.telephone_event is not None and audio.telephone_event.pt == 101
    assert (audio.direction, audio.ptime) == (SENDRECV, 20)
    assert audio.attributes[-1] == ("x-unknown-attribute", "keep me")
    assert d.to_bytes() == (
        b"v=0\r\no=- 42 42 IN IP4 10.0.0.9\r\ns=-\r\nt=0 0\r\nm=audio 5004 RTP/AVP 18 0 101\r\n"
        b"c=IN IP4 10.0.0.9\r\na=sendrecv\r\na=rtpmap:101 TELEPHONE-EVENT/8000\r\n"
        b"a=rtpmap:0 pcmu/8000\r\na=fmtp:101 0-15\r\na=ptime:20.0\r\n"
        b"a=x-unknown-attribute:keep me\r\n"
    )


def test_parse_keeps_other_lines_and_port_counts() -> None:
    d = sdp(
        "v=0", "o=jdoe 2890844526 2890842807 IN IP4 10.47.16.5", "s=SDP Seminar",
        "i=A Seminar", "u=http://www.example.com/seminars/sdp.pdf", "e=j.doe@example.com",
        "c=IN IP4 224.2.17.12/127", "t=2873397496 2873404696", "r=7d 1h 0 25h", "a=recvonly",
        "m=audio 49170 RTP/AVP 0", "i=the audio", "k=prompt", "m=video 51372/2 RTP/AVP 99",
        "a=rtpmap:99 h263-1998/90000",
    )
    assert d.connection == "224.2.17.12/127"
    assert d.times == [(2873397496, 2873404696)]
    assert d.other[:3] == [
        ("i", "A Seminar"), ("u", "http://www.example.com/seminars/sdp.pdf"),
        ("e", "j.doe@example.com"),
    ]
    assert d.media[0].other == [("i", "the audio"), ("k", "prompt")]
    assert (d.media[1].port, d.media[1].port_count) == (51372, 2)
    assert d.direction_of(d.media[0]) == RECVONLY  # session-level a=recvonly
    assert SessionDescription.parse(d.to_bytes()) == d


def test_latin1_bytes_do_not_sink_the_body() -> None:
    d = SessionDescription.parse(b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=Caf\xe9\r\n")
    assert d.name == "Caf\xe9"


def test_bad_rtpmap_skips_only_that_format() -> None:
    d = offer_with("m=audio 4000 RTP/AVP 96 0 " + "9" * 5000 + " 128 x", "a=rtpmap:96 opus/fast")
    assert d.media[0].codecs == [PCMU]


@pytest.mark.parametrize("value", ["inf", "nan", "-20", "0", "201", "abc", "1e999"])
def test_insane_ptime_reads_as_absent(value: str) -> None:
    assert offer_with("m=audio 4000 RTP/AVP 0", f"a=ptime:{value}").media[0].ptime is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("o=- 1 1 IN IP4 1.2.3.4\r\n", "no v= line"),
        ("v=0\r\ns=-\r\n", "no o= line"),
        ("v=1\r\no=- 1 1 IN IP4 1.2.3.4\r\n", "line 1: SDP version '1'"),
        ("v=0\r\no=- 1 IN IP4 1.2.3.4\r\n", "line 2: SDP o= line"),
        ("v=0\r\no=- 1 x IN IP4 1.2.3.4\r\n", "o= version 'x'"),
        ("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nthis is not sdp\r\n", "line 3 is not <type>=<value>"),
        ("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nc=IN IP4\r\n", "line 3: SDP c= line"),
        ("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio\r\n", "needs media, port and proto"),
        ("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio x RTP/AVP 0\r\n", "m= port 'x'"),
        ("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 70000 RTP/AVP 0\r\n", "out of range"),
        ("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nb=AS:lots\r\n", "bandwidth"),
        ("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nt=now 0\r\n", "t= start"),
    ],
)
def test_malformed_sdp_is_a_400(body: str, message: str) -> None:
    with pytest.raises(SdpError, match=message) as caught:
        SessionDescription.parse(body)
    assert caught.value.status == 400


def test_sdp_error_is_in_the_sip_error_tree() -> None:
    assert issubclass(SdpError, ParseError) and issubclass(SdpError, SipError)


SDP_WORDS = st.sampled_from(
    ["IN", "IP4", "IP6", "audio", "video", "RTP/AVP", "0", "8", "101", "65535", "rtpmap", "fmtp",
     "ptime", "rtcp", "sendonly", "inactive", "PCMU/8000", "telephone-event/8000", "0.0.0.0",
     "AS", ":", "/", " ", "\t", "=", "-", "x", "\u00e9"]
)
SDP_LINES = st.lists(
    st.builds("{}={}".format, st.sampled_from(list("vosctbmaikrzx")),
              st.lists(SDP_WORDS, max_size=8).map("".join)),
    max_size=12,
)


@given(SDP_LINES, st.sampled_from(["\r\n", "\n"]), st.text(max_size=20))
def test_generated_lines_parse_or_raise_sdp_error(lines: list[str], end: str, junk: str) -> None:
    check_parse_total(end.join(["v=0", "o=- 1 1 IN IP4 1.2.3.4", *lines, junk]))


@given(st.text(max_size=300))
def test_any_text_parses_or_raises_sdp_error(text: str) -> None:
    check_parse_total("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\n" + text)


def check_parse_total(text: str) -> None:
    try:
        d = SessionDescription.parse(text)
    except SdpError:
        return
    for m in d.media:
        m.codecs, m.ptime, d.direction_of(m)  # noqa: B018 -- must not raise either
    # Serializing normalizes once (line order, s=-); after that it is a fixed point.
    assert SessionDescription.parse(d.to_bytes()).to_bytes() == d.to_bytes()


@given(st.binary(max_size=200))
def test_any_bytes_parse_or_raise_sdp_error(data: bytes) -> None:
    with contextlib.suppress(SdpError):
        SessionDescription.parse(data)


# -- directions --------------------------------------------------------------------------------


def test_direction_reverse_and_intersect() -> None:
    all_four = (SENDRECV, SENDONLY, RECVONLY, INACTIVE)
    assert [d.reverse() for d in all_four] == [SENDRECV, RECVONLY, SENDONLY, INACTIVE]
    assert SENDRECV.intersect(SENDONLY) is SENDONLY
    assert SENDONLY.intersect(RECVONLY) is INACTIVE
    assert RECVONLY.intersect(RECVONLY) is RECVONLY
    assert [Direction.from_flags(s, r) for s in (True, False) for r in (True, False)] == [
        SENDRECV, SENDONLY, RECVONLY, INACTIVE,
    ]
    assert Direction("sendonly") is SENDONLY and str(SENDONLY) == "sendonly"


def test_rfc2543_hold_means_send_nothing_to_me() -> None:
    d = load("hold_rfc2543.sdp")
    assert d.direction_of(d.media[0]) == SENDONLY
    d = offer_with("m=audio 4000 RTP/AVP 0", "a=recvonly", connection="c=IN IP4 0.0.0.0")
    assert d.direction_of(d.media[0]) == INACTIVE


# -- offers ------------------------------------------------------------------------------------


def test_offer_exact_bytes() -> None:
    offer = SdpSession("192.0.2.1", 12345).offer(40000, G711)
    assert offer.to_bytes() == (
        b"v=0\r\n"
        b"o=callfloor 12345 0 IN IP4 192.0.2.1\r\n"
        b"s=callfloor\r\n"
        b"c=IN IP4 192.0.2.1\r\n"
        b"t=0 0\r\n"
        b"m=audio 40000 RTP/AVP 0 8 101\r\n"
        b"a=rtpmap:0 PCMU/8000\r\n"
        b"a=rtpmap:8 PCMA/8000\r\n"
        b"a=rtpmap:101 telephone-event/8000\r\n"
        b"a=fmtp:101 0-16\r\n"
        b"a=ptime:20\r\n"
        b"a=sendrecv\r\n"
    )


def test_offer_options() -> None:
    session = SdpSession("2001:db8::1", 9, username="seat7")
    offer = session.offer(5000, [PCMA, TELEPHONE_EVENT], direction=SENDONLY, telephone_event_pt=96,
                          ptime=30)
    assert offer.origin == Origin("seat7", "9", 0, "IN", "IP6", "2001:db8::1")
    (audio,) = offer.media
    assert audio.formats == ["8", "96"]
    assert audio.codecs == [PCMA, Codec(96, "telephone-event", fmtp="0-16")]
    assert (audio.direction, audio.ptime) == (SENDONLY, 30)
    assert b"c=IN IP6 2001:db8::1\r\n" in offer.to_bytes()
    plain = SdpSession("192.0.2.1", 1).offer(5000, [PCMU], telephone_event_pt=None)
    assert plain.media[0].formats == ["0"]


def test_offer_needs_an_audio_codec() -> None:
    with pytest.raises(LocalProtocolError):
        SdpSession("192.0.2.1", 1).offer(5000, [TELEPHONE_EVENT])


def test_version_increments_only_when_content_changes() -> None:
    session = SdpSession("192.0.2.1", 1)
    first = session.offer(4000, G711).to_bytes()
    assert session.offer(4000, G711).to_bytes() == first  # a refresh re-INVITE: same version
    hold = session.offer(4000, G711, direction=SENDONLY)
    assert hold.origin.sess_version == 1 and session.version == 1
    assert session.offer(4000, G711, direction=SENDONLY).origin.sess_version == 1
    assert session.offer(4000, G711).origin.sess_version == 2
    assert session.offer(4002, G711).origin.sess_version == 3
    # A description handed out earlier is not changed by a later bump.
    assert hold.origin.sess_version == 1
    offer = load("pyvoip_offer.sdp")
    answer, _ = session.answer(offer, 4002, G711)
    assert answer.origin.sess_version == 4  # its m-line differs from the last offer
    assert session.answer(offer, 4002, G711)[0].origin.sess_version == 4


# -- answers -----------------------------------------------------------------------------------


def answer(
    name: str, supported: list[Codec] = G711, **kw: Direction
) -> tuple[bytes, NegotiatedMedia]:
    desc, media = SdpSession("192.0.2.1", 5).answer(load(name), 30000, supported, **kw)
    return desc.to_bytes(), media


def test_answer_baresip_exact_bytes() -> None:
    body, media = answer("baresip_offer.sdp")
    assert body == (
        b"v=0\r\no=callfloor 5 0 IN IP4 192.0.2.1\r\ns=callfloor\r\nc=IN IP4 192.0.2.1\r\n"
        b"t=0 0\r\nm=audio 30000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
        b"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n"
    )
    assert media == NegotiatedMedia("192.168.1.20", 10346, PCMU, 101, SENDRECV, 20)


def test_answer_linphone_rejects_video_in_place_and_picks_8k_events() -> None:
    body, media = answer("linphone_offer.sdp")
    d = SessionDescription.parse(body)
    assert [(m.media, m.port) for m in d.media] == [("audio", 30000), ("video", 0)]
    assert d.media[1].formats == ["96", "97"]
    assert d.media[0].formats == ["0", "100"]
    assert media == NegotiatedMedia("192.168.1.30", 7078, PCMU, 100, SENDRECV, 20)


def test_answer_zoiper_skips_opus_and_48k_events() -> None:
    _, media = answer("zoiper_offer.sdp")
    assert (media.codec, media.telephone_event_pt) == (PCMU, 101)


def test_answer_keeps_the_offerers_codec_order_and_pt_numbers() -> None:
    _, media = answer("asterisk_offer.sdp", [PCMU, PCMA])
    assert media.codec == PCMA  # Asterisk listed PCMA first
    d = offer_with("m=audio 4000 RTP/AVP 112 113", "a=rtpmap:112 pcma/8000",
                   "a=rtpmap:113 telephone-event/8000", "a=fmtp:113 0-15")
    desc, media = SdpSession("192.0.2.1", 5).answer(d, 30000, G711)
    assert media.codec == Codec(112, "pcma") and media.telephone_event_pt == 113
    assert desc.media[0].formats == ["112", "113"]
    assert desc.media[0].attributes[:3] == [
        ("rtpmap", "112 pcma/8000"), ("rtpmap", "113 telephone-event/8000"), ("fmtp", "113 0-15"),
    ]


def test_answer_sipp_pcma_only() -> None:
    body, media = answer("sipp_uac_pcap.sdp")
    assert media == NegotiatedMedia("127.0.0.1", 6000, PCMA, 101, SENDRECV, 20)
    assert b"a=fmtp:101 0-11,16\r\n" in body


def test_answer_torture_sdp01() -> None:
    body, media = answer("torture_sdp01.sdp")
    assert (media.codec, media.telephone_event_pt) == (PCMU, None)
    assert b"m=video 0 RTP/AVP 31\r\n" in body


def test_answer_hold_offers() -> None:
    body, media = answer("asterisk_hold.sdp")
    assert media.direction == RECVONLY and b"a=recvonly\r\n" in body
    _, media = answer("hold_rfc2543.sdp")
    assert (media.remote_host, media.direction) == ("0.0.0.0", RECVONLY)
    d = offer_with("m=audio 4000 RTP/AVP 0", "a=inactive")
    assert SdpSession("192.0.2.1", 5).answer(d, 30000, G711)[1].direction == INACTIVE


@pytest.mark.parametrize(
    ("offered", "wish", "expected"),
    [
        ("sendrecv", SENDONLY, SENDONLY),
        ("sendonly", SENDONLY, INACTIVE),
        ("recvonly", SENDONLY, SENDONLY),
        ("recvonly", None, SENDONLY),
        ("sendrecv", INACTIVE, INACTIVE),
        ("sendonly", RECVONLY, RECVONLY),
    ],
)
def test_answer_direction_combines_our_wish(offered: str, wish: Direction | None,
                                            expected: Direction) -> None:
    d = offer_with("m=audio 4000 RTP/AVP 0", f"a={offered}")
    desc, media = SdpSession("192.0.2.1", 5).answer(d, 30000, G711, direction=wish)
    assert media.direction == expected == desc.media[0].direction


def test_answer_uses_offered_ptime() -> None:
    d = offer_with("m=audio 4000 RTP/AVP 8", "a=ptime:30")
    desc, media = SdpSession("192.0.2.1", 5).answer(d, 30000, G711)
    assert media.ptime == 30 and desc.media[0].ptime == 30


def test_answer_takes_the_first_acceptable_audio_stream() -> None:
    d = offer_with("m=audio 4000 RTP/AVP 18", "m=audio 0 RTP/AVP 0", "m=audio 4002 RTP/AVP 0",
                   "m=audio 4004 RTP/AVP 0")
    desc, media = SdpSession("192.0.2.1", 5).answer(d, 30000, G711)
    assert [m.port for m in desc.media] == [0, 0, 30000, 0]
    assert media.remote_port == 4002


def test_answer_media_level_connection_wins() -> None:
    d = offer_with("m=audio 4000 RTP/AVP 0", "c=IN IP4 198.51.100.1")
    assert SdpSession("192.0.2.1", 5).answer(d, 30000, G711)[1].remote_host == "198.51.100.1"


@pytest.mark.parametrize(
    "name_or_lines",
    ["t38_reinvite.sdp", "srtp_only.sdp", ("m=audio 4000 RTP/AVP 18 101",
                                             "a=rtpmap:101 telephone-event/8000"),
     ("m=audio 0 RTP/AVP 0",), ("m=video 4000 RTP/AVP 31",)],
)
def test_nothing_acceptable_is_a_488(name_or_lines: str | tuple[str, ...]) -> None:
    d = load(name_or_lines) if isinstance(name_or_lines, str) else offer_with(*name_or_lines)
    with pytest.raises(SdpError) as caught:
        SdpSession("192.0.2.1", 5).answer(d, 30000, G711)
    assert caught.value.status == 488


def test_offer_without_connection_is_a_400() -> None:
    d = sdp("v=0", "o=- 1 1 IN IP4 192.0.2.9", "s=-", "t=0 0", "m=audio 4000 RTP/AVP 0")
    with pytest.raises(SdpError, match="no c=") as caught:
        SdpSession("192.0.2.1", 5).answer(d, 30000, G711)
    assert caught.value.status == 400


# -- the offerer's side ------------------------------------------------------------------------


def test_offer_answer_between_two_sessions_mirror_each_other() -> None:
    alice, bob = SdpSession("192.0.2.1", 1), SdpSession("192.0.2.2", 2)
    offer = alice.offer(4000, G711, direction=SENDONLY)
    answer_sdp, bob_media = bob.answer(SessionDescription.parse(offer.to_bytes()), 6000, [PCMA])
    alice_media = parse_answer(offer, SessionDescription.parse(answer_sdp.to_bytes()))
    assert alice_media == NegotiatedMedia("192.0.2.2", 6000, PCMA, 101, SENDONLY, 20)
    assert bob_media == NegotiatedMedia("192.0.2.1", 4000, PCMA, 101, RECVONLY, 20)


def our_offer() -> SessionDescription:
    return SdpSession("192.0.2.1", 1).offer(4000, G711)


def their_answer(*media_lines: str, connection: str = "c=IN IP4 203.0.113.5") -> SessionDescription:
    return sdp("v=0", "o=- 7 7 IN IP4 203.0.113.5", "s=-", connection, "t=0 0", *media_lines)


def test_parse_answer_typical() -> None:
    a = their_answer("m=audio 20000 RTP/AVP 0 101", "a=rtpmap:101 telephone-event/8000",
                     "a=ptime:20", "a=sendrecv")
    expected = NegotiatedMedia("203.0.113.5", 20000, PCMU, 101, SENDRECV, 20)
    assert parse_answer(our_offer(), a) == expected


def test_parse_answer_uses_the_answerers_pt_numbers() -> None:
    a = their_answer("m=audio 20000 RTP/AVP 8 96", "a=rtpmap:96 telephone-event/8000")
    media = parse_answer(our_offer(), a)
    assert (media.codec, media.telephone_event_pt) == (PCMA, 96)


@pytest.mark.parametrize(
    ("line", "connection", "expected"),
    [
        ("a=sendonly", "c=IN IP4 203.0.113.5", RECVONLY),
        ("a=recvonly", "c=IN IP4 203.0.113.5", SENDONLY),
        ("a=inactive", "c=IN IP4 203.0.113.5", INACTIVE),
        ("a=sendrecv", "c=IN IP4 0.0.0.0", RECVONLY),
    ],
)
def test_parse_answer_direction(line: str, connection: str, expected: Direction) -> None:
    a = their_answer("m=audio 20000 RTP/AVP 0", line, connection=connection)
    media = parse_answer(our_offer(), a)
    assert (media.direction, media.telephone_event_pt) == (expected, None)


def test_parse_answer_respects_our_hold() -> None:
    offer = SdpSession("192.0.2.1", 1).offer(4000, G711, direction=SENDONLY)
    a = their_answer("m=audio 20000 RTP/AVP 0", "a=sendrecv")  # answerer ignored our hold
    assert parse_answer(offer, a).direction == SENDONLY


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (("m=audio 20000 RTP/AVP 18",), "no audio codec that was offered"),
        (("m=audio 20000 RTP/AVP 0", "m=video 0 RTP/AVP 31"), "2 m-lines for 1"),
        ((), "0 m-lines for 1"),
        (("m=audio 0 RTP/AVP 0",), "rejected every audio stream"),
        (("m=video 20000 RTP/AVP 31",), "answer put 'video' where 'audio'"),
    ],
)
def test_parse_answer_inconsistent_is_a_488(lines: tuple[str, ...], message: str) -> None:
    with pytest.raises(SdpError, match=message) as caught:
        parse_answer(our_offer(), their_answer(*lines))
    assert caught.value.status == 488


def test_parse_answer_without_connection_is_a_400() -> None:
    a = sdp("v=0", "o=- 7 7 IN IP4 203.0.113.5", "s=-", "t=0 0", "m=audio 20000 RTP/AVP 0")
    with pytest.raises(SdpError) as caught:
        parse_answer(our_offer(), a)
    assert caught.value.status == 400


def test_media_dataclass_is_plain_data() -> None:
    m = Media("audio", 4000, "RTP/AVP", ["0"])
    assert (m.connection, m.attributes, m.codecs) == (None, [], [PCMU])
    assert (m.direction, m.ptime, m.rtcp_port) == (SENDRECV, None, 4001)


def test_parse_answer_event_must_be_offered_and_share_the_audio_clock() -> None:
    a = their_answer("m=audio 20000 RTP/AVP 0 97 101", "a=rtpmap:97 telephone-event/48000",
                     "a=rtpmap:101 telephone-event/8000")
    assert parse_answer(our_offer(), a).telephone_event_pt == 101
    plain = SdpSession("192.0.2.1", 1).offer(4000, G711, telephone_event_pt=None)
    assert parse_answer(plain, a).telephone_event_pt is None


def test_ipv6_unspecified_address_is_a_hold_too() -> None:
    d = sdp("v=0", "o=- 1 1 IN IP6 ::1", "s=-", "c=IN IP6 ::", "t=0 0", "m=audio 4000 RTP/AVP 0")
    assert d.direction_of(d.media[0]) == SENDONLY
