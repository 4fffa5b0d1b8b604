"""``python -m arbhybrid status``: ask a running engine for its state."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys

from arbhybrid.status import DEFAULT_STATE_FILE, EngineNotRunning, query

#: How many recent transactions (from the journal) ``status`` shows.
RECENT = 8


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="show the state of a running engine")
    p.add_argument(
        "--state",
        default=DEFAULT_STATE_FILE,
        help=f"the running engine's state file (default {DEFAULT_STATE_FILE}, beside the journal)",
    )
    p.add_argument("--json", action="store_true", help="print the raw JSON answer")
    p.set_defaults(func=status_command)


def status_command(args: argparse.Namespace) -> int:
    try:
        state = query(args.state)
    except EngineNotRunning as e:
        print(e, file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(state.status, indent=2, sort_keys=True))
        return 0
    from rich.console import Console

    from arbhybrid.dashboard import Dashboard

    console = Console(width=None if sys.stdout.isatty() else 160)
    dash = Dashboard(console, capture_stderr=False, alerts=False)
    dash.update(state.status["snapshot"])
    for alert in state.status.get("alerts") or []:
        dash.alert(alert)
    dash.events(_recent_transactions(state.status.get("journal")))
    console.print(f"engine pid {state.pid} at {state.url} (state file {state.state_file})")
    console.print(dash.render())
    return 0


def _recent_transactions(journal_path: str | None) -> list[dict[str, object]]:
    """The newest transactions from the engine's journal, oldest first, as the events the
    dashboard shows (the journal may lag the engine by its flush interval)."""
    if not journal_path:
        return []
    from arbhybrid import journal

    try:
        with journal.open_journal(journal_path) as conn:
            txs = journal.transactions(conn, limit=RECENT)
    except (journal.JournalNotFound, OSError, sqlite3.Error):
        return []
    return [
        {
            "type": "transaction",
            "at_s": t.started_ms / 1000,
            "tx_id": t.tx_id,
            "symbol": t.symbol,
            "outcome": t.outcome or "open",
            "realized_pnl": None if t.realized_pnl is None else str(t.realized_pnl),
            "fees_quote": None if t.fees_quote is None else str(t.fees_quote),
            "tick_to_trade_us": t.tick_to_trade_us,
        }
        for t in reversed(txs)
    ]
