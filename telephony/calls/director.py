"""The seam between the SIP call engine and whatever decides where an inbound call goes.

The engine knows SIP and media; the IVR (``ivr/``) and the ACD (``floor/``) know flows and queues.
They meet here without importing each other: the engine calls a :class:`Director` when a call for
one of its numbers arrives, and hands it a :class:`CallControl` to answer, play, collect digits,
ring seats and hang up; the director watches the call through a :class:`CallObserver`.

The dialer meets the engine the same way from the other side: it asks the engine to originate a
call to a customer and watches it through a :class:`DialObserver` (progress, answer, failure,
the answering-machine verdict); once answered the call is a :class:`DialControl`, a
``CallControl`` that can also ring a seat with auto-answer and listen to the customer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

__all__ = ["CallControl", "CallObserver", "DialControl", "DialObserver", "Director"]


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
    def recording_done(self, call: CallControl, token: str, path: str, seconds: float,
                       now: float) -> None: ...


class CallControl(Protocol):
    """A call that callfloor answered itself, as the director drives it."""

    uuid: str
    caller: str
    callee: str
    variables: dict[str, str]

    def observe(self, observer: CallObserver) -> None: ...
    def play(self, token: str, prompts: tuple[str, ...], now: float, *, loop: bool = False) -> None: ...
    def stop_playback(self, now: float) -> None: ...
    def record(self, token: str, max_seconds: float, now: float) -> str: ...
    def stop_recording(self, now: float) -> None: ...
    def ring_seat(self, seat: str, now: float) -> bool:
        """Offer the call to ``seat``'s phones; False when the seat has none registered."""
        ...
    def cancel_seat(self, seat: str, now: float) -> None: ...
    def ring_number(self, number: str, now: float) -> bool:
        """Call an outside number through the carrier; reported as the seat ``number:<n>``."""
        ...
    def hangup(self, now: float, reason: str = "hangup") -> None: ...
    def set_timer(self, name: str, deadline: float, fn: Callable[[float], None]) -> None: ...
    def cancel_timer(self, name: str) -> None: ...


class DialControl(CallControl, Protocol):
    """A call callfloor placed to a customer (the dialer's), as its observer drives it."""

    def ring_seat(self, seat: str, now: float, *, auto_answer: bool | None = None,
                  headers: Sequence[tuple[str, str]] | None = None) -> bool:
        """Offer the customer to ``seat``'s phones, asking them to answer at once when
        ``auto_answer``, with ``headers`` (e.g. the lead id) added to each INVITE."""
        ...
    def analyze(self, token: str, max_seconds: float, now: float) -> None:
        """Feed the customer's audio to the classifier (AMD); ``audio_classified`` follows once."""
        ...


class DialObserver(CallObserver, Protocol):
    """What an originated call reports besides the hosted-call events.

    ``dial_progress``: 180/183 (ring-back, early media: never an answer). ``dial_answered``: a 2xx,
    the call is hosted and a prompt can play at once. ``dial_failed``: the call never got a 2xx and
    is over (its call-detail row is closed); ``reason`` is "busy", "declined", "no_answer",
    "invalid_number", "rejected", "network_error", or the reason callfloor hung up with.
    """

    def dial_progress(self, call: DialControl, status: int, now: float) -> None: ...
    def dial_answered(self, call: DialControl, now: float) -> None: ...
    def dial_failed(self, call: DialControl, status: int, reason: str, now: float) -> None: ...
    def audio_classified(self, call: DialControl, token: str, verdict: str,
                         detail: dict[str, float], now: float) -> None: ...
    def call_ended(self, call: DialControl, reason: str, by: str | None, now: float) -> None:
        """An answered call is over (``by``: "customer", "seat", "callfloor" or None)."""
        ...


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
