"""Audio analytics of a stereo call recording (pure: numpy arrays in, figures out; no files).

Channel 0 is the customer and channel 1 the seat (agent), as ``StereoTimeline`` and the relay's
recorder tap lay them out (``telephony.net.ports.CHANNEL``). Audio the service itself plays into
a call is recorded on the channel opposite the side that hears it: music on hold and prompts
played to a waiting customer are on channel 1. docs/analytics.md defines every figure.

Everything is computed per 20 ms frame with whole-array numpy operations, so a five-minute call
takes tens of milliseconds (bench/analytics.py measures it).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from recordings.analytics_config import AnalyticsConfig
from recordings.analytics_frames import ChannelFrames, Floats, analyse_channel, frame_levels
from recordings.analytics_level import clipping, integrated_loudness, rms_dbfs
from recordings.analytics_runs import Bools, close_gaps, drop_short, runs

__all__ = [
    "FLAGS",
    "KINDS",
    "AnalyticsConfig",
    "CallAnalytics",
    "Segment",
    "SideAnalytics",
    "analyze_call",
    "flags",
]

CUSTOMER, AGENT = 0, 1
KINDS = ("customer_talk", "agent_talk", "overtalk", "hold", "dead_air", "customer_clipping",
         "agent_clipping")
FLAGS = ("long_dead_air", "overtalk", "agent_dominates", "clipping", "long_hold")
_SIDES = ("customer", "agent")


@dataclass(frozen=True)
class Segment:
    """A stretch of the call for a player marker: ``[start, end)`` in seconds and its kind."""

    start: float
    end: float
    kind: str

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return round(self.end - self.start, 6)


@dataclass(frozen=True)
class SideAnalytics:
    """Figures of one side (channel) of the call."""

    talk_s: float  # seconds this side talks (music and tones are not talk)
    turns: int  # talk spurts
    rms_dbfs: float  # RMS of the whole channel; -96 for digital silence
    speech_dbfs: float | None  # RMS over this side's talk only
    loudness_lufs: float | None  # BS.1770-style gated integrated loudness
    noise_floor_dbfs: float  # median noise floor of the live frames
    clipped_samples: int
    clipped_share: float  # of this channel's samples
    clip_runs: int


@dataclass(frozen=True)
class CallAnalytics:
    """Everything measured on one call, with the segments behind the figures."""

    rate: int
    duration_s: float
    customer: SideAnalytics
    agent: SideAnalytics
    agent_talk_ratio: float | None  # agent talk / (agent + customer talk); None without talk
    silence_s: float  # neither side talks and the call is not on hold
    silence_share: float  # of the call
    dead_air_s: float  # total of the dead-air segments (silences of dead_air_min_s or more)
    longest_dead_air_s: float
    longest_dead_air_start: float | None
    overtalk_s: float
    overtalk_count: int
    overtalk_share: float  # of the time anyone talks
    agent_interruptions: int  # overtalks the agent started (the customer was talking first)
    hold_s: float
    hold_count: int
    segments: tuple[Segment, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain data (segments as dicts), for JSON and the store."""
        return asdict(self)

    def to_json(self) -> str:
        """The figures and segments as one JSON object."""
        return json.dumps(self.to_dict(), separators=(",", ":"))


def flags(analytics: CallAnalytics, config: AnalyticsConfig | None = None) -> tuple[str, ...]:
    """QA risk flags of a call (names from ``FLAGS``), for risk-targeted sampling."""
    c = config or AnalyticsConfig()
    a = analytics
    raised = {
        "long_dead_air": a.longest_dead_air_s > c.flag_dead_air_s,
        "overtalk": a.overtalk_share > c.flag_overtalk_share,
        "agent_dominates": a.agent_talk_ratio is not None
        and a.agent_talk_ratio > c.flag_agent_talk_ratio,
        "clipping": max(a.customer.clipped_share, a.agent.clipped_share) > c.flag_clipping_share,
        "long_hold": a.hold_s > c.flag_hold_s,
    }
    return tuple(name for name in FLAGS if raised[name])


def _prepare(samples: npt.ArrayLike) -> tuple[npt.NDArray[Any], float]:
    """The samples as an ``(n, 2)`` array and their full scale; a clear error otherwise."""
    arr = np.asarray(samples)
    if arr.ndim == 1 or (arr.ndim == 2 and arr.shape[1] == 1):
        raise ValueError(f"analytics needs two channels (0 customer, 1 agent); got mono audio "
                         f"of shape {arr.shape}")
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"analytics needs (frames, 2) audio (0 customer, 1 agent); got shape "
                         f"{arr.shape}")
    if arr.dtype == np.int16:
        return arr, 32768.0
    if arr.dtype in (np.float32, np.float64):
        if not np.isfinite(arr).all():
            raise ValueError("analytics: the audio holds NaN or infinite samples")
        return arr, 1.0
    raise ValueError(f"analytics needs int16 or float audio, not {arr.dtype}")


@dataclass(frozen=True)
class _Conversation:
    """Frame masks of the call as a conversation."""

    talk: tuple[Bools, Bools]
    overtalk: Bools
    hold: Bools
    silence: Bools


def _conversation(ch: tuple[ChannelFrames, ChannelFrames], frame_s: float,
                  c: AnalyticsConfig) -> _Conversation:
    def frames(seconds: float) -> int:
        return max(1, round(seconds / frame_s))

    talk = tuple(drop_short(close_gaps(side.voiced & ~side.steady, frames(c.hangover_s)),
                            frames(c.min_talk_s)) for side in ch)
    cust, agent = talk[CUSTOMER], talk[AGENT]
    overtalk = drop_short(cust & agent, frames(c.min_overtalk_s))
    music = ch[CUSTOMER].steady | ch[AGENT].steady
    # The seat's phone on hold sends nothing (or zeros) while the customer's line stays live.
    muted = ch[AGENT].digital & ~ch[CUSTOMER].digital & ~cust
    held = close_gaps((music | muted) & ~agent, frames(c.hold_gap_s)) & ~agent
    hold = drop_short(held, frames(c.hold_min_s))
    silence = ~cust & ~agent & ~hold
    return _Conversation((cust, agent), overtalk, hold, silence)


def _run_starts(mask: Bools) -> npt.NDArray[np.int64]:
    """For each frame, the index where the run of ``mask`` holding it started (0 outside)."""
    starts = mask & ~np.concatenate([[False], mask[:-1]])
    marked = np.where(starts, np.arange(len(mask)), 0)
    result: npt.NDArray[np.int64] = np.maximum.accumulate(marked) if len(mask) else marked
    return result


class _Clock:
    """Frame indices to seconds (rounded to the microsecond so figures compare exactly)."""

    def __init__(self, frame: int, rate: int) -> None:
        self.frame, self.rate = frame, rate

    def s(self, frames: int | np.integer[Any]) -> float:
        return round(int(frames) * self.frame / self.rate, 6)

    def segments(self, mask: Bools, kind: str, min_frames: int = 1) -> list[Segment]:
        starts, ends = runs(mask)
        long = ends - starts >= min_frames
        return [Segment(self.s(a), self.s(b), kind)
                for a, b in zip(starts[long].tolist(), ends[long].tolist(), strict=True)]


def _side(k: int, x: Floats, full_scale: float, ch: ChannelFrames, talk: Bools,
          lufs: float | None, raw: npt.NDArray[Any], clock: _Clock,
          c: AnalyticsConfig) -> tuple[SideAnalytics, Bools]:
    column = x[k]
    power = float(np.dot(column, column)) / (len(column) * full_scale ** 2) if len(column) else 0.0
    speech = rms_dbfs(float(np.mean(10 ** (ch.level[talk] / 10)))) if talk.any() else None
    live = ch.floor[~ch.digital]
    clip = clipping(raw[:, k], c.clip_level * full_scale, c.clip_min_run, clock.frame)
    figures = SideAnalytics(
        talk_s=clock.s(np.count_nonzero(talk)),
        turns=len(runs(talk)[0]),
        rms_dbfs=round(rms_dbfs(power), 3),
        speech_dbfs=None if speech is None else round(speech, 3),
        loudness_lufs=None if lufs is None else round(lufs, 3),
        noise_floor_dbfs=round(float(np.median(live)), 3) if len(live) else -96.0,
        clipped_samples=clip.samples,
        clipped_share=round(clip.samples / len(column), 9) if len(column) else 0.0,
        clip_runs=clip.runs,
    )
    return figures, clip.frames


def analyze_call(samples: npt.ArrayLike, rate: int,
                 config: AnalyticsConfig | None = None) -> CallAnalytics:
    """Analyse an ``(n, 2)`` int16 (full scale 32768) or float (full scale 1.0) recording,
    channel 0 the customer and channel 1 the agent."""
    c = config or AnalyticsConfig()
    if isinstance(rate, bool) or not isinstance(rate, int | np.integer) or rate <= 0:
        raise ValueError(f"analytics: rate must be a positive integer, not {rate!r}")
    rate = int(rate)
    raw, full_scale = _prepare(samples)
    frame = max(1, round(c.frame_s * rate))
    clock = _Clock(frame, rate)
    x = np.ascontiguousarray(raw.T, dtype=np.float64)  # channel-major: each side contiguous
    levels = frame_levels(x, frame, full_scale)
    channels = (analyse_channel(levels[0], frame / rate, c),
                analyse_channel(levels[1], frame / rate, c))
    talk = _conversation(channels, frame / rate, c)
    lufs = integrated_loudness(x, rate, full_scale)
    sides = [_side(k, x, full_scale, channels[k], talk.talk[k], lufs[k], raw, clock, c)
             for k in (CUSTOMER, AGENT)]
    return _assemble(talk, sides, clock, len(raw), c)


def _assemble(talk: _Conversation, sides: list[tuple[SideAnalytics, Bools]], clock: _Clock,
              n: int, c: AnalyticsConfig) -> CallAnalytics:
    frames = len(talk.silence)
    anyone = np.count_nonzero(talk.talk[CUSTOMER] | talk.talk[AGENT])
    over_starts, over_ends = runs(talk.overtalk)
    started = _run_starts(talk.talk[AGENT])[over_starts] > _run_starts(talk.talk[CUSTOMER])[over_starts]
    quiet_starts, quiet_ends = runs(talk.silence)
    longest = int(np.argmax(quiet_ends - quiet_starts)) if len(quiet_starts) else -1
    hold_starts, _ = runs(talk.hold)
    dead_min = max(1, round(c.dead_air_min_s * clock.rate / clock.frame))
    dead = (quiet_ends - quiet_starts)[quiet_ends - quiet_starts >= dead_min]
    customer, agent = sides[CUSTOMER][0], sides[AGENT][0]
    ratio = agent.talk_s / (agent.talk_s + customer.talk_s) if agent.talk_s + customer.talk_s else None
    gap = max(1, round(c.clip_marker_gap_s * clock.rate / clock.frame))
    segments = [
        *clock.segments(talk.talk[CUSTOMER], "customer_talk"),
        *clock.segments(talk.talk[AGENT], "agent_talk"),
        *clock.segments(talk.overtalk, "overtalk"),
        *clock.segments(talk.hold, "hold"),
        *clock.segments(talk.silence, "dead_air", dead_min),
        *clock.segments(close_gaps(sides[CUSTOMER][1], gap), "customer_clipping"),
        *clock.segments(close_gaps(sides[AGENT][1], gap), "agent_clipping"),
    ]
    segments.sort(key=lambda s: (s.start, KINDS.index(s.kind)))
    return CallAnalytics(
        rate=clock.rate,
        duration_s=round(n / clock.rate, 6),
        customer=customer,
        agent=agent,
        agent_talk_ratio=None if ratio is None else round(ratio, 6),
        silence_s=clock.s(np.count_nonzero(talk.silence)),
        silence_share=round(np.count_nonzero(talk.silence) / frames, 6) if frames else 0.0,
        dead_air_s=clock.s(int(dead.sum())),
        longest_dead_air_s=clock.s(quiet_ends[longest] - quiet_starts[longest]) if longest >= 0 else 0.0,
        longest_dead_air_start=clock.s(quiet_starts[longest]) if longest >= 0 else None,
        overtalk_s=clock.s(np.count_nonzero(talk.overtalk)),
        overtalk_count=len(over_starts),
        overtalk_share=round(np.count_nonzero(talk.overtalk) / anyone, 6) if anyone else 0.0,
        agent_interruptions=int(np.count_nonzero(started)),
        hold_s=clock.s(np.count_nonzero(talk.hold)),
        hold_count=len(hold_starts),
        segments=tuple(segments),
    )
