"""The native symbol table from Python: both directions, rules, common set, real Gate list."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from arbhybrid import _native

CAPTURES = Path(__file__).resolve().parents[1] / "data" / "captures" / "gateio"

MEXC = json.dumps(
    {
        "timezone": "CST",
        "serverTime": 1,
        "symbols": [
            {
                "symbol": "BTCUSDT",
                "status": "1",
                "baseAsset": "BTC",
                "baseAssetPrecision": 6,
                "quoteAsset": "USDT",
                "quotePrecision": 2,
                "baseSizePrecision": "0.000001",
                "quoteAmountPrecision": "1.000000000000000000000000000000000000",
                "isSpotTradingAllowed": True,
                "makerCommission": "0",
                "takerCommission": "0.0005",
            },
            {
                "symbol": "MXUSDT",
                "status": "1",
                "baseAsset": "MX",
                "baseAssetPrecision": 2,
                "quoteAsset": "USDT",
                "quotePrecision": 4,
                "isSpotTradingAllowed": False,
                "makerCommission": "0",
                "takerCommission": "0",
            },
        ],
    }
)
GATE = json.dumps(
    [
        {
            "id": "BTC_USDT",
            "base": "BTC",
            "quote": "USDT",
            "fee": "0.1",
            "min_base_amount": "0.0001",
            "min_quote_amount": "3",
            "amount_precision": 6,
            "precision": 1,
            "trade_status": "tradable",
        },
        {
            "id": "ETH_USDT",
            "base": "ETH",
            "quote": "USDT",
            "fee": "0.2",
            "min_quote_amount": "1",
            "amount_precision": 4,
            "precision": 2,
            "trade_status": "sellable",
        },
    ]
)


@pytest.fixture
def table() -> _native.SymbolTable:
    return _native.SymbolTable.from_json(MEXC, GATE)


def test_both_directions(table: _native.SymbolTable) -> None:
    btc = table.id("BTC/USDT")
    assert btc is not None
    assert table.id_by_venue("mexc", "BTCUSDT") == btc
    assert table.id_by_venue("gateio", "BTC_USDT") == btc
    assert table.unified(btc) == "BTC/USDT"
    assert table.venue_symbol(btc, "mexc") == "BTCUSDT"
    assert table.venue_symbol(btc, "gateio") == "BTC_USDT"
    assert table.to_venue("BTC/USDT", "gateio") == "BTC_USDT"
    assert table.from_venue("mexc", "BTCUSDT") == "BTC/USDT"
    assert table.id("DOGE/USDT") is None
    assert table.venue_symbol(table.id("ETH/USDT"), "mexc") is None
    with pytest.raises(ValueError, match="binance"):
        table.id_by_venue("binance", "BTCUSDT")


def test_common_and_names(table: _native.SymbolTable) -> None:
    assert len(table) == 3
    assert [table.unified(i) for i in table.common()] == ["BTC/USDT"]
    assert sorted(table.names()) == ["BTC/USDT", "ETH/USDT", "MX/USDT"]


def test_rules_are_exact_strings(table: _native.SymbolTable) -> None:
    btc = table.id("BTC/USDT")
    m = table.rules(btc, "mexc")
    g = table.rules(btc, "gateio")
    assert (m["price_decimals"], m["amount_decimals"]) == (2, 6)
    assert (g["price_decimals"], g["amount_decimals"]) == (1, 6)
    assert Decimal(m["taker_fee"]) == Decimal("0.0005")
    assert Decimal(g["maker_fee"]) == Decimal("0.001")
    assert Decimal(g["min_notional"]) == 3
    assert Decimal(m["min_notional"]) == 1
    assert m["api_tradable"] and g["status"] == "trading"
    assert table.rules(table.id("MX/USDT"), "mexc")["api_tradable"] is False
    assert table.rules(table.id("ETH/USDT"), "gateio")["status"] == "sell_only"
    price_scale, qty_scale = table.scales(btc)
    assert price_scale >= 2 and qty_scale >= 6


def test_bad_list_raises_malformed() -> None:
    with pytest.raises(_native.MalformedError, match="gateio"):
        _native.SymbolTable.from_json(None, '[{"id":"X_Y","base":"X","quote":"Y","precision":"x"}]')


def test_real_gate_list() -> None:
    line = (CAPTURES / "GATEIO.0").read_text().splitlines()[0]
    body = line.split(": ", 1)[1]
    pairs = json.loads(body)
    table = _native.SymbolTable.from_json(None, body)
    assert len(table) == len(pairs) == 1458
    for p in pairs:
        sid = table.id_by_venue("gateio", p["id"])
        assert table.unified(sid) == f"{p['base']}/{p['quote']}"
        assert table.rules(sid, "gateio")["price_decimals"] == p["precision"]
