"""Issue 17 item 3: the symbol rules that decide whether an order is accepted. Against the
simulator, which lists KAS/USDT without market orders and PEPE/USDT not API-tradable on
MEXC, and TON/USDT not buyable yet on Gate (its defaults), and answers with the real
codes (30051, 10007, ...):

- the default ``market_limit`` style, told to buy at market on MEXC, completes on a
  symbol whose MEXC market orders are disabled with an IOC limit instead of a rejection;
- a configured symbol that no two enabled venues list stops start-up naming it and the
  venues that lack it (tried as a new user would, with ``ARB__STRATEGY__SYMBOLS``);
- a symbol a venue does not let the API trade is left out with one line at start-up.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

from arbhybrid import reconcile
from arbhybrid.config import Settings, load_config
from arbhybrid.engine import RunningEngine, simulator_endpoints
from arbhybrid.simulator import Simulator, config_from_settings
from tests.test_cli_user import checkout, cli, user_env

REPO = Path(__file__).resolve().parents[1]


def kas_settings(**strategy: object) -> Settings:
    data = load_config(REPO / "config.yaml", environ={}).model_dump()
    data["strategy"].update({"symbols": ["KAS/USDT"], **strategy})
    data["risk"]["max_position_per_asset"] = "100000"
    sim = data["simulator"]
    sim.update(opportunity_rate_per_min=40.0, update_rate_hz=30.0)
    sim["trader_balances"] = {"USDT": "100000", "KAS": "200000"}
    return Settings.model_validate(data)


async def test_market_limit_on_a_symbol_without_mexc_market_orders_sends_an_ioc_limit(
    tmp_path: Path,
) -> None:
    settings = kas_settings(mexc_buy_order="market")
    sim = Simulator(config_from_settings(settings)).start()
    try:
        start = reconcile.balances(sim)
        journal = tmp_path / "journal.sqlite"
        engine = await RunningEngine.start(
            settings, simulator_endpoints(sim), journal_path=str(journal)
        )
        try:
            # Until a transaction bought on MEXC (gaps open in both directions).
            for _ in range(300):
                if any(o["side"] == "buy" for o in sim.orders("mexc")):
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(1)
        finally:
            await engine.shutdown(timeout_s=30)
        snap = engine.snapshot()
        buys = [o for o in sim.orders("mexc") if o["side"] == "buy"]
        assert buys, ("no MEXC buy in 30 s", snap["stats"])
        # Never a market order there, so never a 30051 rejection.
        assert {o["kind"] for o in sim.orders("mexc")} <= {"ioc", "limit"}, sim.orders("mexc")
        assert all(o["kind"] == "ioc" for o in buys), buys
        assert "symbol_not_tradable" not in snap["stats"]["errors"], snap["stats"]["errors"]
        assert "invalid_order" not in snap["stats"]["errors"], snap["stats"]["errors"]
        with sqlite3.connect(journal) as c:
            rows = c.execute(
                "SELECT t.outcome, o.kind FROM transactions t JOIN orders o ON o.tx_id = t.tx_id "
                "WHERE o.venue = 'mexc' AND o.side = 'buy'"
            ).fetchall()
        assert rows and all(kind != "market" for _, kind in rows), rows
        assert "completed" in {outcome for outcome, _ in rows}, rows
        rec = reconcile.reconcile(sim, journal, snap["inventory"], start)
        assert rec.ok, str(rec)
    finally:
        sim.stop()


def run_with_symbols(tmp_path: Path, symbols: str) -> tuple[int, str, Path]:
    """``python -m arbhybrid run`` from a scratch directory, as a new user tries it."""
    config = checkout(tmp_path)
    r = subprocess.run(
        [sys.executable, "-m", "arbhybrid", "run", "--config", str(config), "--duration", "3"],
        cwd=tmp_path,
        env={**user_env(), "ARB__STRATEGY__SYMBOLS": symbols},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return r.returncode, r.stdout + r.stderr, config


def test_a_symbol_no_two_venues_list_stops_start_up_naming_them(tmp_path: Path) -> None:
    code, out, config = run_with_symbols(tmp_path, '["FOO/BAR","BTC/USDT"]')
    assert code != 0, out
    line = next((x for x in out.splitlines() if "FOO/BAR" in x), "")
    assert "FOO/BAR is not listed on mexc, gateio" in line, out
    assert "BTC/USDT" not in line, line
    assert "summary" not in out, out
    # Told what to list (simulator.symbols), the simulator lists it and the run starts.
    assert cli(tmp_path, "config", "check", "--config", str(config)).returncode == 0


def test_a_symbol_a_venue_refuses_to_the_api_is_left_out_with_one_line(tmp_path: Path) -> None:
    code, out, _ = run_with_symbols(tmp_path, '["BTC/USDT","PEPE/USDT","TON/USDT"]')
    assert code == 0, out
    pepe = [x for x in out.splitlines() if "PEPE/USDT" in x]
    assert len(pepe) == 1, out
    assert "PEPE/USDT is not traded" in pepe[0], pepe
    assert "mexc: not tradable through the API" in pepe[0], pepe
    ton = [x for x in out.splitlines() if "TON/USDT" in x]
    assert len(ton) == 1 and "gateio: buying opens" in ton[0], out
    assert "reconciliation: OK" in out, out
