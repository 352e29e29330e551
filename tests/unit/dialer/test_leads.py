"""Lead CSV import: columns, validation by line, merges, encodings, separators."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialer.leads import ImportReport, Lead, LeadFileError, Merge, RowError, decode_csv, parse_leads

NOW = 1_767_225_600.0  # 2026-01-01 00:00 UTC
DEMO = Path(__file__).resolve().parents[3] / "config" / "campaigns" / "demo-leads.csv"


def parse(text: str | bytes, region: str | None = "US", **kw: object) -> ImportReport:
    return parse_leads(text, region=region, now=NOW, **kw)  # type: ignore[arg-type]


def test_columns_number_name_zone_and_data() -> None:
    report = parse(
        "Number,Name,time_zone,plan,empty\n"
        "(212) 555-0101,Avery,,Gold,\n"
        "+44 20 7946 0011,Oliver,Europe/Dublin,Silver,\n"
    )
    assert report.leads == (
        Lead(2, "+12125550101", "US", "America/New_York", "Avery", {"plan": "Gold"}, (2,)),
        Lead(3, "+442079460011", "GB", "Europe/Dublin", "Oliver", {"plan": "Silver"}, (3,)),
    )
    assert (report.rows, report.errors, report.merges, report.held) == (2, (), (), 0)
    assert report.columns == ("Number", "Name", "time_zone", "plan", "empty")


def test_phone_column_when_there_is_no_number_column() -> None:
    report = parse("phone,account\n212-555-0101,A-17\n")
    assert [(lead.number, lead.data) for lead in report.leads] == [("+12125550101", {"account": "A-17"})]


def test_number_column_wins_over_phone() -> None:
    report = parse("phone,number\n+442079460011,212-555-0101\n")
    assert [(lead.number, lead.data) for lead in report.leads] == [("+12125550101", {"phone": "+442079460011"})]


def test_bad_rows_are_reported_by_line_and_skipped() -> None:
    report = parse(
        "number,name,time_zone\n"  # line 1
        "212-555-0101,ok,\n"  # 2
        "12,short,\n"  # 3
        ",no number,\n"  # 4
        "212-555-0102,too,many,cells\n"  # 5
        "212-555-0103,zone,Mars/Base\n"  # 6
        "212-555-0104\n"  # 7
        "1-800-FLOWERS,letters,\n"  # 8
    )
    assert [lead.line for lead in report.leads] == [2]
    assert report.errors == (
        RowError(3, "bad number '12': too short for US"),
        RowError(4, "bad number '': empty number"),
        RowError(5, "wrong column count: 4 fields, the header has 3"),
        RowError(6, "bad time zone 'Mars/Base' (use an IANA name like 'America/Chicago')"),
        RowError(7, "wrong column count: 1 fields, the header has 3"),
        RowError(8, "bad number '1-800-FLOWERS': has letters"),
    )
    assert str(report.errors[0]) == "line 3: bad number '12': too short for US"
    assert report.rows == 7


def test_duplicates_merge_into_the_first_row() -> None:
    report = parse(
        "number,name,plan,city\n"
        "212-555-0101,,Gold,\n"  # 2
        "+1 212 555 0101,Avery,Silver,\n"  # 3: same number, fills the name only
        "(212) 555-0101,Someone,,Boston\n"  # 4: fills the city
        "212-555-0102,Jordan,,\n"  # 5
    )
    first = report.leads[0]
    assert first == Lead(2, "+12125550101", "US", "America/New_York", "Avery",
                         {"plan": "Gold", "city": "Boston"}, (2, 3, 4))
    assert report.merges == (Merge(3, 2, "+12125550101"), Merge(4, 2, "+12125550101"))
    assert str(report.merges[0]) == "line 3: same number as line 2 (+12125550101), merged"
    assert len(report.leads) == 2 and report.errors == ()


def test_unknown_zone_is_held_unless_the_file_gives_one() -> None:
    report = parse("number,time_zone\n(208) 555-0111,\n(208) 555-0112,America/Boise\n")
    assert [lead.time_zone for lead in report.leads] == [None, "America/Boise"]
    assert report.held == 1


def test_countries_the_campaign_calls() -> None:
    report = parse("number\n212-555-0101\n+86 10 5555 0101\n", countries=("US", "GB"))
    assert [lead.number for lead in report.leads] == ["+12125550101"]
    assert report.errors == (RowError(3, "+861055550101 is in CN, which the campaign does not call"),)


def test_bom_crlf_and_chinese_names() -> None:
    data = "\ufeffnumber,name,备注\r\n+86 10 5555 0101,王芳,上午方便\r\n\r\n+86 21 5555 0103,张敏,\r\n".encode()
    report = parse(data)
    assert [(lead.line, lead.name, lead.data) for lead in report.leads] == [
        (2, "王芳", {"备注": "上午方便"}),
        (4, "张敏", {}),
    ]
    assert report.columns == ("number", "name", "备注")


def test_blank_lines_and_quoted_newlines_keep_line_numbers() -> None:
    report = parse('number,note\n\n212-555-0101,"two\nlines"\n,\n12,x\n')
    assert [(lead.line, lead.data) for lead in report.leads] == [(3, {"note": "two\nlines"})]
    assert report.errors == (RowError(6, "bad number '12': too short for US"),)
    assert report.rows == 2  # the blank line and the ",," row are not rows


@pytest.mark.parametrize("sep", [";", "\t"])
def test_semicolon_and_tab_separators(sep: str) -> None:
    report = parse(f"number{sep}name{sep}plan\n+44 20 7946 0011{sep}Oliver{sep}Gold, annual\n")
    assert [(lead.number, lead.name, lead.data) for lead in report.leads] == [
        ("+442079460011", "Oliver", {"plan": "Gold, annual"})
    ]


def test_gb18030_is_refused_with_its_line() -> None:
    data = "number,name\n+86 10 5555 0101,王芳\n".encode("gb18030")
    with pytest.raises(LeadFileError) as caught:
        parse(data)
    assert str(caught.value).startswith("line 2: not UTF-8 (byte 0xcd); save the file as UTF-8")
    assert "GB18030" in str(caught.value)


def test_utf16_is_refused() -> None:
    with pytest.raises(LeadFileError, match="UTF-16 or UTF-32; save it as UTF-8"):
        parse("number\n+12125550101\n".encode("utf-16"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("\n\n", "the file is empty"),
        ("name,plan\nAvery,Gold\n", "line 1: no 'number' (or 'phone') column in the header ['name', 'plan']"),
        ("number,Name,name\n", "line 1: column 'name' appears twice in the header"),
        ("number,,plan\n", "line 1: column 2 of the header has no name"),
        ('number,note\n212-555-0101,"never closed\n', "line 2: CSV syntax error: unexpected end of data"),
    ],
)
def test_file_errors(text: str, message: str) -> None:
    with pytest.raises(LeadFileError) as caught:
        parse(text)
    assert str(caught.value).startswith(message)


def test_decode_csv_strips_the_bom() -> None:
    assert decode_csv("\ufeffnumber\n".encode()) == "number\n"


def test_the_demo_list_imports_cleanly() -> None:
    report = parse(DEMO.read_bytes(), countries=("US", "GB", "CN"))
    assert (len(report.leads), report.errors, report.merges, report.held) == (30, (), (), 1)
    assert {lead.country for lead in report.leads} == {"US", "GB", "CN"}
