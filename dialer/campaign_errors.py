"""Campaign errors: every problem one line naming its source (a file, or a request's body) and
the key path, as the settings loader words them."""

from __future__ import annotations

from pydantic import ValidationError

__all__ = ["CampaignError", "explain"]

_MESSAGES = {"extra_forbidden": "unknown key (check the spelling)", "missing": "required key is missing"}


class CampaignError(Exception):
    """Campaigns that cannot be used; each line names the file (or the body) and the key."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


def explain(exc: ValidationError, source: str) -> list[str]:
    """One line per problem of a validation error: ``<source>: key.path: problem``."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    for error in exc.errors():
        # Tags pydantic adds for unions and validators ("function-after[...]") are no keys.
        loc = tuple(p for p in error["loc"] if isinstance(p, int) or "[" not in p)
        message = _MESSAGES.get(error["type"], error["msg"]).removeprefix("Value error, ")
        found.append((loc, message))
    lines = []
    for loc, message in found:
        if any(len(other) > len(loc) and other[: len(loc)] == loc for other, _ in found):
            continue  # a deeper error says it better ("item 0 is bad" beats "too few items")
        key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
        lines.append(f"{source}: {key or '(top level)'}: {message}")
    return lines
