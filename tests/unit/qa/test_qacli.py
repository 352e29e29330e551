"""``callfloor qa``: forms, the daily sample (once per day, reproducible) and the reports."""

from __future__ import annotations

import argparse
import asyncio
import io
import shutil
from pathlib import Path

import pytest

from callfloor import qacli
from callfloor.store import CallStart, Store
from callfloor.store.qa import QaStore
from qa.scoring import Defect, Evaluation

ROOT = Path(__file__).resolve().parents[3]
START = 1_741_910_400.0  # 2025-03-14 00:00 UTC
NOW = START + 86400 + 3600


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "callfloor.toml"
    path.write_text(
        f'[storage]\ndata_dir = "{tmp_path / "data"}"\n[[teams]]\nid = "front"\n'
        '[[seats]]\nid = "1001"\npassword = "x"\nteam = "front"\n[[seats]]\nid = "1002"\npassword = "y"\n',
        encoding="utf-8")

    async def calls() -> None:
        async with await Store.open(tmp_path / "data" / "callfloor.db") as store:
            for k in range(8):
                uuid, seat, at = f"c{k}", "1001" if k < 5 else "1002", START + 3600 * (k + 1)
                await store.call_started(CallStart(uuid, uuid, "inbound", "+12125550199", "100", None, None, at))
                await store.call_answered(uuid, at + 1, seat)
                await store.call_ended(uuid, at + (20 if k == 0 else 200), "hangup")

    asyncio.run(calls())
    return path


def cli(config: Path, *argv: str, forms: Path | None = None) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="callfloor")
    qacli.add_parser(parser.add_subparsers(dest="command"))
    out, err = io.StringIO(), io.StringIO()
    extra = ["--config", str(config), "--tz", "UTC", "--forms", str(forms or ROOT / "config" / "qa")]
    args = parser.parse_args(["qa", *argv, *extra])
    return qacli.run(args, now=NOW, out=out, err=err), out.getvalue(), err.getvalue()


def test_forms(config: Path) -> None:
    code, out, err = cli(config, "forms")
    assert (code, err) == (0, "")
    assert out.splitlines() == ["form             version evaluations  title",
                                "outbound               1           0  Outbound sales and survey",
                                "standard               1           0  Inbound service"]


def test_sample_once_per_day(config: Path) -> None:
    code, out, err = cli(config, "sample", "--day", "2025-03-14", "--seed", "9")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "2025-03-14: 7 calls sampled from 8 (seed 9, 2 seats)"
    assert sum("risk   p=1.000 (1/1)  short_call" in line for line in lines) == 1
    assert sum("random p=0.750 (3/4)" in line for line in lines) == 3
    assert sum("random p=1.000 (3/3)" in line for line in lines) == 3
    code, out, err = cli(config, "sample", "--day", "2025-03-14")
    assert (code, out, err) == (1, "", "callfloor qa: 2025-03-14 was sampled already (seed 9); its picks stand\n")


def test_reports_after_scoring(config: Path) -> None:
    assert cli(config, "sample", "--day", "2025-03-14", "--seed", "9")[0] == 0

    async def score() -> None:
        async with await Store.open(config.parent / "data" / "callfloor.db") as store:
            qa = QaStore(store)
            answers = {"greeting": "yes", "verify_identity": "n/a", "understands_need": 5, "correct_answer": 4,
                       "hold_etiquette": "n/a", "courtesy": 5, "empathy": "n/a", "summary": "yes",
                       "farewell": "no", "no_abuse": "yes", "no_data_leak": "yes"}
            await qa.submit(Evaluation("c0", "standard", 1, "qa1", answers, (Defect("farewell", 190.0),)), START + 86400)
            await qa.submit(Evaluation("c5", "standard", 1, "qa1", {**answers, "no_abuse": "no"}), START + 86400 + 1)

    asyncio.run(score())
    code, out, err = cli(config, "report", "daily", "--day", "2025-03-15", "--csv")
    assert (code, err) == (0, "")
    # opening 100; handling (3*1 + 5*0.75)/8 = 84.375; manner 100; closing 50
    total = (15 * 100 + 45 * 84.375 + 30 * 100 + 10 * 50) / 100
    assert out.split("\r\n")[:5] == [
        "day,level,key,scored,average,vetoes",
        f"2025-03-15,total,,2,{total / 2:.2f},1",
        f"2025-03-15,team,front,1,{total:.2f},0",
        "2025-03-15,team,(no team),1,0.00,1",
        "2025-03-15,defect,farewell,1,,",
    ]
    code, out, err = cli(config, "report", "monthly", "--month", "2025-03")
    assert (code, err) == (0, "")
    assert out.splitlines()[0].startswith("QA monthly scores, 2025-03")
    code, out, _ = cli(config, "report", "monthly", "--month", "2025-03", "--csv")
    assert out.split("\r\n")[1] == f"2025-03,seat,1001,front,1,0,{total:.2f},1,{total:.2f},0.00,{total:.2f},{total:.2f},95"


def test_bad_input(config: Path, tmp_path: Path) -> None:
    code, _, err = cli(config, "report", "daily", "--day", "2025-13-01")
    assert (code, err) == (2, "callfloor qa: not a date of the form YYYY-MM-DD: '2025-13-01'\n")
    forms = tmp_path / "forms"
    forms.mkdir()
    shutil.copy(ROOT / "config" / "qa" / "standard.toml", forms / "standard.toml")
    (forms / "broken.toml").write_text('version = 1\ntitle = { en = "B" }\nsections = []\n', encoding="utf-8")
    code, _, err = cli(config, "forms", forms=forms)
    assert (code, err) == (2, f"callfloor: configuration refused:\n{forms / 'broken.toml'}: sections: "
                              "Tuple should have at least 1 item after validation, not 0\n")
    policy = tmp_path / "policy.toml"
    policy.write_text("quota = 0\n", encoding="utf-8")
    code, _, err = cli(config, "forms", "--policy", str(policy))
    assert (code, err) == (2, f"callfloor: configuration refused:\n{policy}: quota: Input should be greater than or equal to 1\n")
