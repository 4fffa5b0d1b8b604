"""What several subcommands share: the ``--config`` option and loading it with errors a new
user can act on, and the state directory (journals, ``engine.json``) a configuration names."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path

from arbhybrid.config import DEFAULT_CONFIG_PATH, ConfigError, Settings, load_config

EXIT_USAGE = 2

#: Said wherever a configuration file was expected and is not there.
CONFIG_HINT = (
    "pass --config PATH to point at a configuration file (e.g. the checkout's config.yaml)"
)


def add_config_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        default=None,
        help=f"configuration file (default {DEFAULT_CONFIG_PATH}); "
        "relative paths in it are read from its folder",
    )


def load_settings(config: str | None) -> Settings | None:
    """The validated configuration, or None after printing each problem to stderr (with
    how to point at a configuration when the file is missing)."""
    path = Path(config) if config is not None else DEFAULT_CONFIG_PATH
    if not path.is_file():
        where = "here" if config is None else "at that path"
        print(f"{path}: no configuration file {where}; {CONFIG_HINT}", file=sys.stderr)
        return None
    try:
        return load_config(path)
    except ConfigError as e:
        for problem in e.problems:
            print(problem, file=sys.stderr)
        return None


def state_dir(settings: Settings) -> Path:
    """The folder of a configuration's journal: every run's journal, the log and the
    running engine's ``engine.json`` and lock are there."""
    return Path(settings.journal.path).parent


def positive_number(unit: str) -> Callable[[str], float]:
    """argparse type: a finite number of ``unit`` above zero (``nan`` would run forever,
    ``0`` or ``-5`` start everything only to stop at once)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of {unit}") from None
        if not math.isfinite(value) or value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r}: expected a number of {unit} above 0")
        return value

    return parse


positive_seconds = positive_number("seconds")


def positive_whole(text: str) -> int:
    """argparse type: a whole number above zero."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number above 0")
    return value
