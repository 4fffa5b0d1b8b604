"""``python -m arbhybrid config check``: validate and print the configuration."""

from __future__ import annotations

import argparse
import sys

import yaml

from arbhybrid.commands._common import EXIT_USAGE, add_config_argument, load_settings


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("config", help="configuration tools")
    csub = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = csub.add_parser(
        "check",
        help="validate the configuration and print it with secrets masked",
        description="Exit 0 and print the validated configuration (secrets masked); "
        "exit 2 with one line per problem (key path first) when it is invalid.",
    )
    add_config_argument(check)
    check.set_defaults(func=check_command)


def check_command(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    if settings is None:
        return EXIT_USAGE
    sys.stdout.write(yaml.safe_dump(settings.masked(), sort_keys=False))
    return 0
