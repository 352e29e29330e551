"""The seam between the SIP call engine and whatever decides where an inbound call goes.

The engine knows SIP and media; the IVR (``ivr/``) and the ACD (``floor/``) know flows and queues.
They meet here without importing each other: the engine calls a :class:`Director` when a call for
one of its numbers arrives, and hands it a :class:`CallControl` to answer, play, collect digits,
ring seats and hang up; the director watches the call through a :class:`CallObserver`.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["CallControl", "CallObserver", "Director"]


class CallObserver(Protocol):
    """What a hosted call reports to whoever controls it."""

    def digit(self, call: CallControl, digit: str, source: str, now: float) -> None: ...
    def playback_done(self, call: CallControl, token: str, now: float) -> None: ...
    def seat_answered(self, call: CallControl, seat: str, now: float) -> None: ...
    def seat_failed(self, call: CallControl, seat: str, status: int, now: float) -> None: ...
    def seat_hung_up(self, call: CallControl, seat: str, now: float) -> bool:
        """The bridged seat left; return True to keep hosting the caller (e.g. a survey)."""
        ...
    def caller_gone(self, call: CallControl, reason: str, now: float) -> None: ...


class CallControl(Protocol):
    """A call that callfloor answered itself, as the director drives it."""

    uuid: str
    caller: str
    callee: str
    variables: dict[str, str]

    def observe(self, observer: CallObserver) -> None: ...
    def play(self, token: str, prompts: tuple[str, ...], now: float, *, loop: bool = False) -> None: ...
    def stop_playback(self, now: float) -> None: ...
    def ring_seat(self, seat: str, now: float) -> bool:
        """Offer the call to ``seat``'s phones; False when the seat has none registered."""
        ...
    def cancel_seat(self, seat: str, now: float) -> None: ...
    def hangup(self, now: float, reason: str = "hangup") -> None: ...
    def set_timer(self, name: str, deadline: float, fn: TimerCallback) -> None: ...
    def cancel_timer(self, name: str) -> None: ...


class TimerCallback(Protocol):
    """A director timer."""

    def __call__(self, now: float) -> None: ...


class Director(Protocol):
    """Routes calls for its numbers and its feature codes; hears seats come and go."""

    def takes(self, number: str) -> bool:
        """True when calls to ``number`` (a DID) are the director's to route."""
        ...

    def is_feature_code(self, dialled: str) -> bool:
        """True when a seat dialling ``dialled`` means a presence change (``*1``...)."""
        ...

    def call_arrived(self, call: CallControl, now: float) -> None: ...
    def feature_code(self, seat: str, dialled: str, call: CallControl, now: float) -> None: ...
    def seat_reachable(self, seat: str, reachable: bool, now: float) -> None: ...
    def seat_busy(self, seat: str, busy: bool, now: float) -> None:
        """A seat is on (or off) a call the director did not place (direct, internal, outbound)."""
        ...
