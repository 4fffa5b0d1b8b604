"""``python -m arbhybrid [run]``: the main job."""

from __future__ import annotations

import argparse
import sys

from arbhybrid.config import ConfigError, load_config


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="run the arbitrage engine (default: against the embedded simulator)",
    )
    p.add_argument("--config", default="config.yaml", help="configuration file")
    p.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    p.add_argument("--live", action="store_true", help="trade the real venues (needs keys)")
    p.add_argument("--dry-run", action="store_true", help="do everything except send orders")
    p.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    try:
        settings = load_config(args.config)
    except ConfigError as e:
        for problem in e.problems:
            print(problem, file=sys.stderr)
        return 2
    from arbhybrid.app import run

    return run(
        settings,
        config_path=args.config,
        duration=args.duration,
        live=args.live,
        dry_run=args.dry_run,
    )
