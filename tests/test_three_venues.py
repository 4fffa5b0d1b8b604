"""Any number of venues: two MEXC accounts and Gate, as three venues of their own.

The configuration names a second MEXC instance (``mexc_b: {kind: mexc}``); the embedded
simulator hosts one instance per enabled venue, each with its own port, books and
accounts; the engine prices every route (ordered pair) between the venues that list a
symbol, trades them, and every fill, order and balance change reconciles per venue.
"""

from __future__ import annotations

import asyncio
import io
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from arbhybrid import reconcile
from arbhybrid.config import ConfigError, Settings, load_config
from arbhybrid.dashboard import Dashboard
from arbhybrid.engine import RunningEngine, simulator_endpoints
from arbhybrid.simulator import Simulator, config_from_settings

REPO = Path(__file__).resolve().parents[1]
THREE = ("mexc", "mexc_b", "gateio")


def three_venue_settings() -> Settings:
    data: dict[str, Any] = load_config(REPO / "config.yaml", environ={}).model_dump()
    exchanges = data["exchanges"]
    mexc_b = dict(exchanges["mexc"], kind="mexc")
    # In the file's order: mexc, mexc_b, gateio.
    data["exchanges"] = {"mexc": exchanges["mexc"], "mexc_b": mexc_b, "gateio": exchanges["gateio"]}
    data["strategy"]["symbols"] = ["BTC/USDT", "ETH/USDT"]
    data["strategy"]["cooldown_ms"] = 200
    data["risk"]["max_open_arbitrages"] = 3
    data["simulator"]["opportunity_rate_per_min"] = 60.0
    data["simulator"]["update_rate_hz"] = 30.0
    return Settings.model_validate(data)


def test_a_venue_not_named_after_its_kind_must_say_its_kind() -> None:
    data: dict[str, Any] = load_config(REPO / "config.yaml", environ={}).model_dump()
    data["exchanges"]["mexc_b"] = dict(data["exchanges"]["mexc"])
    with pytest.raises(Exception) as e:
        Settings.model_validate(data)
    assert "mexc_b.kind: required" in str(e.value)
    data["exchanges"]["mexc_b"]["kind"] = "binance"
    with pytest.raises(Exception) as e:
        Settings.model_validate(data)
    assert "mexc_b" in str(e.value) and "kind" in str(e.value)


def test_the_engine_refuses_fewer_than_two_enabled_venues(tmp_path: Path) -> None:
    data: dict[str, Any] = load_config(REPO / "config.yaml", environ={}).model_dump()
    data["exchanges"]["gateio"]["enabled"] = False
    settings = Settings.model_validate(data)
    with Simulator(config_from_settings(settings)) as sim:
        assert list(sim.endpoints.venues) == ["mexc"]
        with pytest.raises(Exception) as e:
            asyncio.run(
                RunningEngine.start(
                    settings, simulator_endpoints(sim), journal_path=str(tmp_path / "j")
                )
            )
    assert "at least two enabled venues" in str(e.value)
    with pytest.raises(ConfigError) as e2:
        from arbhybrid.engine import engine_config

        engine_config(three_venue_settings(), {})
    assert "exchanges.mexc: enabled but no endpoints" in str(e2.value)


async def test_three_venues_trade_every_pair_and_reconcile(tmp_path: Path) -> None:
    settings = three_venue_settings()
    sim = Simulator(config_from_settings(settings)).start()
    try:
        assert list(sim.endpoints.venues) == list(THREE)
        assert [v.kind for v in sim.endpoints.venues.values()] == ["mexc", "mexc", "gateio"]
        start = reconcile.balances(sim)
        journal = tmp_path / "journal.sqlite"
        events: list[Any] = []
        engine = await RunningEngine.start(
            settings, simulator_endpoints(sim), on_events=events.extend, journal_path=str(journal)
        )
        pairs: set[frozenset[str]] = set()
        try:
            # Until every unordered pair of venues has traded (or a generous limit).
            for _ in range(90):
                await asyncio.sleep(1)
                with sqlite3.connect(journal) as c:
                    rows = c.execute(
                        "SELECT buy_venue, sell_venue FROM transactions WHERE outcome IS NOT NULL"
                    ).fetchall()
                pairs = {frozenset(r) for r in rows}
                if len(pairs) == 3:
                    break
        finally:
            await engine.shutdown(timeout_s=30)
        snap = engine.snapshot()

        # Every venue is in the view, keyed by its name, and its books and edges too (the
        # native snapshot's objects come sorted by key).
        assert set(snap["venues"]) == set(THREE)
        assert set(snap["startup_ms"].get("per_venue_ms", {})) == set(THREE)
        btc = snap["symbols"]["BTC/USDT"]
        assert set(btc["venues"]) == set(THREE)
        assert len(btc["edge_bps"]) == 6 and "buy_mexc_b_sell_gateio" in btc["edge_bps"]

        assert pairs == {
            frozenset(("mexc", "mexc_b")),
            frozenset(("mexc", "gateio")),
            frozenset(("mexc_b", "gateio")),
        }, pairs
        # Each instance traded with its own account: fills at each venue, and every fill,
        # order and balance change accounted for against each venue's ground truth.
        for v in THREE:
            assert sim.fills(v), f"no fills on {v}"
        rec = reconcile.reconcile(sim, journal, snap["inventory"], start)
        assert rec.ok, str(rec)
        assert snap["journal_errors"] == 0

        # The operator's view shows every venue and every route.
        dash = Dashboard(Console(file=io.StringIO(), width=240), capture_stderr=False, alerts=False)
        dash.update(snap)
        out = Console(record=True, width=240, file=io.StringIO(), color_system=None)
        out.print(dash.render())
        drawn = out.export_text()
        assert "mexc_b bid" in drawn and "mexc_b book" in drawn, drawn
        header = next(line for line in drawn.splitlines() if "MEXC bid" in line)
        assert header.count(" bps") == 6, drawn  # one edge column per route
    finally:
        sim.stop()
