"""A simulated seat's desk: what the person at the seat does on callfloor's HTTP API.

After a campaign call (its INVITE carried ``X-Callfloor-Campaign``) the seat reads its screen pop
(``GET /api/seats/{seat}/screen``: the lead and the campaign's dispositions) and, during its
wrap-up, sets a disposition (``POST /api/seats/{seat}/disposition``), sometimes booking a
callback a few minutes ahead. The HTTP client is the standard library's, run in a thread, so the
demo needs nothing the service does not.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from callfloor.sim.call import SimCall
from callfloor.sim.incoming import IncomingCall
from callfloor.sim.phone import pick

__all__ = ["ApiError", "DispositionPolicy", "SeatDesk", "api_request"]

CAMPAIGN_HEADER = "X-Callfloor-Campaign"
LEAD_HEADER = "X-Callfloor-Lead"


class ApiError(Exception):
    """The HTTP API answered with an error status (or not at all: status 0)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def _request(url: str, method: str, data: bytes | None, content_type: str, timeout: float) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": content_type} if data is not None else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as err:
        return int(err.code), err.read()


async def api_request(address: tuple[str, int], method: str, path: str, body: Any = None, *,
                      content_type: str = "application/json", timeout: float = 10.0) -> Any:
    """Call callfloor's HTTP API; the decoded JSON answer, or :class:`ApiError`. ``body`` is
    sent as JSON unless it is already bytes or text (a lead CSV)."""
    url = f"http://{address[0]}:{address[1]}{path}"
    data: bytes | None = None
    if isinstance(body, str):
        data = body.encode()
    elif isinstance(body, bytes):
        data = body
    elif body is not None:
        data = json.dumps(body).encode()
    try:
        status, raw = await asyncio.to_thread(_request, url, method, data, content_type, timeout)
    except OSError as err:  # refused, reset, timed out: the service is going away
        raise ApiError(0, str(err)) from None
    try:
        answer = json.loads(raw) if raw else None
    except ValueError:
        answer = raw.decode(errors="replace")
    if status >= 400:
        message = answer.get("error", "") if isinstance(answer, dict) else str(answer)
        raise ApiError(status, message)
    return answer


@dataclass(frozen=True)
class DispositionPolicy:
    """How a seat chooses: weights by the disposition's kind, and when a callback is due."""

    conversion: float = 0.30
    refusal: float = 0.35
    callback: float = 0.15
    other: float = 0.15
    dnc: float = 0.05
    callback_in: tuple[float, float] = (120.0, 300.0)  # seconds from now
    wrap: tuple[float, float] = (0.5, 2.0)  # seconds of typing before the disposition is sent

    def choose(self, rng: random.Random, dispositions: list[dict[str, Any]]) -> dict[str, Any] | None:
        """One of the campaign's dispositions (None if it offers none)."""
        if not dispositions:
            return None
        weights = [max(0.0, float(getattr(self, str(d.get("kind")), 0.0))) for d in dispositions]
        if not any(weights):
            weights = [1.0] * len(dispositions)
        return rng.choices(dispositions, weights=weights)[0]


class SeatDesk:
    """Seat ``seat``'s desk on the API at ``api``: dispositions after campaign calls."""

    def __init__(self, seat: str, api: tuple[str, int], *, rng: random.Random | None = None,
                 policy: DispositionPolicy | None = None, clock: Callable[[], float] = time.time,
                 on_disposed: Callable[[str, dict[str, Any]], None] | None = None,
                 on_error: Callable[[str, ApiError], None] | None = None) -> None:
        self.seat = seat
        self.api = api
        self.rng = rng or random.Random()
        self.policy = policy or DispositionPolicy()
        self.clock = clock
        self.on_disposed = on_disposed
        self.on_error = on_error
        self.disposed: list[dict[str, Any]] = []  # the rows the API returned
        self._tasks: set[asyncio.Task[Any]] = set()

    def call_ended(self, call: SimCall) -> None:
        """The phone's hook: a campaign call is over, wrap it up (in the background)."""
        if not isinstance(call, IncomingCall) or not call.answered:
            return
        campaign = call.invite.headers.get(CAMPAIGN_HEADER)
        if campaign is None:
            return
        lead = call.invite.headers.get(LEAD_HEADER)
        task = asyncio.get_running_loop().create_task(self.wrap_up(campaign, lead))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def wrap_up(self, campaign: str, lead: str | None = None) -> dict[str, Any] | None:
        """Read the screen, think for a moment, set a disposition; the API's row, or None (also
        when the screen already shows another lead than ``lead``)."""
        try:
            screen = await api_request(self.api, "GET", f"/api/seats/{self.seat}/screen")
            if lead is not None and str((screen.get("lead") or {}).get("id")) != lead:
                return None
            chosen = self.policy.choose(self.rng, list(screen.get("dispositions") or []))
            if chosen is None:
                return None
            await asyncio.sleep(pick(self.rng, self.policy.wrap) or 0.0)
            body: dict[str, Any] = {"code": chosen["code"], "note": f"demo seat {self.seat}"}
            if chosen.get("kind") == "callback":
                body["callback_at"] = round(self.clock() + self.rng.uniform(*self.policy.callback_in))
                body["callback_to"] = "campaign"
            row: dict[str, Any] = await api_request(
                self.api, "POST", f"/api/seats/{self.seat}/disposition", body)
        except ApiError as err:
            if self.on_error is not None:
                self.on_error(campaign, err)
            return None
        self.disposed.append(row)
        if self.on_disposed is not None:
            self.on_disposed(campaign, row)
        return row

    async def close(self) -> None:
        """Cancel wrap-ups still under way."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

