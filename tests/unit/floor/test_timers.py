"""The ACD's timer heap: one due key at a time, replace, cancel."""

from __future__ import annotations

from floor.timers import TimerHeap


def test_pop_next_returns_due_keys_one_at_a_time_earliest_first() -> None:
    heap: TimerHeap[str] = TimerHeap()
    heap.schedule("b", 20.0)
    heap.schedule("a", 10.0)
    heap.schedule("c", 30.0)
    assert heap.next_deadline() == 10.0
    assert heap.pop_next(25.0) == "a"
    assert heap.pop_next(25.0) == "b"
    assert heap.pop_next(25.0) is None
    assert len(heap) == 1 and "c" in heap
    assert heap.pop_next(30.0) == "c"                     # a deadline equal to now is due
    assert heap.next_deadline() is None and heap.pop_next(99.0) is None


def test_cancel_between_pops_takes_effect() -> None:
    heap: TimerHeap[str] = TimerHeap()
    for key in ("x", "y", "z"):
        heap.schedule(key, 5.0)
    assert heap.pop_next(5.0) == "x"
    heap.cancel("y")                                      # e.g. an overflow cancels a ring timer
    assert heap.pop_next(5.0) == "z"
    assert heap.pop_next(5.0) is None


def test_rescheduling_replaces_the_deadline() -> None:
    heap: TimerHeap[tuple[str, str]] = TimerHeap()
    heap.schedule(("announce", "c1"), 30.0)
    heap.schedule(("announce", "c1"), 60.0)
    assert heap.deadline(("announce", "c1")) == 60.0
    assert heap.pop_next(59.0) is None
    assert heap.pop_next(60.0) == ("announce", "c1")
    heap.cancel(("never", "scheduled"))                   # a no-op
    assert len(heap) == 0
