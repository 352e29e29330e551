"""Settings of the live floor: the monitor's alert thresholds and the queue-watcher (`[monitor]`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from callfloor.settings.sections import Section

__all__ = ["MonitorSettings"]


class MonitorSettings(Section):
    """The live queue monitor, the retained MQTT floor topics and the queue-watcher (`[monitor]`)."""

    alert_longest_wait: float = Field(default=60.0, gt=0, description="Alert when a queue's longest wait passes this many seconds.")
    alert_service_level: float = Field(default=0.8, gt=0, le=1, description="Alert when a queue's service level over 15 minutes falls under this share.")
    alert_drop_rate: float = Field(default=0.025, gt=0, le=0.03, description="Alert when a campaign's 24-hour drop (abandon) rate passes this share.")
    publish_topics: bool = Field(default=True, description="Publish the floor as retained MQTT topics: <prefix>/<site>/queues/<id>/stats, seats/<id>/state, campaigns/<id>/stats.")
    watcher: Path | None = Field(default=None, description="Queue-watcher policy TOML (e.g. config/watcher.toml); unset: seats move only by hand.")
    watcher_every: float = Field(default=5.0, gt=0, description="Seconds between the queue-watcher's decisions.")
