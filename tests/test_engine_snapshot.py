"""The engine snapshot's shape is a contract: every key, its nesting and its value type,
as the dashboard, status, view and app code read it (`Engine::snapshot`, serialised from
the typed structs in `rust/engine/src/runner/view.rs`). Checked on a live engine on the
simulator, before and after its shutdown (when the feeds and private streams are gone)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from arbhybrid.engine import RunningEngine
from arbhybrid.simulator import Simulator, config_from_settings
from tests.test_engine_acceptance import endpoints, settings_for_test

NULL = type(None)
DEC = str  # exact decimals travel as strings, never floats


class MapOf:
    """A JSON object whose keys vary (symbols, assets, labels), every value `spec`."""

    def __init__(self, spec: Any) -> None:
        self.spec = spec


class ListOf:
    def __init__(self, spec: Any) -> None:
        self.spec = spec


class WhileRunning:
    """A key that is present only while running (the private streams stop at shutdown)."""

    def __init__(self, spec: Any) -> None:
        self.spec = spec


LATENCY = {"count": int, "p50_us": (int, NULL), "p99_us": (int, NULL), "max_us": (int, NULL)}
BOOK = {
    "bid": (DEC, NULL),
    "ask": (DEC, NULL),
    "valid": bool,
    "state": (str, NULL),
    "age_ms": (int, NULL),
    "resyncs": (int, NULL),
    "gaps": (int, NULL),
    "updates": (int, NULL),
}
FEED = {
    k: int
    for k in ("connects", "disconnects", "frames", "unparsable_frames", "snapshots", "resubscribes")
}
PRIVATE_STREAM = {
    "connected": bool,
    **{
        k: int
        for k in (
            "connects",
            "listen_keys_created",
            "frames",
            "fills",
            "reconciles",
            "reconciled_fills",
            "decode_errors",
        )
    },
}
VENUE = {
    "healthy": bool,
    "breaker": str,
    "clock_offset_ms": int,
    "rate_limit": {"waits": int, "venue_blocks": int, "headroom_pct": (int, NULL)},
    "rest": {
        k: int
        for k in (
            "rate_limited",
            "server_errors",
            "retries",
            "unknown_resolved",
            "unknown_unresolved",
        )
    },
    "requests": int,
    "new_connections": int,
    "connection_reuse": float,
    "feed": (FEED, NULL),
    "private_stream": WhileRunning(PRIVATE_STREAM),
}
RECOVERY = {
    "dry_run": bool,
    "canceled_orders": int,
    "adopted_fills": int,
    "transactions": ListOf(ListOf((int, str))),
    "would": ListOf(str),
    "errors": ListOf(str),
}
SNAPSHOT = {
    "uptime_s": float,
    "dry_run": bool,
    "strategy": {
        "min_edge_bps": DEC,
        "slippage_buffer_bps": DEC,
        "trade_notional": DEC,
        "cooldown_ms": int,
        "order_style": str,
        "mexc_buy_order": str,
        "hedge_policy": str,
        "balance_mode": str,
        "python_risk_mode": str,
    },
    "startup_ms": {
        "venues_ms": int,
        "per_venue_ms": {"mexc": int, "gateio": int},
        "recovery": RECOVERY,
        "warm_connections": int,
        "engine_ms": int,
    },
    "symbols": MapOf(
        {
            "venues": {"mexc": BOOK, "gateio": BOOK},
            "edge_bps": {"buy_mexc_sell_gateio": (DEC, NULL), "buy_gateio_sell_mexc": (DEC, NULL)},
            "busy": bool,
            "paused": bool,
        }
    ),
    "venues": {"mexc": VENUE, "gateio": VENUE},
    "stats": {
        "book_changes": int,
        "opportunities_detected": int,
        "opportunities_vetoed": int,
        "opportunities_taken": int,
        "opportunities_vanished": int,
        "refused_stale": int,
        "vetoes": MapOf(int),
        "outcomes": MapOf(int),
        "errors": MapOf(int),
        "pnl": DEC,
        "fees": DEC,
        "tick_to_trade": LATENCY,
        "hot_path": {
            k: LATENCY
            for k in (
                "detected",
                "task_started",
                "checks_cleared",
                "first_order_out",
                "both_orders_out",
            )
        },
        "leg_ack": {"mexc": LATENCY, "gateio": LATENCY},
        "decision_book_age": LATENCY,
        "decision_balance_age": LATENCY,
        "python_veto": LATENCY,
    },
    "inventory": MapOf(MapOf(DEC)),
    "risk": {"halted": (str, NULL), "open_arbitrages": int, "daily_pnl": DEC},
    "journal_errors": int,
}


def mismatches(value: Any, spec: Any, path: str = "snapshot") -> list[str]:
    """Every place where `value` differs from `spec` (empty: it matches)."""
    if isinstance(spec, tuple):
        found = [mismatches(value, s, path) for s in spec]
        return [] if any(not f for f in found) else min(found, key=len)
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__}, not an object"]
        out = []
        for k, s in spec.items():
            if k not in value:
                if not isinstance(s, WhileRunning):
                    out.append(f"{path}.{k}: missing")
                continue
            out += mismatches(value[k], s.spec if isinstance(s, WhileRunning) else s, f"{path}.{k}")
        out += [f"{path}.{k}: not in the contract" for k in value if k not in spec]
        return out
    if isinstance(spec, MapOf):
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__}, not an object"]
        return [e for k, v in value.items() for e in mismatches(v, spec.spec, f"{path}[{k!r}]")]
    if isinstance(spec, ListOf):
        if not isinstance(value, list):
            return [f"{path}: {type(value).__name__}, not a list"]
        return [e for i, v in enumerate(value) for e in mismatches(v, spec.spec, f"{path}[{i}]")]
    # bool is an int in Python: the types must match exactly.
    return [] if type(value) is spec else [f"{path}: {type(value).__name__}, not {spec.__name__}"]


def test_the_checker_sees_a_changed_shape() -> None:
    assert mismatches({"a": 1}, {"a": int}) == []
    assert mismatches({"a": True}, {"a": int}) == ["snapshot.a: bool, not int"]
    assert mismatches({"a": "1", "b": 2}, {"a": int}) == [
        "snapshot.a: str, not int",
        "snapshot.b: not in the contract",
    ]
    assert mismatches({}, {"a": (int, NULL)}) == ["snapshot.a: missing"]
    nested = mismatches({"x": {"y": 1.5}}, MapOf(MapOf(DEC)))
    assert nested == ["snapshot['x']['y']: float, not str"]


async def test_the_snapshot_keeps_its_shape_while_running_and_after_shutdown(
    tmp_path: Path,
) -> None:
    settings = settings_for_test()
    sim = Simulator(config_from_settings(settings)).start()
    eps = endpoints(sim)
    engine = await RunningEngine.start(settings, eps, journal_path=str(tmp_path / "journal.sqlite"))
    try:
        # Wait (bounded) until a trade went through, so stats, inventory and books are
        # filled in rather than empty.
        deadline = time.monotonic() + 60
        while engine.snapshot()["stats"]["outcomes"] == {} and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        live = engine.snapshot()
        assert mismatches(live, SNAPSHOT) == []
        assert live["symbols"], "no symbols in the snapshot"
        for v in ("mexc", "gateio"):
            assert "private_stream" in live["venues"][v]
            assert live["venues"][v]["feed"] is not None
    finally:
        await engine.shutdown(timeout_s=30)
        sim.stop()
    final = engine.snapshot()
    assert mismatches(final, SNAPSHOT) == []
    for v in ("mexc", "gateio"):
        assert "private_stream" not in final["venues"][v]
        assert final["venues"][v]["feed"] is None
