"""QA scoring forms: the validated model and its loader for ``config/qa/*.toml``.

A form has an id and a version (evaluations keep the version they were scored on), sections
with weights, and items with weights. An item is yes/no or a scale (min..max), may allow n/a,
and may be a veto item (否决项): answered "no", it zeroes the whole score. Labels are given in
English and, optionally, Chinese. Errors are a ``FormError`` whose lines name the file, the
section and the item::

    config/qa/standard.toml: section 'opening' item 'greeting': weight: must be positive
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = [
    "Form",
    "FormError",
    "Item",
    "ItemType",
    "Section",
    "Text",
    "form_from_json",
    "load_form",
    "load_forms",
]

_ID = r"^[A-Za-z0-9_-]+$"
_MESSAGES = {"extra_forbidden": "unknown key (check the spelling)", "missing": "required key is missing"}
ItemType = Literal["yes_no", "scale"]


class FormError(Exception):
    """Form files that cannot be used; each line names the file, the section and the item."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Text(_Model):
    """A label in English and (optionally) Simplified Chinese."""

    en: str = Field(min_length=1, description="English text.")
    zh: str | None = Field(default=None, min_length=1, description="Chinese text; default: the English.")

    def get(self, lang: str) -> str:
        """The text in ``lang`` ("en" or "zh"), English when there is no translation."""
        return self.zh if lang == "zh" and self.zh else self.en


class Item(_Model):
    """One question of a form."""

    id: str = Field(pattern=_ID, description="Item id, unique in the form; answers are keyed by it.")
    label: Text = Field(description="The question the reviewer answers.")
    description: Text | None = Field(default=None, description="What counts as yes / each point.")
    type: ItemType = Field(default="yes_no", description="yes_no, or scale (an integer min..max).")
    weight: float = Field(default=1.0, ge=0, description="Weight within the section; 0 only for veto items.")
    min: int = Field(default=0, description="Lowest point of a scale (scores 0 %).")
    max: int = Field(default=5, description="Highest point of a scale (scores 100 %).")
    na: bool = Field(default=False, description="True: the reviewer may answer n/a (the item then does not count).")
    veto: bool = Field(default=False, description="Veto item (否决项): a 'no' zeroes the whole score.")

    @model_validator(mode="after")
    def _check(self) -> Item:
        if self.veto and self.type != "yes_no":
            raise ValueError("a veto item must be type = 'yes_no' (a 'no' is the failure)")
        if not self.veto and self.weight <= 0:
            raise ValueError("weight: must be positive (only a veto item may weigh 0)")
        if self.type == "scale" and self.max <= self.min:
            raise ValueError(f"max ({self.max}) must be greater than min ({self.min})")
        return self


class Section(_Model):
    """A group of items with its weight in the total."""

    id: str = Field(pattern=_ID, description="Section id, unique in the form.")
    title: Text = Field(description="Section heading.")
    weight: float = Field(ge=0, description="Weight in the total; 0 only for a section of veto items.")
    items: tuple[Item, ...] = Field(min_length=1, description="The questions, in order.")

    @model_validator(mode="after")
    def _check(self) -> Section:
        scoring = [i for i in self.items if i.weight > 0]
        if self.weight > 0 and not scoring:
            raise ValueError("a weighted section needs an item with a positive weight")
        if self.weight == 0 and not all(i.veto for i in self.items):
            raise ValueError("weight: must be positive (only a section of veto items may weigh 0)")
        return self


class Form(_Model):
    """A scoring form at one version."""

    id: str = Field(pattern=_ID, description="Form id; default: the file name without .toml.")
    version: int = Field(ge=1, description="Raise it on every change: evaluations keep their version.")
    title: Text = Field(description="Form title.")
    description: Text | None = Field(default=None, description="What the form is for.")
    sections: tuple[Section, ...] = Field(min_length=1, description="Sections in order.")

    @model_validator(mode="after")
    def _check(self) -> Form:
        for kind, ids in (("section", [s.id for s in self.sections]), ("item", [i.id for i in self.items()])):
            twice = sorted({i for i in ids if ids.count(i) > 1})
            if twice:
                raise ValueError(f"{kind} ids must be unique in the form: {', '.join(twice)}")
        if not any(s.weight > 0 for s in self.sections):
            raise ValueError("sections: at least one section needs a positive weight")
        return self

    def items(self) -> Iterator[Item]:
        """Every item, section by section."""
        for section in self.sections:
            yield from section.items

    def item(self, item_id: str) -> Item | None:
        """The item with this id, if the form has it."""
        return next((i for i in self.items() if i.id == item_id), None)

    def section_of(self, item_id: str) -> Section | None:
        """The section holding this item."""
        return next((s for s in self.sections if any(i.id == item_id for i in s.items)), None)

    @property
    def key(self) -> tuple[str, int]:
        """(id, version): what an evaluation refers to."""
        return self.id, self.version


def form_from_json(text: str | bytes) -> Form:
    """A form stored as JSON (``Form.model_dump_json``)."""
    return Form.model_validate_json(text)


def load_form(path: Path) -> Form:
    """One form file; ``FormError`` names the file, section and item of every problem."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise FormError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise FormError([f"{path}: TOML syntax error: {exc}"]) from None
    data.setdefault("id", path.stem)
    try:
        return Form.model_validate(data)
    except ValidationError as exc:
        raise FormError(_explain(exc, data, str(path))) from None


def load_forms(folder: Path) -> list[Form]:
    """Every ``*.toml`` in ``folder`` (sorted by file name); one (id, version) per file."""
    if not folder.is_dir():
        raise FormError([f"{folder}: not a directory of QA form files"])
    problems: list[str] = []
    found: dict[tuple[str, int], Path] = {}
    forms: list[Form] = []
    for path in sorted(folder.glob("*.toml")):
        try:
            form = load_form(path)
        except FormError as exc:
            problems += exc.problems
            continue
        if form.key in found:
            problems.append(f"{path}: form {form.id!r} version {form.version} is also in {found[form.key]}")
        found[form.key] = path
        forms.append(form)
    if problems:
        raise FormError(problems)
    return forms


def _name(entries: Any, index: int, kind: str) -> str:
    entry = entries[index] if isinstance(entries, list) and index < len(entries) else None
    if isinstance(entry, Mapping) and isinstance(entry.get("id"), str):
        return f"{kind} {entry['id']!r}"
    return f"{kind} {index + 1}"


def _where(loc: tuple[str | int, ...], data: Mapping[str, Any]) -> tuple[str, str]:
    """("section 'x' item 'y'", "key.path") for a pydantic location."""
    place: list[str] = []
    rest = list(loc)
    if rest[:1] == ["sections"] and len(rest) > 1 and isinstance(rest[1], int):
        sections = data.get("sections")
        place.append(_name(sections, rest[1], "section"))
        rest = rest[2:]
        section = sections[loc[1]] if isinstance(sections, list) and isinstance(loc[1], int) and loc[1] < len(sections) else {}
        if rest[:1] == ["items"] and len(rest) > 1 and isinstance(rest[1], int):
            items = section.get("items") if isinstance(section, Mapping) else None
            place.append(_name(items, rest[1], "item"))
            rest = rest[2:]
    key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in rest).lstrip(".")
    return " ".join(place), key


def _explain(exc: ValidationError, data: Mapping[str, Any], source: str) -> list[str]:
    found: list[tuple[tuple[str | int, ...], str]] = []
    for error in exc.errors():
        loc = tuple(p for p in error["loc"] if isinstance(p, int) or "[" not in p)
        found.append((loc, _MESSAGES.get(error["type"], error["msg"]).removeprefix("Value error, ")))
    lines = []
    for loc, message in found:
        if any(len(other) > len(loc) and other[: len(loc)] == loc for other, _ in found):
            continue  # a deeper error says it better ("item 2 is bad" beats "too few items")
        place, key = _where(loc, data)
        # A message that names its key ("weight: ...") needs no key in front of it.
        head = ": ".join(p for p in (place, "" if message.split(":")[0] == key else key) if p)
        lines.append(f"{source}: {head or '(top level)'}: {message}")
    return lines
