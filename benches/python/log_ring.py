"""Measures Python-side logging on this machine: the stdlib ``logging`` module writing to a
file (the baseline every Python program pays), the same ``logging`` call going into the
Rust ring through ``RingHandler``, and the direct native call ``RingLogger.info``.

Run: ``.venv/bin/python benches/python/log_ring.py`` (after ``maturin develop``).
Each case runs in batches of ``BATCH`` calls; the per-call cost of a batch is its time
divided by ``BATCH``. Prints the median (p50) and p99 over the batches and the rate.
Between cases the ring is flushed (untimed), and drops are reported so a number
measured on the drop path cannot pass unnoticed.
"""

from __future__ import annotations

import json
import logging
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from arbhybrid import _native, telemetry

BATCH = 1_000
BATCHES = 300


def measure(name: str, run_batch: Callable[[], None]) -> None:
    """``run_batch`` makes ``BATCH`` calls in a plain ``for`` loop (no per-call lambda)."""
    for _ in range(20):  # warm-up
        run_batch()
    _native.flush_logging()
    per_call: list[float] = []
    for b in range(BATCHES):
        t0 = time.perf_counter_ns()
        run_batch()
        per_call.append((time.perf_counter_ns() - t0) / BATCH)
        if b % 50 == 49:
            _native.flush_logging()  # keep the ring far from full (untimed)
    _native.flush_logging()
    per_call.sort()
    p50 = statistics.median(per_call)
    p99 = per_call[int(len(per_call) * 0.99) - 1]
    print(f"{name:<48} p50 {p50:8.1f} ns/call  p99 {p99:8.1f} ns/call  {1e9 / p50:>12,.0f} calls/s")


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="arb-pylog-"))
    # The ring: large enough that no measured call hits the drop path, JSON lines to a file.
    _native.configure_logging(
        json.dumps(
            {
                "level": "INFO",
                "ring_capacity": 1 << 20,
                "overflow": "drop_newest",
                "console": False,
                "file": str(tmp / "ring.jsonl"),
                "rotate_bytes": 1 << 30,
                "backups": 1,
            }
        )
    )

    # Baseline: stdlib logging, formatted and written by the calling thread.
    std = logging.getLogger("bench.stdlib")
    std.propagate = False
    fh = logging.FileHandler(tmp / "stdlib.log")
    fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    std.addHandler(fh)
    std.setLevel(logging.INFO)

    def stdlib_batch() -> None:
        for i in range(BATCH):
            std.info("book %d", i)

    measure("stdlib logging -> FileHandler: info(fmt, i)", stdlib_batch)

    # The same logging call, into the Rust ring through the handler.
    ring = logging.getLogger("bench.ring")
    ring.propagate = False
    ring.addHandler(telemetry.RingHandler())
    ring.setLevel(logging.INFO)

    def handler_batch() -> None:
        for i in range(BATCH):
            ring.info("book %d", i)

    measure("logging -> RingHandler -> ring: info(fmt, i)", handler_batch)

    # The direct native call.
    hot = telemetry.get_logger("bench.hot")
    info = hot.info

    def direct_batch() -> None:
        for _ in range(BATCH):
            hot.info("book update applied")

    def direct_hoisted_batch() -> None:
        for _ in range(BATCH):
            info("book update applied")

    def direct_fields_batch() -> None:
        for i in range(BATCH):
            hot.info("book", i=i, venue="mexc")

    def direct_filtered_batch() -> None:
        for _ in range(BATCH):
            hot.debug("not kept")

    def empty_batch() -> None:
        for _ in range(BATCH):
            pass

    measure("RingLogger: log.info(msg)", direct_batch)
    measure("RingLogger: info(msg), method hoisted", direct_hoisted_batch)
    measure("RingLogger: log.info(msg, i=i, venue='mexc')", direct_fields_batch)
    measure("RingLogger: log.debug(msg), filtered by level", direct_filtered_batch)
    measure("empty for loop (overhead per iteration)", empty_batch)

    stats = _native.logging_stats()
    print(f"ring: written {stats['written']}, dropped {stats['dropped']}")
    fh.close()


if __name__ == "__main__":
    main()
