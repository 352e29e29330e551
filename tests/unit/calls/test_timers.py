"""TimerHeap: keyed deadlines with replace, cancel and lazy deletion."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from telephony.calls.timers import TimerHeap


def test_pop_due_returns_keys_in_deadline_order_up_to_now() -> None:
    heap = TimerHeap()
    heap.schedule("b", 20.0)
    heap.schedule("a", 10.0)
    heap.schedule("c", 30.0)
    assert heap.next_deadline() == 10.0
    assert heap.pop_due(25.0) == ["a", "b"]
    assert heap.pop_due(25.0) == []
    assert len(heap) == 1 and "c" in heap and "a" not in heap
    assert heap.pop_due(30.0) == ["c"]                      # a deadline equal to now is due
    assert heap.next_deadline() is None


def test_equal_deadlines_fire_in_scheduling_order() -> None:
    heap = TimerHeap()
    for key in ("x", "y", "z"):
        heap.schedule(key, 5.0)
    assert heap.pop_due(5.0) == ["x", "y", "z"]


def test_rescheduling_replaces_the_deadline() -> None:
    heap = TimerHeap()
    heap.schedule(("call", "ring"), 10.0)
    heap.schedule(("call", "ring"), 40.0)
    assert heap.deadline(("call", "ring")) == 40.0
    assert heap.next_deadline() == 40.0                      # the stale 10.0 entry is skipped
    assert heap.pop_due(39.0) == []
    assert heap.pop_due(40.0) == [("call", "ring")]
    heap.schedule("k", 50.0)
    heap.schedule("k", 45.0)                                 # earlier works too
    assert heap.pop_due(46.0) == ["k"] and heap.pop_due(60.0) == []


def test_cancel_forgets_and_is_idempotent() -> None:
    heap = TimerHeap()
    heap.schedule("a", 1.0)
    heap.cancel("a")
    heap.cancel("a")
    heap.cancel("never")
    assert len(heap) == 0 and heap.deadline("a") is None
    assert heap.next_deadline() is None and heap.pop_due(100.0) == []


@given(st.lists(st.tuples(st.sampled_from("abcdef"), st.one_of(st.none(), st.integers(0, 50)))))
def test_behaves_like_a_dict_of_deadlines(ops: list[tuple[str, int | None]]) -> None:
    heap, model = TimerHeap(), dict[str, float]()
    for key, deadline in ops:
        if deadline is None:
            heap.cancel(key)
            model.pop(key, None)
        else:
            heap.schedule(key, float(deadline))
            model[key] = float(deadline)
    assert len(heap) == len(model)
    assert heap.next_deadline() == (min(model.values()) if model else None)
    due = [str(k) for k in heap.pop_due(25.0)]
    assert set(due) == {k for k, d in model.items() if d <= 25.0}
    assert [model[k] for k in due] == sorted(model[k] for k in due)
    assert len(heap) == len(model) - len(due)
