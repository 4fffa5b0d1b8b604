"""Measures the Rust -> Python bridge: the cost of one event delivery (a timer stream
producing as fast as it can, delivered in batches to a callback on the asyncio loop) and
of one awaited Rust call (``await _native.echo(x)``).

Run: ``.venv/bin/python benches/python/bridge.py`` (after ``scripts/setup``).
Prints medians over several rounds; numbers go in BENCHMARKS.md.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from arbhybrid import _native

ROUNDS = 7
EVENTS = 200_000
CALLS = 20_000


async def delivery_round() -> tuple[float, float]:
    count = 0

    def cb(batch: list[tuple[int, int]]) -> None:
        nonlocal count
        count += len(batch)

    t0 = time.perf_counter()
    ticker = _native.start_ticker(cb, 0, EVENTS)
    while not (ticker.done and count == EVENTS):
        await asyncio.sleep(0)
    dt = time.perf_counter() - t0
    _, batches, _ = ticker.stats()
    return dt / EVENTS * 1e9, EVENTS / batches


async def echo_round() -> float:
    t0 = time.perf_counter()
    for i in range(CALLS):
        await _native.echo(i)
    return (time.perf_counter() - t0) / CALLS * 1e6


async def main() -> None:
    per_event, batch = zip(*[await delivery_round() for _ in range(ROUNDS)], strict=True)
    echo = [await echo_round() for _ in range(ROUNDS)]
    print(
        f"event delivery: {statistics.median(per_event):.0f} ns/event "
        f"(median of {ROUNDS} x {EVENTS:,} events; mean batch {statistics.median(batch):.0f})"
    )
    print(
        f"awaited Rust call: {statistics.median(echo):.1f} us/call "
        f"(median of {ROUNDS} x {CALLS:,} sequential awaits)"
    )


if __name__ == "__main__":
    asyncio.run(main())
