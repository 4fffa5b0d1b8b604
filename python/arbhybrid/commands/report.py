"""``python -m arbhybrid report`` and ``history``: look back at a run from its journal."""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import UTC, datetime, timedelta

from arbhybrid import journal

DEFAULT_JOURNAL = "runs/journal.sqlite"


def add_commands(sub: argparse._SubParsersAction) -> None:
    rep = sub.add_parser("report", help="write an HTML report with plots from the journal")
    rep.add_argument("--journal", default=DEFAULT_JOURNAL, help="journal file (SQLite)")
    rep.add_argument("--out", default="runs/report", help="output directory")
    rep.add_argument(
        "--screenshot",
        metavar="PNG",
        help="also save a picture of the report (needs Debian's chromium)",
    )
    rep.set_defaults(func=report_command)

    hist = sub.add_parser("history", help="list recent transactions from the journal")
    hist.add_argument("--journal", default=DEFAULT_JOURNAL, help="journal file (SQLite)")
    hist.add_argument("--symbol", help="only this unified symbol, e.g. BTC/USDT")
    hist.add_argument("--outcome", help="only this outcome, e.g. completed, unwound")
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
    hist.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    hist.set_defaults(func=history_command)


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
            f"--since {text!r}: expected a duration like 15m or an ISO time"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    # Exact integer milliseconds (a float timestamp can land one millisecond early).
    return (dt - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def report_command(args: argparse.Namespace) -> int:
    from arbhybrid.report import write_report

    try:
        path = write_report(args.journal, args.out)
    except journal.JournalNotFound as e:
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


def history_command(args: argparse.Namespace) -> int:
    try:
        with journal.open_journal(args.journal) as conn:
            txs = journal.transactions(
                conn,
                symbol=args.symbol,
                outcome=args.outcome,
                since_ms=args.since,
                until_ms=args.until,
                limit=args.limit,
            )
    except journal.JournalNotFound as e:
        print(e, file=sys.stderr)
        return 1
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(txs)} transactions (newest first)")
    for col in (
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
        table.add_column(col, justify="right" if col in ("qty", "PnL", "fees") else "left")
    for t in txs:
        started = datetime.fromtimestamp(t.started_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[
            :-3
        ]
        table.add_row(
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
    Console(width=None if sys.stdout.isatty() else 160).print(table)
    return 0
