"""Settings of quality inspection (`[qa]`): where the scoring forms and the sampling policy live."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from callfloor.settings.sections import Section

__all__ = ["QaSettings"]


class QaSettings(Section):
    """QA scoring forms and the daily sampling policy (`[qa]`, docs/qa.md)."""

    forms: Path = Field(default=Path("config/qa"), description="Directory of QA scoring forms (*.toml), relative to the working directory.")
    auto_sample: bool = Field(default=True, description="The service draws each finished day's sample after midnight (and any of the last week it missed while stopped); false: only `callfloor qa sample`.")
    policy: Path | None = Field(default=None, description="Sampling policy TOML (quota per seat, new seats, risk share and flags); unset: the defaults of docs/qa.md.")
