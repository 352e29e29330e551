"""``set``: set call variables; they travel with the call to the seat and into the record.

    [steps.sales]
    verb = "set"
    next = "enqueue_sales"
    [steps.sales.variables]
    department = "sales"
    note = "called {dialled} from {caller}"   # templates over the call's values
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr.context import BUILTINS, Context
from ivr.params import NAME_RE, ParamReader, check_template
from ivr.verbs.base import Handler, Result, Verb

__all__ = ["VERB", "SetHandler", "SetParams", "parse"]


@dataclass(frozen=True)
class SetParams:
    """Variable name → value template, in file order."""

    variables: tuple[tuple[str, str], ...]


def parse(r: ParamReader) -> SetParams:
    """Read a ``set`` step; values may be strings, integers or booleans."""
    table = r.table_of("variables")
    if not table:
        raise r.error("needs at least one variable", "variables")
    out: list[tuple[str, str]] = []
    for name, value in table.items():
        if not NAME_RE.match(name):
            raise r.error("is not a name (letters, digits, _)", "variables", name)
        if name in BUILTINS:
            raise r.error(f"{name!r} is built in and cannot be set", "variables", name)
        if isinstance(value, bool):
            value = "true" if value else "false"
        if not isinstance(value, str | int):
            raise r.error("must be a string, an integer or a boolean", "variables", name)
        if problem := check_template(str(value)):
            raise r.error(problem, "variables", name)
        out.append((name, str(value)))
    r.exit("next")
    return SetParams(tuple(out))


class SetHandler(Handler):
    """Sets the variables, reports them (``StoreVariables``) and leaves at once."""

    def __init__(self, params: SetParams) -> None:
        self.params = params

    def start(self, ctx: Context, now: float) -> Result:
        values = {name: ctx.render(template) for name, template in self.params.variables}
        return Result((ctx.update(values),), exit="next")


VERB = Verb("set", parse, SetHandler)
