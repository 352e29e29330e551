"""Lead lists for the demo campaign: fictional customers on numbers nobody owns.

The numbers come from Ofcom's ranges for drama (TV, radio, film: "never allocated to a real
line"), 13,000 numbers in thirteen UK areas, all in Europe/London. The demo draws a fresh batch
on each run, so a second run has new leads to dial while the ledger keeps the old ones done.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable
from datetime import date, timedelta

__all__ = ["DRAMA_RANGES", "fictional_number", "lead_csv"]

# Ofcom, "Telephone numbers for use in TV and radio drama": +44 followed by these 7 digits and any
# 3 more (London, Leeds, Sheffield, Leicester, Bristol, Reading, Birmingham, Edinburgh, Glasgow,
# Liverpool, Manchester, Northern Ireland, Cardiff).
DRAMA_RANGES = ("2079460", "1134960", "1144960", "1164960", "1174960", "1184960", "1214960",
                "1314960", "1414960", "1514960", "1614960", "2896496", "2920180")
FIRST = ("Alex", "Sam", "Charlie", "Jo", "Robin", "Kim", "Lee", "Pat", "Jamie", "Morgan",
         "Ashley", "Drew", "Rowan", "Sasha", "Toni", "Ellis", "Noor", "Wei", "Priya", "Tomasz")
LAST = ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Patel", "Khan",
        "Walker", "Wright", "Hughes", "Chen", "Murphy", "Kowalski", "Green", "Hall", "Wood")
PLANS = ("Bronze", "Silver", "Gold")
NOTES = ("", "", "", "Prefers mornings", "Asked about family plan", "Moved house recently",
         "Complained about billing once")


def fictional_number(rng: random.Random) -> str:
    """An E.164 number from the drama ranges."""
    return f"+44{rng.choice(DRAMA_RANGES)}{rng.randrange(1000):03d}"


def lead_csv(rng: random.Random, count: int, *, today: date, exclude: Iterable[str] = ()) -> str:
    """A lead CSV (number, name, plan, renews_on, note) of ``count`` distinct fictional
    customers whose plans renew within the next six weeks; numbers in ``exclude`` are skipped."""
    taken = set(exclude)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["number", "name", "plan", "renews_on", "note"])
    while count > 0 and len(taken) < len(DRAMA_RANGES) * 1000:
        number = fictional_number(rng)
        if number in taken:
            continue
        taken.add(number)
        renews = today + timedelta(days=rng.randrange(1, 43))
        writer.writerow([number, f"{rng.choice(FIRST)} {rng.choice(LAST)}", rng.choice(PLANS),
                         renews.isoformat(), rng.choice(NOTES)])
        count -= 1
    return out.getvalue()
