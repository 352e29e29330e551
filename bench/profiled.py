"""Run ``callfloor`` under cProfile for a window only: SIGUSR1 starts profiling, SIGUSR2 stops it
and writes the stats to the file given first (pstats format). Everything else is callfloor's CLI:

    python bench/profiled.py OUT.prof run --config callfloor.toml

Profiling only the measured window keeps start-up, registration and call set-up out of the
figures. If the window never closes, the stats are written when callfloor exits (SIGINT).
"""

from __future__ import annotations

import cProfile
import pstats
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

__all__ = ["main", "profile_rows"]


def main() -> int:
    """Install the two signal handlers, then hand over to callfloor's CLI."""
    from callfloor.cli import main as callfloor_main

    out, argv = sys.argv[1], sys.argv[2:]
    profiler = cProfile.Profile()
    state = {"on": False, "written": False}

    def start(_sig: int, _frame: FrameType | None) -> None:
        if not state["on"]:
            state["on"] = True
            profiler.enable()

    def stop(_sig: int, _frame: FrameType | None) -> None:
        if state["on"]:
            profiler.disable()
            state["on"] = False
            profiler.dump_stats(out)
            state["written"] = True

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    try:
        return callfloor_main(argv)
    finally:
        if state["on"] or not state["written"]:
            profiler.disable()
            profiler.dump_stats(out)


def profile_rows(path: Path, top: int) -> list[dict[str, Any]]:
    """callfloor's hottest functions by own time (cProfile's tottime)."""
    if not path.exists():
        print(f"no profile written to {path} (callfloor did not stop cleanly)", file=sys.stderr)
        return []
    stats = pstats.Stats(str(path))
    total = stats.total_tt or 1.0  # type: ignore[attr-defined]
    rows = []
    for (file, line, name), (_cc, nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{Path(file).parent.name}/{Path(file).name}:{line}"
        rows.append({"function": f"{where}({name})" if line else name,
                     "ncalls": nc, "tottime_s": round(tt, 3), "cumtime_s": round(ct, 3),
                     "pct": round(100 * tt / total, 1)})
    rows.sort(key=lambda r: -r["tottime_s"])
    return rows[:top]


if __name__ == "__main__":
    sys.exit(main())
