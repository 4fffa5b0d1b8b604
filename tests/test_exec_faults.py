"""The unified exchange under the simulator's fault injection, from Python: an order whose
placement was applied and never answered, refused with a 5xx before or after applying,
or rate limited, exists exactly once afterwards; the venue's real refusals surface as
their exception classes; an expired listenKey loses no fill."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any

import pytest

from arbhybrid import _native
from arbhybrid.exchange import OrderStatus, client_order_id
from arbhybrid.simulator import Simulator
from test_exec_trading import SYMBOL, best, both, eventually


def copies(sim: Simulator, venue: str, cid: str) -> int:
    key = sim.info["accounts"][venue]["api_key"]
    return sum(1 for o in sim.orders(venue, key) if o["client_order_id"].removeprefix("t-") == cid)


@pytest.mark.parametrize(
    "fault",
    [
        {"type": "apply_then_timeout"},
        {"type": "reject_without_apply"},
        {"type": "rest_status", "status": 503},
        {"type": "rest_rate_limit", "retry_after_secs": 1},
    ],
    ids=lambda f: f["type"],
)
async def test_every_intended_order_exists_exactly_once(
    sim: Simulator, fault: dict[str, Any]
) -> None:
    exs = await both(sim, request_timeout_ms=1500)
    for n, (venue, ex) in enumerate(exs.items()):
        bid, _ = best(sim, venue)
        cid = client_order_id("pf", n, "a")
        fid = sim.inject_fault(venue, count=1, **fault)
        t0 = time.monotonic()
        o = await ex.place_limit(SYMBOL[venue], "buy", Decimal("0.01"), bid * Decimal("0.9"), cid)
        if fault["type"] == "rest_rate_limit":
            assert time.monotonic() - t0 >= 1.0, "retried before Retry-After"
        assert o.status is OrderStatus.OPEN
        assert copies(sim, venue, cid) == 1
        assert next(f for f in sim.faults() if f["id"] == fid)["fired"] == 1


async def test_venue_refusals_raise_their_classes(sim: Simulator) -> None:
    exs = await both(sim)
    for venue, ex in exs.items():
        bid, _ = best(sim, venue)
        cases = [
            ("insufficient_balance", _native.InsufficientFundsError),
            ("symbol_not_tradable", _native.SymbolNotTradableError),
            ("below_minimum", _native.InvalidOrderError),
        ]
        for i, (error, exc) in enumerate(cases):
            sim.inject_fault(venue, "reject_order", error=error, count=1)
            cid = client_order_id("pr", i, "a" if venue == "mexc" else "b")
            with pytest.raises(exc):
                await ex.place_limit(
                    SYMBOL[venue], "buy", Decimal("0.01"), bid * Decimal("0.9"), cid
                )
            tracked = ex.order(cid)
            assert tracked is not None and tracked.status is OrderStatus.REJECTED
            assert copies(sim, venue, cid) == 0


async def test_expired_listen_key_loses_no_fill(sim: Simulator) -> None:
    exs = await both(sim)
    ex = exs["mexc"]
    events: list[dict[str, Any]] = []
    await ex.start_user_stream([SYMBOL["mexc"]], events.extend)
    await eventually("stream up", lambda: (ex.stream_stats() or {}).get("reconciles", 0) >= 1)
    for i in range(6):
        if i == 2:
            sim.inject_fault("mexc", "expire_listen_keys")
        _, ask = best(sim, "mexc")
        cid = client_order_id("pk", i, "a")
        await ex.place_limit("BTCUSDT", "buy", Decimal("0.002"), ask, cid, tif="ioc")
        await asyncio.sleep(0.05)
    key = sim.info["accounts"]["mexc"]["api_key"]
    truth = {f["trade_id"] for f in sim.fills("mexc", key)}
    await eventually("reconciled", lambda: (ex.stream_stats() or {}).get("reconciles", 0) >= 2)
    await eventually(
        "every fill", lambda: {f.trade_id for o in ex.orders() for f in o.fills} == truth
    )
    stats = ex.stream_stats() or {}
    assert stats["listen_keys_created"] >= 2
    delivered = {e["trade_id"] for e in events if e["type"] == "fill"}
    assert delivered == truth
    ex.stop_user_stream()
