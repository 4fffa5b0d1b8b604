"""Tick-to-trade of the engine, measured from outside by the simulator's referee.

The simulator runs in probe mode: books quiet, and at random moments one venue's price
jumps to open a cross-venue gap that pays. The referee records the instant it wrote the
frame that opened the gap and the instant each venue received the first order for that
symbol afterwards. The engine runs in-process against it exactly as against a venue, for
each combination of balance mode (``stream``, ``fresh``) and Python risk mode
(``notify``, ``veto``).

Run (after ``scripts/setup``):
``.venv/bin/python benches/python/tick_to_trade.py [--probes 1000] [--modes stream:notify]``
prints one JSON line per mode and a markdown table.

Bench settings, each said in BENCHMARKS.md: one symbol; cooldown 45 ms (just above the
probe's 40 ms hold, so one probe is traded once; the default 500 ms would skip probes);
both sides' rate limiting off (fresh mode would otherwise be held to MEXC's documented
2 account calls per second, a venue limit, not a latency); book age limit 5 s
(probe-mode books are quiet between probes by design).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from arbhybrid.config import Settings, load_config
from arbhybrid.engine import RunningEngine, simulator_endpoints
from arbhybrid.simulator import Simulator

REPO = Path(__file__).resolve().parents[2]


#: Where the engine's hot path runs (``engine.hot``): its own thread (the default), the
#: caller's shared runtime (as before issue 16), or its own busy-polling thread.
HOT = {
    "hot": {"thread": True, "busy_poll": False},
    "shared": {"thread": False, "busy_poll": False},
    "busy": {"thread": True, "busy_poll": True},
}


def bench_settings(balance_mode: str, risk_mode: str, hot: str = "hot") -> Settings:
    data = load_config(REPO / "config.yaml", environ={}).model_dump()
    data["engine"]["hot"].update(HOT[hot])
    data["strategy"].update(
        symbols=["BTC/USDT"],
        cooldown_ms=45,
        balance_mode=balance_mode,
        python_risk_mode=risk_mode,
        order_style="ioc_both",
    )
    data["risk"].update(max_book_age_ms=5000, max_open_arbitrages=4, daily_loss_limit="100000")
    data["risk"]["kill_switches"]["leg_imbalance_notional"] = "100000"
    for ex in ("mexc", "gateio"):
        data["exchanges"][ex]["rate_limit"] = False
    data["logging"].update(console=False, file=None, level="WARNING")
    data["metrics"]["enabled"] = False
    return Settings.model_validate(data)


async def run_mode(
    balance_mode: str, risk_mode: str, probes: int, hot: str = "hot"
) -> dict[str, Any]:
    settings = bench_settings(balance_mode, risk_mode, hot)
    sim = Simulator(
        {
            "seed": 21,
            "symbols": ["BTC/USDT"],
            "probe_mode": True,
            "probe_min_interval_ms": 60,
            "probe_max_interval_ms": 140,
            "probe_hold_ms": 40,
            "rate_limits": False,
            "trader_balances": {"USDT": "10000000", "BTC": "100"},
        }
    ).start()
    try:
        with TemporaryDirectory() as tmp:
            engine = await RunningEngine.start(
                settings,
                simulator_endpoints(sim),
                journal_path=f"{tmp}/journal.sqlite",
            )
            if risk_mode == "veto":
                from arbhybrid.rules import default_rules

                engine.set_veto(default_rules(settings))
            t0 = time.monotonic()
            try:
                while sim.referee()["both_legs_us"]["count"] < probes:
                    await asyncio.sleep(0.5)
                    if time.monotonic() - t0 > 30 + probes * 0.5:
                        break
            finally:
                snap = engine.snapshot()
                await engine.shutdown()
        ref = sim.referee()
    finally:
        sim.stop()
    return {
        "mode": f"{balance_mode}+{risk_mode}" + ("" if hot == "hot" else f" ({hot})"),
        "first_leg_us": ref["first_leg_us"],
        "both_legs_us": ref["both_legs_us"],
        "probes": ref["probes"],
        "engine_internal_tick_to_trade": snap["stats"]["tick_to_trade"],
        "engine_hot_path": snap["stats"]["hot_path"],
        "outcomes": snap["stats"]["outcomes"],
        "seconds": round(time.monotonic() - t0, 1),
    }


def fmt(us: float | int | None) -> str:
    if us is None:
        return "-"
    return f"{us / 1000:.2f} ms" if us >= 1000 else f"{us:.0f} us"


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--probes", type=int, default=1000)
    ap.add_argument(
        "--modes",
        nargs="+",
        default=["stream:notify", "stream:veto", "fresh:notify", "fresh:veto"],
        help="BALANCE:RISK[:HOT], HOT one of hot (own thread, default), shared (the "
        "caller's runtime, as before), busy (own busy-polling thread)",
    )
    ap.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one mode, print JSON
    args = ap.parse_args()
    if args.one:
        balance, risk, *hot = args.one.split(":")
        print(json.dumps(await run_mode(balance, risk, args.probes, *hot)), flush=True)
        return
    rows = []
    for m in args.modes:
        # One process per mode: the engine's metrics registry is process-wide, so the
        # engine's own histogram would otherwise mix modes.
        out = subprocess.run(
            [sys.executable, __file__, "--one", m, "--probes", str(args.probes)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(json.dumps(r), flush=True)
        rows.append(r)
    print("\n| mode | leg | count | p50 | p90 | p99 | p99.9 | max |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        for leg in ("first_leg_us", "both_legs_us"):
            s = r[leg]
            print(
                f"| {r['mode']} | {leg.removesuffix('_us').replace('_', ' ')} | {s['count']} | "
                f"{fmt(s.get('p50'))} | {fmt(s.get('p90'))} | {fmt(s.get('p99'))} | "
                f"{fmt(s.get('p99_9'))} | {fmt(s.get('max'))} |"
            )


if __name__ == "__main__":
    asyncio.run(main())
