"""The ground truth against the journal after the campaign: every order and fill at the
venues, the balance changes there, and the journal's transactions (unfinished, closed
with base left over, PnL). The per-venue comparison is ``reconcile.check_venue``."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from arbhybrid.journal import events, fills, open_journal, transactions
from arbhybrid.reconcile import Balances, check_venue, fills_change, journal_orders
from arbhybrid.simulator import Simulator
from arbhybrid.venues import VENUES


@dataclass
class Accounting:
    """The ground truth against the journal after the campaign."""

    orders_journal: dict[str, int] = field(default_factory=dict)
    orders_venue: dict[str, int] = field(default_factory=dict)
    orders_at_venue_not_in_journal: dict[str, list[str]] = field(default_factory=dict)
    orders_open_at_venue: dict[str, list[str]] = field(default_factory=dict)
    #: Orders the journal still shows as in flight (its last word on them) although the
    #: venue has them final or never got them: the journal's order row is stale.
    journal_status_not_final: dict[str, list[str]] = field(default_factory=dict)
    fills_venue: dict[str, int] = field(default_factory=dict)
    fills_journal: dict[str, int] = field(default_factory=dict)
    fills_lost: dict[str, list[str]] = field(default_factory=dict)
    fills_extra: dict[str, list[str]] = field(default_factory=dict)
    fills_duplicated: dict[str, list[str]] = field(default_factory=dict)
    balance_mismatches: list[str] = field(default_factory=list)
    balance_deltas: dict[str, dict[str, str]] = field(default_factory=dict)
    unfinished_transactions: list[int] = field(default_factory=list)
    #: Transactions closed with base left over (tx id, symbol, residual, last event).
    hedge_failed: list[str] = field(default_factory=list)
    #: Transactions whose fills do not net to zero base although the journal closed
    #: them flat (tx id, outcome, journal residual, net per fills).
    positions_left: list[str] = field(default_factory=list)
    transactions: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    pnl_engine: str = "0"
    pnl_venue: str = "0"
    pnl_venue_note: str = ""

    @property
    def clean(self) -> bool:
        return not (
            any(self.orders_at_venue_not_in_journal.values())
            or any(self.orders_open_at_venue.values())
            or any(self.fills_lost.values())
            or any(self.fills_extra.values())
            or any(self.fills_duplicated.values())
            or self.balance_mismatches
            or self.unfinished_transactions
            or self.positions_left
        )


def account(sim: Simulator, journal: Path, start: Balances) -> Accounting:
    """Compares the venues' ground truth (``start``: the balances before the campaign)
    with the journal."""
    a = Accounting()
    with open_journal(journal) as c:
        orders = journal_orders(c)
        rows = fills(c)
        txs = sorted(transactions(c), key=lambda t: t.tx_id)
        # The reason recorded for each hedge that could not be made, newest last.
        impossible = [str(e["detail"]) for e in events(c) if e["kind"] == "hedge_impossible"]
    by_venue = {v: [f for f in rows if f["venue"] == v] for v in VENUES}
    outcome = {t.tx_id: t for t in txs}
    # Base each transaction's fills net to (exact): zero for one closed flat.
    net: dict[int, Decimal] = defaultdict(Decimal)
    for f in rows:
        if f["tx_id"] in outcome:
            q = Decimal(f["qty"])
            net[f["tx_id"]] += q if str(f["side"]).lower() == "buy" else -q
    a.unfinished_transactions = [t.tx_id for t in txs if t.outcome is None]
    for t in txs:
        if t.outcome == "hedge_failed":
            why = next((d for d in reversed(impossible) if d.startswith(f"tx {t.tx_id}:")), None)
            a.hedge_failed.append(
                f"tx {t.tx_id} {t.symbol} residual {t.residual_base}" + (f" ({why})" if why else "")
            )
        elif net.get(t.tx_id, Decimal(0)) != 0:
            a.positions_left.append(
                f"tx {t.tx_id} {t.outcome} (journal residual {t.residual_base}; {t.detail}): "
                f"its fills net {net[t.tx_id]} base"
            )
    a.transactions = len(txs)
    a.outcomes = dict(sorted(Counter(str(t.outcome) for t in txs).items()))
    a.pnl_engine = str(sum((t.realized_pnl for t in txs if t.realized_pnl is not None), Decimal(0)))
    quote_delta = Decimal(0)
    base_net: dict[str, Decimal] = defaultdict(Decimal)
    for v in VENUES:
        check = check_venue(sim, v, [f["trade_id"] for f in by_venue[v]], orders[v], start[v])
        a.orders_journal[v] = check.orders_journal
        a.orders_venue[v] = check.orders_venue
        a.orders_at_venue_not_in_journal[v] = check.orders_not_in_journal
        a.journal_status_not_final[v] = check.journal_in_flight
        a.orders_open_at_venue[v] = check.orders_open
        a.fills_duplicated[v] = check.fills_duplicated
        a.fills_venue[v] = check.fills_venue
        a.fills_journal[v] = check.fills_journal
        a.fills_lost[v] = check.fills_lost
        a.fills_extra[v] = check.fills_extra
        implied = fills_change(by_venue[v])
        deltas: dict[str, str] = {}
        for asset in sorted(set(check.balance_change) | set(implied)):
            d = check.balance_change.get(asset, Decimal(0))
            i = implied.get(asset, Decimal(0))
            if d or i:
                deltas[asset] = str(d)
            if d != i:
                a.balance_mismatches.append(f"{v} {asset}: venue {d} vs journal fills {i}")
            if asset == "USDT":
                quote_delta += d
            else:
                base_net[asset] += d
        a.balance_deltas[v] = deltas
    # PnL per the venues: the quote change plus any net base change valued at the
    # last mid (zero when every arbitrage ended flat).
    value = quote_delta
    valued: list[str] = []
    for asset, d in base_net.items():
        if d:
            m = mid(sim, asset)
            value += d * m
            valued.append(f"{asset} {d} at {m}")
    a.pnl_venue = str(value)
    if valued:
        a.pnl_venue_note = "(net base valued at the last mid: " + ", ".join(valued) + ")"
    return a


def mid(sim: Simulator, asset: str) -> Decimal:
    """``asset``'s mid price in USDT at MEXC now (zero without a two-sided book)."""
    b = sim.truth_book("mexc", f"{asset}USDT", 1)
    if not b or not b["bids"] or not b["asks"]:
        return Decimal(0)
    return (Decimal(b["bids"][0][0]) + Decimal(b["asks"][0][0])) / 2
