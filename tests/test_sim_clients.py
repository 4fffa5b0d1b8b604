"""The simulator with Gate's official SDK (gate-api), from the command line, and under a
seed (same seed, same frames)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import gate_api
from ccxt.protobuf.mexc import PushDataV3ApiWrapper_pb2 as pb

from arbhybrid.simulator import Simulator


def _gate_sdk(sim: Simulator) -> gate_api.ApiClient:
    """The official SDK's client for the simulator's Gate trader (market paused)."""
    sim.set_market_paused(True)
    acc = sim.account("gateio")
    conf = gate_api.Configuration(
        host=sim.endpoints.gate_rest, key=acc.api_key, secret=acc.api_secret
    )
    return gate_api.ApiClient(conf)


def _btc_buy(price: Decimal, text: str, tif: str = "gtc") -> gate_api.Order:
    """A limit buy of 0.002 BTC at ``price`` (rounded to the pair's 0.1 tick)."""
    return gate_api.Order(
        currency_pair="BTC_USDT",
        type="limit",
        account="spot",
        side="buy",
        amount="0.002",
        price=str(price.quantize(Decimal("0.1"))),
        time_in_force=tif,
        text=text,
    )


def test_gate_api_sdk_places_reads_cancels_and_lists_balances(sim: Simulator) -> None:
    api = gate_api.SpotApi(_gate_sdk(sim))
    bid = Decimal(sim.truth_book("gateio", "BTC_USDT", 1)["bids"][0][0])
    price = str((bid * Decimal("0.95")).quantize(Decimal("0.1")))
    order = gate_api.Order(
        currency_pair="BTC_USDT",
        type="limit",
        account="spot",
        side="buy",
        amount="0.002",
        price=price,
        text="t-sdk-1",
    )
    created = api.create_order(order)
    assert created.status == "open" and created.text == "t-sdk-1"
    got = api.get_order(created.id, "BTC_USDT")
    assert (got.id, got.price, got.amount, got.left) == (created.id, price, "0.002", "0.002")
    by_text = api.get_order("t-sdk-1", "BTC_USDT")
    assert by_text.id == created.id
    balances = {a.currency: (a.available, a.locked) for a in api.list_spot_accounts()}
    locked = Decimal(price) * Decimal("0.002")
    assert Decimal(balances["USDT"][1]) == locked
    assert Decimal(balances["USDT"][0]) == Decimal(100000) - locked
    cancelled = api.cancel_order(created.id, "BTC_USDT")
    assert cancelled.status == "cancelled" and cancelled.finish_as == "cancelled"
    assert [(o["order_id"], o["status"]) for o in sim.orders("gateio")] == [
        (created.id, "canceled")
    ]
    usdt = api.list_spot_accounts(currency="USDT")
    assert [(a.available, a.locked) for a in usdt] == [("100000", "0")]


def test_gate_api_sdk_makes_every_call_the_engine_makes(sim: Simulator) -> None:
    """Every public and private Gate call the engine makes, through the official SDK as
    it sends them. The SDK writes booleans as Python does (``with_id=True``): the venue
    takes that spelling, so a gate-api user can sync a book from the snapshot's id."""
    client = _gate_sdk(sim)
    spot, wallet = gate_api.SpotApi(client), gate_api.WalletApi(client)
    # Public: the clock, the listing, the book snapshot with its id.
    assert abs(spot.get_system_time().server_time - time.time() * 1000) < 60_000
    assert "BTC_USDT" in {p.id for p in spot.list_currency_pairs()}
    assert spot.get_currency_pair("BTC_USDT").amount_precision is not None
    book = spot.list_order_book("BTC_USDT", limit=5, with_id=True)
    assert book.id is not None and len(book.bids) == 5
    assert spot.list_order_book("BTC_USDT", limit=5).id is None
    # Private: fees, balances, the order lifecycle, the histories reconciliation reads.
    fee = wallet.get_trade_fee(currency_pair="BTC_USDT")
    assert Decimal(fee.taker_fee) > 0
    assert "USDT" in {a.currency for a in spot.list_spot_accounts()}
    t0 = int(time.time())
    created = spot.create_order(_btc_buy(Decimal(book.bids[0][0]) * Decimal("0.95"), "t-sdk-2"))
    assert spot.get_order(created.id, "BTC_USDT").status == "open"
    assert [o.id for o in spot.list_orders("BTC_USDT", "open")] == [created.id]
    assert spot.cancel_order(created.id, "BTC_USDT").status == "cancelled"
    ask = Decimal(spot.list_order_book("BTC_USDT", limit=1).asks[0][0])
    filled = spot.create_order(_btc_buy(ask * Decimal("1.01"), "t-sdk-3", "ioc"))
    assert filled.finish_as == "filled"
    trades = spot.list_my_trades(
        currency_pair="BTC_USDT", limit=100, page=1, _from=t0 - 1, to=int(time.time()) + 1
    )
    assert {t.order_id for t in trades} == {filled.id} and trades[0].text == "t-sdk-3"
    finished = spot.list_orders(
        "BTC_USDT", "finished", page=1, limit=100, _from=t0 - 1, to=int(time.time()) + 1
    )
    assert {o.id for o in finished} == {created.id, filled.id}


async def _first_frames(seed: int, n: int) -> str:
    """Hash of the first `n` MEXC depth frames after the market starts, timestamps removed."""
    sim = Simulator(
        {
            "seed": seed,
            "symbols": ["BTC/USDT", "ETH/USDT"],
            "update_rate_hz": 100.0,
            "market_paused": True,
        }
    ).start()
    h = hashlib.sha256()
    try:
        chans = [
            "spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT",
            "spot@public.aggre.deals.v3.api.pb@10ms@ETHUSDT",
        ]
        async with aiohttp.ClientSession() as s, s.ws_connect(sim.endpoints.mexc_ws) as ws:
            await ws.send_str(json.dumps({"method": "SUBSCRIPTION", "params": chans}))
            assert json.loads((await ws.receive()).data)["msg"] == ",".join(chans)
            sim.set_market_paused(False)
            got = 0
            while got < n:
                m = await asyncio.wait_for(ws.receive(), 15)
                w = pb.PushDataV3ApiWrapper()
                w.ParseFromString(m.data)
                w.ClearField("sendTime")
                w.ClearField("createTime")
                # Fields ccxt's descriptors predate (lastOrderCreateTime) are times too.
                w.DiscardUnknownFields()
                for d in w.publicAggreDeals.deals:
                    d.ClearField("time")
                h.update(w.SerializeToString(deterministic=True))
                got += 1
    finally:
        sim.stop()
    return h.hexdigest()


async def test_same_seed_same_frames() -> None:
    a = await _first_frames(11, 300)
    b = await _first_frames(11, 300)
    c = await _first_frames(12, 300)
    assert a == b
    assert a != c


def test_cli_prints_endpoints_and_serves_until_interrupted(tmp_path: Path) -> None:
    env = dict(os.environ)
    with subprocess.Popen(
        [
            sys.executable,
            "-m",
            "arbhybrid",
            "sim",
            "--seed",
            "5",
            "--symbols",
            "BTC/USDT",
            "ETH/USDT",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as p:
        assert p.stdout is not None
        info: dict[str, Any] = json.loads(p.stdout.readline())
        assert set(info) == {
            "mexc_rest",
            "mexc_ws",
            "gate_rest",
            "gate_ws",
            "admin",
            "venues",
            "accounts",
        }
        assert set(info["accounts"]) == {"mexc", "gateio"}
        assert info["venues"] == [
            {"name": "mexc", "kind": "mexc", "rest": info["mexc_rest"], "ws": info["mexc_ws"]},
            {"name": "gateio", "kind": "gateio", "rest": info["gate_rest"], "ws": info["gate_ws"]},
        ]
        with urllib.request.urlopen(info["mexc_rest"] + "/api/v3/exchangeInfo") as r:
            symbols = [s["symbol"] for s in json.load(r)["symbols"]]
        assert symbols == ["BTCUSDT", "ETHUSDT"]
        with urllib.request.urlopen(info["admin"] + "/accounts") as r:
            assert json.load(r) == info["accounts"]
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=30)
        assert p.returncode == 0, err
        assert "simulator stopped" in err
