"""Thresholds of the call audio analytics and of the QA risk flags (see docs/analytics.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

__all__ = ["AnalyticsConfig"]

# Fields that may be zero or negative: levels in dB(FS) and the relative gate.
_SIGNED = ("max_noise_dbfs", "min_voice_dbfs", "digital_silence_dbfs", "voice_snr_db",
           "hysteresis_db", "steady_std_db")
_SHARES = ("steady_active", "clip_level", "flag_overtalk_share", "flag_agent_talk_ratio",
           "flag_clipping_share")


@dataclass(frozen=True)
class AnalyticsConfig:
    """Analytics thresholds; seconds unless the name says otherwise. Defaults suit 8 kHz G.711."""

    frame_s: float = 0.02  # analysis frame (160 samples at 8 kHz)
    # Voice activity: a frame is voiced above max(floor + voice_snr_db, min_voice_dbfs).
    noise_window_s: float = 5.0  # minimum statistics over this much audio, centred on the frame
    max_noise_dbfs: float = -40.0  # the floor is never taken to be louder than this
    voice_snr_db: float = 10.0
    min_voice_dbfs: float = -50.0
    hysteresis_db: float = 3.0  # a voiced run continues down to threshold - hysteresis
    hangover_s: float = 0.3  # talk is held over gaps up to this long (pauses between words)
    min_talk_s: float = 0.1  # voiced runs shorter than this are clicks, not talk
    digital_silence_dbfs: float = -90.0  # frames below this carry no line at all (no RTP, zeros)
    # Music and tones (hold): steady, nearly always-on energy over a window.
    steady_window_s: float = 1.0
    steady_active: float = 0.95  # share of the window's frames above the voice threshold
    steady_std_db: float = 3.0  # spread of those frames' levels
    hold_min_s: float = 10.0
    hold_gap_s: float = 1.0  # pauses in the music up to this long do not end a hold
    # Conversation.
    min_overtalk_s: float = 0.3  # shorter overlaps are backchannel ("mhm") or turn-taking
    dead_air_min_s: float = 2.0  # shorter mutual silences are pauses, not dead-air markers
    # Clipping: samples at or beyond this share of full scale (G.711's top codes are 0.980
    # (mu-law, 32124) and 0.984 (A-law, 32256) of int16 full scale, so 0.98 catches them).
    clip_level: float = 0.98
    clip_min_run: int = 2  # consecutive same-sign clipped samples that make a clipping run
    clip_marker_gap_s: float = 0.5  # clipped frames this close form one marker
    # QA risk flags (recordings.analytics.flags).
    flag_dead_air_s: float = 20.0
    flag_overtalk_share: float = 0.10  # of the time anyone talks
    flag_agent_talk_ratio: float = 0.80  # agent talk / (agent + customer talk)
    flag_clipping_share: float = 0.01  # of one side's samples
    flag_hold_s: float = 180.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"analytics.{f.name} must be a number, not {value!r}")
            if f.name not in _SIGNED and not value > 0:
                raise ValueError(f"analytics.{f.name} must be positive, not {value!r}")
            if f.name in _SHARES and value > 1:
                raise ValueError(f"analytics.{f.name} must be at most 1, not {value!r}")
        if self.hysteresis_db < 0 or self.steady_std_db < 0 or self.voice_snr_db < 0:
            raise ValueError("analytics: voice_snr_db, hysteresis_db and steady_std_db must be >= 0")
        if not isinstance(self.clip_min_run, int):
            raise ValueError(f"analytics.clip_min_run must be an integer, not {self.clip_min_run!r}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, object], where: str = "analytics") -> AnalyticsConfig:
        """Build from a TOML table; an unknown key or a bad value is an error naming the key."""
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                raise ValueError(f"{where}.{key}: unknown key (known: {', '.join(sorted(known))})")
        try:
            return cls(**data)  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            raise ValueError(str(exc).replace("analytics", where, 1)) from None
