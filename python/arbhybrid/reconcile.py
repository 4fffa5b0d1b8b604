"""Reconciliation of a run against the venue's ground truth (the simulator's admin view):
is every transaction accounted for?

- every fill at each venue is in the journal (by trade id), and nothing else is;
- every order the venue holds for the account is known to the journal, and none is open;
- no transaction is left unfinished in the journal;
- the engine's balance changes equal the venue's, per venue and asset, exactly.

``check_venue`` is the comparison of one venue's truth with the journal's rows;
``reconcile`` (the main job's check) and the reliability campaign's accounting both
build on it.
"""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from arbhybrid.journal import fills, open_journal, orders, transactions
from arbhybrid.simulator import Simulator

#: Order statuses at a venue (either venue's spelling) that are not final.
OPEN_STATUSES = ("NEW", "PARTIALLY_FILLED", "open")
#: Order statuses in the journal that are not final (the journal's last word is stale if
#: the venue has the order final).
JOURNAL_IN_FLIGHT = ("pending_new", "new", "open", "partially_filled", "unknown")

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
    return {v: sim.balances(v) for v in sim.endpoints.venues}


def journal_id(venue_client_order_id: str) -> str:
    """The client order id as the journal has it: Gate returns its ``text`` with the
    ``t-`` prefix it requires."""
    return venue_client_order_id.removeprefix("t-")


@dataclass(frozen=True)
class VenueCheck:
    """One venue's ground truth against the journal's rows for it. Order ids are as the
    venue names them."""

    venue: str
    fills_venue: int
    fills_journal: int
    #: Trade ids at the venue the journal lacks; in the journal but not at the venue;
    #: journaled more than once.
    fills_lost: list[str]
    fills_extra: list[str]
    fills_duplicated: list[str]
    orders_venue: int
    orders_journal: int
    orders_not_in_journal: list[str]
    orders_open: list[str]
    #: Orders the journal still shows in flight (``<id> journal <status> venue <status>``)
    #: although the venue has them final or never got them.
    journal_in_flight: list[str]
    #: The venue's balance change (free + locked) per asset since ``start``.
    balance_change: dict[str, Decimal]


def check_venue(
    sim: Simulator,
    venue: str,
    trade_ids: Sequence[str],
    order_status: Mapping[str, str],
    start: Mapping[str, tuple[Decimal, Decimal]],
) -> VenueCheck:
    """Compares ``venue``'s fills, orders and balances at the simulator with the
    journal's ``trade_ids`` and ``order_status`` (client order id -> status) for it;
    ``start`` is the venue's balances before the run."""
    venue_fills = {str(f["trade_id"]) for f in sim.fills(venue)}
    journaled = set(trade_ids)
    at_venue: list[dict[str, Any]] = sim.orders(venue)
    final_at_venue = {
        journal_id(str(o["client_order_id"])): str(o["status"])
        for o in at_venue
        if o["status"] not in OPEN_STATUSES
    }
    now = sim.balances(venue)
    zero = (Decimal(0), Decimal(0))
    change: dict[str, Decimal] = {}
    for asset in sorted(set(now) | set(start)):
        f0, l0 = start.get(asset, zero)
        f1, l1 = now.get(asset, zero)
        change[asset] = (f1 + l1) - (f0 + l0)
    return VenueCheck(
        venue=venue,
        fills_venue=len(venue_fills),
        fills_journal=len(trade_ids),
        fills_lost=sorted(venue_fills - journaled),
        fills_extra=sorted(journaled - venue_fills),
        fills_duplicated=sorted(i for i, n in Counter(trade_ids).items() if n > 1),
        orders_venue=len(at_venue),
        orders_journal=len(order_status),
        orders_not_in_journal=[
            str(o["client_order_id"])
            for o in at_venue
            if journal_id(str(o["client_order_id"])) not in order_status
        ],
        orders_open=[str(o["client_order_id"]) for o in at_venue if o["status"] in OPEN_STATUSES],
        journal_in_flight=[
            f"{cid} journal {st} venue {final_at_venue.get(cid, 'absent')}"
            for cid, st in order_status.items()
            if st in JOURNAL_IN_FLIGHT
        ],
        balance_change=change,
    )


def fills_change(rows: Iterable[sqlite3.Row]) -> dict[str, Decimal]:
    """The balance change per asset that the journal's fill rows imply (each trade id once):
    base bought or sold, quote paid or received, fees paid."""
    implied: dict[str, Decimal] = defaultdict(Decimal)
    done: set[str] = set()
    for f in rows:
        if f["trade_id"] in done:
            continue
        done.add(f["trade_id"])
        base, quote = str(f["symbol"]).split("/")
        sign = 1 if str(f["side"]).lower() == "buy" else -1
        implied[base] += sign * Decimal(f["qty"])
        implied[quote] -= sign * Decimal(f["quote_qty"])
        if f["fee_asset"]:
            implied[f["fee_asset"]] -= Decimal(f["fee"])
    return dict(implied)


def journal_orders(conn: sqlite3.Connection) -> dict[str, dict[str, str]]:
    """The journal's orders per venue: client order id -> status."""
    out: dict[str, dict[str, str]] = {}
    for o in orders(conn):
        out.setdefault(o["venue"], {})[o["client_order_id"]] = o["status"]
    return out


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
    with open_journal(journal) as c:
        txs = transactions(c, since_ms=since_ms)
        tx_ids: set[int] = {t.tx_id for t in txs}
        hosted = list(sim.endpoints.venues)
        trade_ids = {
            v: [f["trade_id"] for f in fills(c, v) if f["tx_id"] in tx_ids] for v in hosted
        }
        journaled = journal_orders(c)
    r.transactions = len(txs)
    if unfinished := sorted(t.tx_id for t in txs if t.outcome is None):
        r.problems.append(f"unfinished transactions in the journal: {unfinished}")
    if strangers := sorted(set(journaled) - set(hosted)):
        r.problems.append(f"journal orders on venues the simulator does not host: {strangers}")
    for v in hosted:
        check = check_venue(sim, v, trade_ids[v], journaled.get(v, {}), start[v])
        r.fills += check.fills_venue
        r.orders += check.orders_venue
        if check.fills_lost:
            r.problems.append(
                f"{v}: fills at the venue missing from the journal: {check.fills_lost}"
            )
        if check.fills_extra:
            r.problems.append(f"{v}: journal fills the venue does not have: {check.fills_extra}")
        for cid in check.orders_not_in_journal:
            r.problems.append(f"{v}: order {journal_id(cid)} at the venue is not in the journal")
        for cid in check.orders_open:
            r.problems.append(f"{v}: order {journal_id(cid)} is still open")
        for asset, venue_delta in check.balance_change.items():
            engine_delta = Decimal(inventory.get(v, {}).get(asset, "0"))
            if engine_delta != venue_delta:
                r.problems.append(
                    f"{v} {asset}: engine change {engine_delta} != venue change {venue_delta}"
                )
    return r
