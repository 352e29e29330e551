"""Digest authentication: RFC test vectors, header round trips, the server's nonces and nc replay
protection, the client, and a REGISTER really produced by pyVoIP 1.6.8's own code."""

from __future__ import annotations

import string
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telephony.sip.digest import (
    Algorithm,
    AuthResult,
    Challenge,
    Credentials,
    DigestClient,
    DigestServer,
    choose_challenge,
    compute_response,
    find_credentials,
    parse_challenges,
)
from telephony.sip.errors import LocalProtocolError, ParseError, RemoteProtocolError
from telephony.sip.message import Headers, Request, Response, make_response
from tests.torture import require_torture
from tests.unit.sip.auth_wire import AUTH_FIXTURES, read_request

# RFC 7616 §3.9.1
RFC_REALM = "http-auth@example.org"
RFC_NONCE = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
RFC_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
RFC_OPAQUE = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
RFC_SHA256_AUTHORIZATION = (
    'Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", '
    'algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, '
    'cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, '
    'response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", '
    'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"'
)
NOW = 1_700_000_000.0
SECRET = b"fixture-secret"


def cnonces(*values: str) -> Callable[[], str]:
    """A cnonce factory handing out ``values`` in order (and failing if asked once too often)."""
    it = iter(values)
    return lambda: next(it)


# -- test vectors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        (Algorithm.MD5, "8ca523f5e9506fed4657c9700eebdbec"),
        (Algorithm.SHA256, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_rfc7616_examples(algorithm: Algorithm, expected: str) -> None:
    got = compute_response(
        algorithm, "Mufasa", RFC_REALM, "Circle of Life", "GET", "/dir/index.html", RFC_NONCE,
        qop="auth", nc="00000001", cnonce=RFC_CNONCE,
    )
    assert got == expected


def test_rfc2617_example() -> None:
    got = compute_response(
        Algorithm.MD5, "Mufasa", "testrealm@host.com", "Circle Of Life", "GET", "/dir/index.html",
        "dcd98b7102dd2f0e8b11d0f600bfb0c093", qop="auth", nc="00000001", cnonce="0a4f113b",
    )
    assert got == "6629fae49393a05397450978507c4ef1"


def test_rfc2069_form_without_qop() -> None:
    # H(HA1:nonce:HA2), the form pyVoIP uses.
    got = compute_response(Algorithm.MD5, "u", "r", "p", "REGISTER", "sip:h", "n")
    assert got == "f7949f33797a7abbe390eaa95b1ca294"


def test_auth_int_hashes_the_body() -> None:
    common = (Algorithm.MD5, "u", "r", "p", "INVITE", "sip:h", "n")
    a = compute_response(*common, qop="auth-int", nc="00000001", cnonce="c", body=b"v=0\r\n")
    b = compute_response(*common, qop="auth-int", nc="00000001", cnonce="c", body=b"v=1\r\n")
    assert a == "03e47a98e0e741751e2fb569a87e3721"
    assert a != b


def test_qop_without_nc_is_a_local_error() -> None:
    with pytest.raises(LocalProtocolError):
        compute_response(Algorithm.MD5, "u", "r", "p", "GET", "/", "n", qop="auth")


# -- header parsing and formatting ----------------------------------------------------------


def test_parse_rfc7616_authorization() -> None:
    creds = Credentials.parse(RFC_SHA256_AUTHORIZATION)
    assert creds == Credentials(
        "Mufasa", RFC_REALM, RFC_NONCE, "/dir/index.html",
        "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
        Algorithm.SHA256, "auth", "00000001", RFC_CNONCE, RFC_OPAQUE,
    )
    assert Credentials.parse(creds.to_header()) == creds


def test_credentials_to_header_exact() -> None:
    creds = Credentials("1001", "callfloor", "abc", "sip:pbx", "0" * 32, Algorithm.MD5,
                        "auth", "0000000a", "xyz", None)
    assert creds.to_header() == (
        'Digest username="1001", realm="callfloor", nonce="abc", uri="sip:pbx", '
        'response="00000000000000000000000000000000", algorithm=MD5, cnonce="xyz", '
        "qop=auth, nc=0000000a"
    )


def test_parse_rfc7616_challenge() -> None:
    value = (
        'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256,\r\n'
        f' nonce="{RFC_NONCE}", opaque="{RFC_OPAQUE}"'
    )
    ch = Challenge.parse(value)
    assert ch == Challenge(RFC_REALM, RFC_NONCE, Algorithm.SHA256, ("auth", "auth-int"),
                           RFC_OPAQUE, False)
    assert Challenge.parse(ch.to_header()) == ch


def test_challenge_to_header_exact() -> None:
    ch = Challenge("callfloor", "n0nce", Algorithm.SHA256, ("auth",), None, True)
    assert ch.to_header() == (
        'Digest realm="callfloor", nonce="n0nce", algorithm=SHA-256, qop="auth", stale=TRUE'
    )
    rfc2069 = Challenge("r", "n")
    assert rfc2069.to_header() == 'Digest realm="r", nonce="n", algorithm=MD5'
    assert Challenge.parse('Digest realm="r", nonce="n"') == rfc2069  # MD5 is the default


def test_parse_is_lenient_where_the_rfc_allows() -> None:
    creds = Credentials.parse(
        'digest  USERNAME="a\\"b" ,Realm=r,nonce="n",uri="sip:x",'
        'response="8F340EF92239EDF8CE5BAC2FF17F8112",algorithm=md5,qop="auth",nc=1,cnonce=c,,'
    )
    assert (creds.username, creds.realm, creds.algorithm) == ('a"b', "r", Algorithm.MD5)
    assert (creds.qop, creds.nc, creds.cnonce) == ("auth", "1", "c")
    assert Challenge.parse('Digest realm="r", nonce="n", stale=true').stale
    # Without qop, nc and cnonce are meaningless (RFC 2069 form) and dropped, however they look.
    no_qop = Credentials.parse(_GOOD + ', nc=xyz, cnonce="c"')
    assert (no_qop.qop, no_qop.nc, no_qop.cnonce) == (None, None, None)


def test_quoting_survives_a_round_trip() -> None:
    creds = Credentials('we\\ird "user"', "r", "n", "sip:x", "a" * 64, Algorithm.SHA256)
    assert 'username="we\\\\ird \\"user\\""' in creds.to_header()
    assert Credentials.parse(creds.to_header()) == creds


_HEX32 = "8f340ef92239edf8ce5bac2ff17f8112"
_GOOD = f'Digest username="u", realm="r", nonce="n", uri="sip:x", response="{_HEX32}"'


@pytest.mark.parametrize(
    "value",
    [
        "",
        "Digest",
        'Digest username="u", realm="r", nonce="n", uri="sip:x"',  # no response
        _GOOD.replace('uri="sip:x", ', ""),  # no uri
        'Digest username="u, realm="r", nonce="n", uri="sip:x", response="x"',  # bad quoting
        _GOOD + ', opaque="unterminated',
        _GOOD + ", junk",
        _GOOD + ' trailing="x"',
        _GOOD + ', realm="again"',  # duplicate parameter
        _GOOD.replace(_HEX32, "zz" * 16),  # not hex
        _GOOD.replace(_HEX32, _HEX32[:30]),  # wrong length for MD5
        _GOOD + ", algorithm=SHA-256",  # MD5-sized response for SHA-256
        _GOOD + ", algorithm=AKAv1-MD5",
        _GOOD + ", qop=auth",  # qop without nc and cnonce
        _GOOD + ', qop=auth, nc=00000001, cnonce="c", qop=auth',
        _GOOD + ', qop=auth-conf, nc=00000001, cnonce="c"',
        _GOOD + ', qop=auth, nc=000000001, cnonce="c"',  # nc longer than 8LHEX
        _GOOD + ', qop=auth, nc=xyz, cnonce="c"',
    ],
)
def test_garbage_credentials_are_400(value: str) -> None:
    with pytest.raises(ParseError) as info:
        Credentials.parse(value)
    assert info.value.status == 400


@pytest.mark.parametrize("value", ["Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "NoOneKnowsThisScheme opaque-data=here"])
def test_other_schemes_ask_for_a_challenge(value: str) -> None:
    with pytest.raises(ParseError) as info:
        Credentials.parse(value)
    assert info.value.status == 401


@pytest.mark.parametrize(
    "value",
    ['Digest realm="r"', 'Digest nonce="n"', 'Digest realm="r", nonce="n", algorithm=MD5-sess',
     'Basic realm="r"', 'Digest realm="r", nonce="n'],
)
def test_unusable_challenges_are_parse_errors(value: str) -> None:
    with pytest.raises(ParseError):
        Challenge.parse(value)


_QUOTABLE = st.text(string.printable.replace("\r", "").replace("\n", "").replace("\x0b", "")
                    .replace("\x0c", ""), max_size=30)


@given(user=_QUOTABLE, realm=_QUOTABLE, uri=_QUOTABLE, nonce=_QUOTABLE, opaque=_QUOTABLE)
def test_credentials_round_trip_any_quoted_text(
    user: str, realm: str, uri: str, nonce: str, opaque: str
) -> None:
    creds = Credentials(user, realm, nonce, uri, "b" * 64, Algorithm.SHA512_256, "auth",
                        "00000001", "cn", opaque)
    assert Credentials.parse(creds.to_header()) == creds


@given(realm=_QUOTABLE, nonce=_QUOTABLE, stale=st.booleans())
def test_challenge_round_trip_any_quoted_text(realm: str, nonce: str, stale: bool) -> None:
    ch = Challenge(realm, nonce, Algorithm.SHA256, ("auth", "auth-int"), "o", stale)
    assert Challenge.parse(ch.to_header()) == ch


# -- the server ---------------------------------------------------------------------------


def test_challenges_share_one_nonce_in_preference_order() -> None:
    server = DigestServer("callfloor", SECRET)
    first = server.challenges(NOW)
    assert [c.algorithm for c in first] == [Algorithm.SHA256, Algorithm.MD5]
    assert {c.nonce for c in first} == {"QdlU_EAAAAAAAAABCR4x59yGbjt5rdKeUq_yGw"}
    assert all(c.realm == "callfloor" and c.qop == ("auth",) and not c.stale for c in first)
    again = server.challenges(NOW, stale=True)
    assert again[0].nonce != first[0].nonce  # same instant, still a fresh nonce
    assert all(c.stale for c in again)


def test_the_401_fixture_is_what_the_server_sends() -> None:
    server = DigestServer("callfloor", SECRET)
    request = Request(method="REGISTER", uri="sip:127.0.0.1", headers=Headers([
        ("Via", "SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK0f2a0c7e9b6d4e8a8f3b1c2d3e4f5a6b;rport"),
        ("From", '"1001" <sip:1001@127.0.0.1>;tag=8c1f0e2a'),
        ("To", '"1001" <sip:1001@127.0.0.1>'),
        ("Call-ID", "5a1f0b9c2d8e4f6a7b3c1d0e9f8a7b6c@127.0.0.1:5062"),
        ("CSeq", "1 REGISTER"),
    ]))
    response = make_response(request, 401, to_tag="cf-401")
    for ch in server.challenges(NOW):
        response.headers.add("WWW-Authenticate", ch.to_header())
    assert response.to_bytes() == (AUTH_FIXTURES / "challenge-401.sip").read_bytes()


def _pyvoip_register() -> Request:
    # Produced by pyVoIP 1.6.8's SIPClient.gen_register() answering challenge-401.sip: it reads
    # the SHA-256 challenge, ignores the algorithm, answers MD5 without qop and adds
    # ";transport=UDP" to the digest uri.
    return read_request((AUTH_FIXTURES / "pyvoip-register.sip").read_bytes())


def _pyvoip_server() -> DigestServer:
    server = DigestServer("callfloor", SECRET)
    server.challenges(NOW)  # the fixture's nonce is the server's first
    return server


def test_pyvoip_md5_without_qop_is_accepted() -> None:
    request = _pyvoip_register()
    creds = find_credentials(request, "callfloor")
    assert creds is not None
    assert (creds.username, creds.algorithm, creds.qop, creds.uri) == (
        "1001", Algorithm.MD5, None, "sip:127.0.0.1;transport=UDP")
    server = _pyvoip_server()
    verify = server.verify
    assert verify(creds, "REGISTER", "s3cret-1001", NOW + 1, request_uri=request.uri) is AuthResult.OK
    # Without qop there is no nc: the same answer is good until the nonce expires.
    assert verify(creds, "REGISTER", "s3cret-1001", NOW + 2) is AuthResult.OK
    assert verify(creds, "REGISTER", "wrong", NOW + 1) is AuthResult.BAD_PASSWORD
    assert verify(creds, "REGISTER", None, NOW + 1) is AuthResult.UNKNOWN_USER
    assert verify(creds, "INVITE", "s3cret-1001", NOW + 1) is AuthResult.BAD_PASSWORD
    assert verify(creds, "REGISTER", "s3cret-1001", NOW + 300) is AuthResult.OK
    assert verify(creds, "REGISTER", "s3cret-1001", NOW + 300.5) is AuthResult.STALE
    other = "sip:other.example.com"
    assert verify(creds, "REGISTER", "s3cret-1001", NOW + 1, request_uri=other) is AuthResult.BAD_REQUEST


def test_a_digest_uri_without_user_may_name_just_the_server() -> None:
    """SIPp answers an INVITE's challenge with uri="sip:host:port" whatever the Request-URI."""
    server = DigestServer("callfloor", SECRET, algorithms=(Algorithm.MD5,))
    challenge = server.challenges(NOW)[0]
    creds = DigestClient().answer(challenge, "INVITE", "sip:127.0.0.1:5060", "1001", "pw",
                                  cnonce_factory=cnonces("c"))
    ok = server.verify(creds, "INVITE", "pw", NOW + 1, request_uri="sip:915551230002@127.0.0.1:5060")
    assert ok is AuthResult.OK
    elsewhere = server.verify(creds, "INVITE", "pw", NOW + 1, request_uri="sip:9155@10.9.9.9:5060")
    assert elsewhere is AuthResult.BAD_REQUEST
    named = DigestClient().answer(challenge, "INVITE", "sip:777@127.0.0.1:5060", "1001", "pw",
                                  cnonce_factory=cnonces("d"))
    other_user = server.verify(named, "INVITE", "pw", NOW + 1, request_uri="sip:915@127.0.0.1:5060")
    assert other_user is AuthResult.BAD_REQUEST


def test_authorize_answers_401_and_407_with_the_first_supported_challenge() -> None:
    server = DigestServer("callfloor", SECRET)
    for status, header, name in ((401, "WWW-Authenticate", "Authorization"),
                                 (407, "Proxy-Authenticate", "Proxy-Authorization")):
        response = Response(status=status, reason="x")
        for challenge in server.challenges(NOW):
            response.headers.add(header, challenge.to_header())
        answer = DigestClient().authorize(response, "INVITE", "sip:9@pbx", "1001", "pw",
                                          cnonce_factory=cnonces("c"))
        assert answer is not None
        assert answer[0] == name and answer[1].algorithm is Algorithm.SHA256
        assert server.verify(answer[1], "INVITE", "pw", NOW + 1) is AuthResult.OK
    assert DigestClient().authorize(Response(status=401, reason="x"), "INVITE", "sip:9@pbx", "u", "p",
                                    cnonce_factory=cnonces("c")) is None


def test_result_statuses() -> None:
    assert [r.status for r in AuthResult] == [200, 403, 401, 403, 400]


def test_nonce_from_another_secret_or_realm_or_the_future_is_stale() -> None:
    client = DigestClient()
    server = DigestServer("callfloor", SECRET)
    for issuer in (DigestServer("callfloor", b"other secret"), DigestServer("elsewhere", SECRET)):
        ch = issuer.challenges(NOW)[0]
        ch = Challenge("callfloor", ch.nonce, ch.algorithm, ch.qop)
        creds = client.answer(ch, "REGISTER", "sip:pbx", "1001", "pw", cnonce_factory=cnonces("c"))
        assert server.verify(creds, "REGISTER", "pw", NOW) is AuthResult.STALE
    future = server.challenges(NOW + 2.5)[0]
    creds = client.answer(future, "REGISTER", "sip:pbx", "1001", "pw", cnonce_factory=cnonces("c"))
    assert server.verify(creds, "REGISTER", "pw", NOW) is AuthResult.STALE
    assert server.verify(creds, "REGISTER", "pw", NOW + 0.5) is AuthResult.OK  # within skew


@pytest.mark.parametrize("nonce", ["", "dcd98b7102dd2f0e8b11d0f600bfb0c093", "QdlU_EAAAAAAAAABCR4x59yGbjt5rdKeUq_yGx", "é!"])
def test_forged_nonces_are_stale(nonce: str) -> None:
    server = _pyvoip_server()
    response = compute_response(Algorithm.MD5, "1001", "callfloor", "pw", "REGISTER", "sip:h", nonce)
    creds = Credentials("1001", "callfloor", nonce, "sip:h", response)
    assert server.verify(creds, "REGISTER", "pw", NOW) is AuthResult.STALE


def test_realm_and_algorithm_must_be_ours() -> None:
    server = DigestServer("callfloor", SECRET, algorithms=(Algorithm.MD5,))
    ch = server.challenges(NOW)[0]
    client = DigestClient()
    sha = Challenge(ch.realm, ch.nonce, Algorithm.SHA256, ch.qop)
    creds = client.answer(sha, "REGISTER", "sip:h", "u", "pw", cnonce_factory=cnonces("c"))
    assert server.verify(creds, "REGISTER", "pw", NOW) is AuthResult.BAD_REQUEST
    foreign = Challenge("elsewhere", ch.nonce, Algorithm.MD5, ch.qop)
    creds = client.answer(foreign, "REGISTER", "sip:h", "u", "pw", cnonce_factory=cnonces("c"))
    assert server.verify(creds, "REGISTER", "pw", NOW) is AuthResult.BAD_REQUEST
    with pytest.raises(ValueError):
        DigestServer("r", SECRET, algorithms=())


def test_client_and_server_sha256_with_qop_and_replays() -> None:
    server = DigestServer("callfloor", SECRET)
    client = DigestClient()
    challenge = choose_challenge(server.challenges(NOW))
    assert challenge is not None and challenge.algorithm is Algorithm.SHA256
    make = cnonces("c1", "c2", "c3")
    first = client.answer(challenge, "REGISTER", "sip:pbx", "1001", "pw", cnonce_factory=make)
    assert (first.qop, first.nc, first.cnonce) == ("auth", "00000001", "c1")
    assert server.verify(first, "REGISTER", "pw", NOW + 1, request_uri="sip:pbx") is AuthResult.OK
    assert server.verify(first, "REGISTER", "pw", NOW + 2) is AuthResult.STALE  # replayed nc
    second = client.answer(challenge, "REGISTER", "sip:pbx", "1001", "pw", cnonce_factory=make)
    assert second.nc == "00000002"
    assert server.verify(second, "REGISTER", "pw", NOW + 3) is AuthResult.OK
    assert server.verify(first, "REGISTER", "pw", NOW + 4) is AuthResult.STALE  # nc went back
    # A wrong password never touches the nc record.
    third = client.answer(challenge, "REGISTER", "sip:pbx", "1001", "pw", cnonce_factory=make)
    assert server.verify(third, "REGISTER", "bad", NOW + 5) is AuthResult.BAD_PASSWORD
    assert server.verify(third, "REGISTER", "pw", NOW + 5) is AuthResult.OK


def test_auth_int_round_trip_covers_the_body() -> None:
    server = DigestServer("callfloor", SECRET, algorithms=(Algorithm.MD5,))
    nonce = server.challenges(NOW)[0].nonce
    challenge = Challenge("callfloor", nonce, Algorithm.MD5, ("auth-int",))
    creds = DigestClient().answer(challenge, "INVITE", "sip:+15551234@pbx", "1001", "pw",
                                  cnonce_factory=cnonces("c"), body=b"v=0\r\n")
    assert creds.qop == "auth-int"
    assert server.verify(creds, "INVITE", "pw", NOW, body=b"v=1\r\n") is AuthResult.BAD_PASSWORD
    assert server.verify(creds, "INVITE", "pw", NOW, body=b"v=0\r\n") is AuthResult.OK


def test_evicted_nonces_cannot_be_replayed() -> None:
    server = DigestServer("callfloor", SECRET, max_tracked_nonces=2)
    client = DigestClient()
    answers = []
    for i in range(3):
        ch = server.challenges(NOW + i)[0]
        creds = client.answer(ch, "REGISTER", "sip:h", "u", "pw", cnonce_factory=cnonces("c"))
        assert server.verify(creds, "REGISTER", "pw", NOW + i) is AuthResult.OK
        answers.append((ch, creds))
    # The first nonce's nc record was evicted: even a higher nc must take a fresh nonce.
    later = client.answer(answers[0][0], "REGISTER", "sip:h", "u", "pw", cnonce_factory=cnonces("c"))
    assert later.nc == "00000002"
    assert server.verify(later, "REGISTER", "pw", NOW + 3) is AuthResult.STALE
    # The nonces still tracked keep working, and new ones are unaffected.
    kept = client.answer(answers[2][0], "REGISTER", "sip:h", "u", "pw", cnonce_factory=cnonces("c"))
    assert server.verify(kept, "REGISTER", "pw", NOW + 3) is AuthResult.OK
    fresh = client.answer(server.challenges(NOW + 4)[0], "REGISTER", "sip:h", "u", "pw",
                          cnonce_factory=cnonces("c"))
    assert server.verify(fresh, "REGISTER", "pw", NOW + 4) is AuthResult.OK


# -- the client ---------------------------------------------------------------------------


def test_client_answers_rfc2617_challenge_like_the_rfc() -> None:
    challenge = Challenge.parse(
        'Digest realm="testrealm@host.com", qop="auth,auth-int", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    creds = DigestClient().answer(challenge, "GET", "/dir/index.html", "Mufasa", "Circle Of Life",
                                  cnonce_factory=cnonces("0a4f113b"))
    assert creds.response == "6629fae49393a05397450978507c4ef1"
    assert (creds.qop, creds.nc, creds.opaque) == ("auth", "00000001", "5ccc069c403ebaf9f0171e9517f40e41")


def test_client_without_qop_sends_no_nc_and_needs_no_cnonce() -> None:
    creds = DigestClient().answer(Challenge("r", "n"), "REGISTER", "sip:h", "u", "p",
                                  cnonce_factory=cnonces())
    assert (creds.qop, creds.nc, creds.cnonce) == (None, None, None)
    assert creds.response == "f7949f33797a7abbe390eaa95b1ca294"


def test_client_counts_per_nonce_and_refuses_unknown_qop() -> None:
    client = DigestClient(max_nonces=1)
    a, b = Challenge("r", "a", qop=("auth",)), Challenge("r", "b", qop=("auth",))
    assert client.answer(a, "M", "u", "x", "p", cnonce_factory=cnonces("c")).nc == "00000001"
    assert client.answer(a, "M", "u", "x", "p", cnonce_factory=cnonces("c")).nc == "00000002"
    assert client.answer(b, "M", "u", "x", "p", cnonce_factory=cnonces("c")).nc == "00000001"
    # Only one nonce is remembered, so "a" starts again.
    assert client.answer(a, "M", "u", "x", "p", cnonce_factory=cnonces("c")).nc == "00000001"
    with pytest.raises(RemoteProtocolError):
        client.answer(Challenge("r", "n", qop=("auth-conf",)), "M", "u", "x", "p",
                      cnonce_factory=cnonces("c"))


def test_choose_challenge_follows_server_order() -> None:
    offered = [Challenge("r", "n", Algorithm.SHA512_256), Challenge("r", "n", Algorithm.SHA256),
               Challenge("r", "n", Algorithm.MD5)]
    assert choose_challenge(offered) is offered[1]
    assert choose_challenge(offered, supported=(Algorithm.MD5,)) is offered[2]
    assert choose_challenge(offered, supported=list(Algorithm)) is offered[0]
    assert choose_challenge([]) is None
    odd = Challenge("r", "n", Algorithm.SHA256, ("auth-conf",))
    assert choose_challenge([odd, offered[2]]) is offered[2]  # skips what it cannot answer


def test_parse_challenges_skips_what_it_cannot_use() -> None:
    values = ['Basic realm="r"', 'Digest realm="r", nonce="n", algorithm=AKAv1-MD5',
              'Digest realm="r", nonce="n", algorithm=SHA-256', 'Digest realm="r", nonce="n"']
    assert [c.algorithm for c in parse_challenges(values)] == [Algorithm.SHA256, Algorithm.MD5]


# -- finding credentials in a request -------------------------------------------------------


def test_find_credentials_picks_our_realm_and_skips_other_schemes() -> None:
    ours = Credentials("u", "callfloor", "n", "sip:h", _HEX32)
    theirs = Credentials("u", "carrier", "n", "sip:h", _HEX32)
    request = Request(method="INVITE", uri="sip:h", headers=Headers([
        ("Authorization", "Basic dTpw"),
        ("Authorization", theirs.to_header()),
        ("Authorization", ours.to_header()),
        ("Proxy-Authorization", theirs.to_header()),
    ]))
    assert find_credentials(request, "callfloor") == ours
    assert find_credentials(request, "carrier", proxy=True) == theirs
    assert find_credentials(request, "callfloor", proxy=True) is None
    assert find_credentials(Request(method="INVITE", uri="sip:h"), "callfloor") is None


def test_find_credentials_raises_on_a_malformed_digest() -> None:
    request = Request(method="REGISTER", uri="sip:h",
                      headers=Headers([("Authorization", 'Digest username="u", realm="callfloor"')]))
    with pytest.raises(ParseError) as info:
        find_credentials(request, "callfloor")
    assert info.value.status == 400


def test_torture_regaut01_unknown_scheme_means_challenge() -> None:
    # RFC 4475 §3.3.7: parse it, then challenge as for any unauthenticated request.
    request = read_request((require_torture() / "regaut01.dat").read_bytes())
    assert request.headers.get("Authorization") == "NoOneKnowsThisScheme opaque-data=here"
    assert find_credentials(request, "example.com") is None
