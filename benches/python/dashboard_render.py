"""Measures what the live dashboard costs the main job's interpreter: the time to build and
draw one frame (160 columns) from a real engine snapshot and its events, which the loop
thread spends holding the interpreter lock.

Run: ``.venv/bin/python benches/python/dashboard_render.py`` (after ``scripts/setup``).
Runs the engine on the embedded simulator for a few seconds to get a real snapshot, then
draws FRAMES frames; prints the median and p99. Numbers go in BENCHMARKS.md.
"""

from __future__ import annotations

import asyncio
import io
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from rich.console import Console

from arbhybrid.dashboard import Dashboard
from arbhybrid.engine import RunningEngine
from arbhybrid.simulator import Simulator, config_from_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from test_engine_acceptance import endpoints, settings_for_test

FRAMES = 300
RUN_S = 6.0


async def real_state(journal: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    settings = settings_for_test()
    sim = Simulator(config_from_settings(settings)).start()
    events: list[dict[str, Any]] = []
    try:
        eps = endpoints(sim)
        engine = await RunningEngine.start(
            settings, eps, on_events=events.extend, journal_path=str(journal)
        )
        await asyncio.sleep(RUN_S)
        snap = engine.snapshot()
        await engine.shutdown(30)
    finally:
        sim.stop()
    return snap, events


def main() -> None:
    with TemporaryDirectory() as tmp:
        snap, events = asyncio.run(real_state(Path(tmp) / "journal.sqlite"))
    console = Console(width=160, file=io.StringIO(), force_terminal=True)
    dash = Dashboard(console, capture_stderr=False, alerts=False)
    dash.events(events)
    dash.update(snap)
    times = []
    for _ in range(FRAMES):
        console.file = io.StringIO()
        t0 = time.perf_counter()
        console.print(dash.render())
        times.append(time.perf_counter() - t0)
    times.sort()
    print(
        f"dashboard frame (160 cols, {len(snap['symbols'])} symbols, {len(events)} events): "
        f"median {times[len(times) // 2] * 1e3:.1f} ms, "
        f"p99 {times[int(len(times) * 0.99)] * 1e3:.1f} ms over {FRAMES} frames"
    )


if __name__ == "__main__":
    main()
