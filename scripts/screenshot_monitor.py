"""Take docs/monitor.png: run `callfloor demo` for a while, log in as the demo's team lead in
headless Chromium (Debian's /usr/bin/chromium) and photograph the live monitor.

    .venv/bin/python scripts/screenshot_monitor.py [--wait 60] [--out docs/monitor.png] [--lang en]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    """Run the demo, wait for traffic, save the screenshot."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--wait", type=float, default=60.0, help="seconds of demo traffic first")
    parser.add_argument("--decision", type=float, default=120.0,
                        help="then up to this many seconds for a queue-watcher decision to show")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "monitor.png")
    parser.add_argument("--lang", default="en", choices=("en", "zh"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        demo = subprocess.Popen(
            [sys.executable, "-m", "callfloor.cli", "demo", "--data-dir", data, "--sip-port", "0",
             "--http-port", "0", "--duration", str(args.wait + args.decision + 60), "--seats", "6",
             "--calls-per-minute", "20", "--campaign-seats", "1005,1006", "--seed", "7"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            url = _monitor_url(demo)
            time.sleep(args.wait)
            _shoot(url, args.out, args.lang, args.decision)
        finally:
            demo.terminate()
            demo.wait(timeout=30)
    print(f"wrote {args.out}")
    return 0


def _monitor_url(demo: subprocess.Popen[str]) -> str:
    assert demo.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = demo.stdout.readline()
        match = re.search(r"monitor\s+(http://\S+/monitor)", line)
        if match:
            return match.group(1)
    raise SystemExit("the demo did not print its monitor address within 60 s")


def _shoot(url: str, out: Path, lang: str, decision: float) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
        page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale=lang)
        page.goto(url)
        page.fill("input[name=username]", "lead")
        page.fill("input[name=password]", "demo-lead")
        page.click("button[type=submit]")
        page.wait_for_url("**/monitor")
        try:  # a busy floor: the watcher lends a campaign seat to support sooner or later
            page.wait_for_selector("[data-testid=decision-0]", timeout=decision * 1000)
        except PlaywrightTimeout:
            print("no watcher decision yet; the picture shows the floor without one")
        page.wait_for_timeout(3000)
        page.screenshot(path=str(out), full_page=True)
        browser.close()


if __name__ == "__main__":
    sys.exit(main())
