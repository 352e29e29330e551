"""The team lead's campaigns page.

    GET  /campaigns      the page (lead and admin change; QA only reads)

Everything it does goes through the campaigns API of ``callfloor/web/dialer.py``: the list, a
definition, create or replace, start and stop, delete, history, the leads by status and a lead
CSV's import report (``GET``/``POST /api/campaigns/{id}/leads``).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from callfloor.settings import Settings
from callfloor.web.auth import Role, User, current_user, requires
from callfloor.web.dialer import CAMPAIGN_EDITORS
from callfloor.web.monitor import asset_route, page

__all__ = ["EXAMPLE_CALLER_ID", "campaign_page_routes", "example_campaign", "may_change"]

EXAMPLE_CALLER_ID = "+12125550100"  # a valid number of a real range: the example must validate


def may_change(user: User) -> bool:
    """Whether ``user`` may create, change, start, stop and delete campaigns (QA only reads)."""
    return user.role in CAMPAIGN_EDITORS or user.role is Role.ADMIN


def example_campaign(settings: Settings) -> dict[str, Any]:
    """A small campaign that validates on this floor, to start the "New campaign" editor from.
    It names the first team (else the first seat) and is created stopped: its leads come first."""
    who: dict[str, Any] = ({"teams": [settings.teams[0].id]} if settings.teams
                           else {"seats": [settings.seats[0].id]} if settings.seats else {})
    return {"id": "new-campaign", "name": "New campaign", "active": False,
            "caller_id": EXAMPLE_CALLER_ID, "mode": "progressive", **who,
            "windows": {"hours": ["mon-fri 09:00-20:00", "sat 10:00-16:00"]},
            "dispositions": [{"code": "sale", "label": "Sale", "kind": "conversion"},
                             {"code": "refused", "label": "Refused", "kind": "refusal"},
                             {"code": "callback", "label": "Call back", "kind": "callback"}]}


def campaign_page_routes(settings: Settings) -> list[Route]:
    """The page and its assets; mount it where the campaign admin (and so its API) exists."""

    @requires(Role.LEAD, Role.QA)
    async def campaigns_page(request: Request) -> Response:
        user = current_user(request)
        assert user is not None, "requires() let a request through without a user"
        return page("campaigns.html", request, user, {
            "may_change": may_change(user), "example": example_campaign(settings),
            "seats": [s.id for s in settings.seats], "teams": [t.id for t in settings.teams]})

    return [
        Route("/campaigns", campaigns_page),
        asset_route("/campaigns/pages.js", "pages.js"),
        asset_route("/campaigns/campaigns.js", "campaigns.js"),
        asset_route("/campaigns/campaigns.css", "monitor.css"),
    ]
