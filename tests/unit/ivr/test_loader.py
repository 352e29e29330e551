"""The loader: good flows load; each bad fixture is refused with the exact file/key message.

A bad fixture states what it must be refused with in ``# expect:`` lines ({file} is the path
given to the loader, {dir} its directory).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ivr.flow import Flow
from ivr.loader import FlowError, load_flow, load_flows
from ivr.params import ParamReader, StepError, check_template, keypath
from ivr.prompts import PromptLibrary
from ivr.verbs.collect import CollectParams
from ivr.verbs.enqueue import EnqueueParams
from ivr.verbs.menu import MenuParams
from tests.unit.ivr.ladder import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "ivr"
BAD = sorted((FIXTURES / "bad").glob("*.toml"))
QUEUES = ("sales", "support")
SEATS = ("1001", "1002")


def _expected(path: Path) -> list[str]:
    lines = path.read_text().splitlines()
    return [line.removeprefix("# expect: ").replace("{file}", str(path)).replace("{dir}", str(path.parent))
            for line in lines if line.startswith("# expect: ")]


def test_the_good_fixtures_load() -> None:
    flows = load_flows(FIXTURES / "good", queues=("support",), seats=("1001", "1002"))
    assert sorted(flows.flows) == ["every-verb", "minimal", "seat_line"]
    assert flows.numbers == {"15550900": "minimal", "15550901": "every-verb",
                             "15550902": "every-verb", "15550903": "seat_line"}
    every = flows.flows["every-verb"]
    assert every.source == FIXTURES / "good" / "every_verb.toml"
    assert every.start == "answer" and every.description == "one step of each verb"
    assert every.numbers == ("+15550901", "+1 555 0902")
    assert sorted({step.verb for step in every.steps.values()}) == sorted([
        "answer", "play", "say_digits", "say_number", "menu", "collect", "hours",
        "route_by_caller", "set", "enqueue", "transfer", "voicemail", "callback_request",
        "survey", "hangup",
    ])


def test_parsed_steps_hold_typed_values_and_exits() -> None:
    flow = load_flow(FIXTURES / "good" / "every_verb.toml", queues=QUEUES, seats=SEATS)
    menu = flow.step("menu")
    assert menu.params == MenuParams(("menu",), ("1", "2", "*", "#"), 4.5, 3, "invalid",
                                     "no_input", "choice")
    assert menu.exits == {"options.1": "priority", "options.2": "account",
                          "options.*": "welcome", "options.#": "message", "failure": "end"}
    assert flow.step("account").params == CollectParams(
        "account", ("enter_account",), 3, 6, "*", 7.0, 2.5, 2, "invalid", "no_input")
    assert flow.step("priority").params == EnqueueParams("support", 50, (("german", 60), ("billing", 20)))
    # An enqueue step without an overflow exit overflows to next; a voicemail without next hangs up.
    assert flow.step("priority").exits == {"next": "message", "timeout": "callback", "overflow": "message"}
    assert flow.step("message").exits == {}
    assert flow.step("callback").exits == {"next": "rate", "failed": "rate"}
    assert flow.step("who").targets() == ["operator", "priority", "welcome"]


def test_a_flow_without_prompt_steps_needs_no_prompts_directory() -> None:
    flow = load_flow(FIXTURES / "good" / "seat_line.toml", seats=("1001", "1002"))
    assert flow.name == "seat_line" and flow.step("bye").params.reason == "nobody there"


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_fixture_is_refused_with_file_and_key(path: Path) -> None:
    expected = _expected(path)
    assert expected, f"{path.name} has no '# expect:' line"
    with pytest.raises(FlowError) as caught:
        load_flow(path, library=PromptLibrary(), queues=QUEUES, seats=SEATS)
    assert list(caught.value.problems) == expected
    assert str(caught.value) == "\n".join(expected)


def test_a_number_claimed_twice_and_a_name_used_twice() -> None:
    directory = FIXTURES / "bad" / "number_twice"
    with pytest.raises(FlowError) as caught:
        load_flows(directory)
    assert list(caught.value.problems) == [
        f"{directory}/b.toml: numbers[0]: number '+1 (555) 0100' is already claimed by {directory}/a.toml",
        f"{directory}/c.toml: name: flow 'a' is already defined in {directory}/a.toml",
    ]


def test_load_flows_reports_every_file(tmp_path: Path) -> None:
    for name in ("unknown_verb", "missing_next"):
        shutil.copy(FIXTURES / "bad" / f"{name}.toml", tmp_path)
    with pytest.raises(FlowError) as caught:
        load_flows(tmp_path)
    assert [line.split(": ")[1] for line in caught.value.problems] == [
        "steps.welcome.next", "steps.welcome.verb",
    ]


def test_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(FlowError, match=r"nowhere: not a directory of IVR flows"):
        load_flows(tmp_path / "nowhere")
    assert load_flows(tmp_path).flows == {}


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(FlowError) as caught:
        load_flow(tmp_path / "missing.toml")
    assert caught.value.problems == (f"{tmp_path}/missing.toml: cannot read: No such file or directory",)


def test_queues_and_seats_are_checked_only_when_given() -> None:
    path = FIXTURES / "bad" / "unknown_queue.toml"
    assert isinstance(load_flow(path), Flow)
    with pytest.raises(FlowError, match=r"unknown queue 'salez' \(configured: none\)"):
        load_flow(path, queues=())


def test_prompts_of_two_flows_share_one_library(tmp_path: Path) -> None:
    library = PromptLibrary()
    flow = load_flow(FIXTURES / "good" / "minimal.toml", library=library)
    assert flow.prompts_dir == FIXTURES / "good" / "../../../../config/ivr/prompts"
    assert "goodbye" in library and "digits/7" in library and "hold" in library
    before = library.pcm("goodbye")
    load_flow(FIXTURES / "good" / "every_verb.toml", library=library)
    assert library.pcm("goodbye") is before  # decoded once


def test_param_reader_messages() -> None:
    r = ParamReader({"verb": "x", "n": 3, "flag": "yes", "names": ["a", 2]}, "steps.s")
    with pytest.raises(StepError, match=r"^steps.s.n: 3 is out of range 5..9$"):
        r.integer("n", lo=5, hi=9)
    with pytest.raises(StepError, match=r"^steps.s.flag: must be true or false, not a string$"):
        r.flag("flag")
    with pytest.raises(StepError, match=r"^steps.s.names\[1\]: must be a string, not an integer$"):
        r.texts("names")
    with pytest.raises(StepError, match=r"^steps.s.gone: missing \(a number is required\)$"):
        r.number("gone")
    r2 = ParamReader({"verb": "x", "extra": 1}, "steps.t")
    with pytest.raises(StepError, match=r"^steps.t.extra: unknown key for verb 'x'$"):
        r2.finish()


def test_keypath_and_templates() -> None:
    assert keypath("steps", "menu", "options", "3") == "steps.menu.options.3"
    assert keypath("numbers", 0) == "numbers[0]"
    assert keypath("", "start") == "start"
    assert check_template("call {caller} at {when}") is None
    assert check_template("{}") == "{} is not a variable name"
    assert check_template("50% off {") == "has an unbalanced { or }"
