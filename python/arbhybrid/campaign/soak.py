"""The soak: the engine on many symbols at the simulator's full update rate for a long
run without faults, sampling memory (RSS), book lag and tick-to-trade; memory growth per
hour and start vs. end figures."""

from __future__ import annotations

import contextlib
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from arbhybrid.app import live_journal
from arbhybrid.campaign.process import (
    FAULT_SETTINGS,
    EngineProcess,
    clear_workdir,
    engine_env,
    symbols_for,
)
from arbhybrid.journal import JournalError, open_journal, opportunities, transactions
from arbhybrid.simulator import Simulator


def soak(
    *,
    minutes: float,
    symbols: int,
    seed: int,
    workdir: Path,
    sample_s: float = 30.0,
    update_rate_hz: float = 50.0,
    log: Callable[[str], None] = lambda s: print(s, file=sys.stderr, flush=True),
) -> dict[str, Any]:
    """The engine on ``symbols`` symbols for ``minutes`` with no faults; samples RSS,
    book lag (the engine's decision book age and the oldest book) and tick-to-trade."""
    clear_workdir(workdir)
    syms = symbols_for(symbols)
    sim = Simulator(
        {
            "seed": seed,
            "symbols": syms,
            "update_rate_hz": update_rate_hz,
            "opportunity_rate_per_min": 120.0,
        }
    ).start()
    samples: list[dict[str, Any]] = []
    engine: EngineProcess | None = None
    try:
        env = engine_env(sim, workdir, syms)
        # A soak watches steady state: the default staleness and kill switches apply.
        for k in FAULT_SETTINGS:
            env.pop(k)
        engine = EngineProcess(env, workdir)
        engine.wait_ready(120)
        t0 = time.monotonic()
        while True:
            el = time.monotonic() - t0
            snap = engine.snapshot()
            if snap is not None:
                ttt = snap["stats"]["tick_to_trade"]
                every = [b for s in snap["symbols"].values() for b in s["venues"].values()]
                ages = [b.get("age_ms") or 0 for b in every]
                valid = sum(1 for b in every if b.get("valid"))
                samples.append(
                    {
                        "t_s": round(el, 1),
                        "rss_kb": engine.rss_kb(),
                        "books_valid": valid,
                        "books": len(ages),
                        "book_age_ms_max": max(ages) if ages else None,
                        "book_age_ms_median": statistics.median(ages) if ages else None,
                        "decision_book_age": snap["stats"]["decision_book_age"],
                        "tick_to_trade": ttt,
                        "book_changes": snap["stats"]["book_changes"],
                        "updates": sum(int(b.get("updates") or 0) for b in every),
                        "resyncs": sum(int(b.get("resyncs") or 0) for b in every),
                    }
                )
                log(
                    f"[soak {el:.0f}s] rss {samples[-1]['rss_kb']} KiB, valid "
                    f"{valid}/{len(ages)}, ttt p50 {ttt['p50_us']} us over {ttt['count']}"
                )
            if el >= minutes * 60:
                break
            time.sleep(min(sample_s, max(0.1, minutes * 60 - el)))
        code = engine.stop()
        final = samples[-1] if samples else {}
    finally:
        if engine is not None and engine.alive():
            engine.kill9()
        sim.stop()
    out = soak_summary(samples, symbols, minutes, code, final)
    out["windows"] = journal_windows(live_journal(workdir / "journal.sqlite"))
    return out


def _pct(xs: list[int], q: float) -> int | None:
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def journal_windows(journal: Path, frac: float = 0.2) -> dict[str, Any]:
    """Tick-to-trade (transactions) and book age at decision (opportunities) in the first
    and the last ``frac`` of the run, from the journal: the snapshot's histograms are
    cumulative, the journal has every sample with its time."""
    out: dict[str, Any] = {}
    with contextlib.suppress(sqlite3.Error, JournalError), open_journal(journal) as c:
        series: dict[str, list[tuple[int, int]]] = {
            "tick_to_trade_us": [
                (t.started_ms, t.tick_to_trade_us)
                for t in transactions(c)
                if t.tick_to_trade_us is not None
            ],
            "decision_book_age_ms": [(o["t_ms"], o["book_age_ms"]) for o in opportunities(c)],
        }
        for name, rows in series.items():
            if not rows:
                out[name] = None
                continue
            t0, t1 = min(r[0] for r in rows), max(r[0] for r in rows)
            span = max(1, t1 - t0)
            head = [r[1] for r in rows if r[0] <= t0 + frac * span]
            tail = [r[1] for r in rows if r[0] >= t1 - frac * span]
            out[name] = {
                "start": {"n": len(head), "p50": _pct(head, 0.5), "p99": _pct(head, 0.99)},
                "end": {"n": len(tail), "p50": _pct(tail, 0.5), "p99": _pct(tail, 0.99)},
            }
    return out


def soak_summary(
    samples: list[dict[str, Any]], symbols: int, minutes: float, code: int, final: dict[str, Any]
) -> dict[str, Any]:
    """Memory growth per hour (least squares over the samples after the first minute,
    when the books and buffers have reached their size), and start vs. end figures."""
    warm = [s for s in samples if s["t_s"] >= 60 and s["rss_kb"]] or samples
    slope = None
    if len(warm) >= 2:
        xs = [s["t_s"] for s in warm]
        ys = [s["rss_kb"] for s in warm]
        mx, my = statistics.fmean(xs), statistics.fmean(ys)
        den = sum((x - mx) ** 2 for x in xs)
        if den:
            slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den
    first, last = (samples[0], samples[-1]) if samples else ({}, {})
    dur = (last.get("t_s") or 0) - (first.get("t_s") or 0)
    return {
        "symbols": symbols,
        "minutes": minutes,
        "exit_code": code,
        "samples": len(samples),
        "rss_kb_start": first.get("rss_kb"),
        "rss_kb_after_warmup": warm[0].get("rss_kb") if warm else None,
        "rss_kb_end": last.get("rss_kb"),
        "rss_growth_kb_per_hour": None if slope is None else round(slope * 3600),
        "book_updates_per_s": round(
            ((last.get("updates") or 0) - (first.get("updates") or 0)) / dur
        )
        if dur
        else None,
        "start": first,
        "end": last,
        "final": final,
    }
