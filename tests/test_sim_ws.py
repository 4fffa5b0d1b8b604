"""The simulator's WebSockets, proven with ccxt.pro (MEXC protobuf, Gate spot.obu) and
with raw sockets for the protocol details ccxt does not exercise (version chains, gaps,
listenKeys, subscription limits, the Gate WebSocket trading API)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from ccxt.protobuf.mexc import PushDataV3ApiWrapper_pb2 as pb

from arbhybrid.simulator import Simulator
from conftest import CLIENTS, VENUE_SYMBOL, until

FAST = {"symbols": ["BTC/USDT"], "update_rate_hz": 150.0}


def top(side: list[list[Any]], n: int) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(str(p)), Decimal(str(q))) for p, q, *_ in side[:n]]


def truth_top(side: list[list[str]]) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(p), Decimal(q)) for p, q in side]


@pytest.mark.parametrize("sim_config", [FAST])
async def test_watch_order_book_equals_truth_over_1000_updates(
    sim: Simulator, venue: str, sim_config: dict[str, Any]
) -> None:
    """ccxt.pro keeps a local book from the venue stream (MEXC: protobuf aggre.depth plus a
    REST snapshot; Gate: spot.obu full push then increments). Ten times, after 100+
    updates, the market is paused and ccxt's book must converge to the exact true book."""
    x = CLIENTS[venue](sim, pro=True)
    symbol, vsym, depth = "BTC/USDT", VENUE_SYMBOL[venue], 20
    updates = 0
    try:
        for _ in range(10):
            sim.set_market_paused(False)
            for _ in range(100):
                await asyncio.wait_for(x.watch_order_book(symbol), 30)
                updates += 1
            sim.set_market_paused(True)
            truth: dict[str, Any] = {}

            def converged() -> bool:
                nonlocal truth
                truth = sim.truth_book(venue, vsym, depth) or {}
                local = x.orderbooks[symbol]
                return top(local["bids"], depth) == truth_top(truth["bids"]) and top(
                    local["asks"], depth
                ) == truth_top(truth["asks"])

            assert await until(converged), (venue, truth, x.orderbooks[symbol].limit())
            assert len(truth["bids"]) >= 10 and len(truth["asks"]) >= 10
    finally:
        await x.close()
    assert updates >= 1000
    assert sim.counters()[venue]["frames"]["depth"] >= 1000


async def test_watch_orders_and_balance_see_fills(sim: Simulator, venue: str) -> None:
    sim.set_market_paused(True)
    x = CLIENTS[venue](sim, pro=True)
    try:
        await x.load_markets()
        orders_task = asyncio.create_task(x.watch_orders("BTC/USDT"))
        balance_task = asyncio.create_task(x.watch_balance())
        assert await until(lambda: sim.counters()[venue]["ws_subscriptions"] >= 2)
        ob = await x.fetch_order_book("BTC/USDT", 5)
        qty = 0.001
        placed = await x.create_order("BTC/USDT", "limit", "buy", qty, ob["asks"][0][0])
        seen: dict[str, Any] = {}
        orders = await asyncio.wait_for(orders_task, 15)
        while True:
            for o in orders:
                seen[o["id"]] = o
            if seen.get(placed["id"], {}).get("status") == "closed":
                break
            orders = await asyncio.wait_for(x.watch_orders("BTC/USDT"), 15)
        o = seen[placed["id"]]
        assert o["filled"] == qty and o["side"] == "buy"

        truth_btc = sim.balances(venue)["BTC"][0]
        bal = await asyncio.wait_for(balance_task, 15)
        while Decimal(str(bal.get("BTC", {}).get("free") or 0)) != truth_btc:
            bal = await asyncio.wait_for(x.watch_balance(), 15)
        assert Decimal(str(bal["BTC"]["free"])) == truth_btc > 2
    finally:
        await x.close()


async def _recv_binary(ws: aiohttp.ClientWebSocketResponse) -> Any:
    while True:
        msg = await asyncio.wait_for(ws.receive(), 15)
        if msg.type == aiohttp.WSMsgType.BINARY:
            w = pb.PushDataV3ApiWrapper()
            w.ParseFromString(msg.data)
            return w
        assert msg.type == aiohttp.WSMsgType.TEXT, msg


@pytest.mark.parametrize("sim_config", [FAST])
async def test_mexc_depth_version_chain_and_gap(sim: Simulator, sim_config: dict[str, Any]) -> None:
    ch = "spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT"
    async with aiohttp.ClientSession() as s, s.ws_connect(sim.endpoints.mexc_ws) as ws:
        await ws.send_str(json.dumps({"method": "SUBSCRIPTION", "params": [ch]}))
        ack = json.loads((await ws.receive()).data)
        assert ack == {"id": 0, "code": 0, "msg": ch}
        prev = None
        for _ in range(200):
            w = await _recv_binary(ws)
            d = w.publicAggreDepths
            assert w.channel == ch and w.symbol == "BTCUSDT"
            frm, to = int(d.fromVersion), int(d.toVersion)
            assert frm <= to
            if prev is not None:
                assert frm == prev + 1
            prev = to
        sim.inject_gap("mexc", "BTCUSDT")
        gaps = 0
        for _ in range(50):
            d = (await _recv_binary(ws)).publicAggreDepths
            gaps += int(d.fromVersion) != prev + 1
            prev = int(d.toVersion)
        assert gaps == 1
        assert sim.counters()["mexc"]["faults"]["gaps_injected"] == 1


async def test_mexc_ws_control_messages(sim: Simulator) -> None:
    ep = sim.endpoints
    async with aiohttp.ClientSession() as s:
        async with s.ws_connect(ep.mexc_ws) as ws:
            await ws.send_str('{"method":"ping"}')
            assert json.loads((await ws.receive()).data)["msg"] == "PONG"
            # The JSON (non-protobuf) channels are closed to API users.
            await ws.send_str(
                json.dumps(
                    {"method": "SUBSCRIPTION", "params": ["spot@public.deals.v3.api@BTCUSDT"]}
                )
            )
            assert "Blocked!" in json.loads((await ws.receive()).data)["msg"]
            chans = [
                f"spot@public.aggre.{k}.v3.api.pb@{iv}@{sym}"
                for k in ("depth", "deals", "bookTicker")
                for iv in ("10ms", "100ms")
                for sym in ("BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT")
            ]
            chans += [f"spot@public.limit.depth.v3.api.pb@BTCUSDT@{n}" for n in (5, 10, 20)]
            assert len(chans) == 27
            await ws.send_str(json.dumps({"method": "SUBSCRIPTION", "params": chans}))
            while (m := await ws.receive()).type != aiohttp.WSMsgType.TEXT:
                pass
            assert json.loads(m.data)["msg"] == ",".join(chans)
            more = [
                f"spot@public.limit.depth.v3.api.pb@{s}@5"
                for s in ("ETHUSDT", "SOLUSDT", "XRPUSDT", "BTCUSDT")
            ]
            more[3] = "spot@public.limit.depth.v3.api.pb@XRPUSDT@10"
            await ws.send_str(json.dumps({"method": "SUBSCRIPTION", "params": more}))
            while (m := await ws.receive()).type != aiohttp.WSMsgType.TEXT:
                pass
            reply = json.loads(m.data)["msg"]
            assert "limit exceeded" in reply and more[3] in reply and more[0] not in reply
        async with s.ws_connect(ep.mexc_ws + "?listenKey=nope") as ws:
            m = await ws.receive()
            assert m.data == "Invalid listen key"


async def test_mexc_listen_key_expiry_closes_private_stream(sim: Simulator) -> None:
    x = CLIENTS["mexc"](sim)
    try:
        key = (await x.spotPrivatePostUserDataStream())["listenKey"]
        async with (
            aiohttp.ClientSession() as s,
            s.ws_connect(f"{sim.endpoints.mexc_ws}?listenKey={key}") as ws,
        ):
            await ws.send_str(
                json.dumps({"method": "SUBSCRIPTION", "params": ["spot@private.orders.v3.api.pb"]})
            )
            assert json.loads((await ws.receive()).data)["msg"] == "spot@private.orders.v3.api.pb"
            await x.spotPrivateDeleteUserDataStream({"listenKey": key})
            m = await asyncio.wait_for(ws.receive(), 15)
            assert m.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        async with (
            aiohttp.ClientSession() as s,
            s.ws_connect(f"{sim.endpoints.mexc_ws}?listenKey={key}") as ws,
        ):
            assert (await ws.receive()).data == "Invalid listen key"
    finally:
        await x.close()


def _gate_req(
    channel: str, event: str, payload: Any, secret: str | None = None, key: str = ""
) -> str:
    t = int(time.time())
    req: dict[str, Any] = {
        "time": t,
        "id": 1,
        "channel": channel,
        "event": event,
        "payload": payload,
    }
    if secret is not None:
        sign = hmac.new(
            secret.encode(), f"channel={channel}&event={event}&time={t}".encode(), hashlib.sha512
        ).hexdigest()
        req["auth"] = {"method": "api_key", "KEY": key, "SIGN": sign}
    return json.dumps(req)


async def _gate_next(ws: aiohttp.ClientWebSocketResponse, channel: str) -> dict[str, Any]:
    while True:
        m = json.loads((await asyncio.wait_for(ws.receive(), 15)).data)
        if m.get("channel") == channel and m.get("event") == "update":
            return m


@pytest.mark.parametrize("sim_config", [FAST])
async def test_gate_order_book_update_sync_and_gap(
    sim: Simulator, sim_config: dict[str, Any]
) -> None:
    """The documented Gate procedure: cache U/u pushes, REST snapshot with_id, apply the
    first push with U <= id+1 <= u, then every U must be the previous u + 1."""
    ep = sim.endpoints
    async with aiohttp.ClientSession() as s, s.ws_connect(ep.gate_ws) as ws:
        await ws.send_str(_gate_req("spot.ping", "", None))
        assert json.loads((await ws.receive()).data)["channel"] == "spot.pong"
        await ws.send_str(_gate_req("spot.order_book_update", "subscribe", ["BTC_USDT", "20ms"]))
        ack = json.loads((await ws.receive()).data)
        assert ack["result"] == {"status": "success"} and ack["error"] is None
        cached = [await _gate_next(ws, "spot.order_book_update") for _ in range(5)]
        async with s.get(
            f"{ep.gate_rest}/spot/order_book?currency_pair=BTC_USDT&limit=100&with_id=true"
        ) as r:
            snap = await r.json()
        base = snap["id"]
        book = {
            "b": {Decimal(p): Decimal(q) for p, q in snap["bids"]},
            "a": {Decimal(p): Decimal(q) for p, q in snap["asks"]},
        }
        local = base
        pushes = cached + [await _gate_next(ws, "spot.order_book_update") for _ in range(300)]
        applied = 0
        for m in pushes:
            res = m["result"]
            if res["u"] < local + 1:
                continue
            assert res["U"] == local + 1, "gap in the U/u chain"
            for side in ("b", "a"):
                for p, q in res[side]:
                    if Decimal(q) == 0:
                        book[side].pop(Decimal(p), None)
                    else:
                        book[side][Decimal(p)] = Decimal(q)
            local = res["u"]
            applied += 1
        assert applied > 250
        sim.set_market_paused(True)
        # Drain to the truth's version, then compare the whole book.
        truth = sim.truth_book("gateio", "BTC_USDT", 1000)
        while local < truth["version"]:
            res = (await _gate_next(ws, "spot.order_book_update"))["result"]
            assert res["U"] == local + 1
            for side in ("b", "a"):
                for p, q in res[side]:
                    if Decimal(q) == 0:
                        book[side].pop(Decimal(p), None)
                    else:
                        book[side][Decimal(p)] = Decimal(q)
            local = res["u"]
        assert sorted(book["b"].items(), reverse=True) == truth_top(truth["bids"])
        assert sorted(book["a"].items()) == truth_top(truth["asks"])
        sim.inject_gap("gateio", "BTC_USDT")
        sim.set_market_paused(False)
        res = (await _gate_next(ws, "spot.order_book_update"))["result"]
        assert res["U"] == local + 2


async def test_gate_private_auth_and_ws_trading_api(sim: Simulator) -> None:
    acc = sim.account("gateio")
    sim.set_market_paused(True)
    async with aiohttp.ClientSession() as s, s.ws_connect(sim.endpoints.gate_ws) as ws:
        await ws.send_str(_gate_req("spot.orders", "subscribe", ["BTC_USDT"], "wrong", acc.api_key))
        bad = json.loads((await ws.receive()).data)
        assert bad["error"]["code"] == 4
        await ws.send_str(
            _gate_req("spot.orders", "subscribe", ["BTC_USDT"], acc.api_secret, acc.api_key)
        )
        assert json.loads((await ws.receive()).data)["result"] == {"status": "success"}

        def api(channel: str, param: dict[str, Any]) -> str:
            ts = str(int(time.time()))
            raw = json.dumps(param)
            sig = hmac.new(
                acc.api_secret.encode(), f"api\n{channel}\n{raw}\n{ts}".encode(), hashlib.sha512
            ).hexdigest()
            # Built by hand so req_param goes on the wire exactly as it was signed.
            return (
                f'{{"time": {ts}, "channel": "{channel}", "event": "api", "payload": '
                f'{{"req_id": "r1", "api_key": "{acc.api_key}", "timestamp": "{ts}", '
                f'"signature": "{sig}", "req_param": {raw}}}}}'
            )

        await ws.send_str(api("spot.login", {}))
        login = json.loads((await ws.receive()).data)
        assert login["header"]["status"] == "200"
        bid = Decimal(sim.truth_book("gateio", "BTC_USDT", 1)["bids"][0][0])
        price = str((bid * Decimal("0.9")).quantize(Decimal("0.1")))
        await ws.send_str(
            api(
                "spot.order_place",
                {
                    "text": "t-ws1",
                    "currency_pair": "BTC_USDT",
                    "type": "limit",
                    "account": "spot",
                    "side": "buy",
                    "amount": "0.001",
                    "price": price,
                },
            )
        )
        msgs = [json.loads((await ws.receive()).data) for _ in range(3)]
        acks = [m for m in msgs if m.get("request_id") == "r1"]
        assert acks[0]["ack"] is True and acks[1]["data"]["result"]["status"] == "open"
        order_id = acks[1]["data"]["result"]["id"]
        push = [m for m in msgs if m.get("channel") == "spot.orders"]
        assert push[0]["result"][0]["id"] == order_id and push[0]["result"][0]["event"] == "put"
        await ws.send_str(
            api("spot.order_status", {"order_id": "t-ws1", "currency_pair": "BTC_USDT"})
        )
        st = json.loads((await ws.receive()).data)
        assert st["data"]["result"]["id"] == order_id
        await ws.send_str(
            api("spot.order_cancel", {"order_id": order_id, "currency_pair": "BTC_USDT"})
        )
        msgs = [json.loads((await ws.receive()).data) for _ in range(2)]
        res = next(m for m in msgs if m.get("request_id") == "r1")
        assert res["data"]["result"]["status"] == "cancelled"
        assert sim.orders("gateio")[-1]["status"] == "canceled"


async def test_gate_ws_login_as_documented_and_signatures_cover_req_param(
    sim: Simulator,
) -> None:
    """Gate's documented ``spot.login`` (spot WebSocket API, "Login"): no ``req_param``,
    signed over ``api\nspot.login\n\n<ts>``; the answer names the key and the uid. Any
    other request's signature covers its ``req_param`` exactly: one signed as if it had
    none is refused."""
    acc = sim.account("gateio")

    def sign(channel: str, raw: str, ts: str) -> str:
        msg = f"api\n{channel}\n{raw}\n{ts}".encode()
        return hmac.new(acc.api_secret.encode(), msg, hashlib.sha512).hexdigest()

    ts = str(int(time.time()))
    login = {
        "time": int(ts),
        "channel": "spot.login",
        "event": "api",
        "payload": {
            "api_key": acc.api_key,
            "signature": sign("spot.login", "", ts),
            "timestamp": ts,
            "req_id": "login-1",
        },
    }
    async with aiohttp.ClientSession() as s, s.ws_connect(sim.endpoints.gate_ws) as ws:
        await ws.send_str(json.dumps(login))
        r = json.loads((await ws.receive()).data)
        assert (r["request_id"], r["header"]["status"]) == ("login-1", "200")
        assert r["data"]["result"]["api_key"] == acc.api_key and r["data"]["result"]["uid"]
        param = json.dumps({"order_id": "1", "currency_pair": "BTC_USDT"})
        await ws.send_str(
            f'{{"time": {ts}, "channel": "spot.order_status", "event": "api", "payload": '
            f'{{"req_id": "q-1", "api_key": "{acc.api_key}", "timestamp": "{ts}", '
            f'"signature": "{sign("spot.order_status", "", ts)}", "req_param": {param}}}}}'
        )
        r = json.loads((await ws.receive()).data)
        assert r["header"]["status"] == "401"
        assert r["data"]["errs"]["label"] == "INVALID_SIGNATURE"


@pytest.mark.parametrize("sim_config", [{"mexc_ws_unsubscribed_close_secs": 1}])
async def test_mexc_closes_connections_without_a_subscription(
    sim: Simulator, sim_config: dict[str, Any]
) -> None:
    """MEXC drops a connection with no valid subscription after its grace period (30 s on
    the venue, 1 s here); one that subscribed stays."""
    async with aiohttp.ClientSession() as s:
        idle = await s.ws_connect(sim.endpoints.mexc_ws)
        busy = await s.ws_connect(sim.endpoints.mexc_ws)
        ch = "spot@public.aggre.bookTicker.v3.api.pb@100ms@BTCUSDT"
        await busy.send_str(json.dumps({"method": "SUBSCRIPTION", "params": [ch]}))
        assert json.loads((await busy.receive()).data)["msg"] == ch
        m = await asyncio.wait_for(idle.receive(), 15)
        assert m.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        await busy.send_str('{"method":"PING"}')
        while (m := await asyncio.wait_for(busy.receive(), 15)).type == aiohttp.WSMsgType.BINARY:
            pass
        assert json.loads(m.data)["msg"] == "PONG"
        await busy.close()
