"""Measures symbol resolution and formatting from Python through the native SymbolTable
(3,603 symbols: the real 1,458-pair Gate list, 1,000 MEXC listings of those pairs and
2,145 MEXC-only symbols, as in ``benches/symbols.rs``). Target: at most 150 ns a call.

Run: ``.venv/bin/python benches/python/market_symbols.py`` (after ``maturin develop``).
Prints the median over rounds of the per-call time; numbers go in BENCHMARKS.md.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from arbhybrid import _native

ROUNDS = 9
CALLS = 200_000
CAPTURE = Path(__file__).resolve().parents[2] / "data/captures/gateio/GATEIO.0"


def fixtures() -> tuple[str, str]:
    gate = CAPTURE.read_text().splitlines()[0].split(": ", 1)[1]
    pairs = json.loads(gate)
    symbols = []

    def add(base: str, quote: str) -> None:
        symbols.append(
            {
                "symbol": f"{base}{quote}",
                "status": "1",
                "baseAsset": base,
                "quoteAsset": quote,
                "baseAssetPrecision": 4,
                "quotePrecision": 6,
                "baseSizePrecision": "0.0001",
                "quoteAmountPrecision": "1",
                "isSpotTradingAllowed": True,
                "makerCommission": "0",
                "takerCommission": "0.0005",
            }
        )

    for p in pairs[:1000]:
        add(p["base"], p["quote"])
    for i in range(2145):
        add(f"MX{i}TOKEN", "USDT")
    return json.dumps({"symbols": symbols}), gate


def per_call_ns(fn: Callable[[], object]) -> float:
    rounds = []
    for _ in range(ROUNDS):
        t0 = time.perf_counter_ns()
        fn()
        rounds.append((time.perf_counter_ns() - t0) / CALLS)
    return statistics.median(rounds)


def main() -> None:
    mexc, gate = fixtures()
    t0 = time.perf_counter()
    table = _native.SymbolTable.from_json(mexc, gate)
    build_ms = (time.perf_counter() - t0) * 1e3
    assert len(table) == 3603
    common = table.common()
    names = [table.unified(i) for i in common[:256]]
    mexc_names = [table.venue_symbol(i, "mexc") for i in common[:256]]
    ids = common[:256]
    n = len(names)
    work_names = [names[i % n] for i in range(CALLS)]
    work_mexc = [mexc_names[i % n] for i in range(CALLS)]
    work_ids = [ids[i % n] for i in range(CALLS)]

    def loop_baseline() -> None:
        for _ in work_names:
            pass

    def loop_id() -> None:
        f = table.id
        for s in work_names:
            f(s)

    def loop_venue_symbol() -> None:
        f = table.venue_symbol
        for i in work_ids:
            f(i, "gateio")

    def loop_from_venue() -> None:
        f = table.from_venue
        for s in work_mexc:
            f("mexc", s)

    def loop_to_venue() -> None:
        f = table.to_venue
        for s in work_names:
            f(s, "gateio")

    base = per_call_ns(loop_baseline)
    print(f"table build from Python (3,603 symbols, incl. interning names): {build_ms:.2f} ms")
    print(f"loop overhead: {base:.1f} ns/iteration (subtracted below)")
    for label, fn in [
        ("unified -> id            table.id(s)", loop_id),
        ("id -> venue string       table.venue_symbol(i, 'gateio')", loop_venue_symbol),
        ("venue string -> unified  table.from_venue('mexc', s)", loop_from_venue),
        ("unified -> venue string  table.to_venue(s, 'gateio')", loop_to_venue),
    ]:
        print(f"{label}: {per_call_ns(fn) - base:.1f} ns/call")


if __name__ == "__main__":
    main()
