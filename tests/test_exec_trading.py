"""The unified exchange (``arbhybrid.exchange``) against the simulator, from Python, on both
venues: place / query / cancel / balances with typed results, fills seen on the private
streams equal to the simulator's fill list by trade id, concurrent two-venue submission,
authentication failures raised at once, the circuit breaker's state, market data."""

from __future__ import annotations

import asyncio
import urllib.request
from decimal import Decimal
from typing import Any

import pytest

from arbhybrid import _native
from arbhybrid.exchange import (
    Balance,
    Exchange,
    Order,
    OrderSpec,
    OrderStatus,
    VenueSettings,
    client_order_id,
    connect_exchanges,
    parse_client_order_id,
    submit_pair,
)
from arbhybrid.simulator import Simulator

SYMBOL = {"mexc": "BTCUSDT", "gateio": "BTC_USDT"}


def settings(sim: Simulator, venue: str, secret: str | None = None, **extra: Any) -> VenueSettings:
    info = sim.info
    acc = info["accounts"][venue]
    rest, ws = (
        (info["mexc_rest"], info["mexc_ws"])
        if venue == "mexc"
        else (info["gate_rest"], info["gate_ws"])
    )
    extra.setdefault("unknown_settle_ms", 50)
    return VenueSettings(venue, rest, ws, acc["api_key"], secret or acc["api_secret"], extra)


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode()


async def symbol_table(sim: Simulator) -> Any:
    info = sim.info
    mexc, gate = await asyncio.gather(
        asyncio.to_thread(_get, info["mexc_rest"] + "/api/v3/exchangeInfo"),
        asyncio.to_thread(_get, info["gate_rest"] + "/spot/currency_pairs"),
    )
    return _native.SymbolTable.from_json(mexc, gate)


async def both(sim: Simulator, **extra: Any) -> dict[str, Exchange]:
    sim.set_market_paused(True)
    table = await symbol_table(sim)
    return await connect_exchanges(
        [settings(sim, v, **extra) for v in ("mexc", "gateio")], symbol_table=table
    )


def best(sim: Simulator, venue: str) -> tuple[Decimal, Decimal]:
    b = sim.truth_book(venue, SYMBOL[venue], 1)
    assert b is not None
    return Decimal(b["bids"][0][0]), Decimal(b["asks"][0][0])


async def query_settled(ex: Exchange, sym: str, **by: Any) -> Order:
    """``query`` asked again while MEXC's read still lags the placement (-2013 "Order
    does not exist." for a just-accepted order, as the real venue answers). Bounded."""
    for _ in range(200):
        try:
            return await ex.query(sym, **by)
        except _native.InvalidOrderError as e:
            if "-2013" not in str(e):
                raise
            await asyncio.sleep(0.02)
    return await ex.query(sym, **by)


async def eventually(what: str, cond: Any, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        assert loop.time() < deadline, f"never happened: {what}"
        await asyncio.sleep(0.02)


async def test_place_query_cancel_balances_on_both_venues(sim: Simulator) -> None:
    exs = await both(sim)
    for n, (venue, ex) in enumerate(exs.items()):
        sym = SYMBOL[venue]
        key = sim.info["accounts"][venue]["api_key"]
        bal = await ex.balances()
        assert all(isinstance(b, Balance) for b in bal.values())
        assert {a: (b.free, b.locked) for a, b in bal.items()} == sim.balances(venue, key)

        bid, _ = best(sim, venue)
        cid = client_order_id("py", 10 + n, "a")
        o = await ex.place_limit(sym, "buy", Decimal("0.01"), bid * Decimal("0.9"), cid)
        assert isinstance(o, Order)
        assert o.status is OrderStatus.OPEN
        assert o.order_id is not None
        by_cid = await query_settled(ex, sym, client_id=cid)
        by_id = await query_settled(ex, sym, order_id=o.order_id)
        assert by_cid.order_id == by_id.order_id == o.order_id
        assert by_cid.client_id == cid
        assert any(r.order_id == o.order_id for r in await ex.open_orders(sym))
        locked = (await ex.balances())["USDT"].locked
        assert locked > 0
        c = await ex.cancel(sym, client_id=cid)
        assert c.status is OrderStatus.CANCELED
        truth = [t for t in sim.orders(venue, key) if t["order_id"] == o.order_id]
        assert len(truth) == 1 and truth[0]["status"] == "canceled"
        assert parse_client_order_id(truth[0]["client_order_id"]) == ("py", 10 + n, "a")
        tracked = ex.order(cid)
        assert tracked is not None and tracked.status is OrderStatus.CANCELED

        fees = await ex.fees(sym)
        assert fees.taker >= fees.maker >= 0


async def test_stream_fills_equal_simulator_fills(sim: Simulator) -> None:
    exs = await both(sim)
    seen: dict[str, list[dict[str, Any]]] = {v: [] for v in exs}
    for venue, ex in exs.items():
        await ex.start_user_stream([SYMBOL[venue]], seen[venue].extend)
    for ex in exs.values():
        await eventually(
            "stream up", lambda ex=ex: (ex.stream_stats() or {}).get("reconciles", 0) >= 1
        )
    for venue, ex in exs.items():
        for i in range(6):
            bid, ask = best(sim, venue)
            side, price = ("buy", ask) if i % 2 == 0 else ("sell", bid)
            cid = client_order_id("ps", 100 + i, "a" if venue == "mexc" else "b")
            await ex.place_limit(SYMBOL[venue], side, Decimal("0.002"), price, cid, tif="ioc")
    for venue, ex in exs.items():
        key = sim.info["accounts"][venue]["api_key"]
        truth = {f["trade_id"] for f in sim.fills(venue, key)}
        assert len(truth) >= 6

        def streamed(venue: str = venue) -> set[str]:
            return {
                e["trade_id"]
                for e in seen[venue]
                if e["type"] == "fill" and e["source"] == "stream"
            }

        await eventually(f"{venue} stream fills", lambda t=truth, s=streamed: s() == t)
        tracked = {f.trade_id for o in ex.orders() for f in o.fills}
        assert tracked == truth
        ex.stop_user_stream()


async def test_submit_pair_sends_both_legs_and_reports_each(sim: Simulator) -> None:
    exs = await both(sim)
    mexc, gate = exs["mexc"], exs["gateio"]
    _, mexc_ask = best(sim, "mexc")
    gate_bid, _ = best(sim, "gateio")
    a = OrderSpec(
        "BTCUSDT",
        "buy",
        client_order_id("pp", 1, "a"),
        qty=Decimal("0.003"),
        price=mexc_ask,
        tif="ioc",
    )
    b = OrderSpec(
        "BTC_USDT",
        "sell",
        client_order_id("pp", 1, "b"),
        qty=Decimal("0.003"),
        price=gate_bid,
        tif="ioc",
    )
    r = await submit_pair(mexc, a, gate, b)
    assert r.ok
    assert isinstance(r.a, Order) and isinstance(r.b, Order)
    for venue, spec in (("mexc", a), ("gateio", b)):
        key = sim.info["accounts"][venue]["api_key"]
        ids = [
            o
            for o in sim.orders(venue, key)
            if o["client_order_id"].removeprefix("t-") == spec.client_id
        ]
        assert len(ids) == 1
    # One leg refused by the venue: the other still goes, and the refusal is typed.
    bid, _ = best(sim, "gateio")
    too_big = OrderSpec(
        "BTC_USDT",
        "buy",
        client_order_id("pp", 2, "b"),
        qty=Decimal("20"),
        price=bid * Decimal("0.9"),
    )
    ok_leg = OrderSpec(
        "BTCUSDT",
        "buy",
        client_order_id("pp", 2, "a"),
        qty=Decimal("0.003"),
        price=mexc_ask,
        tif="ioc",
    )
    r = await submit_pair(mexc, ok_leg, gate, too_big)
    assert isinstance(r.a, Order)
    assert isinstance(r.b, _native.InsufficientFundsError)
    assert not r.ok


async def test_authentication_failure_is_raised_at_once(sim: Simulator) -> None:
    ex = await Exchange.create(settings(sim, "gateio", secret="wrong-secret"))
    with pytest.raises(_native.AuthenticationError) as e:
        await ex.balances()
    assert "wrong-secret" not in str(e.value)
    # server_time (public) in create() plus exactly one balances request: no retry.
    assert ex.conn_stats()["requests"] == 2
    assert ex.breaker_state == "closed"


async def test_circuit_breaker_opens_after_repeated_failures() -> None:
    # A port nothing listens on: every request fails to connect.
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    st = VenueSettings(
        "mexc",
        f"http://127.0.0.1:{port}",
        f"ws://127.0.0.1:{port}/ws",
        "k",
        "s",
        {"breaker_threshold": 2, "read_attempts": 1, "breaker_cooldown_ms": 60_000},
    )
    ex = Exchange(_native.VenueClient(st.to_json()))
    assert ex.breaker_state == "closed"
    for _ in range(2):
        with pytest.raises(_native.NetworkError):
            await ex.balances()
    assert ex.breaker_state == "open"
    sent = ex.conn_stats()["requests"]
    with pytest.raises(_native.VenueError, match="circuit breaker open"):
        await ex.balances()
    assert ex.conn_stats()["requests"] == sent


async def test_unified_exchange_with_market_data(sim: Simulator) -> None:
    sim.set_market_paused(True)
    info = sim.info
    md = _native.MarketData(
        {
            "venues": [
                {"name": "mexc", "rest": info["mexc_rest"], "ws": info["mexc_ws"]},
                {"name": "gateio", "rest": info["gate_rest"], "ws": info["gate_ws"]},
            ],
            "symbols": ["BTC/USDT"],
        }
    )
    await asyncio.to_thread(md.start)
    exs = await connect_exchanges([settings(sim, v) for v in ("mexc", "gateio")], market=md)
    for venue, ex in exs.items():
        assert ex.venue_symbol("BTC/USDT") == SYMBOL[venue]
        await eventually(f"{venue} book valid", lambda ex=ex: bool(ex.top("BTC/USDT")["valid"]))
        top = ex.top("BTC/USDT")
        bid, ask = best(sim, venue)
        assert Decimal(top["bid"][0]) == bid and Decimal(top["ask"][0]) == ask
        # Rules came from the market's symbol table: an order quantizes and places.
        cid = client_order_id("md", 1, "a" if venue == "mexc" else "b")
        o = await ex.place_limit(SYMBOL[venue], "buy", Decimal("0.01"), bid * Decimal("0.9"), cid)
        assert o.status is OrderStatus.OPEN
        await ex.cancel(SYMBOL[venue], client_id=cid)
    md.stop()
