"""Two-leg execution under the simulator's faults: one leg rejected, one leg partially
filled, insufficient balance, a venue disconnected mid-trade. Each scenario ends with the
inventory known and no order unaccounted for:

- every fill at either venue is in the journal (by trade id), and nothing else is;
- no order of ours is left open at either venue;
- the engine's balance changes equal the venue's, per venue and asset, exactly;
- no transaction is left unfinished in the journal.

(A fill landing while its cancel is in flight is covered by the transaction state
machine's unit tests in ``rust/engine/src/tx.rs``; the simulator has no deterministic way
to land a fill inside a cancel's round trip.)
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from arbhybrid import reconcile
from arbhybrid.config import Settings
from arbhybrid.engine import RunningEngine
from arbhybrid.simulator import Simulator, config_from_settings
from tests.test_engine_acceptance import VENUES, endpoints, settings_for_test

Inject = Callable[[Simulator, RunningEngine], Awaitable[None]]


async def run_scenario(
    tmp_path: Path,
    settings: Settings,
    inject: Inject,
    seconds: float = 12,
    sim_overrides: dict[str, Any] | None = None,
) -> tuple[Simulator, dict[str, Any], Path]:
    """Runs the engine with a fault; checks the invariants; returns what a scenario
    asserts on (the simulator is stopped by the caller)."""
    sim = Simulator({**config_from_settings(settings), **(sim_overrides or {})}).start()
    start = reconcile.balances(sim)
    journal = tmp_path / "journal.sqlite"
    eps = endpoints(sim)
    engine = await RunningEngine.start(settings, eps, journal_path=str(journal))
    try:
        await inject(sim, engine)
        await asyncio.sleep(seconds)
        sim.clear_faults()
        sim.inject_fault("mexc", "resume")
        sim.inject_fault("gateio", "resume")
    finally:
        await engine.shutdown(timeout_s=30)
    snap = engine.snapshot()
    check_invariants(sim, snap, journal, start)
    return sim, snap, journal


def check_invariants(
    sim: Simulator, snap: dict[str, Any], journal: Path, start: reconcile.Balances
) -> None:
    rec = reconcile.reconcile(sim, journal, snap["inventory"], start)
    assert rec.ok, str(rec)


def fired(sim: Simulator, kind: str) -> int:
    return sum(f["fired"] for f in sim.faults() if f["spec"]["type"] == kind)


async def test_one_leg_rejected(tmp_path: Path) -> None:
    async def inject(sim: Simulator, engine: RunningEngine) -> None:
        sim.inject_fault("gateio", "reject_order", error="below_minimum", count=3)

    settings = settings_for_test(balance_mode="stream")
    sim, snap, _ = await run_scenario(tmp_path, settings, inject)
    try:
        assert fired(sim, "reject_order") >= 1
        assert snap["stats"]["errors"].get("invalid_order", 0) >= 1
        outcomes = snap["stats"]["outcomes"]
        # The other leg of a rejected one was unwound (default policy) or never filled.
        assert outcomes.get("unwound", 0) + outcomes.get("not_filled", 0) >= 1, outcomes
    finally:
        sim.stop()


async def test_one_leg_partially_filled(tmp_path: Path) -> None:
    async def inject(sim: Simulator, engine: RunningEngine) -> None:
        sim.inject_fault("mexc", "partial_fill", pct=40, count=3)

    settings = settings_for_test(balance_mode="stream")
    sim, snap, journal = await run_scenario(tmp_path, settings, inject)
    try:
        assert fired(sim, "partial_fill") >= 1
        outcomes = snap["stats"]["outcomes"]
        handled = ("unwound", "hedged", "partial_balanced", "dust")
        assert sum(outcomes.get(o, 0) for o in handled) >= 1, outcomes
        assert outcomes.get("hedge_failed", 0) == 0, outcomes
        with sqlite3.connect(journal) as c:
            rows = c.execute(
                "SELECT outcome, residual_base FROM transactions "
                "WHERE outcome IN ('unwound', 'hedged', 'partial_balanced')"
            ).fetchall()
        # Closed residuals are exactly zero (dust, if any, is journaled as such).
        assert all(Decimal(r) == 0 for _, r in rows), rows
    finally:
        sim.stop()


async def test_insufficient_balance_is_skipped_without_rejections(tmp_path: Path) -> None:
    async def inject(sim: Simulator, engine: RunningEngine) -> None:
        return None

    settings = settings_for_test(balance_mode="fresh")
    # Almost no quote on Gate: trades that buy there are capped by the fresh balance to
    # below the minimum and skipped, not sent and rejected.
    sim, snap, _ = await run_scenario(
        tmp_path,
        settings,
        inject,
        sim_overrides={"trader_balances": {"USDT": "2", "BTC": "0.2", "ETH": "5", "SOL": "100"}},
    )
    try:
        st = snap["stats"]
        # Opportunities were seen, and the fresh balances refused them before any order.
        assert st["opportunities_detected"] >= 1, st
        assert st["opportunities_vanished"] >= 1, st
        assert st["outcomes"] == {}, st
        assert st["errors"].get("insufficient_funds", 0) == 0
        for v in VENUES:
            assert all(o["status"] != "REJECTED" for o in sim.orders(v))
    finally:
        sim.stop()


async def test_venue_disconnected_mid_trade(tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite"

    def unfinished(since_ms: int) -> list[int]:
        """Transactions started since ``since_ms`` and not finished, per the journal."""
        with (
            contextlib.suppress(sqlite3.Error),
            sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as c,
        ):
            q = "SELECT tx_id FROM transactions WHERE outcome IS NULL AND started_ms >= ?"
            return [t for (t,) in c.execute(q, (since_ms,))]
        return []

    async def inject(sim: Simulator, engine: RunningEngine) -> None:
        # MEXC answers REST requests 2 s late (under the 5 s request timeout): a
        # transaction that starts has its MEXC leg held in flight that long, so the
        # disconnect lands inside it by construction, not by timing luck.
        delayed_ms = time.time_ns() // 1_000_000
        sim.inject_fault("mexc", "rest_delay", ms=2000)
        for _ in range(1200):  # bounded: a minute for a transaction to start
            busy = any(s["busy"] for s in engine.snapshot()["symbols"].values())
            if busy and unfinished(delayed_ms):
                break
            await asyncio.sleep(0.05)
        cut.update(tx=unfinished(delayed_ms), us=time.time_ns() // 1000)
        # Cut every MEXC connection, a few times over.
        sim.inject_fault("mexc", "close_connections", scope="all")
        sim.clear_faults()  # the delay; the transaction goes on against reconnecting feeds
        for _ in range(2):
            await asyncio.sleep(1.0)
            sim.inject_fault("mexc", "close_connections", scope="all")
        # Reconnected, and the books are valid again.
        for _ in range(100):
            during.update(engine.snapshot())
            if all(s["venues"]["mexc"]["valid"] for s in during["symbols"].values()):
                break
            await asyncio.sleep(0.1)

    during: dict[str, Any] = {}
    cut: dict[str, Any] = {}
    settings = settings_for_test(balance_mode="stream")
    sim, snap, _ = await run_scenario(tmp_path, settings, inject, seconds=6)
    try:
        assert fired(sim, "close_connections") >= 3
        assert fired(sim, "rest_delay") >= 1
        # A transaction was in flight at the first cut: its MEXC leg was requested
        # before it and ended after it, and the transaction finished.
        assert cut["tx"], "no transaction in flight at the cut"
        with sqlite3.connect(journal) as c:
            for tx in cut["tx"]:
                (outcome,) = c.execute(
                    "SELECT outcome FROM transactions WHERE tx_id = ?", (tx,)
                ).fetchone()
                assert outcome is not None, tx
                legs = c.execute(
                    "SELECT request_us, final_us FROM orders WHERE tx_id = ? AND venue = "
                    "'mexc' AND leg IN ('buy', 'sell')",
                    (tx,),
                ).fetchall()
                assert legs and all(r < cut["us"] < f for r, f in legs), (legs, cut)
        assert snap["stats"]["opportunities_taken"] >= 1
        assert during["venues"]["mexc"]["feed"]["connects"] >= 4  # first + 3 reconnects
        assert all(s["venues"]["mexc"]["valid"] for s in during["symbols"].values())
    finally:
        sim.stop()


async def test_a_held_residual_is_re_marked_as_prices_move(tmp_path: Path) -> None:
    """A residual kept under the `hold` policy moves the risk layer's daily PnL as its
    price moves, with no trade closing meanwhile (trading is halted once it is held)."""
    seen: list[str] = []

    async def inject(sim: Simulator, engine: RunningEngine) -> None:
        sim.inject_fault("mexc", "partial_fill", pct=40, count=1)
        for _ in range(600):
            if engine.snapshot()["stats"]["outcomes"].get("held", 0) >= 1:
                break
            await asyncio.sleep(0.05)
        engine.halt()
        for _ in range(600):  # the mid moves with every book update (30 a second)
            snap = engine.snapshot()
            if snap["risk"]["open_arbitrages"] == 0:
                seen.append(snap["risk"]["daily_pnl"])
                if len(set(seen)) > 1:
                    return
            await asyncio.sleep(0.05)

    settings = settings_for_test(balance_mode="stream", hedge_policy="hold")
    sim, snap, _ = await run_scenario(tmp_path, settings, inject, seconds=0.5)
    try:
        assert snap["stats"]["outcomes"].get("held", 0) >= 1, snap["stats"]["outcomes"]
        assert len(set(seen)) > 1, f"daily PnL never moved with a residual held: {seen[:3]}"
    finally:
        sim.stop()


async def test_lost_answers_are_resolved_not_sent_again(tmp_path: Path) -> None:
    """The first order on each venue is applied and its answer never comes. The engine
    resolves it from what covers finished orders (on Gate a finished order is no longer
    found by its ``text``; MEXC's query lags its write) and never sends it again: every
    client order id exists once at its venue, and the invariants hold."""

    async def inject(sim: Simulator, engine: RunningEngine) -> None:
        for v in VENUES:
            sim.inject_fault(v, "apply_then_timeout", count=1)

    settings = settings_for_test(balance_mode="stream")
    sim, snap, _ = await run_scenario(tmp_path, settings, inject, seconds=15)
    try:
        assert fired(sim, "apply_then_timeout") >= 1
        assert snap["stats"]["opportunities_taken"] >= 1
        for v in VENUES:
            ids = [o["client_order_id"] for o in sim.orders(v) if o["client_order_id"]]
            assert len(ids) == len(set(ids)), (v, sorted(ids))
    finally:
        sim.stop()
