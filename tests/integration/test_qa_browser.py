"""The QA page in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright), as issue
6 asks: calls are placed and recorded through the running service, the day is sampled with
``callfloor qa sample``, a QA user made with ``callfloor user add`` logs in, opens a sampled call,
plays it (the Web Audio clock moves), scores it with the veto items passed, submits, and finds
the score in the daily summary; the playback is in the audit log.

Everything runs against the service's own HTTP server (the QA routes as the service mounts
them); the database is read afterwards for the audit row and the stored evaluation.
"""

from __future__ import annotations

import asyncio
import random
import signal
import sys
from datetime import datetime
from pathlib import Path

import httpx
import pytest
import soundfile
from playwright.async_api import expect

from callfloor.settings import load_settings
from callfloor.sim import AudioSource, SimCarrier, SimPhone
from callfloor.store import Store
from callfloor.store.audit import AuditLog
from callfloor.store.qa import QaStore
from tests.integration.harness import CARRIER_HOST, free_port, start_service
from tests.integration.test_monitor_browser import chromium, until_http
from tests.unit.recordings.analytics_kit import Call

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

ROOT = Path(__file__).resolve().parents[2]
FORMS = ROOT / "config" / "qa"
QA_PASSWORD = "qa-password-1"
# Every item of config/qa/standard.toml v1: both veto items passed (yes), the rest answered.
CLICKS = ["greeting-yes", "verify_identity-na", "understands_need-5", "correct_answer-4", "hold_etiquette-na",
          "courtesy-5", "empathy-na", "summary-yes", "farewell-yes", "no_abuse-yes", "no_data_leak-yes"]
SCORE = "93.0"  # (15·100 + 45·84.375 + 30·100 + 10·100) / 100 = 92.97


def config_file(tmp_path: Path, sip_port: int, http_port: int, carrier_port: int) -> Path:
    rtp = 22000 + (free_port() % 40) * 100
    path = tmp_path / "callfloor.toml"
    path.write_text(f"""
[sip]
listen = "127.0.0.1:{sip_port}"
auth_algorithms = ["MD5"]
[[teams]]
id = "north"
[[seats]]
id = "1001"
password = "secret1001"
team = "north"
[trunk]
host = "{CARRIER_HOST}"
port = {carrier_port}
allow = ["{CARRIER_HOST}/32"]
did = ["+15550100"]
[routes]
"+15550100" = "1001"
[storage]
data_dir = "{tmp_path / 'data'}"
[http]
listen = "127.0.0.1:{http_port}"
[rtp]
ports = "{rtp}-{rtp + 99}"
[bus]
embedded_listen = "127.0.0.1:{free_port()}"
""")
    return path


async def cli(*args: str, stdin: str | None = None) -> str:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "callfloor.cli", *args, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=ROOT)
    out, _ = await asyncio.wait_for(proc.communicate(stdin.encode() if stdin else None), 60)
    assert proc.returncode == 0, out.decode()
    return out.decode()


def voice(path: Path, start: float, end: float, seed: int) -> Path:
    """Speech-like noise from ``start`` to ``end`` in 6 s of quiet, mono 8 kHz."""
    soundfile.write(path, Call(6.0, seed=seed).talk(0, start, end).int16()[:, 0], 8000, subtype="PCM_16")
    return path


async def recorded_call(url: str) -> dict[str, object]:
    """The call once its CDR is closed with a recording (polled with a deadline)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    async with httpx.AsyncClient(timeout=2) as http:
        while True:
            rows = (await http.get(f"{url}/api/calls")).json()
            done = [r for r in rows if r["status"] == "ended" and r["recording_path"]]
            if done:
                return dict(done[0])
            assert loop.time() < deadline, rows
            await asyncio.sleep(0.1)


async def place_call(tmp_path: Path, sip: tuple[str, int], carrier_port: int) -> None:
    phone = SimPhone("1001", "secret1001", sip, answer_after=(0.3, 0.3),
                     audio=AudioSource.wav(voice(tmp_path / "seat.wav", 0.5, 2.5, 1), loop=False),
                     rng=random.Random(1))
    carrier = SimCarrier((CARRIER_HOST, carrier_port), sip,
                         audio=AudioSource.wav(voice(tmp_path / "customer.wav", 2.0, 4.5, 2), loop=False),
                         rng=random.Random(2))
    assert await phone.start() == 200
    await carrier.start()
    try:
        result = await carrier.call("+15550100", talk=(5.0, 5.0))
    finally:
        await carrier.stop()
        await phone.stop()
    assert result.answered, result


async def test_a_qa_user_plays_scores_and_finds_the_score_in_the_daily_summary(tmp_path: Path) -> None:
    sip_port, http_port, carrier_port = free_port(), free_port(), free_port(CARRIER_HOST)
    config = config_file(tmp_path, sip_port, http_port, carrier_port)
    await cli("user", "add", "qa1", "--role", "qa", "--name", "Quality", "--password-stdin", "--config", str(config),
              stdin=f"{QA_PASSWORD}\n")
    service = await start_service(config, tmp_path / "callfloor.log")
    url = f"http://127.0.0.1:{http_port}"
    try:
        await until_http(url)
        await place_call(tmp_path, ("127.0.0.1", sip_port), carrier_port)
        row = await recorded_call(url)
        call = str(row["uuid"])
        day = datetime.fromtimestamp(float(str(row["started_at"]))).date().isoformat()
        sampled = await cli("qa", "sample", "--day", day, "--config", str(config), "--forms", str(FORMS))
        assert call in sampled, sampled
        async with chromium() as browser:
            page = await browser.new_page()
            await page.goto(f"{url}/qa")
            await page.fill("#username", "qa1")
            await page.fill("#password", QA_PASSWORD)
            await page.click("button[type=submit]")
            await expect(page).to_have_url(f"{url}/qa")
            await expect(page.get_by_test_id(f"queue-status-{call}")).to_have_text("To review")
            await page.get_by_test_id(f"queue-open-{call}").click()
            await expect(page).to_have_url(f"{url}/qa/calls/{call}")
            await expect(page.get_by_test_id("player")).to_have_attribute("data-ready", "true", timeout=15000)
            await expect(page.get_by_test_id("veto-no_abuse")).to_be_visible()

            await page.get_by_test_id("play").click()
            await expect(page.get_by_test_id("player")).to_have_attribute("data-playing", "true")
            await page.wait_for_function(
                "Number(document.querySelector('[data-testid=position]').dataset.seconds) > 0.3")
            await page.get_by_test_id("speed").select_option("1.5")
            await page.get_by_test_id("play").click()  # pause, to take the defect's time
            for answer in CLICKS:
                await page.get_by_test_id(f"answer-{answer}").check()
            await page.get_by_test_id("defect-category").fill("slow greeting")
            await page.get_by_test_id("add-defect").click()
            await expect(page.get_by_test_id("defect-0")).to_contain_text("slow greeting")
            await page.get_by_test_id("coaching").fill("Greet within two seconds.")
            await page.get_by_test_id("submit").click()
            await expect(page.get_by_test_id("toast")).to_have_text(f"Evaluation saved: score {SCORE}")
            await expect(page.locator("[data-testid^=evaluation-][data-testid$=-score]")).to_have_text(SCORE)

            await page.goto(f"{url}/qa/summary")
            await page.get_by_test_id("summary-day").fill(day)
            await page.get_by_test_id("summary-day").press("Enter")
            await expect(page.get_by_test_id("summary-total-scored")).to_have_text("1")
            await expect(page.get_by_test_id("summary-total-average")).to_have_text(SCORE)
            await expect(page.get_by_test_id("summary-defects")).to_contain_text("slow greeting (1)")
    finally:
        service.send_signal(signal.SIGTERM)
        await asyncio.wait_for(service.wait(), 30)
    settings = load_settings(config)
    async with await Store.open(settings.storage.db_path) as store:
        played = await AuditLog(store).entries(action="recording.play", subject=f"call:{call}")
        [evaluation] = [e for e in await QaStore(store).scored_between(0, 2e9) if e.call == call]
        defects = await QaStore(store).defects(evaluation.evaluation)
    assert [(e.actor, e.detail["seat"], e.detail["media"]) for e in played] == [("qa1", "1001", "audio/wav")]
    assert evaluation.veto == () and round(evaluation.score, 5) == 92.96875
    assert len(defects) == 1 and defects[0][0] == "slow greeting" and (defects[0][1] or 0) > 0
