"""The simulator's REST venues, proven with clients nobody here wrote: ccxt (async) for
MEXC v3 and Gate v4, unchanged but for URLs and keys, checked against the simulator's
ground truth."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from decimal import Decimal
from typing import Any

import ccxt
import pytest

from arbhybrid.simulator import Simulator
from conftest import CLIENTS, VENUE_SYMBOL, fetch_order_settled

# The venues' rules for BTC/USDT in the simulator (they disagree on purpose).
RULES = {
    "mexc": {"price": 0.01, "amount": 1e-06, "min_amount": 1e-06, "min_cost": 1.0},
    "gateio": {"price": 0.1, "amount": 1e-06, "min_amount": 1e-05, "min_cost": 3.0},
}


def levels(side: list[list[Any]]) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(str(p)), Decimal(str(q))) for p, q, *_ in side]


def truth_levels(side: list[list[str]]) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(p), Decimal(q)) for p, q in side]


async def test_load_markets_precision_and_limits(exchange: Any, venue: str) -> None:
    m = exchange.market("BTC/USDT")
    r = RULES[venue]
    assert m["id"] == VENUE_SYMBOL[venue]
    assert m["spot"] and m["active"]
    assert m["precision"]["price"] == r["price"]
    assert m["precision"]["amount"] == r["amount"]
    assert m["limits"]["amount"]["min"] == r["min_amount"]
    assert m["limits"]["cost"]["min"] == r["min_cost"]
    assert set(exchange.symbols) >= {"BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT"}


async def test_order_book_and_balance_match_truth(
    exchange: Any, venue: str, sim: Simulator
) -> None:
    sim.set_market_paused(True)
    ob = await exchange.fetch_order_book("BTC/USDT", 20)
    truth = sim.truth_book(venue, VENUE_SYMBOL[venue], 20)
    assert truth is not None
    assert ob["nonce"] == truth["version"]
    assert levels(ob["bids"]) == truth_levels(truth["bids"])
    assert levels(ob["asks"]) == truth_levels(truth["asks"])
    assert ob["bids"][0][0] < ob["asks"][0][0]

    bal = await exchange.fetch_balance()
    for asset, (free, locked) in sim.balances(venue).items():
        assert Decimal(str(bal[asset]["free"])) == free
        assert Decimal(str(bal[asset]["used"])) == locked
    assert bal["USDT"]["free"] == 100000


async def test_limit_order_lifecycle(exchange: Any, venue: str, sim: Simulator) -> None:
    sim.set_market_paused(True)
    ob = await exchange.fetch_order_book("BTC/USDT", 5)
    # 10 % below the best bid: rests without filling.
    price = float(exchange.price_to_precision("BTC/USDT", ob["bids"][0][0] * 0.9))
    o = await exchange.create_order("BTC/USDT", "limit", "buy", 0.01, price)
    fetched = await fetch_order_settled(exchange, o["id"], "BTC/USDT")
    assert fetched["status"] == "open"
    assert fetched["price"] == price and fetched["amount"] == 0.01
    opened = await exchange.fetch_open_orders("BTC/USDT")
    assert [x["id"] for x in opened] == [o["id"]]
    free, locked = sim.balances(venue)["USDT"]
    assert locked == Decimal(str(price)) * Decimal("0.01")
    assert free + locked == 100000

    await exchange.cancel_order(o["id"], "BTC/USDT")
    fetched = await fetch_order_settled(exchange, o["id"], "BTC/USDT")
    assert fetched["status"] == "canceled"
    assert await exchange.fetch_open_orders("BTC/USDT") == []
    assert sim.balances(venue)["USDT"] == (Decimal(100000), Decimal(0))
    truth = sim.orders(venue)
    assert [(t["order_id"], t["status"]) for t in truth] == [(o["id"], "canceled")]


async def test_crossing_limit_and_market_orders_fill(
    exchange: Any, venue: str, sim: Simulator
) -> None:
    sim.set_market_paused(True)
    ob = await exchange.fetch_order_book("BTC/USDT", 5)
    best_ask = ob["asks"][0][0]
    # A limit buy at the best ask for less than its size fills completely, as taker.
    qty = float(exchange.amount_to_precision("BTC/USDT", min(0.002, ob["asks"][0][1] / 2)))
    o = await exchange.create_order("BTC/USDT", "limit", "buy", qty, best_ask)
    f = await fetch_order_settled(exchange, o["id"], "BTC/USDT")
    assert f["status"] == "closed" and f["filled"] == qty

    # Market buy (MEXC: quoteOrderQty = amount * price; Gate: amount in quote).
    m = await exchange.create_order("BTC/USDT", "market", "buy", 0.001, best_ask)
    mf = await fetch_order_settled(exchange, m["id"], "BTC/USDT")
    assert mf["status"] == "closed"
    assert mf["filled"] > 0
    # Market sell by base amount.
    s = await exchange.create_order("BTC/USDT", "market", "sell", 0.001)
    sf = await fetch_order_settled(exchange, s["id"], "BTC/USDT")
    assert sf["status"] == "closed" and sf["filled"] == 0.001

    trades = await exchange.fetch_my_trades("BTC/USDT")
    truth = sim.fills(venue)
    assert sorted(str(t["id"]) for t in trades) == sorted(t["trade_id"] for t in truth)
    by_id = {t["trade_id"]: t for t in truth}
    for t in trades:
        tt = by_id[str(t["id"])]
        assert Decimal(str(t["price"])) == Decimal(tt["price"])
        assert Decimal(str(t["amount"])) == Decimal(tt["qty"])
        assert Decimal(str(t["fee"]["cost"])) == Decimal(tt["fee"])
        assert t["fee"]["currency"] == tt["fee_currency"]
        assert t["takerOrMaker"] == "taker"
    # Balances moved exactly as the fills say.
    bal = await exchange.fetch_balance()
    free, locked = sim.balances(venue)["BTC"]
    assert Decimal(str(bal["BTC"]["free"])) == free and locked == 0
    bought = sum(Decimal(t["qty"]) - Decimal(t["fee"]) for t in truth if t["side"] == "buy")
    sold = sum(Decimal(t["qty"]) for t in truth if t["side"] == "sell")
    assert free == Decimal(2) + bought - sold


async def test_order_below_minimum_gets_the_venue_error(exchange: Any, venue: str) -> None:
    ob = await exchange.fetch_order_book("BTC/USDT", 5)
    price = exchange.price_to_precision("BTC/USDT", ob["bids"][0][0] * 0.9)
    # 0.00002 BTC is ~1 USDT: under Gate's 3 USDT minimum; 0.000001 is under MEXC's 1 USDT.
    qty = 0.000001 if venue == "mexc" else 0.00002
    with pytest.raises((ccxt.InvalidOrder, ccxt.BadRequest)) as e:
        await exchange.create_order("BTC/USDT", "limit", "buy", qty, float(price))
    if venue == "mexc":
        assert '"code":30002' in str(e.value)
    else:
        assert "INVALID_PARAM_VALUE" in str(e.value) and "The minimum is 3 USDT" in str(e.value)


async def test_wrong_signature_is_rejected(sim: Simulator, venue: str) -> None:
    x = CLIENTS[venue](sim, secret="0" * 32)
    # MEXC's load_markets already calls a signed endpoint (fetch_currencies).
    with contextlib.suppress(ccxt.AuthenticationError):
        await x.load_markets()
    try:
        with pytest.raises(ccxt.AuthenticationError) as e:
            await x.fetch_balance()
    finally:
        await x.close()
    assert ("700002" if venue == "mexc" else "INVALID_SIGNATURE") in str(e.value)


async def test_stale_timestamp_is_rejected(sim: Simulator, venue: str) -> None:
    x = CLIENTS[venue](sim)
    try:
        await x.load_markets()
        # Two minutes in the past: outside MEXC's recvWindow (5 s) and Gate's 60 s.
        x.nonce = lambda: x.milliseconds() - 120_000
        with pytest.raises(ccxt.BaseError) as e:
            await x.fetch_balance()
    finally:
        await x.close()
    assert ("700003" if venue == "mexc" else "REQUEST_EXPIRED") in str(e.value)


def _http(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any, Any]:
    """One request; returns (status, headers (case-insensitive), decoded JSON body)."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.headers, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.headers, json.loads(e.read() or b"null")


def test_mexc_signature_over_query_plus_body(sim: Simulator) -> None:
    """The documented MEXC rule: totalParams = query string followed directly by the body."""
    acc = sim.account("mexc")
    ts = int(time.time() * 1000)
    query = "symbol=BTCUSDT&side=BUY&type=LIMIT"
    body = f"quantity=0.001&price=50000&recvWindow=5000&timestamp={ts}"
    sig = hmac.new(acc.api_secret.encode(), (query + body).encode(), hashlib.sha256).hexdigest()
    url = f"{sim.endpoints.mexc_rest}/api/v3/order/test?{query}"
    headers = {"X-MEXC-APIKEY": acc.api_key, "Content-Type": "application/json"}
    status, _, data = _http("POST", url, f"{body}&signature={sig}".encode(), headers)
    assert (status, data) == (200, {})
    bad = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    status, _, data = _http("POST", url, f"{body}&signature={bad}".encode(), headers)
    assert status == 400 and data["code"] == 700002


def test_gate_signature_rule(sim: Simulator) -> None:
    """Gate: SIGN = HMAC-SHA512(METHOD\\n/api/v4/path\\nquery\\nsha512(body)\\nTimestamp)."""
    acc = sim.account("gateio")
    ts = str(time.time())  # the official SDK sends a float timestamp
    path, query = "/api/v4/spot/accounts", "currency=USDT"
    payload = "\n".join(["GET", path, query, hashlib.sha512(b"").hexdigest(), ts])
    sign = hmac.new(acc.api_secret.encode(), payload.encode(), hashlib.sha512).hexdigest()
    base = sim.endpoints.gate_rest.removesuffix("/api/v4")
    status, _, data = _http(
        "GET", f"{base}{path}?{query}", headers={"KEY": acc.api_key, "Timestamp": ts, "SIGN": sign}
    )
    assert status == 200
    assert [(d["currency"], d["available"]) for d in data] == [("USDT", "100000")]


@pytest.mark.parametrize(
    "sim_config", [{"mexc_requests_per_10s": 5, "gate_public_per_10s": 5}], indirect=False
)
def test_rate_limits(sim: Simulator, sim_config: dict[str, Any]) -> None:
    ep = sim.endpoints
    mexc = [_http("GET", f"{ep.mexc_rest}/api/v3/ping") for _ in range(12)]
    limited = [r for r in mexc if r[0] == 429]
    assert limited, "12 requests against a limit of 5 per 10 s must be refused at least once"
    _, headers, body = limited[0]
    assert body["code"] == 429 and int(headers["Retry-After"]) >= 1

    gate = [_http("GET", f"{ep.gate_rest}/spot/time") for _ in range(12)]
    limited = [r for r in gate if r[0] == 429]
    assert limited
    _, headers, body = limited[0]
    assert body["label"] == "TOO_MANY_REQUESTS"
    assert headers["X-Gate-RateLimit-Requests-Remain"] == "0"
    assert headers["X-Gate-RateLimit-Limit"] == "5"
    assert int(headers["X-Gate-RateLimit-Reset-Timestamp"]) >= int(time.time())
    assert sim.counters()["mexc"]["rate_limited"] >= 1


def _mexc_signed_get(sim: Simulator, path: str, query: str) -> tuple[int, Any, Any]:
    acc = sim.account("mexc")
    q = f"{query}&timestamp={int(time.time() * 1000)}"
    sig = hmac.new(acc.api_secret.encode(), q.encode(), hashlib.sha256).hexdigest()
    url = f"{sim.endpoints.mexc_rest}{path}?{q}&signature={sig}"
    return _http("GET", url, headers={"X-MEXC-APIKEY": acc.api_key})


@pytest.mark.parametrize("sim_config", [{"mexc_requests_per_10s": 50}], indirect=False)
def test_mexc_limits_count_documented_weights(sim: Simulator, sim_config: dict[str, Any]) -> None:
    """MEXC counts weights, not requests: with a budget of 50 per endpoint and window,
    five myTrades (weight 10 each) use it up and the sixth is refused with Retry-After,
    while open-order queries (weight 3, their own endpoint) still have room; public
    exchangeInfo (weight 10) has its own budget per IP."""
    trades = [_mexc_signed_get(sim, "/api/v3/myTrades", "symbol=BTCUSDT") for _ in range(6)]
    assert [s for s, _, _ in trades] == [200] * 5 + [429]
    _, headers, body = trades[5]
    assert body["code"] == 429 and int(headers["Retry-After"]) >= 1
    queries = [_mexc_signed_get(sim, "/api/v3/openOrders", "symbol=BTCUSDT") for _ in range(17)]
    assert [s for s, _, _ in queries] == [200] * 16 + [429]  # weight 3: 16 * 3 = 48
    info = [_http("GET", f"{sim.endpoints.mexc_rest}/api/v3/exchangeInfo") for _ in range(6)]
    assert [s for s, _, _ in info] == [200] * 5 + [429]
    assert sim.counters()["mexc"]["rate_limited"] == 3
