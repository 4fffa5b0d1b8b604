"""``python -m arbhybrid sim``: run the exchange simulator standalone."""

from __future__ import annotations

import argparse


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sim", help="run the MEXC + Gate.io exchange simulator standalone")
    p.add_argument("--config", default="config.yaml", help="configuration file")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: config)")
    p.add_argument("--symbols", nargs="+", default=None, help="unified symbols, e.g. BTC/USDT")
    p.set_defaults(func=_not_built)


def _not_built(args: argparse.Namespace) -> int:
    raise SystemExit("the simulator is not built yet")
