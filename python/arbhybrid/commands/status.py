"""``python -m arbhybrid status``: ask the running engine for its state."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path

from arbhybrid.commands._common import EXIT_USAGE, add_config_argument, load_settings
from arbhybrid.status import EngineNotRunning, query, state_file_for

#: How many recent transactions (from the journal) ``status`` shows.
RECENT = 8


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("status", help="show the state of the running engine")
    add_config_argument(p)
    p.add_argument(
        "--state",
        metavar="PATH",
        help="the state directory (or its engine.json) of the engine to ask "
        "(default: the configuration's, beside its journal)",
    )
    p.add_argument("--json", action="store_true", help="print the raw JSON answer")
    p.set_defaults(func=status_command)


def state_file(args: argparse.Namespace) -> Path | None:
    """The ``engine.json`` to read: ``--state`` (a directory or the file itself), else the
    one beside the configuration's journal; None when there is no configuration."""
    if args.state:
        path = Path(args.state)
        return path / "engine.json" if path.is_dir() else path
    settings = load_settings(args.config)
    if settings is None:
        print("(or pass --state DIR, the state directory of a running engine)", file=sys.stderr)
        return None
    return state_file_for(settings.journal.path)


def status_command(args: argparse.Namespace) -> int:
    path = state_file(args)
    if path is None:
        return EXIT_USAGE
    try:
        state = query(path)
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
    console.print(
        f"running: engine pid {state.pid} at {state.url}, "
        f"state {state.state_file.parent}, journal {state.status.get('journal')}"
    )
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
