"""A simulator hosting three venue instances (``mexc``, a second MEXC ``mexc_b``,
``gateio``) from Python: endpoints, accounts and balances per instance, and ccxt's MEXC
class, unchanged, on ``mexc_b``."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from arbhybrid.errors import StartupError
from arbhybrid.simulator import Simulator, VenueEndpoint
from conftest import ccxt_mexc

VENUES = [
    {"name": "mexc", "kind": "mexc"},
    {"name": "mexc_b", "kind": "mexc"},
    {"name": "gateio", "kind": "gateio"},
]


@pytest.fixture
def sim_config() -> dict[str, Any]:
    return {"venues": VENUES, "market_paused": True, "symbols": ["BTC/USDT"]}


def test_every_instance_has_endpoints_and_an_account(sim: Simulator) -> None:
    e = sim.endpoints
    assert list(e.venues) == ["mexc", "mexc_b", "gateio"]
    assert e.venues["mexc"] == VenueEndpoint("mexc", e.mexc_rest, e.mexc_ws)
    assert e.venues["gateio"] == VenueEndpoint("gateio", e.gate_rest, e.gate_ws)
    b = e.venues["mexc_b"]
    assert b.kind == "mexc" and b.ws.endswith("/ws")
    assert len({v.rest for v in e.venues.values()}) == 3
    # mexc_b serves MEXC's protocol on its own port.
    with urllib.request.urlopen(b.rest + "/api/v3/exchangeInfo") as r:
        assert [s["symbol"] for s in json.load(r)["symbols"]] == ["BTCUSDT"]
    keys = {name: sim.account(name).api_key for name in e.venues}
    assert len(set(keys.values())) == 3
    with urllib.request.urlopen(e.admin + "/accounts") as r:
        assert json.load(r) == sim.info["accounts"]
    with pytest.raises(ValueError, match=r"unknown venue 'mexc_c' \(configured: mexc, mexc_b"):
        sim.account("mexc_c")


def test_balances_and_truth_are_per_instance(sim: Simulator) -> None:
    for name in ("mexc", "mexc_b", "gateio"):
        assert sim.balances(name)["USDT"] == (Decimal("100000"), Decimal("0"))
    assert sim.orders("mexc_b") == []
    assert sim.truth_book("mexc_b", "BTCUSDT", 5) is not None
    with pytest.raises(
        ValueError, match=r'unknown venue "mexc_c" \(configured: mexc, mexc_b, gateio\)'
    ):
        sim.truth_book("mexc_c", "BTCUSDT", 5)
    with pytest.raises(ValueError, match="unknown venue"):
        sim.balances("mexc_c", "key")
    fault = sim.inject_fault("mexc_b", "rest_status", status=503, count=1)
    assert [f["spec"]["venue"] for f in sim.faults()] == ["mexc_b"] and fault > 0
    assert sim.counters()["mexc_b"]["faults"]["injected"] == 1


def test_a_bad_instance_list_is_a_clear_error() -> None:
    bad = Simulator({"venues": [{"name": "bin", "kind": "binance"}]})
    with pytest.raises(StartupError, match=r'venues\[0\] \("bin"\): unknown venue kind "binance"'):
        bad.start()
    with pytest.raises(ValueError, match="unknown field `prot`"):
        Simulator({"venues": [{"name": "mexc", "kind": "mexc", "prot": 1}]})


async def test_ccxt_mexc_on_the_second_instance() -> None:
    with Simulator({"venues": VENUES, "market_paused": True, "symbols": ["BTC/USDT"]}) as sim:
        x = ccxt_mexc(sim, instance="mexc_b")
        try:
            await x.load_markets()
            book = await x.fetch_order_book("BTC/USDT", 5)
            balance = await x.fetch_balance()
            bid = Decimal(str(book["bids"][0][0]))
            await x.create_order("BTC/USDT", "limit", "buy", 0.001, float(bid * Decimal("0.9")))
        finally:
            await x.close()
        truth = sim.truth_book("mexc_b", "BTCUSDT", 5)
        assert truth is not None
        assert [[Decimal(str(p)), Decimal(str(q))] for p, q, *_ in book["bids"]] == [
            [Decimal(p), Decimal(q)] for p, q in truth["bids"]
        ]
        assert Decimal(str(balance["USDT"]["free"])) == Decimal("100000")
        # The order went to mexc_b's engine, not mexc's.
        assert [o["status"] for o in sim.orders("mexc_b")] == ["new"]
        assert sim.orders("mexc") == []


def test_cli_prints_every_instance(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "arbhybrid", "sim", "--venues", "mexc", "mexc_b=mexc", "gateio"]
    with subprocess.Popen(
        argv, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as p:
        assert p.stdout is not None
        info: dict[str, Any] = json.loads(p.stdout.readline())
        assert [(v["name"], v["kind"]) for v in info["venues"]] == [
            ("mexc", "mexc"),
            ("mexc_b", "mexc"),
            ("gateio", "gateio"),
        ]
        assert set(info["accounts"]) == {"mexc", "mexc_b", "gateio"}
        with urllib.request.urlopen(info["venues"][1]["rest"] + "/api/v3/ping") as r:
            assert json.load(r) == {}
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=30)
        assert p.returncode == 0, err
