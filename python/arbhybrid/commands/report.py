"""``python -m arbhybrid report`` and ``history``: look back at the runs from their journals.

By default both read every run's journal in the configuration's state directory (each
simulator session has its own, see ``journal.runs``) and label what they show with its
run; ``--run NAME`` picks one run, ``--journal PATH`` one journal file.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from arbhybrid import journal
from arbhybrid.commands._common import (
    CONFIG_HINT,
    EXIT_USAGE,
    add_config_argument,
    load_settings,
    positive_whole,
    state_dir,
)

#: Every outcome the engine journals (``Outcome::label`` in rust/engine/src/tx.rs), and
#: ``open`` for a transaction still running.
OUTCOMES = (
    "completed",
    "partial_balanced",
    "hedged",
    "unwound",
    "held",
    "hedge_failed",
    "not_filled",
    "dust",
    "open",
)


#: What ``report`` and ``history`` read, for their ``--help``.
_SOURCES = (
    "Reads every run's journal in the state directory (the folder of the configuration's "
    "journal.path: each simulator session's under sim/, the live runs' under live/) and "
    "labels what it shows with its run; --run NAME or --journal PATH reads just one."
)


def _add_source_arguments(p: argparse.ArgumentParser) -> None:
    add_config_argument(p)
    p.add_argument(
        "--run",
        metavar="NAME",
        help="only this run (as labelled, e.g. sim/20261201-092123-16658, or latest)",
    )
    p.add_argument("--journal", metavar="PATH", help="only this journal file (SQLite)")


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rep = sub.add_parser(
        "report",
        help="write an HTML report with plots from every run's journal",
        description=_SOURCES,
    )
    _add_source_arguments(rep)
    rep.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="output directory (default: report/ in the state directory, beside the "
        "journals; with --journal, beside that file)",
    )
    rep.add_argument(
        "--screenshot",
        metavar="PNG",
        help="also save a picture of the report (needs Debian's chromium)",
    )
    rep.set_defaults(func=report_command)

    hist = sub.add_parser(
        "history",
        help="list recent transactions from every run's journal",
        description=_SOURCES,
    )
    _add_source_arguments(hist)
    hist.add_argument("--symbol", help="only this unified symbol, e.g. BTC/USDT")
    hist.add_argument("--outcome", help="only this outcome, e.g. completed, unwound, open")
    hist.add_argument(
        "--since",
        type=parse_since,
        help="only transactions since: a duration (30s, 15m, 2h, 1d) or an ISO time",
    )
    hist.add_argument(
        "--until",
        type=parse_since,
        help="only transactions started before: a duration back from now (5m) or an ISO time",
    )
    hist.add_argument(
        "--limit", type=positive_whole, default=50, help="at most this many (default 50)"
    )
    hist.set_defaults(func=history_command)


class _Usage(Exception):
    """A choice of runs or a filter that names nothing: exit 2 with this message."""


def selected_runs(args: argparse.Namespace) -> list[journal.Run]:
    """The runs a ``history`` or ``report`` reads, oldest first (``--journal``: that file,
    labelled with its name). Raises ``_Usage`` or ``journal.JournalError``."""
    if args.journal:
        if args.run:
            raise _Usage("--run and --journal pick the same thing: give one of them")
        path = Path(args.journal)
        if not path.exists():
            raise journal.JournalNotFound(f"journal {path} does not exist")
        return [journal.Run(path.stem, path)]
    settings = load_settings(args.config)
    if settings is None:
        raise _Usage("no journals to read without a configuration (or pass --journal PATH)")
    state = state_dir(settings)
    runs = journal.runs(state)
    if not runs:
        raise journal.JournalNotFound(
            f"no journal in {state} yet: run the engine first "
            "(python -m arbhybrid run --duration 30)"
            + ("" if args.config else f", or {CONFIG_HINT}")
        )
    if args.run is None:
        return _readable(runs)
    if args.run == "latest":
        return runs[-1:]
    picked = [r for r in runs if args.run in (r.name, Path(r.name).name)]
    if not picked:
        names = ", ".join(r.name for r in runs[-10:])
        raise _Usage(f"--run {args.run!r}: no such run in {state}; the latest: {names}")
    return picked


def report_dir(args: argparse.Namespace) -> Path:
    """Where a report goes without ``--out``: beside the journals it reads (so a
    ``--config`` elsewhere keeps it there, not in a ``runs/`` of the current directory)."""
    if args.journal:
        return Path(args.journal).parent / "report"
    settings = load_settings(args.config)
    assert settings is not None  # selected_runs loaded it already
    return state_dir(settings) / "report"


def _readable(runs: list[journal.Run]) -> list[journal.Run]:
    """The runs whose journal can be read; one that cannot (a session that died before
    its journal had tables) is named on stderr and left out, not fatal to the others."""
    ok = []
    for run in runs:
        try:
            with journal.open_journal(run.path):
                ok.append(run)
        except journal.JournalError as e:
            print(f"skipped run {run.name}: {e}", file=sys.stderr)
    return ok


def parse_since(text: str) -> int:
    """A duration back from now (``15m``) or an ISO time, as epoch milliseconds."""
    m = re.fullmatch(r"(\d+)([smhd])", text.strip())
    if m:
        secs = int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
        return int((time.time() - secs) * 1000)
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            # argparse names the option: "argument --until: 'garbage': expected ..."
            f"{text!r}: expected a duration like 15m or an ISO time"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    # Exact integer milliseconds (a float timestamp can land one millisecond early).
    return (dt - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def report_command(args: argparse.Namespace) -> int:
    from arbhybrid.report import write_report

    try:
        runs = selected_runs(args)
        path = write_report(runs, args.out or report_dir(args))
    except _Usage as e:
        print(e, file=sys.stderr)
        return EXIT_USAGE
    except journal.JournalError as e:
        print(e, file=sys.stderr)
        return 1
    print(path)
    if args.screenshot:
        from arbhybrid import browser

        try:
            # Tall enough for the whole page: a plot section is about 440 px at this
            # width, a summary row about 30 px.
            page = path.read_text(encoding="utf-8")
            height = 200 + 30 * page.count("<tr>") + 440 * page.count("<section")
            shot = browser.screenshot(
                path.resolve().as_uri(), args.screenshot, width=1100, height=height
            )
        except browser.BrowserError as e:
            print(f"screenshot failed: {e}", file=sys.stderr)
            return 1
        for err in shot.page_errors:
            print(f"report page error: {err}", file=sys.stderr)
        print(args.screenshot)
        return 1 if shot.page_errors else 0
    return 0


def _check_filter(option: str, value: str | None, known: set[str]) -> None:
    """A filter value that no run has (``--symbol BTCUSDT``) names the values that exist,
    instead of silently matching nothing."""
    if value is not None and value not in known:
        listed = ", ".join(sorted(known)) or "none yet"
        raise _Usage(f"{option} {value!r} is in none of the journals; they have: {listed}")


def history_command(args: argparse.Namespace) -> int:
    rows: list[tuple[str, journal.Transaction]] = []
    counts: dict[str, int] = {}
    modes: dict[str, str | None] = {}  # from the journal's meta table, when it has one
    symbols: set[str] = set()
    outcomes: set[str] = set()
    try:
        runs = selected_runs(args)
        if args.outcome is not None and args.outcome not in OUTCOMES:
            raise _Usage(f"--outcome {args.outcome!r}: one of {', '.join(OUTCOMES)}")
        for run in runs:
            with journal.open_journal(run.path) as conn:
                modes[run.name] = journal.meta(conn).get("mode")
                symbols |= journal.distinct(conn, "symbol", ("transactions", "spreads"))
                outcomes |= journal.distinct(conn, "outcome", ("transactions",))
                txs = journal.transactions(
                    conn,
                    symbol=args.symbol,
                    outcome=args.outcome,
                    since_ms=args.since,
                    until_ms=args.until,
                    limit=args.limit,
                )
            counts[run.name] = 0
            rows.extend((run.name, t) for t in txs)
        _check_filter("--symbol", args.symbol, symbols)
    except _Usage as e:
        print(e, file=sys.stderr)
        return EXIT_USAGE
    except journal.JournalError as e:
        print(e, file=sys.stderr)
        return 1
    rows.sort(key=lambda r: (r[1].started_ms, r[1].tx_id), reverse=True)
    rows = rows[: args.limit]
    for name, _ in rows:
        counts[name] += 1
    from rich.console import Console
    from rich.table import Table

    title = f"{len(rows)} transactions (newest first)"
    if len(runs) > 1:
        title += f" from {len(runs)} runs"
    table = Table(title=title)
    # The run's label and the transaction id are never cut short; the others wrap first.
    widths = {
        "run": max((len(name) for name, _ in rows), default=3),
        "tx": max((len(str(t.tx_id)) for _, t in rows), default=2),
    }
    for col in (
        "run",
        "tx",
        "started (UTC)",
        "symbol",
        "buy",
        "sell",
        "qty",
        "outcome",
        "PnL",
        "fees",
        "tick-to-trade",
    ):
        table.add_column(
            col,
            justify="right" if col in ("qty", "PnL", "fees") else "left",
            no_wrap=col in widths,
            min_width=widths.get(col),
        )
    for name, t in rows:
        started = datetime.fromtimestamp(t.started_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[
            :-3
        ]
        table.add_row(
            name,
            str(t.tx_id),
            started,
            t.symbol,
            t.buy_venue,
            t.sell_venue,
            str(t.qty),
            t.outcome or "open",
            "" if t.realized_pnl is None else str(t.realized_pnl),
            "" if t.fees_quote is None else str(t.fees_quote),
            "" if t.tick_to_trade_us is None else f"{t.tick_to_trade_us} us",
        )
    console = Console(width=None if sys.stdout.isatty() else 160)
    console.print(table)
    # Which runs were read, so a run with nothing to show is still seen to be there.
    console.print(
        "runs read (transactions shown): "
        + ", ".join(
            f"{name} ({n}{', ' + str(modes[name]) if modes.get(name) else ''})"
            for name, n in counts.items()
        ),
        soft_wrap=True,
    )
    if args.outcome and args.outcome not in outcomes and args.outcome != "open":
        print(
            f"no transaction has outcome {args.outcome!r}; the journals have: "
            + (", ".join(sorted(outcomes)) or "none yet"),
            file=sys.stderr,
        )
    return 0
