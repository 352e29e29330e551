"""The inbound floor under test: settings with the demo IVR and its queues, stored events, seat state.

Tests of the IVR and the ACD start callfloor on ``config/ivr`` (the demo line +15550100: 1 sales,
2 support, 3 account number, 9 VIP, 0 operator) with seats 1001-1004 in the support and sales
queues. Seats start logged out; a test makes them ready by feature code (or the HTTP API).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from callfloor.app import Running
from callfloor.settings import Settings
from floor.snapshot import SeatView
from tests.integration.harness import CARRIER_HOST, floor_settings, free_port

__all__ = ["DEMO_FLOWS", "queue_floor_settings", "queues", "seat_view", "seats", "stored_events"]

DEMO_FLOWS = Path(__file__).resolve().parents[3] / "config" / "ivr"


def seats(queue_names: tuple[str, ...] = ("support", "sales")) -> list[dict[str, Any]]:
    """Seats 1001-1004 (password secret100N), members of ``queue_names``."""
    return [{"id": f"100{i}", "password": f"secret100{i}", "queues": list(queue_names)}
            for i in range(1, 5)]


def queues(**support: Any) -> list[dict[str, Any]]:
    """The demo flow's three queues; ``support`` keys override the support queue's defaults."""
    return [{"name": "support", "ring_timeout": 6, "wrap_up": 1, **support},
            {"name": "sales", "ring_timeout": 6, "wrap_up": 1},
            {"name": "vip", "ring_timeout": 6}]


def queue_floor_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """A floor running the demo flows, MD5-only digest (SIPp and baresip need it) and free ports."""
    data: dict[str, Any] = {
        "trunk": {"port": free_port(CARRIER_HOST)},
        "seats": seats(),
        "queues": queues(),
        "ivr": {"flows": str(DEMO_FLOWS)},
        "sip": {"auth_algorithms": ["MD5"]},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return floor_settings(tmp_path, **data)


async def stored_events(service: Running, kind: str) -> list[dict[str, Any]]:
    """Every stored event of ``kind``, oldest first, after the executor's queued writes landed."""
    await service.executor.close()
    service.executor.start()
    return [e.data for e in reversed(await service.store.events(kind=kind, limit=1000))]


def seat_view(service: Running, seat: str) -> SeatView:
    """The ACD's current view of ``seat``."""
    board = service.switchboard
    assert board is not None, "the floor has no switchboard ([ivr] flows unset)"
    return board.acd.snapshot(service.sip.clock()).seats[seat]

