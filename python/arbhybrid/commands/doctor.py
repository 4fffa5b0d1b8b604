"""``python -m arbhybrid doctor``: the preflight for real keys (read-only calls only).
Without ``--live`` it checks the embedded simulator, as ``run`` would trade it."""

from __future__ import annotations

import argparse
import asyncio

from arbhybrid.commands._common import EXIT_USAGE, add_config_argument, load_settings


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "doctor",
        help="check venues, keys, symbols, sizes, fees, balances and limits (read-only)",
    )
    add_config_argument(p)
    p.add_argument("--live", action="store_true", help="check the real venues (needs keys)")
    p.set_defaults(func=doctor_command)


def doctor_command(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    if settings is None:
        return EXIT_USAGE
    from arbhybrid import telemetry
    from arbhybrid.app import venue_endpoints
    from arbhybrid.doctor import problems, run_checks
    from arbhybrid.simulator import Simulator, config_from_settings

    telemetry.register_secrets(settings)
    live = args.live or settings.mode == "live"
    sim = None if live else Simulator(config_from_settings(settings)).start()
    try:
        checks = asyncio.run(run_checks(settings, venue_endpoints(settings, sim)))
    finally:
        if sim is not None:
            sim.stop()
    where = "the live venues" if live else "the embedded simulator"
    print(f"doctor: {where} (read-only calls only)")
    for c in checks:
        # A venue's error can echo a key: scrubbed like every other printed error.
        print(telemetry.scrub_secrets(c.line()))
    bad = problems(checks)
    if bad:
        names = "; ".join(f"{c.scope} {c.name}" for c in bad)
        print(f"doctor: {len(bad)} problem(s): {names}")
        return 1
    print(f"doctor: no problems ({len(checks)} checks)")
    return 0
