"""Reconciliation of a run against the venue's ground truth (the simulator's admin view):
is every transaction accounted for?

- every fill at each venue is in the journal (by trade id), and nothing else is;
- every order the venue holds for the account is known to the journal, and none is open;
- no transaction is left unfinished in the journal;
- the engine's balance changes equal the venue's, per venue and asset, exactly.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from arbhybrid.simulator import VENUES, Simulator

OPEN_STATUSES = ("NEW", "PARTIALLY_FILLED", "open")

Balances = dict[str, dict[str, tuple[Decimal, Decimal]]]


@dataclass
class Reconciliation:
    """What was compared and every mismatch found (empty ``problems`` = accounted for)."""

    fills: int = 0
    orders: int = 0
    transactions: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        head = (
            f"{self.transactions} transactions, {self.orders} orders, {self.fills} fills "
            "checked against the venues"
        )
        if self.ok:
            return f"reconciliation: OK ({head})"
        return (
            "reconciliation: MISMATCH ("
            + head
            + ")\n"
            + "\n".join(f"  - {p}" for p in self.problems)
        )


def balances(sim: Simulator) -> Balances:
    return {v: sim.balances(v) for v in VENUES}


def reconcile(
    sim: Simulator,
    journal: str | Path,
    inventory: dict[str, dict[str, str]],
    start: Balances,
    since_ms: int = 0,
) -> Reconciliation:
    """Compares the journal and the engine's ``inventory`` (snapshot field) with the
    simulator's truth; ``start`` is the balances before the run. Only transactions
    started at or after ``since_ms`` are compared (a journal outlives a simulator)."""
    r = Reconciliation()
    with sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as c:
        jf: dict[str, set[str]] = {v: set() for v in VENUES}
        for venue, trade_id in c.execute(
            "SELECT f.venue, f.trade_id FROM fills f JOIN transactions t ON t.tx_id = f.tx_id "
            "WHERE t.started_ms >= ?",
            (since_ms,),
        ):
            jf.setdefault(venue, set()).add(trade_id)
        unfinished = [
            row[0]
            for row in c.execute(
                "SELECT tx_id FROM transactions WHERE outcome IS NULL AND started_ms >= ?",
                (since_ms,),
            )
        ]
        r.transactions = c.execute(
            "SELECT COUNT(*) FROM transactions WHERE started_ms >= ?", (since_ms,)
        ).fetchone()[0]
        journal_orders = {row[0] for row in c.execute("SELECT client_order_id FROM orders")}
    if unfinished:
        r.problems.append(f"unfinished transactions in the journal: {unfinished}")
    now = balances(sim)
    for v in VENUES:
        venue_fills = {f["trade_id"] for f in sim.fills(v)}
        r.fills += len(venue_fills)
        if missing := venue_fills - jf.get(v, set()):
            r.problems.append(
                f"{v}: fills at the venue missing from the journal: {sorted(missing)}"
            )
        if extra := jf.get(v, set()) - venue_fills:
            r.problems.append(f"{v}: journal fills the venue does not have: {sorted(extra)}")
        orders: list[dict[str, Any]] = sim.orders(v)
        r.orders += len(orders)
        for o in orders:
            cid = str(o["client_order_id"]).removeprefix("t-")
            if cid not in journal_orders:
                r.problems.append(f"{v}: order {cid} at the venue is not in the journal")
            if o["status"] in OPEN_STATUSES:
                r.problems.append(f"{v}: order {cid} is still open")
        for asset in sorted(set(now[v]) | set(start[v])):
            f0, l0 = start[v].get(asset, (Decimal(0), Decimal(0)))
            f1, l1 = now[v].get(asset, (Decimal(0), Decimal(0)))
            venue_delta = (f1 + l1) - (f0 + l0)
            engine_delta = Decimal(inventory.get(v, {}).get(asset, "0"))
            if engine_delta != venue_delta:
                r.problems.append(
                    f"{v} {asset}: engine change {engine_delta} != venue change {venue_delta}"
                )
    return r
