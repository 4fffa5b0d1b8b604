"""``python -m arbhybrid campaign``: the reliability campaign (faults and kill -9 while
the engine trades the simulator; every order and fill accounted for), or ``--soak``.

Prints the table (Markdown) on stdout and writes the full report as JSON to ``--out``.
The exit code is 0 when nothing was lost, duplicated or left open and nothing panicked,
1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from arbhybrid.commands._common import positive_number, positive_seconds, positive_whole


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "campaign",
        help="fault campaign against the simulator (or --soak): the reliability table",
    )
    p.add_argument(
        "--minutes", type=positive_number("minutes"), default=5.0, help="length of the fault phase"
    )
    p.add_argument("--kills", type=int, default=6, help="kill -9 + restart cycles")
    p.add_argument(
        "--symbols", type=positive_whole, default=3, help="symbols traded (majors first)"
    )
    p.add_argument("--seed", type=int, default=1, help="random seed (faults, moments, market)")
    p.add_argument("--workdir", default="runs/campaign", help="journal, logs of the engine")
    p.add_argument("--out", default=None, help="write the full report (JSON) here")
    p.add_argument(
        "--soak",
        action="store_true",
        help="no faults: memory, book lag and tick-to-trade over a long run",
    )
    p.add_argument(
        "--update-rate-hz",
        type=positive_number("updates per second"),
        default=50.0,
        help="soak: book updates/s",
    )
    p.add_argument(
        "--sample-s", type=positive_seconds, default=30.0, help="soak: sampling interval"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from arbhybrid.campaign import Campaign, soak

    command = "python -m arbhybrid " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    # Absolute: the engines it starts run in the checkout, and a relative path in their
    # configuration is read from there, not from here.
    workdir = Path(args.workdir).resolve()
    if args.soak:
        result = soak(
            minutes=args.minutes,
            symbols=args.symbols,
            seed=args.seed,
            workdir=workdir,
            sample_s=args.sample_s,
            update_rate_hz=args.update_rate_hz,
        )
        result["command"] = command
        text = json.dumps(
            {k: v for k, v in result.items() if k not in ("start", "end")}, indent=2, default=str
        )
        print(text)
        if args.out:
            Path(args.out).write_text(json.dumps(result, indent=2, default=str))
        return 0 if result["exit_code"] == 0 else 1
    report = Campaign(
        minutes=args.minutes,
        kills=args.kills,
        symbols=args.symbols,
        seed=args.seed,
        workdir=workdir,
        command=command,
    ).run()
    print(report.table())
    if args.out:
        Path(args.out).write_text(json.dumps(report.as_dict(), indent=2, default=str))
    return 0 if report.accounting.clean and not report.panics else 1
