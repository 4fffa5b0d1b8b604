"""Command line: ``python -m arbhybrid [run|sim|config check|...]``.

Each area contributes its subcommands from its own module: a module listed in
``_COMMAND_MODULES`` exposes ``add_commands(subparsers)`` and sets ``func`` on each
parser it adds. ``run`` is the default when no subcommand is given.
"""

from __future__ import annotations

import argparse
import difflib
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
    "arbhybrid.commands.doctor",
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
    sub.metavar = "{" + ",".join(sub.choices) + "}"  # the usage line lists the commands
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:
        # Ctrl-C before the job installed its own handling (imports, configuration).
        return 130


def _main(argv: Sequence[str] | None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    # `run` is the default subcommand: `python -m arbhybrid --duration 5` means `run --duration 5`.
    known = list(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr,arg-type]
    if args_list and not args_list[0].startswith("-") and args_list[0] not in known:
        close = difflib.get_close_matches(args_list[0], known, n=1)
        parser.print_usage(sys.stderr)
        print(
            f"{parser.prog}: error: unknown command {args_list[0]!r}"
            + (f" (did you mean {close[0]!r}?)" if close else "")
            + f"; the commands are: {', '.join(known)}",
            file=sys.stderr,
        )
        return 2
    if not args_list or (args_list[0] not in known and args_list[0] not in ("-h", "--help")):
        args_list.insert(0, "run")
    args, unknown = parser.parse_known_args(args_list)
    if unknown:
        # Said by the command's own parser: its usage line lists the options it takes.
        command = innermost(parser, args)
        command.error(unrecognized(unknown, command))
    return int(args.func(args) or 0)


def innermost(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The parser of the (sub)command ``args`` ran: ``config check``'s, not ``config``'s."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            chosen = getattr(args, action.dest or "", None)
            if chosen in action.choices:
                return innermost(action.choices[chosen], args)
    return parser


def unrecognized(unknown: list[str], command: argparse.ArgumentParser) -> str:
    """``unrecognized arguments: --durration 5 (did you mean '--duration'?)``."""
    options = [o for action in command._actions for o in action.option_strings]
    text = f"unrecognized arguments: {' '.join(unknown)}"
    for arg in unknown:
        if arg.startswith("--"):
            close = difflib.get_close_matches(arg.split("=", 1)[0], options, n=1)
            if close:
                return text + f" (did you mean {close[0]!r}?)"
    return text
