"""Settings: TOML + CALLFLOOR_ environment, validation messages, the shipped config files."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from callfloor.settings import (
    BusSettings,
    ConfigError,
    MqttEndpoint,
    RtpSettings,
    Settings,
    TrunkSettings,
    describe_env,
    host_warnings,
    load_settings,
    parse_mqtt_url,
    split_host_port,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "callfloor.toml"
DEMO = ROOT / "config" / "demo.toml"
DOCS = ROOT / "docs" / "configuration.md"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "callfloor.toml"
    path.write_text(text)
    return path


def problems(path: Path | None, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ or {})
    assert str(info.value) == "\n".join(info.value.problems)
    return list(info.value.problems)


# -- defaults -------------------------------------------------------------------------------


def test_defaults_without_file_or_environment() -> None:
    s = load_settings(None, {})
    assert s.source == "<defaults>"
    assert s.sip.listen == "127.0.0.1:5060"
    assert (s.sip.listen_host, s.sip.listen_port) == ("127.0.0.1", 5060)
    assert s.sip.advertise == "127.0.0.1"
    assert (s.sip.domain, s.sip.realm) == ("callfloor", "callfloor")
    assert s.sip.auth_algorithms == ("SHA-256", "MD5")
    assert (s.sip.ring_timeout, s.sip.media_timeout, s.sip.t1) == (30.0, 30.0, 0.5)
    assert (s.sip.session_expires, s.sip.min_se) == (1800, 90)
    assert (s.sip.register_min_expires, s.sip.register_max_expires) == (60, 3600)
    assert (s.sip.guard.slow_after, s.sip.guard.ban_after, s.sip.guard.ban_seconds) == (3, 10, 900.0)
    assert re.fullmatch(r"callfloor/\S+", s.sip.user_agent)
    assert s.seats == ()
    assert s.trunk is None
    assert len(s.routes) == 0
    assert s.storage.data_dir == Path("var/callfloor")
    assert s.storage.db_path == Path("var/callfloor/callfloor.db")
    assert s.storage.recordings_dir == Path("var/callfloor/recordings")
    assert (s.http.host, s.http.port) == ("127.0.0.1", 8080)
    assert s.rtp.ports == (20000, 30000)
    assert s.rtp.pairs == 5000
    assert s.rtp.host == "127.0.0.1"
    assert s.bus.url is None and s.bus.embedded
    assert s.bus.endpoint == MqttEndpoint("127.0.0.1", 1883)
    assert (s.bus.site, s.bus.topic_prefix) == ("main", "callfloor")
    assert s.log.level == "INFO"


def test_settings_are_frozen() -> None:
    s = load_settings(None, {})
    with pytest.raises(ValidationError):
        s.log = s.log
    with pytest.raises(ValidationError):
        s.sip.listen = "127.0.0.1:5080"


def test_direct_construction_reads_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLFLOOR_SIP__LISTEN", "127.0.0.1:9999")
    assert Settings().sip.listen == "127.0.0.1:5060"


def test_derived_defaults_follow_their_sources() -> None:
    s = load_settings(None, {"CALLFLOOR_SIP__LISTEN": "10.1.2.3:5080", "CALLFLOOR_SIP__DOMAIN": "floor.example"})
    assert s.sip.advertise == "10.1.2.3"
    assert s.sip.realm == "floor.example"
    assert s.rtp.host == "10.1.2.3"
    s = load_settings(None, {"CALLFLOOR_SIP__ADVERTISE": "192.0.2.7", "CALLFLOOR_RTP__HOST": "192.0.2.8"})
    assert (s.sip.advertise, s.rtp.host) == ("192.0.2.7", "192.0.2.8")
    s = load_settings(None, {"CALLFLOOR_SIP__LISTEN": "0.0.0.0:5060", "CALLFLOOR_SIP__ADVERTISE": "192.0.2.7"})
    assert s.rtp.host == "192.0.2.7"


# -- the shipped files ------------------------------------------------------------------------


def test_example_config_loads() -> None:
    s = load_settings(EXAMPLE, {})
    assert s.model_dump() == Settings().model_dump()  # the active values are exactly the defaults
    assert s.source.endswith("callfloor.toml")


def test_example_config_commented_blocks_are_valid(tmp_path: Path) -> None:
    """Uncommenting the example [[seats]], [trunk], route and optional keys gives a valid file."""
    code = re.compile(r'^# (\[\[seats\]\]|\[\[teams\]\]|\[\[queues\]\]|\[trunk\]|[a-z_0-9]+ = .+|"\+?\d+" = .+|# .*)$')
    lines = [m.group(1) if (m := code.match(line)) else line for line in EXAMPLE.read_text().splitlines()]
    s = load_settings(write(tmp_path, "\n".join(lines)), {})
    assert [seat.id for seat in s.seats] == ["1001"]
    assert s.trunk is not None and s.trunk.host == "sip.carrier.example"
    assert s.trunk.allow == (ipaddress.ip_network("203.0.113.0/24"),)
    assert s.routes.seat_for("+15550100") == "1001"
    assert s.sip.advertise == "192.0.2.10"
    assert s.bus.endpoint == MqttEndpoint("127.0.0.1", 1883, "callfloor", "secret")
    assert [q.name for q in s.queues] == ["support"] and s.seats[0].queues == ("support",)
    assert s.seats[0].team == "support" and s.queues[0].overflow == "voicemail:support"


def test_example_config_mentions_every_key() -> None:
    text = EXAMPLE.read_text()
    for name in describe_env():
        key = name.removeprefix("CALLFLOOR_").split("__")[-1].lower()
        if name == "CALLFLOOR_CONFIG" or key in {"sip", "seats", "trunk", "routes", "storage", "http", "rtp", "bus", "log", "guard",
                                                      "teams", "queues", "ivr", "features", "dialer", "monitor", "auth", "archive", "complaints", "qa"}:
            continue
        assert re.search(rf"^#? *(# )?{key} = ", text, re.M), key
    for key in ("id", "password", "name", "max_contacts"):
        assert re.search(rf"^# {key} = ", text, re.M), key


def test_docs_list_every_environment_variable() -> None:
    text = DOCS.read_text()
    for name in describe_env():
        assert f"`{name}`" in text, name


def test_demo_config() -> None:
    s = load_settings(DEMO, {})
    assert s.sip.listen == "127.0.0.1:5060"
    assert [(seat.id, seat.password) for seat in s.seats] == [
        ("1001", "demo1001"), ("1002", "demo1002"), ("1003", "demo1003"), ("1004", "demo1004"),
    ]
    assert s.trunk is not None
    assert (s.trunk.host, s.trunk.port, s.trunk.did) == ("127.0.0.2", 5070, ("+15550100",))
    assert s.trunk.allow == (ipaddress.ip_network("127.0.0.2/32"),)
    assert dict(s.routes.items()) == {}  # every call goes through the IVR
    assert [q.name for q in s.queues] == ["sales", "support", "vip"]
    assert s.ivr.flows == Path("config/ivr") and s.seats[0].queues == ("vip", "support", "sales")
    assert s.storage.db_path == Path("var/demo/callfloor.db")


def test_demo_port_overridden_from_environment() -> None:
    s = load_settings(DEMO, {"CALLFLOOR_SIP__LISTEN": "127.0.0.1:5080"})
    assert s.sip.listen_port == 5080
    assert len(s.seats) == 4


# -- environment overrides --------------------------------------------------------------------


def test_environment_wins_over_file(tmp_path: Path) -> None:
    path = write(tmp_path, """
[sip]
listen = "127.0.0.1:5060"
domain = "file.example"

[trunk]
host = "192.0.2.1"
username = "acct"
password = "from-file"
""")
    s = load_settings(path, {
        "CALLFLOOR_SIP__LISTEN": "127.0.0.1:5080",
        "CALLFLOOR_STORAGE__DATA_DIR": "/x",
        "CALLFLOOR_TRUNK__PASSWORD": "from-env",
        "CALLFLOOR_SIP__GUARD__BAN_AFTER": "20",
        "CALLFLOOR_LOG__LEVEL": "debug",
        "HOME": "/root",  # not ours: ignored
    })
    assert s.sip.listen == "127.0.0.1:5080"
    assert s.sip.domain == "file.example"  # untouched keys keep the file's value
    assert s.storage.data_dir == Path("/x")
    assert s.trunk is not None and (s.trunk.username, s.trunk.password) == ("acct", "from-env")
    assert s.sip.guard.ban_after == 20
    assert s.log.level == "DEBUG"
    assert s.source == str(path)


def test_lists_and_tables_as_json() -> None:
    s = load_settings(None, {
        "CALLFLOOR_SEATS": '[{"id":"1001","password":"x"},{"id":"1002","password":"y","max_contacts":2}]',
        "CALLFLOOR_ROUTES": '{"+15550100": "1002"}',
        "CALLFLOOR_ROUTES__+15550111": "1001",
        "CALLFLOOR_SIP__AUTH_ALGORITHMS": '["MD5"]',
        "CALLFLOOR_TRUNK": '{"host": "192.0.2.1", "allow": ["192.0.2.0/24"]}',
        "CALLFLOOR_TRUNK__PORT": "5080",
        "CALLFLOOR_RTP__PORTS": "40000-40009",
    })
    assert [(seat.id, seat.max_contacts) for seat in s.seats] == [("1001", 5), ("1002", 2)]
    assert dict(s.routes.items()) == {"+15550100": "1002", "+15550111": "1001"}
    assert s.sip.auth_algorithms == ("MD5",)
    assert s.trunk is not None and (s.trunk.host, s.trunk.port) == ("192.0.2.1", 5080)
    assert s.rtp.ports == (40000, 40009) and s.rtp.pairs == 5


def test_json_null_removes_the_trunk(tmp_path: Path) -> None:
    path = write(tmp_path, '[trunk]\nhost = "192.0.2.1"\n')
    assert load_settings(path, {"CALLFLOOR_TRUNK": "null"}).trunk is None


def test_config_path_from_environment(tmp_path: Path) -> None:
    path = write(tmp_path, '[http]\nlisten = "127.0.0.1:8181"\n')
    s = load_settings(None, {"CALLFLOOR_CONFIG": str(path)})
    assert s.http.port == 8181 and s.source == str(path)


# -- errors name the file or variable and the key -----------------------------------------------


def test_file_error_names_file_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, '[sip]\nlisten = "127.0.0.1"\n')
    assert problems(path) == [f"{path}: sip.listen: expected host:port, got '127.0.0.1'"]


def test_environment_error_names_the_variable(tmp_path: Path) -> None:
    path = write(tmp_path, '[rtp]\nports = "20000-30000"\n')
    assert problems(path, {"CALLFLOOR_RTP__PORTS": "20001-20010"}) == [
        "environment CALLFLOOR_RTP__PORTS: rtp.ports: the range must start on an even port "
        "(RTP even, RTCP odd), got 20001"
    ]


def test_toml_syntax_error_has_line_number(tmp_path: Path) -> None:
    path = write(tmp_path, '[sip]\ndomain = "a"\nlisten = 127.0.0.1:5060\n')
    (problem,) = problems(path)
    assert problem.startswith(f"{path}: TOML syntax error: ")
    assert "line 3" in problem


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    assert problems(path) == [f"{path}: cannot read: No such file or directory"]


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('[sip]\nlistn = "127.0.0.1:5060"\n', "sip.listn: unknown key (check the spelling)"),
        ('[sipp]\nlisten = "127.0.0.1:5060"\n', "sipp: unknown key (check the spelling)"),
        ('[[seats]]\nid = "1001"\npassword = "a"\n[[seats]]\nid = "1001"\npassword = "b"\n',
         "seats: duplicate seat id '1001' (seats[0] and seats[1])"),
        ('[[seats]]\nid = "1001"\npassword = "a"\n[routes]\n"+15550100" = "1002"\n',
         "routes: '+15550100' routes to unknown seat '1002'"),
        ('[[seats]]\nid = "10-01"\npassword = "a"\n', "seats[0].id: String should match pattern '^[A-Za-z0-9]+$'"),
        ('[[seats]]\nid = "1001"\n', "seats[0].password: required key is missing"),
        ('[rtp]\nports = "20000-20000"\n', "rtp.ports: the range needs at least 2 ports (one RTP/RTCP pair), got 20000-20000"),
        ('[rtp]\nports = "20001-20100"\n', "rtp.ports: the range must start on an even port (RTP even, RTCP odd), got 20001"),
        ('[rtp]\nports = "30000-20000"\n', "rtp.ports: ports must satisfy 1 <= low <= high <= 65535, got 30000-20000"),
        ('[rtp]\nports = "lots"\n', "rtp.ports: expected a port range like '20000-30000', got 'lots'"),
        ('[trunk]\nhost = "h"\nallow = ["10.0.0.1/8"]\n', "trunk.allow: bad CIDR '10.0.0.1/8': 10.0.0.1/8 has host bits set"),
        ('[trunk]\nhost = "h"\nallow = ["10.0.0.0/33"]\n',
         "trunk.allow: bad CIDR '10.0.0.0/33': '10.0.0.0/33' does not appear to be an IPv4 or IPv6 network"),
        ('[trunk]\nhost = "h"\noutbound_allow = ["^(1"]\n',
         "trunk.outbound_allow: bad regular expression '^(1': missing ), unterminated subpattern at position 1"),
        ('[trunk]\nhost = "h"\nregister = true\n', "trunk: register = true needs username and password"),
        ('[trunk]\nhost = "h"\ntransport = "tls"\n', "trunk.transport: Input should be 'udp' or 'tcp'"),
        ('[trunk]\nport = 5060\n', "trunk.host: required key is missing"),
        ('[sip]\nlisten = "0.0.0.0:5060"\n',
         "sip.advertise: required when sip.listen binds every address (0.0.0.0): that cannot be written in Via/Contact/SDP"),
        ('[sip]\nlisten = "127.0.0.1:70000"\n', "sip.listen: port must be 0-65535, got '127.0.0.1:70000'"),
        ('[sip]\nmin_se = 60\n', "sip.min_se: Input should be greater than or equal to 90"),
        ('[sip]\nregister_min_expires = 600\nregister_max_expires = 300\n',
         "sip: register_min_expires must not exceed register_max_expires"),
        ('[sip.guard]\nslow_after = 11\n', "sip.guard: slow_after (11) must not exceed ban_after (10)"),
        ('[sip]\nauth_algorithms = ["SHA-512"]\n', "sip.auth_algorithms[0]: Input should be 'SHA-256' or 'MD5'"),
        ('[bus]\nurl = "http://broker:1883"\n', "bus.url: expected mqtt://[user:pass@]host[:port], got 'http://broker:1883'"),
        ('[bus]\nembedded_listen = "0.0.0.0:1883"\n',
         "bus.embedded_listen: the embedded broker allows anonymous clients, so it binds loopback only, got '0.0.0.0:1883'"),
        ('[log]\nlevel = "LOUD"\n', "log.level: Input should be 'DEBUG', 'INFO', 'WARNING', 'ERROR' or 'CRITICAL'"),
    ],
)
def test_file_errors(tmp_path: Path, toml: str, expected: str) -> None:
    path = write(tmp_path, toml)
    assert problems(path) == [f"{path}: {expected}"]


def test_every_problem_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, '[sip]\nlisten = "x"\n[http]\nlisten = "y"\n')
    assert problems(path) == [
        f"{path}: sip.listen: expected host:port, got 'x'",
        f"{path}: http.listen: expected host:port, got 'y'",
    ]


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"CALLFLOOR_SIP__LISTN": "x"}, "environment CALLFLOOR_SIP__LISTN: unknown key sip.listn (check the spelling; see describe_env)"),
        ({"CALLFLOOR_SEATS__0__ID": "x"}, "environment CALLFLOOR_SEATS__0__ID: unknown key seats.0 (check the spelling; see describe_env)"),
        ({"CALLFLOOR_SEATS": "[{"},
         "environment CALLFLOOR_SEATS: seats: invalid JSON: Expecting property name enclosed in double quotes: line 1 column 3 (char 2)"),
        ({"CALLFLOOR_SEATS": "1001"}, "environment CALLFLOOR_SEATS: seats: Input should be a valid tuple"),
        ({"CALLFLOOR_SIP__RING_TIMEOUT": "soon"},
         "environment CALLFLOOR_SIP__RING_TIMEOUT: sip.ring_timeout: Input should be a valid number, unable to parse string as a number"),
        ({"CALLFLOOR_SIP": '{"bogus": 1}'}, "environment CALLFLOOR_SIP: sip.bogus: unknown key (check the spelling)"),
        ({"CALLFLOOR_SEATS": '[{"id":"1001","password":"x"}]', "CALLFLOOR_ROUTES__+1555": "1002"},
         "environment CALLFLOOR_ROUTES__+1555: routes: '+1555' routes to unknown seat '1002'"),
    ],
)
def test_environment_errors(environ: dict[str, str], expected: str) -> None:
    assert problems(None, environ) == [expected]


def test_error_in_file_value_is_blamed_on_file_not_environment(tmp_path: Path) -> None:
    path = write(tmp_path, '[sip]\nlisten = "nope"\n')
    assert problems(path, {"CALLFLOOR_SIP__DOMAIN": "ok"}) == [f"{path}: sip.listen: expected host:port, got 'nope'"]


# -- small parsers and policy helpers -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("127.0.0.1:5060", ("127.0.0.1", 5060)), ("[::1]:5061", ("::1", 5061)), ("localhost:0", ("localhost", 0))],
)
def test_split_host_port(text: str, expected: tuple[str, int]) -> None:
    assert split_host_port(text) == expected


@pytest.mark.parametrize("text", ["::1:5060", "[::1]5060", "[nothost]:5", ":5060", "host:", "host:port"])
def test_split_host_port_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        split_host_port(text)


def test_mqtt_urls() -> None:
    assert parse_mqtt_url("mqtt://broker.example") == MqttEndpoint("broker.example", 1883)
    assert parse_mqtt_url("mqtt://u%40x:p%3Aw@10.0.0.5:1884") == MqttEndpoint("10.0.0.5", 1884, "u@x", "p:w")
    assert BusSettings(url="mqtt://127.0.0.1:2883").endpoint == MqttEndpoint("127.0.0.1", 2883)
    assert not BusSettings(url="mqtt://127.0.0.1:2883").embedded
    for bad in ("mqtts://h", "mqtt://h/topic", "mqtt://h:99999", "mqtt://"):
        with pytest.raises(ValueError):
            parse_mqtt_url(bad)


def test_trunk_policy_helpers() -> None:
    trunk = TrunkSettings(host="192.0.2.1")
    assert trunk.allowed_networks() == (ipaddress.ip_network("192.0.2.1/32"),)
    assert trunk.is_carrier_address("192.0.2.1")
    assert not trunk.is_carrier_address("192.0.2.2")
    assert not trunk.is_carrier_address("not an ip")
    assert TrunkSettings(host="sip.carrier.example").allowed_networks() == ()
    wide = TrunkSettings.model_validate({"host": "sip.carrier.example", "allow": ["203.0.113.0/24", "2001:db8::/32"]})
    assert wide.is_carrier_address("203.0.113.77") and wide.is_carrier_address("2001:db8::5")
    assert trunk.outbound_allowed("+4930123456")
    assert trunk.outbound_allowed("15551234567")
    assert not trunk.outbound_allowed("900")  # premium short code
    assert not trunk.outbound_allowed("+0123456789")
    assert not trunk.outbound_allowed("+4930123456x")
    assert not TrunkSettings(host="h", outbound_allow=()).outbound_allowed("+4930123456")


def test_rtp_ports_accept_a_pair() -> None:
    assert RtpSettings.model_validate({"ports": [10000, 10001]}).ports == (10000, 10001)


def test_passwords_stay_out_of_repr() -> None:
    s = load_settings(DEMO, {"CALLFLOOR_TRUNK__PASSWORD": "hunter2"})
    assert "demo1001" not in repr(s) and "hunter2" not in repr(s)
    assert "source='" in repr(s)


def test_describe_env() -> None:
    env = describe_env()
    for name in (
        "CALLFLOOR_CONFIG", "CALLFLOOR_SIP__LISTEN", "CALLFLOOR_SIP__GUARD__BAN_SECONDS",
        "CALLFLOOR_STORAGE__DATA_DIR", "CALLFLOOR_TRUNK__PASSWORD", "CALLFLOOR_SEATS",
        "CALLFLOOR_ROUTES", "CALLFLOOR_RTP__PORTS", "CALLFLOOR_BUS__URL", "CALLFLOOR_LOG__LEVEL",
    ):
        assert env[name], name
    assert env["CALLFLOOR_SIP__LISTEN"].endswith("[default: 127.0.0.1:5060]")
    assert "(JSON)" in env["CALLFLOOR_SEATS"]
    assert all(name.startswith("CALLFLOOR_") and name.isupper() for name in env)


def test_rtp_range_inside_the_ephemeral_ports_is_warned_about(tmp_path: Path) -> None:
    proc = tmp_path / "ip_local_port_range"
    proc.write_text("32768\t60999\n")
    inside = load_settings(None, {"CALLFLOOR_RTP__PORTS": "60000-61999"})
    assert host_warnings(inside, proc) == [
        "rtp.ports 60000-61999 overlaps the kernel's ephemeral ports 32768-60999 (1000 ports, "
        "60000-60999): outgoing connections may take them and call legs then fail to bind media; "
        "choose a range outside it (the default 20000-30000 is) or narrow net.ipv4.ip_local_port_range"]
    assert host_warnings(load_settings(None, {}), proc) == []  # 20000-30000
    assert host_warnings(load_settings(None, {"CALLFLOOR_RTP__PORTS": "61000-61999"}), proc) == []
    # Where the kernel's range cannot be read (not Linux, or garbled), nothing is claimed.
    assert host_warnings(inside, tmp_path / "absent") == []
    proc.write_text("many\n")
    assert host_warnings(inside, proc) == []


def test_check_config_prints_host_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from callfloor.cli import main

    config = tmp_path / "callfloor.toml"
    config.write_text('[rtp]\nports = "40000-40999"\n')
    monkeypatch.setattr("callfloor.settings.loader.EPHEMERAL_PORTS", tmp_path / "range")
    (tmp_path / "range").write_text("32768 60999")
    assert main(["check-config", str(config)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"{config}: ok")
    assert err.startswith("warning: rtp.ports 40000-40999 overlaps the kernel's ephemeral ports 32768-60999")
