"""``route_by_caller``: branch on who is calling, by number lists or the customer table.

    [steps.vip_check]
    verb = "route_by_caller"
    lookup = true               # ask the customer table for the caller's tier (default false)
    default = "welcome"         # no list matched, no tier, or a tier without a branch
    [steps.vip_check.lists]
    vip = ["+15550199", "+1555012*"]   # whole numbers, or prefixes ending in *
    [steps.vip_check.branches]
    vip = "vip_greeting"
    gold = "vip_greeting"       # a tier the customer table may answer

Lists are tried in file order before the lookup. Numbers are compared by their digits only.
The matched list or tier is stored as the variable ``caller_tier``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ivr.context import Context, digits_only
from ivr.params import NAME_RE, ParamReader
from ivr.verbs.base import Handler, Result, Verb

__all__ = ["VERB", "RouteHandler", "RouteParams", "parse"]

_PATTERN = re.compile(r"\+?[0-9][0-9 ()./-]*\*?\Z")


@dataclass(frozen=True)
class RouteParams:
    """Named number lists (exact numbers and prefixes), the lookup switch, the branch names."""

    lists: tuple[tuple[str, tuple[str, ...]], ...]
    lookup: bool
    branches: frozenset[str]


def _names(r: ParamReader, key: str) -> dict[str, object]:
    table = r.table_of(key, {})
    for name in table:
        if not NAME_RE.match(name):
            raise r.error("is not a name (letters, digits, _)", key, name)
    return table


def parse(r: ParamReader) -> RouteParams:
    """Read a ``route_by_caller`` step; every list needs a branch of the same name."""
    lists: list[tuple[str, tuple[str, ...]]] = []
    for name, numbers in _names(r, "lists").items():
        if not isinstance(numbers, list) or not all(isinstance(n, str) for n in numbers):
            raise r.error("must be a list of numbers", "lists", name)
        for i, number in enumerate(numbers):
            if not _PATTERN.match(number):
                raise r.error(f"{number!r} is not a number or a prefix ending in *", "lists", name, i)
        lists.append((name, tuple(numbers)))
    lookup = r.flag("lookup", False)
    branches = _names(r, "branches")
    for name, target in branches.items():
        if not isinstance(target, str):
            raise r.error("must be a step name", "branches", name)
        r.exits[f"branches.{name}"] = target
    for name, _ in lists:
        if name not in branches:
            raise r.error(f"no branch for list {name!r} (add branches.{name})", "lists", name)
    if not lists and not lookup:
        raise r.error("needs lists, lookup = true, or both")
    r.exit("default")
    return RouteParams(tuple(lists), lookup, frozenset(branches))


def matches(caller: str, pattern: str) -> bool:
    """Whether a caller's number is ``pattern`` (or starts with it, for "prefix*")."""
    number, wanted = digits_only(caller), digits_only(pattern)
    if not number:
        return False
    return number.startswith(wanted) if pattern.endswith("*") else number == wanted


class RouteHandler(Handler):
    """Leaves by ``branches.<list or tier>`` or ``default`` at once."""

    def __init__(self, params: RouteParams) -> None:
        self.params = params

    def tier(self, ctx: Context) -> str | None:
        """The caller's list name, else the customer table's tier, else None."""
        for name, patterns in self.params.lists:
            if any(matches(ctx.call.caller, p) for p in patterns):
                return name
        if self.params.lookup and ctx.customers is not None:
            return ctx.customers.tier(ctx.call.caller)
        return None

    def start(self, ctx: Context, now: float) -> Result:
        tier = self.tier(ctx)
        if not tier:
            return Result(exit="default")
        store = ctx.update({"caller_tier": tier})
        branch = f"branches.{tier}" if tier in self.params.branches else "default"
        return Result((store,), exit=branch)


VERB = Verb("route_by_caller", parse, RouteHandler)
