"""The results file: columns, the leads' own columns, UTC times, and cells that a spreadsheet
would run as formulas."""

from __future__ import annotations

import csv
import io

from dialer.leads_export import RESULT_COLUMNS, results_csv
from dialer.records import LeadResult, LeadRow

T0 = 1_772_000_000.0  # 2026-02-25 06:13:20 UTC


def lead(lead_id: int, number: str, data: dict[str, str], **changes: object) -> LeadRow:
    fields: dict[str, object] = {
        "id": lead_id, "campaign_id": "renewals", "number": number, "name": None, "data": data,
        "time_zone": "America/New_York", "country": "US", "status": "new", "attempts": 0, "next_at": None,
        "last_outcome": None, "callback_seat": None, "imported_at": T0, "import_line": lead_id + 1}
    fields.update(changes)
    return LeadRow(**fields)  # type: ignore[arg-type]


def test_the_file_has_every_lead_its_own_columns_and_utc_times() -> None:
    sold = LeadResult(lead(1, "+12125550101", {"plan": "Gold", "status": "VIP"}, name="Avery", status="done",
                           attempts=2, last_outcome="answered"),
                      T0, "sale", "conversion", "2 years, 中文 ok", "1001", T0 + 70, None)
    fresh = LeadResult(lead(2, "+12125550102", {"region": "east"}), None, None, None, None, None, None, None)
    rows = list(csv.reader(io.StringIO(results_csv([sold, fresh]))))
    assert rows[0] == [*RESULT_COLUMNS, "plan", "data:status", "region"]  # a lead column named like ours
    assert rows[1] == ["1", "+12125550101", "Avery", "done", "2", "answered", "2026-02-25T06:13:20Z", "sale",
                       "conversion", "2 years, 中文 ok", "1001", "2026-02-25T06:14:30Z", "", "2", "Gold", "VIP", ""]
    assert rows[2] == ["2", "+12125550102", "", "new", "0", "", "", "", "", "", "", "", "", "3", "", "", "east"]
    assert results_csv([]) == ",".join(RESULT_COLUMNS) + "\r\n"


def test_a_cell_a_spreadsheet_would_run_gets_a_quote_and_numbers_stay() -> None:
    note = '=HYPERLINK("http://x","y")'
    row = LeadResult(lead(1, "+12125550101", {"a": "@SUM(1)", "b": "-2.5", "c": "+cmd", "d": "- fine"}),
                     None, "sale", "conversion", note, "1001", T0, None)
    cells = list(csv.reader(io.StringIO(results_csv([row]))))[1]
    assert cells[1] == "+12125550101" and cells[9] == "'" + note
    assert cells[-4:] == ["'@SUM(1)", "-2.5", "'+cmd", "'- fine"]
