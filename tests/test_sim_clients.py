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
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import gate_api
from ccxt.protobuf.mexc import PushDataV3ApiWrapper_pb2 as pb

from arbhybrid.simulator import Simulator


def test_gate_api_sdk_places_reads_cancels_and_lists_balances(sim: Simulator) -> None:
    sim.set_market_paused(True)
    acc = sim.account("gateio")
    conf = gate_api.Configuration(
        host=sim.endpoints.gate_rest, key=acc.api_key, secret=acc.api_secret
    )
    api = gate_api.SpotApi(gate_api.ApiClient(conf))
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
