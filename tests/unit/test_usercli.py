"""``callfloor user``: add (prompted twice or from stdin), list, edit (role changes audited),
passwd, disable/enable and audit, on a real database under tmp_path."""

from __future__ import annotations

import argparse
import io
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from callfloor import usercli
from callfloor.web.passwords import Passwords

NOW = 1_772_000_000.0  # 2026-02-25 06:13:20 UTC
FAST = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "callfloor.toml"
    path.write_text(
        f'[storage]\ndata_dir = "{tmp_path / "data"}"\n'
        '[[teams]]\nid = "north"\n'
        '[[seats]]\nid = "1001"\npassword = "x"\nteam = "north"\n[[seats]]\nid = "1002"\npassword = "y"\n',
        encoding="utf-8",
    )
    return path


def cli(config: Path, *argv: str, stdin: str = "", answers: Iterator[str] | None = None,
        now: float = NOW) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="callfloor")
    usercli.add_parser(parser.add_subparsers(dest="command"))
    out, err = io.StringIO(), io.StringIO()
    prompts = answers or iter(())
    code = usercli.run(parser.parse_args(["user", *argv, "--config", str(config)]), now=now, out=out,
                       err=err, stdin=io.StringIO(stdin), ask=lambda _: next(prompts), passwords=FAST)
    return code, out.getvalue(), err.getvalue()


def users(config: Path) -> list[tuple[str, ...]]:
    with sqlite3.connect(config.parent / "data" / "callfloor.db") as db:
        return db.execute("SELECT username, role, seat_id, team, lang, disabled FROM users ORDER BY id").fetchall()


def test_add_from_stdin_and_by_prompt_then_list(config: Path) -> None:
    code, out, err = cli(config, "add", "Sam", "--role", "seat", "--seat", "1001", "--name", "Sam Lee",
                         "--lang", "zh", "--password-stdin", "--by", "root", stdin="correct horse\n")
    assert (code, out, err) == (0, "added sam (seat, seat 1001)\n", "")
    code, out, _ = cli(config, "add", "ann", "--role", "lead", "--team", "north", "--by", "root",
                       answers=iter(["battery staple", "battery staple"]))
    assert (code, out) == (0, "added ann (lead, team north)\n")
    assert users(config) == [("sam", "seat", "1001", None, "zh", 0), ("ann", "lead", None, "north", "en", 0)]
    with sqlite3.connect(config.parent / "data" / "callfloor.db") as db:
        [(hashed,)] = db.execute("SELECT password_hash FROM users WHERE username = 'sam'").fetchall()
    assert FAST.verify(hashed, "correct horse").ok
    code, out, _ = cli(config, "list")
    assert (code, out.splitlines()) == (0, [
        "username             role   seat     team         lang status   name",
        "ann                  lead   -        north        en   active   ",
        "sam                  seat   1001     -            zh   active   Sam Lee",
    ])


@pytest.mark.parametrize(
    ("argv", "stdin", "answers", "message"),
    [
        (("--role", "seat"), "long enough\n", None, "--seat is required for --role seat"),
        (("--role", "seat", "--seat", "1009"), "long enough\n", None, "unknown seat '1009' (known: 1001, 1002)"),
        (("--role", "lead", "--team", "south"), "long enough\n", None, "unknown team 'south' (known: north)"),
        (("--role", "lead"), "short\n", None, "a password needs at least 8 characters"),
        (("--role", "lead"), "", ["long enough", "long enougH"], "the two passwords differ; nothing changed"),
    ],
)
def test_add_refuses_bad_input(config: Path, argv: tuple[str, ...], stdin: str, answers: list[str] | None,
                               message: str) -> None:
    extra = ("--password-stdin",) if answers is None else ()
    code, out, err = cli(config, "add", "ann", *argv, *extra, stdin=stdin,
                         answers=iter(answers) if answers else None)
    assert (code, out, err) == (1, "", f"callfloor user: {message}\n")
    assert users(config) == []


def test_add_twice_and_unknown_users_are_refused(config: Path) -> None:
    assert cli(config, "add", "ann", "--role", "qa", "--password-stdin", stdin="long enough\n")[0] == 0
    assert cli(config, "add", "ANN", "--role", "qa", "--password-stdin", stdin="long enough\n")[2] == (
        "callfloor user: user ann exists already\n")
    assert cli(config, "disable", "bob")[2] == "callfloor user: no user 'bob'\n"
    assert cli(config, "passwd", "bob", "--password-stdin", stdin="long enough\n")[2] == (
        "callfloor user: no user 'bob'\n")
    assert cli(config, "edit", "ann")[2] == (
        "callfloor user: nothing to change: give --role, --name, --seat, --team or --lang\n")
    assert cli(config, "edit", "ann", "--role", "seat")[2] == (
        "callfloor user: user ann: a seat user needs its seat id\n")


def test_edit_passwd_disable_and_the_audit_trail(config: Path) -> None:
    cli(config, "add", "ann", "--role", "seat", "--seat", "1001", "--password-stdin", "--by", "root",
        stdin="long enough\n")
    code, out, _ = cli(config, "edit", "ann", "--role", "lead", "--seat", "", "--team", "north",
                       "--by", "root", now=NOW + 60)
    assert (code, out) == (0, "ann: lead, team north, lang en, name ''\n")
    code, out, _ = cli(config, "passwd", "ann", "--password-stdin", "--by", "root", stdin="a new one!\n",
                       now=NOW + 120)
    assert (code, out) == (0, "password of ann changed; 0 sessions ended\n")
    assert cli(config, "disable", "ann", "--by", "root", now=NOW + 180)[1] == "ann is disabled\n"
    assert users(config) == [("ann", "lead", None, "north", "en", 1)]
    assert cli(config, "enable", "ann", "--by", "root", now=NOW + 240)[1] == "ann may log in\n"
    code, out, _ = cli(config, "audit", "--actor", "root", "--since", "2026-02-25T06:14:00")
    assert (code, out.splitlines()) == (0, [
        "2026-02-25 06:17:20Z  root             user.enabled     user:ann                 "
        '{"sessions_ended":0}',
        "2026-02-25 06:16:20Z  root             user.disabled    user:ann                 "
        '{"sessions_ended":0}',
        "2026-02-25 06:15:20Z  root             user.password    user:ann                 "
        '{"sessions_ended":0}',
        "2026-02-25 06:14:20Z  root             user.role        user:ann                 "
        '{"role":["seat","lead"],"seat":["1001",null],"team":[null,"north"]}',
    ])
    assert cli(config, "audit", "--action", "user.added", "--limit", "1")[1].count("\n") == 1
    assert cli(config, "audit", "--actor", "nobody")[1] == "no audit entries match\n"
    assert cli(config, "audit", "--since", "yesterday")[2] == (
        "callfloor user: --since 'yesterday': expected ISO 8601, e.g. 2026-02-25T08:00:00+08:00\n")
    assert cli(config, "audit", "--limit", "0")[2] == "callfloor user: --limit must be positive, not 0\n"


def test_the_default_actor_is_the_os_user(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGNAME", "opsadmin")
    monkeypatch.setenv("USER", "opsadmin")
    cli(config, "add", "ann", "--role", "admin", "--password-stdin", stdin="long enough\n")
    out = cli(config, "audit")[1]
    assert out.startswith("2026-02-25 06:13:20Z  cli:opsadmin     user.added       user:ann ")


def test_a_bad_configuration_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[storage]\nnope = 1\n", encoding="utf-8")
    code, out, err = cli(bad, "list")
    assert code == 2 and out == "" and "bad.toml" in err and "nope" in err
