"""Counters the ACD keeps: per seat what the strategies need, per queue a small outcome set.

Seat counters are per day (fewest-calls and least-talk-time compare today's figures): they are
rolled over lazily when the day key (from the ACD's injected ``day_of(now)``) changes. Queue
counters run from the ACD's start; the live monitor computes its windows from the events.

Service level (the formula we chose, documented in one place)::

    SL = answered within threshold / (answered + abandoned after threshold + overflowed)

Callers who hang up within the threshold ("short abandons") are left out: they gave up before
the queue could reasonably answer. Overflowed callers count as missed whenever they left, because
this queue did not serve them. "Within" means ``wait <= threshold``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HANDLE_TIME_WEIGHT", "QueueStats", "SeatStats"]

# Weight of the newest call in the handle-time estimate (an exponential moving average, like
# app_queue's hold time): recent calls matter more, one odd call does not swing the estimate.
HANDLE_TIME_WEIGHT = 0.25


@dataclass
class SeatStats:
    """Per-seat counters for the day ``day``, and when the seat last became available."""

    day: int = 0
    calls: int = 0  # queue calls answered today
    talk_time: float = 0.0  # seconds of queue calls ended today
    offers: int = 0
    no_answers: int = 0
    last_call_end: float | None = None
    idle_since: float = 0.0  # when the seat last became available (ready, no call)

    def roll(self, day: int) -> None:
        """Start a new day's counters when ``day`` differs from the counters' day."""
        if day != self.day:
            self.day, self.calls, self.talk_time, self.offers, self.no_answers = day, 0, 0.0, 0, 0

    def offered(self, day: int) -> None:
        """The seat was offered a call."""
        self.roll(day)
        self.offers += 1

    def missed(self, day: int) -> None:
        """The seat let an offer ring out."""
        self.roll(day)
        self.no_answers += 1

    def answered(self, day: int) -> None:
        """The seat answered a queue call."""
        self.roll(day)
        self.calls += 1

    def ended(self, now: float, talk: float, day: int) -> None:
        """A queue call of ``talk`` seconds ended at ``now`` (counted on the day it ended)."""
        self.roll(day)
        self.talk_time += talk
        self.last_call_end = now


@dataclass
class QueueStats:
    """One queue's outcome counters since the ACD started.

    ``offered`` counts callers that entered the queue, so at any moment
    ``offered == waiting + ringing + answered + abandoned + overflowed``.
    """

    threshold: float
    handle_time_estimate: float  # seconds (talk + wrap-up); starts at the queue's default
    offered: int = 0
    answered: int = 0
    answered_within: int = 0
    abandoned: int = 0
    abandoned_within: int = 0
    overflowed: int = 0
    answer_wait_total: float = 0.0
    abandon_wait_total: float = 0.0
    ended: int = 0
    handle_time_total: float = 0.0

    def joined(self) -> None:
        """A caller entered the queue."""
        self.offered += 1

    def answer(self, wait: float) -> bool:
        """A caller was answered after ``wait`` seconds; returns whether within the threshold."""
        within = wait <= self.threshold
        self.answered += 1
        self.answered_within += within
        self.answer_wait_total += wait
        return within

    def abandon(self, wait: float) -> bool:
        """A caller hung up after ``wait`` seconds; returns whether within the threshold."""
        within = wait <= self.threshold
        self.abandoned += 1
        self.abandoned_within += within
        self.abandon_wait_total += wait
        return within

    def overflow(self) -> None:
        """A caller was sent to the overflow target."""
        self.overflowed += 1

    def handled(self, handle_time: float) -> None:
        """An answered call ended; ``handle_time`` is talk plus the queue's wrap-up."""
        self.ended += 1
        self.handle_time_total += handle_time
        if self.ended == 1:
            self.handle_time_estimate = handle_time
        else:
            w = HANDLE_TIME_WEIGHT
            self.handle_time_estimate = (1 - w) * self.handle_time_estimate + w * handle_time

    def service_level(self) -> float | None:
        """The share of callers served within the threshold (module docstring); ``None`` before any."""
        denominator = self.answered + (self.abandoned - self.abandoned_within) + self.overflowed
        return self.answered_within / denominator if denominator else None

    def average_speed_of_answer(self) -> float | None:
        """Mean wait of the answered callers (ASA)."""
        return self.answer_wait_total / self.answered if self.answered else None

    def average_handle_time(self) -> float | None:
        """Mean talk plus wrap-up of the calls that ended (AHT)."""
        return self.handle_time_total / self.ended if self.ended else None
