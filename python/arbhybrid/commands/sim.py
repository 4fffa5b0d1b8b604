"""``python -m arbhybrid sim``: run the exchange simulator standalone.

Prints ONE JSON line (REST and WebSocket URL per venue instance, admin URL, test account
keys) and serves until Ctrl-C. Settings come from the config file's ``simulator`` section
when the file exists; ``--seed``, ``--symbols`` and ``--venues`` override it.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("sim", help="run the MEXC + Gate.io exchange simulator standalone")
    p.add_argument("--config", default="config.yaml", help="configuration file")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: config)")
    p.add_argument("--symbols", nargs="+", default=None, help="unified symbols, e.g. BTC/USDT")
    p.add_argument(
        "--venues",
        nargs="+",
        default=None,
        metavar="NAME[=KIND]",
        help="the venue instances to host, in order (default: mexc gateio); KIND is mexc or "
        "gateio and defaults to NAME, e.g. --venues mexc mexc_b=mexc gateio",
    )
    p.add_argument(
        "--probe",
        action="store_true",
        help="latency-referee probe mode: quiet books, random cross-venue gaps; prints the "
        "tick-to-trade report as JSON on exit",
    )
    p.add_argument("--probe-gap-bps", type=int, default=None, help="probe gap beyond fees")
    p.add_argument(
        "--probe-interval-ms",
        nargs=2,
        type=int,
        default=None,
        metavar=("MIN", "MAX"),
        help="probe mode: wait between MIN and MAX ms (at random) before each probe "
        "(default 300 900)",
    )
    p.add_argument(
        "--probe-hold-ms",
        type=int,
        default=None,
        help="probe mode: how long a probe's gap stays open (default 500)",
    )
    p.set_defaults(func=run)


def _config(args: argparse.Namespace) -> dict[str, Any]:
    cfg: dict[str, Any] = {}
    if Path(args.config).exists():
        from arbhybrid.config import load_config
        from arbhybrid.simulator import config_from_settings

        cfg = config_from_settings(load_config(args.config), args.symbols)
    elif args.config != "config.yaml":
        raise SystemExit(f"config file {args.config} not found")
    if args.seed is not None:
        cfg["seed"] = args.seed
    if args.symbols:
        cfg["symbols"] = list(args.symbols)
    if args.venues:
        cfg["venues"] = [_venue(v) for v in args.venues]
    if args.probe:
        cfg["probe_mode"] = True
    if args.probe_gap_bps is not None:
        cfg["probe_gap_bps"] = args.probe_gap_bps
    if args.probe_interval_ms is not None:
        cfg["probe_min_interval_ms"], cfg["probe_max_interval_ms"] = args.probe_interval_ms
    if args.probe_hold_ms is not None:
        cfg["probe_hold_ms"] = args.probe_hold_ms
    return cfg


def _venue(arg: str) -> dict[str, str]:
    """``mexc_b=mexc`` -> ``{"name": "mexc_b", "kind": "mexc"}``; ``gateio`` names itself."""
    name, _, kind = arg.partition("=")
    return {"name": name, "kind": kind or name}


def run(args: argparse.Namespace) -> int:
    from arbhybrid.simulator import Simulator

    sim = Simulator(_config(args))
    info = sim.start().info
    print(json.dumps(info), flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    finally:
        report = sim.referee() if args.probe else None
        sim.stop()
    if report is not None:
        print(json.dumps({"referee": report}), flush=True)
    print("simulator stopped", file=sys.stderr)
    return 0
