"""Every injected fault, seen from a real client (ccxt or a raw socket): what a client
notices, and that the ground truth records it."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt
import pytest
from ccxt.protobuf.mexc import PushDataV3ApiWrapper_pb2 as pb
from google.protobuf.message import DecodeError

from arbhybrid.simulator import Simulator
from conftest import CLIENTS, VENUE_SYMBOL, fetch_order_settled

DEPTH = "spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT"
FAST = {"symbols": ["BTC/USDT"], "update_rate_hz": 100.0}


def fired(sim: Simulator, type_: str) -> int:
    return sum(f["fired"] for f in sim.faults() if f["spec"]["type"] == type_)


async def _mexc_depth_ws(s: aiohttp.ClientSession, sim: Simulator) -> Any:
    ws = await s.ws_connect(sim.endpoints.mexc_ws)
    await ws.send_str(json.dumps({"method": "SUBSCRIPTION", "params": [DEPTH]}))
    assert json.loads((await ws.receive()).data)["msg"] == DEPTH
    return ws


async def _gate_obu_ws(s: aiohttp.ClientSession, sim: Simulator) -> Any:
    ws = await s.ws_connect(sim.endpoints.gate_ws)
    await ws.send_str(
        json.dumps(
            {"time": 0, "channel": "spot.obu", "event": "subscribe", "payload": ["ob.BTC_USDT.50"]}
        )
    )
    assert json.loads((await ws.receive()).data)["result"] == {"status": "success"}
    return ws


@pytest.mark.parametrize("sim_config", [FAST])
async def test_close_public_connections_only(sim: Simulator, sim_config: dict[str, Any]) -> None:
    x = CLIENTS["mexc"](sim)
    try:
        key = (await x.spotPrivatePostUserDataStream())["listenKey"]
    finally:
        await x.close()
    async with aiohttp.ClientSession() as s:
        public = await _mexc_depth_ws(s, sim)
        private = await s.ws_connect(f"{sim.endpoints.mexc_ws}?listenKey={key}")
        await public.receive()  # streaming
        sim.inject_fault("mexc", "close_connections", scope="public")
        while (m := await asyncio.wait_for(public.receive(), 15)).type == aiohttp.WSMsgType.BINARY:
            pass
        assert m.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        await private.send_str('{"method":"PING"}')
        assert json.loads((await asyncio.wait_for(private.receive(), 15)).data)["msg"] == "PONG"
        await private.close()
    assert fired(sim, "close_connections") == 1


@pytest.mark.parametrize("sim_config", [FAST])
async def test_gap_fault_skips_sequence_numbers(sim: Simulator, sim_config: dict[str, Any]) -> None:
    async with aiohttp.ClientSession() as s:
        ws = await _mexc_depth_ws(s, sim)
        w = pb.PushDataV3ApiWrapper()
        w.ParseFromString((await asyncio.wait_for(ws.receive(), 15)).data)
        prev, gaps, frames = int(w.publicAggreDepths.toVersion), 0, 0
        sim.inject_fault("mexc", "gap", symbol="BTCUSDT", count=3)
        while frames < 100:
            w = pb.PushDataV3ApiWrapper()
            w.ParseFromString((await asyncio.wait_for(ws.receive(), 15)).data)
            d = w.publicAggreDepths
            if int(d.fromVersion) != prev + 1:
                gaps += 1
            prev, frames = int(d.toVersion), frames + 1
        await ws.close()
    assert gaps == 3 == fired(sim, "gap")


@pytest.mark.parametrize("sim_config", [FAST])
async def test_stall_keeps_socket_open_without_frames(
    sim: Simulator, sim_config: dict[str, Any]
) -> None:
    async with aiohttp.ClientSession() as s:
        ws = await _gate_obu_ws(s, sim)
        first = json.loads((await ws.receive()).data)["result"]
        assert first["full"] is True
        last_u = first["u"]
        sim.inject_fault("gateio", "stall", secs=3.0)
        # Frames already in flight may still arrive; then silence while the market moves.
        with pytest.raises(asyncio.TimeoutError):
            while True:
                r = json.loads((await asyncio.wait_for(ws.receive(), 1.0)).data)["result"]
                last_u = r["u"]
        await ws.send_str(json.dumps({"time": 0, "channel": "spot.ping"}))
        # After the stall, the withheld increments arrive in order: no gap.
        seen = 0
        while seen < 20:
            m = json.loads((await asyncio.wait_for(ws.receive(), 15)).data)
            if m["channel"] != "spot.obu":
                continue
            assert m["result"]["U"] == last_u + 1
            last_u, seen = m["result"]["u"], seen + 1
        await ws.close()


async def test_crossed_and_malformed_frames(sim: Simulator) -> None:
    sim.set_market_paused(True)
    async with aiohttp.ClientSession() as s:
        ws = await _gate_obu_ws(s, sim)
        full = json.loads((await ws.receive()).data)["result"]
        bids = {Decimal(p): Decimal(q) for p, q in full["b"]}
        asks = {Decimal(p): Decimal(q) for p, q in full["a"]}
        sim.inject_fault("gateio", "crossed_frame", symbol="BTC_USDT")
        crossed = False
        for _ in range(2):
            r = json.loads((await asyncio.wait_for(ws.receive(), 15)).data)["result"]
            for p, q in r["b"]:
                if Decimal(q) == 0:
                    bids.pop(Decimal(p), None)
                else:
                    bids[Decimal(p)] = Decimal(q)
            crossed |= max(bids) > min(asks)
        assert crossed
        truth = sim.truth_book("gateio", "BTC_USDT", 100)
        assert sorted(bids.items(), reverse=True) == [
            (Decimal(p), Decimal(q)) for p, q in truth["bids"]
        ]
        assert r["u"] == truth["version"]

        sim.inject_fault("gateio", "malformed_frame", symbol="BTC_USDT")
        with pytest.raises(json.JSONDecodeError):
            json.loads((await asyncio.wait_for(ws.receive(), 15)).data)
        await ws.close()

        mws = await _mexc_depth_ws(s, sim)
        sim.inject_fault("mexc", "malformed_frame", symbol="BTCUSDT")
        with pytest.raises(DecodeError):
            pb.PushDataV3ApiWrapper().ParseFromString(
                (await asyncio.wait_for(mws.receive(), 15)).data
            )
        await mws.close()


async def test_rest_status_timeout_and_rate_limit(sim: Simulator, venue: str) -> None:
    x = CLIENTS[venue](sim)
    try:
        await x.load_markets()
        sim.inject_fault(venue, "rest_status", status=503, count=1)
        with pytest.raises(ccxt.ExchangeNotAvailable):
            await x.fetch_order_book("BTC/USDT")
        sim.inject_fault(venue, "rest_status", status=500, count=1)
        # ccxt maps MEXC's 500 to ExchangeError and Gate's SERVER_ERROR to
        # ExchangeNotAvailable: either way the call fails with the venue's body.
        with pytest.raises((ccxt.ExchangeError, ccxt.ExchangeNotAvailable)) as e:
            await x.fetch_order_book("BTC/USDT")
        assert "Internal" in str(e.value)
        x.timeout = 500  # ms
        sim.inject_fault(venue, "rest_timeout", count=1)
        with pytest.raises(ccxt.RequestTimeout):
            await x.fetch_order_book("BTC/USDT")
        sim.inject_fault(venue, "rest_delay", ms=5000, count=1)
        with pytest.raises(ccxt.RequestTimeout):
            await x.fetch_order_book("BTC/USDT")
        x.timeout = 10000
        assert (await x.fetch_order_book("BTC/USDT"))["bids"]
    finally:
        await x.close()
    sim.inject_fault(venue, "rest_rate_limit", retry_after_secs=7, count=1)
    url = (
        sim.endpoints.mexc_rest + "/api/v3/ping"
        if venue == "mexc"
        else sim.endpoints.gate_rest + "/spot/time"
    )
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(url)
    assert e.value.code == 429 and e.value.headers["Retry-After"] == "7"
    e.value.close()
    kinds = {f["spec"]["type"]: f["fired"] for f in sim.faults()}
    assert kinds == {"rest_status": 1, "rest_timeout": 1, "rest_delay": 1, "rest_rate_limit": 1}
    assert sim.counters()[venue]["faults"]["injected"] == 5


async def test_apply_then_timeout_order_exists(sim: Simulator, venue: str) -> None:
    sim.set_market_paused(True)
    x = CLIENTS[venue](sim)
    try:
        await x.load_markets()
        bid = (await x.fetch_order_book("BTC/USDT"))["bids"][0][0]
        price = float(x.price_to_precision("BTC/USDT", bid * 0.9))
        x.timeout = 1000
        sim.inject_fault(venue, "apply_then_timeout", count=1)
        with pytest.raises(ccxt.RequestTimeout):
            await x.create_order("BTC/USDT", "limit", "buy", 0.001, price)
        x.timeout = 10000
        open_orders = await x.fetch_open_orders("BTC/USDT")
        assert [(o["price"], o["amount"]) for o in open_orders] == [(price, 0.001)]
        assert [o["status"] for o in sim.orders(venue)] == ["new"]

        sim.inject_fault(venue, "reject_without_apply", count=1)
        with pytest.raises((ccxt.ExchangeError, ccxt.ExchangeNotAvailable)):
            await x.create_order("BTC/USDT", "limit", "buy", 0.001, price)
        assert len(sim.orders(venue)) == 1
    finally:
        await x.close()


@pytest.mark.parametrize(
    ("venue_", "error", "exc", "text"),
    [
        ("mexc", "symbol_not_tradable", ccxt.BadSymbol, "10007"),
        ("mexc", "market_order_disabled", ccxt.BadRequest, "30019"),
        ("mexc", "insufficient_balance", ccxt.InsufficientFunds, "10101"),
        ("gateio", "insufficient_balance", ccxt.InsufficientFunds, "BALANCE_NOT_ENOUGH"),
        ("gateio", "symbol_not_tradable", ccxt.BadSymbol, "INVALID_CURRENCY_PAIR"),
    ],
)
async def test_reject_order_with_real_errors(
    sim: Simulator, venue_: str, error: str, exc: type[Exception], text: str
) -> None:
    x = CLIENTS[venue_](sim)
    try:
        await x.load_markets()
        ask = (await x.fetch_order_book("BTC/USDT"))["asks"][0][0]
        sim.inject_fault(venue_, "reject_order", error=error, symbol=VENUE_SYMBOL[venue_], count=1)
        with pytest.raises(exc) as e:
            await x.create_order("BTC/USDT", "market", "buy", 0.001, ask)
        assert text in str(e.value)
    finally:
        await x.close()
    assert sim.orders(venue_) == []


async def test_partial_fill(sim: Simulator, venue: str) -> None:
    sim.set_market_paused(True)
    x = CLIENTS[venue](sim)
    try:
        await x.load_markets()
        ob = await x.fetch_order_book("BTC/USDT")
        # Enough to sweep several levels at a price through the book.
        price = float(x.price_to_precision("BTC/USDT", ob["asks"][0][0] * 1.01))
        sim.inject_fault(venue, "partial_fill", pct=30, count=1)
        o = await x.create_order("BTC/USDT", "limit", "buy", 0.01, price)
        f = await fetch_order_settled(x, o["id"], "BTC/USDT")
        assert f["filled"] == 0.003 and f["status"] == "canceled"
        o2 = await x.create_order("BTC/USDT", "limit", "buy", 0.01, price)
        assert (await fetch_order_settled(x, o2["id"], "BTC/USDT"))["filled"] == 0.01
    finally:
        await x.close()


async def test_expire_listen_keys_and_halt(sim: Simulator) -> None:
    x = CLIENTS["mexc"](sim)
    try:
        key = (await x.spotPrivatePostUserDataStream())["listenKey"]
        async with aiohttp.ClientSession() as s:
            ws = await s.ws_connect(f"{sim.endpoints.mexc_ws}?listenKey={key}")
            # Wait until the server accepted the key (the ack), then expire it.
            chan = "spot@private.orders.v3.api.pb"
            await ws.send_str(json.dumps({"method": "SUBSCRIPTION", "params": [chan]}))
            assert json.loads((await ws.receive()).data)["msg"] == chan
            sim.inject_fault("mexc", "expire_listen_keys")
            m = await asyncio.wait_for(ws.receive(), 15)
            assert m.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
            async with s.ws_connect(f"{sim.endpoints.mexc_ws}?listenKey={key}") as ws2:
                assert (await ws2.receive()).data == "Invalid listen key"

        version = sim.truth_book("mexc", "BTCUSDT", 1)["version"]
        sim.inject_fault("mexc", "halt")
        with pytest.raises(ccxt.ExchangeNotAvailable):
            await x.fetch_order_book("BTC/USDT")
        # The market leaves a halted venue alone; Gate keeps moving.
        g = sim.truth_book("gateio", "BTC_USDT", 1)["version"]
        await asyncio.sleep(0.5)
        assert sim.truth_book("mexc", "BTCUSDT", 1)["version"] == version
        assert sim.truth_book("gateio", "BTC_USDT", 1)["version"] > g
        sim.inject_fault("mexc", "resume")
        assert (await x.fetch_order_book("BTC/USDT"))["bids"]
    finally:
        await x.close()
    assert {f["spec"]["type"]: f["active"] for f in sim.faults()} == {
        "expire_listen_keys": False,
        "halt": False,
        "resume": False,
    }


def test_admin_fault_api(sim: Simulator) -> None:
    admin = sim.endpoints.admin

    def post(path: str, body: dict[str, Any]) -> Any:
        req = urllib.request.Request(
            admin + path,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req) as r:
            return json.load(r)

    assert post(
        "/faults", {"venue": "gateio", "type": "rest_status", "status": 502, "count": 1}
    ) == {"id": 1}
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(sim.endpoints.gate_rest + "/spot/time")
    assert e.value.code == 502
    e.value.close()
    with urllib.request.urlopen(admin + "/faults") as r:
        faults = json.load(r)
    assert [(f["spec"]["type"], f["fired"], f["active"]) for f in faults] == [
        ("rest_status", 1, False)
    ]
    with pytest.raises(urllib.error.HTTPError) as e:
        post("/faults", {"venue": "mexc", "type": "gap", "symbol": "NOPE"})
    assert e.value.code == 400
    e.value.close()
