"""The README's flow and queue examples are valid as written."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import soundfile

from callfloor.settings import load_settings
from ivr.loader import load_flows

ROOT = Path(__file__).resolve().parents[2]


def _toml_blocks() -> list[str]:
    return re.findall(r"```toml\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def test_the_readme_flow_and_queues_load(tmp_path: Path) -> None:
    flow, service = _toml_blocks()[:2]
    flows = tmp_path / "ivr"
    (flows / "prompts").mkdir(parents=True)
    (flows / "hotline.toml").write_text(flow)
    for name in set(re.findall(r'prompt = "(\w+)"', flow)):
        soundfile.write(flows / "prompts" / f"{name}.wav", np.zeros(800, np.int16), 16000)
    config = tmp_path / "callfloor.toml"
    config.write_text(service.replace('flows = "config/ivr"', f'flows = "{flows}"'))
    settings = load_settings(config, {})
    assert [q.name for q in settings.queues] == ["support", "sales"]
    loaded = load_flows(flows, queues=[q.name for q in settings.queues],
                        seats=[s.id for s in settings.seats])
    flow_obj = loaded.for_number("+15550150")
    assert flow_obj is not None and flow_obj.start == "welcome"


def test_the_readme_campaign_loads(tmp_path: Path) -> None:
    from dialer.campaign import load_campaign

    (block,) = [b for b in _toml_blocks() if b.startswith("# config/campaigns/")]
    path = tmp_path / "renewals.toml"
    path.write_text(block)
    (tmp_path / "renewals.csv").write_text("number,name,plan\n+12125550111,Avery,gold\n")
    campaign = load_campaign(path)
    assert (campaign.id, campaign.mode, campaign.amd.action) == ("renewals", "predictive", "message")
    assert campaign.disposition("renewed") is not None
