"""``python -m arbhybrid [run]``: the main job."""

from __future__ import annotations

import argparse

from arbhybrid.commands._common import (
    EXIT_USAGE,
    add_config_argument,
    load_settings,
    positive_seconds,
)
from arbhybrid.config import DEFAULT_CONFIG_PATH


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "run",
        help="run the arbitrage engine (default: against the embedded simulator)",
    )
    add_config_argument(p)
    p.add_argument(
        "--duration",
        type=positive_seconds,
        default=None,
        metavar="SECONDS",
        help="stop after this many seconds (default: until Ctrl-C)",
    )
    p.add_argument("--live", action="store_true", help="trade the real venues (needs keys)")
    p.add_argument("--dry-run", action="store_true", help="do everything except send orders")
    p.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    if settings is None:
        return EXIT_USAGE
    from arbhybrid.app import run

    return run(
        settings,
        config_path=args.config or DEFAULT_CONFIG_PATH,
        duration=args.duration,
        live=args.live,
        dry_run=args.dry_run,
    )
