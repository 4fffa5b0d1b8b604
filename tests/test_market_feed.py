"""Native market data from Python against the simulator: books equal the truth, health,
batched book-change events (including a detected gap)."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any

import pytest

from arbhybrid import _native
from arbhybrid.simulator import Simulator

SYMBOLS = ["BTC/USDT", "ETH/USDT"]
VENUES = ("mexc", "gateio")


def start_market(sim: Simulator, **extra: Any) -> _native.MarketData:
    info = sim.info
    cfg = {
        "venues": [
            {"name": "mexc", "rest": info["mexc_rest"], "ws": info["mexc_ws"]},
            {"name": "gateio", "rest": info["gate_rest"], "ws": info["gate_ws"]},
        ],
        "symbols": SYMBOLS,
        "backoff_min_ms": 20,
        **extra,
    }
    md = _native.MarketData(cfg)
    md.start()
    return md


def wait_for(what: str, cond: Any, limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def all_valid(md: _native.MarketData) -> bool:
    return all(md.health(v, s)["valid"] for v in VENUES for s in SYMBOLS)


def levels(side: list[Any]) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(p), Decimal(q)) for p, q in side]


@pytest.mark.parametrize("gate_channel", ["obu", "order_book_update"])
def test_books_equal_truth(sim: Simulator, gate_channel: str) -> None:
    md = start_market(sim, gate_channel=gate_channel)
    try:
        wait_for("books valid", lambda: all_valid(md))
        table = md.symbols
        for _ in range(3):
            time.sleep(0.2)
            sim.set_market_paused(True)
            for v in VENUES:
                for s in SYMBOLS:
                    vs = table.to_venue(s, v)

                    def caught_up(v: str = v, s: str = s, vs: str = vs) -> bool:
                        truth = sim.truth_book(v, vs, 100)
                        return md.depth(v, s, 100)["version"] == truth["version"]

                    wait_for("local version == truth version", caught_up)
                    local = md.depth(v, s, 100)
                    truth = sim.truth_book(v, vs, 100)
                    assert local["valid"]
                    assert levels(local["bids"]) == levels(truth["bids"]), (v, s)
                    assert levels(local["asks"]) == levels(truth["asks"]), (v, s)
                    top = md.top(v, s)
                    assert top["valid"] and top["version"] == truth["version"]
                    assert levels([top["bid"]]) == levels(truth["bids"][:1])
                    assert levels([top["ask"]]) == levels(truth["asks"][:1])
            sim.set_market_paused(False)
        for v in VENUES:
            h = md.health(v, "BTC/USDT")
            assert h["state"] == "valid" and h["gaps"] == 0 and h["updates"] > 0
            assert md.counters(v)["connects"] >= 1
    finally:
        md.stop()
    md.stop()  # idempotent


def test_reads_name_bad_input(sim: Simulator) -> None:
    md = start_market(sim)
    try:
        with pytest.raises(ValueError, match="DOGE"):
            md.top("mexc", "DOGE/USDT")
        with pytest.raises(ValueError, match="binance"):
            md.health("binance", "BTC/USDT")
        sid = md.symbols.id("BTC/USDT")
        assert md.health("gateio", sid)["state"] in {"resyncing", "valid"}
    finally:
        md.stop()
    with pytest.raises(RuntimeError, match="not running"):
        md.top("mexc", "BTC/USDT")


async def test_batched_events_with_a_detected_gap(sim: Simulator) -> None:
    md = start_market(sim)
    batches: list[list[tuple[Any, ...]]] = []
    sub = md.subscribe(batches.append)
    try:
        loop_deadline = time.monotonic() + 20
        while not all_valid(md):
            assert time.monotonic() < loop_deadline, "books never valid"
            await asyncio.sleep(0.02)
        sim.inject_gap("mexc", "BTCUSDT")
        while not any(e[2] == "gap" for b in batches for e in b):
            assert time.monotonic() < loop_deadline, "gap event never delivered"
            await asyncio.sleep(0.02)
        while md.health("mexc", "BTC/USDT")["state"] != "valid":
            assert time.monotonic() < loop_deadline, "no resync after the gap"
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)
        gaps = md.health("mexc", "BTC/USDT")["gaps"]
    finally:
        sub.stop()
        md.stop()
    assert gaps == 1
    events = [e for b in batches for e in b]
    delivered, n_batches, errors = sub.stats()
    assert delivered == len(events) and n_batches == len(batches) and errors == 0
    kinds = {e[2] for e in events}
    assert {"synced", "update", "gap"} <= kinds
    for venue, symbol, kind, version, bid, ask, recv_ns in events:
        assert venue in VENUES and symbol in SYMBOLS
        assert isinstance(version, int) and recv_ns > 0
        if kind in {"update", "synced"} and bid is not None and ask is not None:
            assert Decimal(bid[0]) < Decimal(ask[0])
        if kind == "gap":
            assert bid is None and ask is None


async def test_tickers_and_trades(sim: Simulator) -> None:
    md = start_market(sim, tickers=True, trades=True)
    batches: list[list[tuple[Any, ...]]] = []
    sub = md.subscribe_market(batches.append)
    try:
        deadline = time.monotonic() + 20
        while not all(
            any(e[0] == "trade" and e[1] == v for b in batches for e in b) for v in VENUES
        ):
            assert time.monotonic() < deadline, "no trades on both venues"
            await asyncio.sleep(0.05)
        # Quiet market: each venue's last ticker for a symbol is its book's top.
        sim.set_market_paused(True)
        for v in VENUES:
            for s in SYMBOLS:

                def last_ticker_is_top(v: str = v, s: str = s) -> bool:
                    tickers = [e for b in batches for e in b if e[:3] == ("ticker", v, s)]
                    top = md.top(v, s)
                    return bool(tickers) and tickers[-1][3:5] == (top["bid"], top["ask"])

                while not last_ticker_is_top():
                    assert time.monotonic() < deadline, f"last {v} {s} ticker != book top"
                    await asyncio.sleep(0.02)
    finally:
        sim.set_market_paused(False)
        sub.stop()
        md.stop()
    for e in (e for b in batches for e in b if e[0] == "trade"):
        _, venue, symbol, price, qty, side, time_ms, recv_ns = e
        assert venue in VENUES and symbol in SYMBOLS and side in {"buy", "sell"}
        assert Decimal(price) > 0 and Decimal(qty) > 0 and time_ms > 0 and recv_ns > 0
    assert sub.stats()[2] == 0
