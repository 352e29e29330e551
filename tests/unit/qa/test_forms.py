"""Form files: the shipped forms, the model's rules, errors naming file, section and item."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.forms import Form, FormError, load_form, load_forms

ROOT = Path(__file__).resolve().parents[3]
HEAD = 'version = 1\ntitle = { en = "T" }\n'
SECTION = '[[sections]]\nid = "open"\ntitle = { en = "Opening" }\nweight = 10\n'


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(path: Path) -> list[str]:
    with pytest.raises(FormError) as caught:
        load_form(path)
    return list(caught.value.problems)


def item(text: str) -> str:
    return f'[[sections.items]]\nlabel = {{ en = "x" }}\n{text}\n'


def test_the_shipped_forms() -> None:
    standard, outbound = sorted(load_forms(ROOT / "config" / "qa"), key=lambda f: f.id, reverse=True)
    assert standard.key == ("standard", 1) and outbound.key == ("outbound", 1)
    assert [s.id for s in standard.sections] == ["opening", "handling", "manner", "closing", "veto"]
    assert [i.id for i in standard.items() if i.veto] == ["no_abuse", "no_data_leak"]
    assert [i.id for i in outbound.items() if i.veto] == ["no_false_promise", "honours_refusal"]
    assert standard.sections[-1].title.get("zh") == "否决项"
    for form in (standard, outbound):
        assert all(i.label.zh for i in form.items()), form.id
    assert standard.title.get("en") == "Inbound service"


def test_text_falls_back_to_english(form: Form) -> None:
    assert (form.title.get("zh"), form.sections[0].title.get("zh"), form.sections[0].title.get("en")) == ("测试表", "A", "A")


def test_lookups(form: Form) -> None:
    assert form.item("a2") is not None and form.item("a2").type == "scale"  # type: ignore[union-attr]
    assert form.item("zz") is None
    assert form.section_of("b2") is form.sections[1]


def test_the_id_defaults_to_the_file_name(tmp_path: Path) -> None:
    form = load_form(write(tmp_path, "survey.toml", HEAD + SECTION + item('id = "a"')))
    assert form.key == ("survey", 1)


def test_errors_name_file_section_and_item(tmp_path: Path) -> None:
    path = write(tmp_path, "f.toml", HEAD + SECTION + item('id = "greet"\nweight = 0') + item('id = "tone"\ntype = "scale"\nmin = 5\nmax = 5'))
    assert refused(path) == [
        f"{path}: section 'open' item 'greet': weight: must be positive (only a veto item may weigh 0)",
        f"{path}: section 'open' item 'tone': max (5) must be greater than min (5)",
    ]


def test_a_key_error_names_its_key(tmp_path: Path) -> None:
    path = write(tmp_path, "f.toml", HEAD + SECTION + item('id = "greet"\ntype = "maybe"\ncolour = 1'))
    assert refused(path) == [
        f"{path}: section 'open' item 'greet': type: Input should be 'yes_no' or 'scale'",
        f"{path}: section 'open' item 'greet': colour: unknown key (check the spelling)",
    ]


def test_an_item_without_id_is_named_by_position(tmp_path: Path) -> None:
    path = write(tmp_path, "f.toml", HEAD + SECTION + item('id = "a"') + item(""))
    assert refused(path) == [f"{path}: section 'open' item 2: id: required key is missing"]


def test_veto_items_are_yes_no(tmp_path: Path) -> None:
    path = write(tmp_path, "f.toml", HEAD + SECTION + item('id = "a"') + item('id = "v"\nveto = true\ntype = "scale"'))
    assert refused(path) == [f"{path}: section 'open' item 'v': a veto item must be type = 'yes_no' (a 'no' is the failure)"]


def test_duplicate_ids_and_weights(tmp_path: Path) -> None:
    path = write(tmp_path, "f.toml", HEAD + SECTION + item('id = "a"') + item('id = "a"'))
    assert refused(path) == [f"{path}: (top level): item ids must be unique in the form: a"]
    zero = SECTION.replace("weight = 10", "weight = 0")
    path = write(tmp_path, "g.toml", HEAD + zero + item('id = "a"'))
    assert refused(path) == [f"{path}: section 'open': weight: must be positive (only a section of veto items may weigh 0)"]
    path = write(tmp_path, "h.toml", HEAD + zero + item('id = "v"\nveto = true\nweight = 0'))
    assert refused(path) == [f"{path}: (top level): sections: at least one section needs a positive weight"]


def test_missing_keys_and_bad_files(tmp_path: Path) -> None:
    path = write(tmp_path, "f.toml", 'title = { en = "T" }\n')
    assert refused(path) == [f"{path}: version: required key is missing", f"{path}: sections: required key is missing"]
    bad = write(tmp_path, "bad.toml", "version = \n")
    assert refused(bad)[0].startswith(f"{bad}: TOML syntax error: ")
    assert refused(tmp_path / "none.toml")[0] == f"{tmp_path / 'none.toml'}: cannot read: No such file or directory"


def test_load_forms_collects_every_problem(tmp_path: Path) -> None:
    good = HEAD + SECTION + item('id = "a"')
    write(tmp_path, "a.toml", good.replace("version = 1", 'id = "same"\nversion = 1'))
    write(tmp_path, "b.toml", good.replace("version = 1", 'id = "same"\nversion = 1'))
    write(tmp_path, "c.toml", "version = 0\n" + good.removeprefix("version = 1\n"))
    with pytest.raises(FormError) as caught:
        load_forms(tmp_path)
    assert caught.value.problems == (
        f"{tmp_path / 'b.toml'}: form 'same' version 1 is also in {tmp_path / 'a.toml'}",
        f"{tmp_path / 'c.toml'}: version: Input should be greater than or equal to 1",
    )
    with pytest.raises(FormError, match="not a directory"):
        load_forms(tmp_path / "nowhere")


def test_json_round_trip(form: Form) -> None:
    from qa.forms import form_from_json

    assert form_from_json(form.model_dump_json()) == form
