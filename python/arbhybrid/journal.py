"""Reading the engine's journal (SQLite, written by the Rust engine in WAL mode).

The journal is opened read-only, so reading it while the engine runs is safe. Decimal
columns are stored as exact strings and come back as ``Decimal``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from arbhybrid.errors import JournalError as JournalError  # their old home
from arbhybrid.errors import JournalNotFound as JournalNotFound
from arbhybrid.errors import NotAJournal as NotAJournal


@contextmanager
def open_journal(path: str | Path) -> Iterator[sqlite3.Connection]:
    """Opens the journal read-only; raises ``JournalNotFound`` if it does not exist and
    ``NotAJournal`` if it is not one."""
    p = Path(path)
    if not p.is_file():
        raise JournalNotFound(
            f"journal {p} does not exist (run the engine first, or pass --journal)"
        )
    conn = sqlite3.connect(f"file:{p}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        try:
            conn.execute("SELECT 1 FROM transactions LIMIT 1").fetchall()
        except sqlite3.DatabaseError as e:
            raise NotAJournal(f"{p} is not a journal: {e}") from None
        yield conn
    finally:
        conn.close()


@dataclass(frozen=True)
class Run:
    """One run's journal under a state directory: ``name`` is its path there without the
    suffix (``sim/20261201-092123-16658``, ``live/journal``)."""

    name: str
    path: Path


def runs(state: str | Path) -> list[Run]:
    """Every run's journal under the state directory, oldest first: each simulator
    session's (``sim/``), the live runs' (``live/``), and ``journal.sqlite`` itself when it
    is a journal rather than the link to the latest session."""
    root = Path(state)
    found = [p for sub in ("sim", "live") for p in (root / sub).glob("*.sqlite") if p.is_file()]
    top = root / "journal.sqlite"
    if top.is_file() and not top.is_symlink():
        found.append(top)
    found.sort(key=lambda p: (_last_write(p), p.name))
    return [Run(str(p.relative_to(root).with_suffix("")), p) for p in found]


def _last_write(journal: Path) -> float:
    """When the journal was last written: its write-ahead log's time while the engine
    runs (the file itself changes only at checkpoints)."""
    wal = journal.with_name(journal.name + "-wal")
    return max(journal.stat().st_mtime, wal.stat().st_mtime if wal.exists() else 0.0)


def meta(conn: sqlite3.Connection) -> dict[str, str]:
    """The journal's ``meta`` table (mode, venues) as key -> value; empty for a journal
    written before it existed."""
    try:
        rows = conn.execute("SELECT * FROM meta").fetchall()
    except sqlite3.DatabaseError:
        return {}
    if rows and {"key", "value"} <= set(rows[0].keys()):  # one row per key
        return {str(r["key"]): str(r["value"]) for r in rows}
    return {k: str(v) for k, v in dict(rows[0]).items()} if rows else {}


def distinct(conn: sqlite3.Connection, column: str, tables: tuple[str, ...]) -> set[str]:
    """The values ``column`` takes in these tables (for naming what exists when a filter
    matches nothing); a table missing from an older journal counts as empty."""
    values: set[str] = set()
    for table in tables:
        try:
            rows = conn.execute(f"SELECT DISTINCT {column} FROM {table}").fetchall()
        except sqlite3.DatabaseError:
            continue
        values.update(str(r[0]) for r in rows if r[0] is not None)
    return values


def dec(v: str | None) -> Decimal | None:
    return None if v is None else Decimal(v)


@dataclass(frozen=True)
class Transaction:
    tx_id: int
    symbol: str
    buy_venue: str
    sell_venue: str
    qty: Decimal
    expected_pnl: Decimal
    started_ms: int
    finished_ms: int | None
    outcome: str | None
    realized_pnl: Decimal | None
    fees_quote: Decimal | None
    residual_base: Decimal | None
    tick_to_trade_us: int | None
    detail: str | None


def transactions(
    conn: sqlite3.Connection,
    *,
    symbol: str | None = None,
    outcome: str | None = None,
    since_ms: int | None = None,
    until_ms: int | None = None,
    limit: int | None = None,
) -> list[Transaction]:
    """Transactions, newest first, filtered as asked."""
    where: list[str] = []
    args: list[str | int] = []
    if symbol:
        where.append("symbol = ?")
        args.append(symbol)
    if outcome == "open":  # still running: no outcome yet
        where.append("outcome IS NULL")
    elif outcome:
        where.append("outcome = ?")
        args.append(outcome)
    if since_ms is not None:
        where.append("started_ms >= ?")
        args.append(since_ms)
    if until_ms is not None:
        where.append("started_ms <= ?")
        args.append(until_ms)
    sql = "SELECT * FROM transactions"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY started_ms DESC, tx_id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(limit)
    return [
        Transaction(
            tx_id=r["tx_id"],
            symbol=r["symbol"],
            buy_venue=r["buy_venue"],
            sell_venue=r["sell_venue"],
            qty=Decimal(r["qty"]),
            expected_pnl=Decimal(r["expected_pnl"]),
            started_ms=r["started_ms"],
            finished_ms=r["finished_ms"],
            outcome=r["outcome"],
            realized_pnl=dec(r["realized_pnl"]),
            fees_quote=dec(r["fees_quote"]),
            residual_base=dec(r["residual_base"]),
            tick_to_trade_us=r["tick_to_trade_us"],
            detail=r["detail"],
        )
        for r in conn.execute(sql, args)
    ]


def fills(conn: sqlite3.Connection, venue: str | None = None) -> list[sqlite3.Row]:
    sql = "SELECT * FROM fills"
    args: list[str] = []
    if venue:
        sql += " WHERE venue = ?"
        args.append(venue)
    return list(conn.execute(sql + " ORDER BY t_ms, trade_id", args))


def orders(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return list(conn.execute("SELECT * FROM orders ORDER BY request_us"))


@dataclass(frozen=True)
class Quote:
    """One venue's best bid and ask for one symbol at one time: a spread sample's row
    (a sample is the quotes sharing ``t_ms`` and ``symbol``)."""

    t_ms: int
    symbol: str
    venue: str
    bid: Decimal | None
    ask: Decimal | None


#: Schema 1 named the venues in its ``spreads`` columns: venue -> (bid, ask) column (the
#: engine migrates such a journal when it opens it; a read-only reader meets it as is).
_V1_SPREAD_COLUMNS = {"mexc": ("mexc_bid", "mexc_ask"), "gateio": ("gate_bid", "gate_ask")}


def spreads(conn: sqlite3.Connection) -> list[Quote]:
    """Every spread sample's quotes, oldest first, in one shape for every schema: one per
    venue that had a quote (a schema-1 row with neither side of a venue has none)."""
    columns = {str(r["name"]) for r in conn.execute("PRAGMA table_info(spreads)")}
    if not columns:  # a journal from before spreads were sampled
        return []
    if "venue" in columns:
        return [
            Quote(r["t_ms"], r["symbol"], r["venue"], dec(r["bid"]), dec(r["ask"]))
            for r in conn.execute("SELECT * FROM spreads ORDER BY t_ms, rowid")
        ]
    return [
        Quote(r["t_ms"], r["symbol"], venue, dec(r[bid]), dec(r[ask]))
        for r in conn.execute("SELECT * FROM spreads ORDER BY t_ms, rowid")
        for venue, (bid, ask) in _V1_SPREAD_COLUMNS.items()
        if r[bid] is not None or r[ask] is not None
    ]


def opportunities(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return list(conn.execute("SELECT * FROM opportunities ORDER BY t_ms"))


def order_with_outcome(conn: sqlite3.Connection, client_order_id: str) -> sqlite3.Row | None:
    """One order's row with its transaction's ``outcome`` and ``residual_base`` (both
    None while the transaction is unknown or running); None if the journal has no such
    order."""
    row: sqlite3.Row | None = conn.execute(
        "SELECT o.*, t.outcome, t.residual_base FROM orders o "
        "LEFT JOIN transactions t ON t.tx_id = o.tx_id WHERE o.client_order_id = ?",
        (client_order_id,),
    ).fetchone()
    return row


def events(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """The engine's journaled events (``kind``, ``detail``; recovery's and the hedges'
    notes, a few per transaction at most), oldest first."""
    return list(conn.execute("SELECT * FROM events ORDER BY t_ms"))
