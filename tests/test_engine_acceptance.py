"""The main job against the real simulator on loopback: arbitrages complete, and every
transaction is accounted for — the journal's fills are exactly the simulator's fills for
the account (by trade id), and the engine's balance changes equal the simulator's
balance changes per venue and asset, exactly."""

from __future__ import annotations

import asyncio
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from arbhybrid import reconcile
from arbhybrid.config import Settings, load_config
from arbhybrid.engine import RunningEngine, VenueEndpoints, simulator_endpoints
from arbhybrid.simulator import Simulator, config_from_settings

REPO = Path(__file__).resolve().parents[1]
VENUES = ("mexc", "gateio")


def settings_for_test(**strategy: Any) -> Settings:
    base = load_config(REPO / "config.yaml", environ={})
    data = base.model_dump()
    data["strategy"].update(strategy)
    # Faster dislocations than the default so a short run sees several.
    data["simulator"]["opportunity_rate_per_min"] = 40.0
    data["simulator"]["update_rate_hz"] = 30.0
    return Settings.model_validate(data)


def endpoints(sim: Simulator) -> dict[str, VenueEndpoints]:
    return simulator_endpoints(sim)


async def run_engine(
    settings: Settings, sim: Simulator, journal: Path, seconds: float
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []
    eps = endpoints(sim)
    engine = await RunningEngine.start(
        settings, eps, on_events=events.extend, journal_path=str(journal)
    )
    try:
        await asyncio.sleep(seconds)
    finally:
        await engine.shutdown(timeout_s=30)
    return engine.snapshot(), events


@pytest.mark.parametrize("balance_mode", ["fresh", "stream"])
async def test_engine_trades_and_every_fill_and_balance_is_accounted_for(
    tmp_path: Path, balance_mode: str
) -> None:
    settings = settings_for_test(balance_mode=balance_mode)
    sim = Simulator(config_from_settings(settings)).start()
    try:
        start_balances = reconcile.balances(sim)
        journal = tmp_path / "journal.sqlite"
        snap, events = await run_engine(settings, sim, journal, seconds=15)

        outcomes = snap["stats"]["outcomes"]
        assert outcomes.get("completed", 0) >= 1, (outcomes, snap["stats"])
        txs = [e for e in events if e["type"] == "transaction"]
        assert sum(outcomes.values()) == len(txs)

        # Every fill, order and balance change accounted for against the venue.
        rec = reconcile.reconcile(sim, journal, snap["inventory"], start_balances)
        assert rec.ok, str(rec)
        assert rec.fills >= 2
        assert snap["journal_errors"] == 0

        # A transaction whose two legs both filled in full never hedges.
        with sqlite3.connect(journal) as c:
            rows = c.execute(
                "SELECT t.tx_id, t.qty, o.leg, o.status, o.filled_qty FROM transactions t "
                "JOIN orders o ON o.tx_id = t.tx_id"
            ).fetchall()
        legs: dict[int, dict[str, tuple[str, str]]] = {}
        qty: dict[int, Decimal] = {}
        for tx_id, q, leg, status, filled in rows:
            qty[tx_id] = Decimal(q)
            legs.setdefault(tx_id, {})[leg] = (status, filled)
        for tx_id, by_leg in legs.items():
            both_full = all(
                by_leg.get(leg, ("", None))[0] == "filled"
                and Decimal(by_leg[leg][1] or 0) == qty[tx_id]
                for leg in ("buy", "sell")
            )
            if both_full:
                assert "hedge" not in by_leg, (tx_id, by_leg)
    finally:
        sim.stop()


async def test_veto_mode_without_a_python_rule_sends_nothing(tmp_path: Path) -> None:
    """`veto` mode means Python approves each trade: with no rule installed (an embedder
    that never called `set_veto`), opportunities are refused, not sent unchecked."""
    settings = settings_for_test(python_risk_mode="veto")
    sim = Simulator(config_from_settings(settings)).start()
    try:
        snap, events = await run_engine(settings, sim, tmp_path / "journal.sqlite", seconds=8)
        decisions = [e["decision"] for e in events if e["type"] == "opportunity"]
        assert "refused: veto mode and no python rule installed" in decisions, decisions
        assert "taken" not in decisions, decisions
        assert snap["stats"]["outcomes"] == {}
        assert all(not sim.orders(v) for v in VENUES)
    finally:
        sim.stop()
