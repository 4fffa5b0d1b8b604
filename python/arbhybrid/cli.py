"""Command line: ``python -m arbhybrid [run|sim|config check|...]``.

Each area contributes its subcommands from its own module: a module listed in
``_COMMAND_MODULES`` exposes ``add_commands(subparsers)`` and sets ``func`` on each
parser it adds. ``run`` is the default when no subcommand is given.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Modules that add subcommands, in the order they appear in --help.
_COMMAND_MODULES: tuple[str, ...] = (
    "arbhybrid.commands.run",
    "arbhybrid.commands.sim",
    "arbhybrid.commands.config",
    "arbhybrid.commands.report",
    "arbhybrid.commands.status",
    "arbhybrid.commands.campaign",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m arbhybrid",
        description=(
            "Cross-exchange spot arbitrage for MEXC and Gate.io. With no subcommand, "
            "runs the engine against the embedded simulator."
        ),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        importlib.import_module(name).add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    # `run` is the default subcommand: `python -m arbhybrid --duration 5` means `run --duration 5`.
    known = set(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    if not args_list or (args_list[0] not in known and args_list[0] not in ("-h", "--help")):
        args_list.insert(0, "run")
    args = parser.parse_args(args_list)
    return int(args.func(args) or 0)
