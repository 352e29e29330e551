"""Wiring and lifetimes: one ``serve(settings)`` that the CLI, the demo and the tests all call.

One exit stack owns every resource (store, bus, relay, SIP server, HTTP server); on stop the SIP
server drains calls first, then queued writes finish, then everything closes in reverse order.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import ipaddress
import logging
import resource
import secrets
import signal
import socket
import time
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from callfloor.archivejob import Archiver
from callfloor.bus.mqtt import EventBus, open_bus
from callfloor.campaignadmin import CampaignAdmin
from callfloor.dialer_runtime import DialerRuntime, ledger_tracker
from callfloor.executor import FloorExecutor
from callfloor.floorlive import LiveFloor
from callfloor.floorwiring import build_switchboard
from callfloor.housekeeping import Periodic
from callfloor.qajob import load_policy, sample_finished_days
from callfloor.settings import ConfigError, Settings, host_warnings
from callfloor.store import Store
from callfloor.store.audit import AuditLog
from callfloor.store.complaints import ComplaintStore
from callfloor.store.dialer import DialerStore
from callfloor.switchboard import Switchboard
from dialer.amd import AmdDetector, AmdThresholds
from dialer.amd_cue import MessageCue
from dialer.campaign import Campaign, load_campaigns
from dialer.leads import LeadFileError, parse_leads
from recordings.wav import RepairStatus, repair_wav
from telephony.calls.engine import CallEngine
from telephony.calls.policy import EnginePolicy, TrunkPolicy
from telephony.net.analysis import AudioClassifier
from telephony.net.relay import MediaRelay
from telephony.net.server import SipServer
from telephony.sip.transport import Transport

__all__ = ["Running", "api_campaigns_for", "policy_from_settings", "recover", "run", "running", "serve"]

log = logging.getLogger("callfloor")

BLACKLIST_EXPIRY_EVERY = 3600.0  # seconds between runs of the blacklist's expiry job
QA_SAMPLING_EVERY = 3600.0  # seconds between looks for a finished day to sample


@dataclass
class Running:
    """Handles on a started service (for the demo, the tests and the benchmarks)."""

    settings: Settings
    sip: SipServer
    relay: MediaRelay
    store: Store
    bus: EventBus | None
    executor: FloorExecutor
    sip_address: tuple[str, int]
    http_address: tuple[str, int] | None
    switchboard: Switchboard | None = None
    dialer: DialerRuntime | None = None
    live: LiveFloor | None = None
    archiver: Archiver | None = None
    campaigns: CampaignAdmin | None = None

    @property
    def engine(self) -> CallEngine:
        """The call engine."""
        return self.sip.engine


def _resolve(host: str) -> str:
    """An IP literal for ``host`` (the pure core never resolves names)."""
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        return str(socket.getaddrinfo(host, None, type=socket.SOCK_DGRAM)[0][4][0])


def policy_from_settings(settings: Settings, sip_port: int) -> EnginePolicy:
    """The engine's policy object, built from validated settings."""
    sip, t = settings.sip, settings.trunk
    trunk = None
    if t is not None:
        trunk = TrunkPolicy(
            host=_resolve(t.host), port=t.port, transport=Transport(t.transport.upper()),
            username=t.username, password=t.password, register=t.register,
            register_expires=t.register_expires, allow=t.allowed_networks(), dids=t.did,
            caller_id=t.caller_id, outbound_prefix=t.outbound_prefix, outbound_allow=t.outbound_allow,
        )
    return EnginePolicy(
        host=sip.advertise, port=sip_port, realm=sip.realm, user_agent=sip.user_agent,
        seats={s.id: s.password for s in settings.seats}, routes=dict(settings.routes.root),
        seat_algorithms={s.id: s.auth_algorithms for s in settings.seats if s.auth_algorithms},
        trunk=trunk, rtp_host=settings.rtp.host, rtp_ports=settings.rtp.ports,
        ring_timeout=sip.ring_timeout, session_expires=sip.session_expires, min_se=sip.min_se,
        auth_algorithms=sip.auth_algorithms, register_min_expires=sip.register_min_expires,
        register_max_expires=sip.register_max_expires,
        max_contacts=max((s.max_contacts for s in settings.seats), default=5),
        guard_slow_after=sip.guard.slow_after, guard_ban_after=sip.guard.ban_after,
        guard_ban_seconds=sip.guard.ban_seconds, t1=sip.t1, nonce_secret=secrets.token_bytes(32),
    )


async def recover(store: Store, recordings_dir: Path) -> int:
    """After a crash: calls left 'active' become 'lost' and their WAVs are repaired."""
    lost = await store.mark_lost(time.time())
    for row in lost:
        if not row.recording_path:
            continue
        result = repair_wav(recordings_dir / row.recording_path)
        if result.status is RepairStatus.UNREADABLE:
            log.error("recording of lost call %s unreadable: %s", row.uuid, result.reason)
        elif result.status is RepairStatus.REPAIRED:
            log.info("repaired recording of lost call %s (%d frames)", row.uuid, result.frames)
    if lost:
        log.warning("%d calls were cut by the last stop; marked lost", len(lost))
    return len(lost)


def _raise_file_limit() -> None:
    """Four sockets per call: lift the soft descriptor limit to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


@contextlib.asynccontextmanager
async def running(settings: Settings, *, http: bool = True) -> AsyncIterator[Running]:
    """Start every part of the service; on exit drain calls and close everything in order."""
    _raise_file_limit()
    for warning in host_warnings(settings):
        log.warning("%s", warning)
    storage = settings.storage
    storage.recordings_dir.mkdir(parents=True, exist_ok=True)
    async with contextlib.AsyncExitStack() as stack:
        store = await Store.open(storage.db_path)
        stack.push_async_callback(store.close)
        await recover(store, storage.recordings_dir)
        bus = await stack.enter_async_context(open_bus(settings.bus))
        host, port = settings.sip.listen_host, settings.sip.listen_port
        if port == 0:
            port = _free_port(host)
        files = load_campaigns_for(settings)
        stored = await api_campaigns_for(settings, store, files)
        campaigns = [*files, *stored]
        dialing = settings.dialer.campaigns is not None or bool(campaigns)
        engine = CallEngine(policy_from_settings(settings, port))
        floor = build_switchboard(settings, engine, time.time(), campaigns, dialer=dialing)
        board, prompts = floor if floor is not None else (None, None)
        engine.director = board
        relay = MediaRelay(settings.rtp.host, media_timeout=settings.sip.media_timeout,
                           recordings_dir=storage.recordings_dir, on_event=lambda e: None,
                           prompts=prompts.pcm if prompts is not None else None,
                           classifier_factory=amd_factory(settings) if dialing else None)
        await relay.start()
        stack.push_async_callback(relay.close_all)
        executor = FloorExecutor(relay, store, bus)
        executor.start()
        stack.push_async_callback(executor.close)
        server = SipServer(engine, executor)
        relay.on_event = server.media_event
        audit = AuditLog(store)
        live = None
        if board is not None:
            # Listening from the first event on: the board is the fold of every event.
            live = LiveFloor(settings, server, board, campaigns, audit, bus=bus)
            executor.listeners.append(live.on_event)
            await live.restore(store, executor, time.time())
        address = await server.start(host, port)
        stack.push_async_callback(server.close)
        stack.push_async_callback(server.drain)
        dialer = None
        if dialing and board is not None:
            dialer = await start_dialer(settings, campaigns, store, server, board, executor,
                                        api={c.id for c in stored})
            stack.push_async_callback(dialer.close)  # before the drain: no new dials
        if live is not None:
            live.dialer = dialer
            await live.start()
            stack.push_async_callback(live.close)
        admin = CampaignAdmin(settings, dialer.store if dialer is not None else DialerStore(store),
                              audit, runtime=dialer, live=live)
        archiver = Archiver(store, settings.archive, storage)
        if settings.archive.enabled:
            archiver.start()
            stack.push_async_callback(archiver.close)
        expiry = Periodic("blacklist expiry", BLACKLIST_EXPIRY_EVERY, ComplaintStore(store).expire_blacklist)
        expiry.start()
        stack.push_async_callback(expiry.close)
        if settings.qa.auto_sample:
            policy = load_policy(settings.qa.policy)
            sampling = Periodic("QA sampling", QA_SAMPLING_EVERY,
                                lambda now: sample_finished_days(store, settings, policy, now))
            sampling.start()
            stack.push_async_callback(sampling.close)
        http_address = None
        if http:
            from callfloor.web.server import serve_http

            http_address = await stack.enter_async_context(
                serve_http(settings, store, server, board, dialer, live=live, archiver=archiver,
                           campaigns=admin))
        log.info("callfloor listening for SIP on %s:%s (UDP+TCP)", *address)
        yield Running(settings, server, relay, store, bus, executor, address, http_address, board,
                      dialer, live, archiver, admin)


def load_campaigns_for(settings: Settings) -> list[Campaign]:
    """The campaigns of ``[dialer] campaigns`` (none when unset); ``CampaignError`` names the
    file and key of a bad one."""
    folder = settings.dialer.campaigns
    if folder is None:
        return []
    campaigns = load_campaigns(folder, seats=[s.id for s in settings.seats],
                               teams=[t.id for t in settings.teams])
    if campaigns and settings.trunk is None:
        # Every dial would fail and spend an attempt of its lead.
        raise ConfigError([f"dialer.campaigns: {folder} has campaigns, but there is no [trunk] to dial through"])
    for campaign in campaigns:
        for warning in campaign.warnings():
            log.warning("campaign %s: %s", campaign.id, warning)
    return campaigns


async def api_campaigns_for(settings: Settings, store: Store, files: list[Campaign]) -> list[Campaign]:
    """The campaigns stored over the HTTP API that run beside the files: a file's id wins (the
    API campaign is shadowed, and replaced by the file's in the store; its definition stays in
    the campaign's history), and none run without a [trunk] to dial through."""
    stored = await DialerStore(store).api_campaigns()
    taken = {c.id for c in files}
    for campaign in stored:
        if campaign.id in taken:
            log.warning("campaign %s: the file campaign of this id wins over the one stored over"
                        " the API (its definition is kept: callfloor campaign history %s)",
                        campaign.id, campaign.id)
    stored = [c for c in stored if c.id not in taken]
    if stored and settings.trunk is None:
        log.error("%d campaigns stored over the API do not run: there is no [trunk] to dial through",
                  len(stored))
        return []
    seats, teams = {s.id for s in settings.seats}, {t.id for t in settings.teams}
    for campaign in stored:
        for warning in campaign.warnings():
            log.warning("campaign %s: %s", campaign.id, warning)
        gone = [s for s in campaign.seats if s not in seats] + [t for t in campaign.teams if t not in teams]
        if gone:
            log.warning("campaign %s: seats or teams no longer configured: %s", campaign.id, ", ".join(gone))
    return stored


def amd_factory(settings: Settings) -> Callable[[str], AudioClassifier]:
    """A fresh classifier per analysis: "amd" tells a person from a machine, "cue" waits for
    the end of a machine's greeting (its beep, or silence) so a message starts after it."""
    thresholds = AmdThresholds(max_time=settings.dialer.amd_max_seconds)

    def build(token: str) -> AudioClassifier:
        return MessageCue(thresholds) if token == "cue" else AmdDetector(thresholds)

    return build


async def start_dialer(settings: Settings, campaigns: list[Campaign], store: Store,
                       server: SipServer, board: Switchboard, executor: FloorExecutor, *,
                       api: Collection[str] = ()) -> DialerRuntime:
    """Sync the campaign files (``api``: the ids stored over the HTTP API, not files), import
    their lead files, close what the last stop left open in the ledger, rebuild each campaign's
    abandonment and pacer from it, and start pacing."""
    now = time.time()
    ledger = DialerStore(store, hold=settings.dialer.abandon_hold_hours * 3600.0)
    await ledger.sync_campaigns([c for c in campaigns if c.id not in api], now)
    for campaign in campaigns:
        if campaign.leads is not None:
            await import_lead_file(ledger, campaign, settings, now)
    lost = await ledger.recover(now)
    if lost:
        log.warning("dialer: %d attempts were cut by the last stop; closed as lost, not redialled", len(lost))
    trackers = {c.id: await ledger_tracker(ledger, c, now) for c in campaigns}
    runtime = DialerRuntime(campaigns, ledger, server, board, executor, trackers=trackers,
                            default_region=settings.dialer.default_region,
                            amd_seconds=settings.dialer.amd_max_seconds)
    await runtime.warm(now)
    runtime.start()
    return runtime


async def import_lead_file(ledger: DialerStore, campaign: Campaign, settings: Settings, now: float) -> None:
    """Import a campaign's lead CSV (numbers already there are left as they are)."""
    assert campaign.leads is not None
    try:
        data = campaign.leads.read_bytes()
        report = parse_leads(data, region=campaign.default_region or settings.dialer.default_region,
                             now=now, countries=campaign.countries)
    except (OSError, LeadFileError) as exc:
        log.error("campaign %s: lead file %s not imported: %s", campaign.id, campaign.leads, exc)
        return
    result = await ledger.import_leads(campaign.id, report, now, strict=settings.dialer.strict_import)
    for error in report.errors:
        log.warning("campaign %s: %s line %d: %s", campaign.id, campaign.leads, error.line, error.reason)
    log.info("campaign %s: leads from %s: %s", campaign.id, campaign.leads, result)


def _free_port(host: str) -> int:
    """A port free for both UDP and TCP on ``host`` (for `listen = "...:0"`)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(50):
        with socket.socket(family, socket.SOCK_DGRAM) as udp:
            udp.bind((host, 0))
            port = int(udp.getsockname()[1])
            with socket.socket(family, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((host, port))
                except OSError:
                    continue
                return port
    raise OSError(f"no port free for both UDP and TCP on {host}")


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run the service until ``stop`` is set (or SIGINT/SIGTERM)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with running(settings):
        _freeze_startup_heap()
        await stop.wait()
        log.info("stopping: draining calls")


def _freeze_startup_heap() -> None:
    """Keep the objects of start-up (modules, settings, the engine: tens of thousands) out of every
    later garbage collection: a full collection stops every call's media while it runs.

    At 500 recorded calls (bench/relay.py) the full collection that call set-up triggers took
    46-58 ms over 143k tracked objects, and 24-30 ms over 75k once start-up's were frozen.
    """
    gc.collect()  # nothing collectable gets frozen
    gc.freeze()


def configure_logging(level: str) -> None:
    """Plain, timestamped log lines on stderr."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("amqtt", "transitions", "aiosqlite", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def run(settings: Settings) -> None:
    """The blocking entry point: configure logging, pick uvloop, serve until stopped."""
    configure_logging(settings.log.level)
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        pass
    asyncio.run(serve(settings))
