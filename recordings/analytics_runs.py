"""Runs of True in boolean frame masks, vectorised: find them, bridge gaps, drop short ones.

A run is a half-open index range ``[start, end)``. Every helper works on whole arrays, so the
cost is a few numpy passes whatever the number of runs.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["Bools", "Ints", "close_gaps", "drop_short", "from_runs", "moving_sum", "runs"]

Bools = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]


def runs(mask: Bools) -> tuple[Ints, Ints]:
    """Start and end (exclusive) indices of every run of True in ``mask``."""
    edges = np.diff(mask.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(edges == 1).astype(np.int64)
    ends = np.flatnonzero(edges == -1).astype(np.int64)
    return starts, ends


def from_runs(n: int, starts: Ints, ends: Ints) -> Bools:
    """A mask of length ``n`` that is True inside the given (disjoint) runs."""
    delta = np.zeros(n + 1, dtype=np.int64)
    np.add.at(delta, starts, 1)
    np.add.at(delta, ends, -1)
    mask: Bools = np.cumsum(delta[:n]) > 0
    return mask


def close_gaps(mask: Bools, max_gap: int) -> Bools:
    """``mask`` with every gap of at most ``max_gap`` False between two runs filled in."""
    starts, ends = runs(mask)
    if len(starts) < 2 or max_gap <= 0:
        return mask.copy()
    keep = (starts[1:] - ends[:-1]) > max_gap  # gaps that stay
    new_starts = np.concatenate([starts[:1], starts[1:][keep]])
    new_ends = np.concatenate([ends[:-1][keep], ends[-1:]])
    return from_runs(len(mask), new_starts, new_ends)


def drop_short(mask: Bools, min_len: int) -> Bools:
    """``mask`` without the runs shorter than ``min_len``."""
    starts, ends = runs(mask)
    long = (ends - starts) >= min_len
    return from_runs(len(mask), starts[long], ends[long])


def moving_sum(values: npt.NDArray[np.float64], half: int) -> npt.NDArray[np.float64]:
    """Sum of ``values[i - half : i + half + 1]`` for every i (clipped at both ends)."""
    n = len(values)
    csum = np.concatenate([[0.0], np.cumsum(values)])
    idx = np.arange(n)
    hi = np.minimum(idx + half + 1, n)
    lo = np.maximum(idx - half, 0)
    result: npt.NDArray[np.float64] = csum[hi] - csum[lo]
    return result
