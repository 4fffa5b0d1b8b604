"""The latency referee measures a client nobody here wrote: a small ccxt.pro script that
watches both books and, when one venue's bid clears the other's ask by more than the
fees, buys on the cheap venue and sells on the dear one. Run with ``-s`` to print its
tick-to-trade numbers (the command is in BENCHMARKS.md)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from arbhybrid.simulator import Simulator
from conftest import CLIENTS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benches" / "python"))
from ccxt_gap_trader import trade_gaps

PROBE = {
    "symbols": ["BTC/USDT"],
    "probe_mode": True,
    "probe_gap_bps": 40,
    "probe_min_interval_ms": 200,
    "probe_max_interval_ms": 400,
    "probe_hold_ms": 600,
    "rate_limits": False,
}


async def ccxt_gap_trader(sim: Simulator, rounds: int, qty: float = 0.001) -> int:
    """Trades `rounds` gaps with ccxt.pro (market buy on the cheap venue, market sell on
    the dear one, both at once; the loop is benches/python/ccxt_gap_trader.py's); returns
    how many gaps it traded."""
    clients = {"mexc": CLIENTS["mexc"](sim, pro=True), "gateio": CLIENTS["gateio"](sim, pro=True)}
    try:
        return await trade_gaps(clients, rounds, qty)
    finally:
        await asyncio.gather(*(c.close() for c in clients.values()))


@pytest.mark.parametrize("sim_config", [PROBE])
async def test_referee_measures_a_ccxt_gap_trader(
    sim: Simulator, sim_config: dict[str, Any]
) -> None:
    traded = await ccxt_gap_trader(sim, rounds=12)
    report = sim.referee()
    print(
        "\nreferee:", json.dumps({k: report[k] for k in ("probes", "first_leg_us", "both_legs_us")})
    )
    assert traded == 12
    first, both = report["first_leg_us"], report["both_legs_us"]
    # Every traded gap is a probe whose frame was written and whose legs both arrived.
    assert first["count"] >= 12 and both["count"] >= 12
    for s in (first, both):
        assert 0 < s["p50"] <= s["p90"] <= s["p99"] <= s["p99_9"] <= s["max"]
    assert both["p50"] >= first["p50"]
    # Each leg traded on the venue the probe moved or its counterpart: fills on both.
    assert len(sim.fills("mexc")) >= 12 and len(sim.fills("gateio")) >= 12
