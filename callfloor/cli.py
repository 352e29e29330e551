"""The ``callfloor`` command: a thin layer over ``callfloor.app.run`` and the demo.

    callfloor run --config config/callfloor.toml   the service
    callfloor demo                                 the service plus simulated seats and carrier
    callfloor check-config FILE                    validate a configuration and exit
    callfloor campaign list|import|dnc ...         campaigns, lead imports, do-not-call lists
    callfloor report outbound --day D|--month M    outbound report per seat or team
    callfloor simulate dialer|floor --scenario F   the dialer or a blended floor in simulated time
    callfloor user add|list|edit|passwd|...        web users, roles and the audit log
    callfloor qa forms|sample|report ...           QA forms, daily samples, QA reports
    callfloor archive run|verify|retention|find    the recordings archive
    callfloor complaint|blacklist ...              complaint cases and blacklist records
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from callfloor import archivecli, campaigncli, complaintcli, qacli, reportcli, simulate, usercli
from callfloor.demo import add_arguments as add_demo_arguments
from callfloor.settings import ConfigError, describe_env, host_warnings, load_settings
from dialer.campaign import CampaignError
from ivr.loader import FlowError

__all__ = ["main"]


def _env_epilog() -> str:
    rows = describe_env()
    width = max(len(name) for name in rows)
    lines = [f"  {name.ljust(width)}  {text}" for name, text in rows.items()]
    return "environment variables (override the file; nested keys joined by '__'):\n" + "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="callfloor",
        description="Call-center telephony: SIP registrar for seats, carrier trunk, B2BUA with "
        "recorded RTP relay. See README.md and docs/.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser(
        "run", help="run the service", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run callfloor with a TOML configuration (see config/callfloor.toml).",
        epilog=_env_epilog(),
    )
    run.add_argument("--config", type=Path, help="TOML file (default: $CALLFLOOR_CONFIG, else built-in defaults)")
    demo = sub.add_parser(
        "demo", help="run the service with simulated seats and a simulated carrier",
        description="Start callfloor on embedded defaults (SQLite, in-process MQTT broker, local "
        "recordings) with the demo floor of config/demo.toml: simulated softphones register as "
        "seats and log in with *1, and a simulated carrier's customers call the IVR line "
        "(+15550100), choose from its menu by DTMF, wait in a queue and talk to a seat; an "
        "outbound campaign (config/demo-campaigns/demo.toml) dials simulated customers (people, "
        "busy, no answer, answering machines, failures) for the campaign seats, which set "
        "dispositions on the HTTP API. Team leads watch it live at /monitor (log in as lead / "
        "demo-lead), where a queue-watcher (config/demo-watcher.toml) lends campaign seats to "
        "support when it falls behind; QA works at /qa (qa / demo-qa-1). Stops cleanly on Ctrl-C.",
    )
    add_demo_arguments(demo)
    check = sub.add_parser("check-config", help="validate a configuration file and exit")
    check.add_argument("config", type=Path)
    campaigncli.add_parser(sub)
    reportcli.add_parser(sub)
    usercli.add_parser(sub)
    qacli.add_parser(sub)
    archivecli.add_parser(sub)
    complaintcli.add_parser(sub)
    simulate.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = _parser().parse_args(argv)
    if args.command == "campaign":
        return campaigncli.run(args)
    if args.command == "report":
        return reportcli.run(args)
    if args.command == "simulate":
        return simulate.run(args)
    if args.command == "user":
        return usercli.run(args)
    if args.command == "qa":
        return qacli.run(args)
    if args.command == "archive":
        return archivecli.run(args)
    if args.command in ("complaint", "blacklist"):
        return complaintcli.run(args)
    try:
        if args.command == "run":
            from callfloor.app import run

            run(load_settings(args.config))
        elif args.command == "check-config":
            settings = load_settings(args.config)
            flows = 0
            if settings.ivr.flows is not None:
                from ivr.loader import load_flows

                flows = len(load_flows(settings.ivr.flows, queues=[q.name for q in settings.queues],
                                       seats=[s.id for s in settings.seats]).flows)
            campaigns = 0
            if settings.dialer.campaigns is not None:
                from callfloor.app import load_campaigns_for

                campaigns = len(load_campaigns_for(settings))
            watcher = "none"
            if settings.monitor.watcher is not None:
                from callfloor.floorwatch import load_policy

                watcher = load_policy(settings.monitor.watcher).mode.value
            from callfloor.qajob import load_policy as load_sampling
            from callfloor.web.server import qa_forms

            load_sampling(settings.qa.policy)

            forms = len(qa_forms(settings) or ())
            for warning in host_warnings(settings):
                print(f"warning: {warning}", file=sys.stderr)
            print(f"{args.config}: ok ({len(settings.seats)} seats, {len(settings.queues)} queues, "
                  f"{flows} flows, {campaigns} campaigns, trunk: {'yes' if settings.trunk else 'no'}, "
                  f"{len(settings.routes)} routes, watcher: {watcher}, {forms} QA forms)")
        elif args.command == "demo":
            from callfloor.demo import options_from, run_demo

            run_demo(options_from(args))
    except (ConfigError, FlowError, CampaignError) as err:
        print(f"callfloor: configuration refused:\n{err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
