"""The simulator's wallets through ccxt's own wallet calls, unchanged: deposit addresses,
withdrawals between the simulated venues (credited at the other, minus the fee, after the
network's delay), withdrawal and deposit history, suspended networks and a withdrawal whose
answer is lost."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ccxt
import pytest

from arbhybrid.simulator import Simulator
from conftest import CLIENTS, until

OTHER = {"mexc": "gateio", "gateio": "mexc"}
# Gate takes the client withdrawal id as `withdraw_order_id`, MEXC as `withdrawOrderId`.
CLIENT_ID = {"mexc": "withdrawOrderId", "gateio": "withdraw_order_id"}


@pytest.fixture
def sim_config() -> dict[str, Any]:
    return {"market_paused": True}


async def _client(sim: Simulator, venue: str) -> Any:
    x = CLIENTS[venue](sim)
    await x.load_markets()
    return x


async def test_withdrawal_reaches_the_other_venue_minus_its_fee(sim: Simulator, venue: str) -> None:
    src, dst = await _client(sim, venue), await _client(sim, OTHER[venue])
    try:
        addr = await dst.fetch_deposit_address("USDT", {"network": "TRC20"})
        assert addr["address"] == sim.wallets()["addresses"][OTHER[venue]]["USDT"]["TRX"]
        currencies = await src.fetch_currencies()
        trc = currencies["USDT"]["networks"]
        assert any(n["withdraw"] and n["deposit"] for n in trc.values())
        sent = await src.withdraw(
            "USDT", 50, addr["address"], {"network": "TRC20", CLIENT_ID[venue]: "t-w-1"}
        )
        assert sent["id"]
        # Debited at once, fee included.
        assert sim.balances(venue)["USDT"][0] == Decimal(100000 - 50)
        ws = await src.fetch_withdrawals("USDT")
        assert [(w["id"], w["amount"], w["fee"]["cost"]) for w in ws] == [(sent["id"], 49, 1)]

        async def credited() -> bool:
            deps = await dst.fetch_deposits("USDT")
            return [(d["amount"], d["status"]) for d in deps] == [(49, "ok")]

        assert await until_async(credited)
        assert sim.balances(OTHER[venue])["USDT"][0] == Decimal(100000 + 49)
        done = await src.fetch_withdrawals("USDT")
        assert [(w["status"], w["txid"] is not None) for w in done] == [("ok", True)]
        truth = sim.wallets()
        assert [(w["client_id"], w["to"], w["phase"]) for w in truth["withdrawals"]] == [
            ("t-w-1", OTHER[venue], "credited")
        ]
        # A client withdrawal id is used once.
        with pytest.raises(ccxt.BaseError, match="duplicate client withdrawal id"):
            await src.withdraw(
                "USDT", 50, addr["address"], {"network": "TRC20", CLIENT_ID[venue]: "t-w-1"}
            )
    finally:
        await src.close()
        await dst.close()


async def until_async(predicate: Any, tries: int = 300) -> bool:
    """Polls an async predicate (a liveness bound, not a timing assertion)."""
    import asyncio

    for _ in range(tries):
        if await predicate():
            return True
        await asyncio.sleep(0.05)
    return False


async def test_suspended_network_refuses_withdrawals_and_holds_deposits(
    sim: Simulator, venue: str
) -> None:
    src, dst = await _client(sim, venue), await _client(sim, OTHER[venue])
    try:
        addr = sim.wallets()["addresses"][OTHER[venue]]["USDT"]["TRX"]
        sim.inject_fault(venue, "network_suspended", asset="USDT", chain="TRX")
        nets = (await src.fetch_currencies())["USDT"]["networks"]
        trx = [n for n in nets.values() if n["id"] == "TRX"]
        assert [(n["withdraw"], n["deposit"]) for n in trx] == [(False, False)]
        with pytest.raises(ccxt.BaseError, match="USDT withdrawals on TRX are suspended"):
            await src.withdraw("USDT", 50, addr, {"network": "TRC20"})
        assert sim.balances(venue)["USDT"][0] == Decimal(100000)
        sim.clear_faults()
        # Suspended at the receiver after sending: the deposit waits there, then lands.
        sim.inject_fault(OTHER[venue], "network_suspended", asset="USDT", chain="TRX")
        await src.withdraw("USDT", 50, addr, {"network": "TRC20"})
        assert await until(
            lambda: (
                [d["credited"] for d in sim.wallets()["deposits"]] == [False]
                and sim.wallets()["withdrawals"][0]["phase"] == "on_chain"
            )
        )
        assert sim.balances(OTHER[venue])["USDT"][0] == Decimal(100000)
        sim.clear_faults()
        assert await until(lambda: [d["credited"] for d in sim.wallets()["deposits"]] == [True])
        assert sim.balances(OTHER[venue])["USDT"][0] == Decimal(100000 + 49)
    finally:
        await src.close()
        await dst.close()


async def test_lost_withdrawal_answer_was_applied_once(sim: Simulator, venue: str) -> None:
    src = await _client(sim, venue)
    src.timeout = 1500
    try:
        addr = sim.wallets()["addresses"][OTHER[venue]]["USDT"]["BSC"]
        sim.inject_fault(venue, "withdraw_apply_then_timeout", count=1)
        with pytest.raises(ccxt.RequestTimeout):
            await src.withdraw("USDT", 20, addr, {"network": "BEP20", CLIENT_ID[venue]: "t-lost"})
        ws = await src.fetch_withdrawals("USDT")
        assert [w["amount"] for w in ws] == [pytest.approx(19.7)]
        assert [w["client_id"] for w in sim.wallets()["withdrawals"]] == ["t-lost"]
        with pytest.raises(ccxt.BaseError, match="duplicate client withdrawal id"):
            await src.withdraw("USDT", 20, addr, {"network": "BEP20", CLIENT_ID[venue]: "t-lost"})
        assert len(sim.wallets()["withdrawals"]) == 1
    finally:
        await src.close()


async def test_refusals_name_asset_and_network(sim: Simulator, venue: str) -> None:
    src = await _client(sim, venue)
    try:
        addr = sim.wallets()["addresses"][OTHER[venue]]["USDT"]["TRX"]
        with pytest.raises(ccxt.BaseError, match="USDT withdrawal on TRX below the minimum 10"):
            await src.withdraw("USDT", 5, addr, {"network": "TRC20"})
        with pytest.raises(ccxt.InsufficientFunds):
            await src.withdraw("USDT", 200000, addr, {"network": "TRC20"})
        assert sim.wallets()["withdrawals"] == []
    finally:
        await src.close()


def _wallet_client(sim: Simulator, venue: str) -> Any:
    import json

    from arbhybrid import _native

    e = sim.endpoints.venues[venue]
    acc = sim.account(venue)
    return _native.WalletClient(
        json.dumps(
            {
                "venue": venue,
                "rest_url": e.rest,
                "ws_url": e.ws,
                "api_key": acc.api_key,
                "api_secret": acc.api_secret,
            }
        )
    )


async def test_native_wallet_client_moves_exact_amounts(sim: Simulator, venue: str) -> None:
    import arbhybrid

    src, dst = _wallet_client(sim, venue), _wallet_client(sim, OTHER[venue])
    nets = {(n["asset"], n["chain"]): n for n in await src.networks()}
    assert nets[("USDT", "BSC")]["withdraw_fee"] == "0.3"
    to = await dst.deposit_address("USDT", "BSC")
    wid = await src.withdraw("USDT", "BSC", to["address"], "10.123456789", "py-1")
    found = await src.find_withdrawal("USDT", "py-1")
    assert (found["id"], found["amount"], found["fee"]) == (wid, "10.123456789", "0.3")
    assert await until(lambda: [d["credited"] for d in sim.wallets()["deposits"]] == [True])
    deps = await dst.deposits("USDT")
    assert [(d["amount"], d["status"]) for d in deps] == [("9.823456789", "done")]
    assert sim.balances(OTHER[venue])["USDT"][0] == Decimal("100009.823456789")
    with pytest.raises(arbhybrid.InvalidOrderError, match="USDT has no network SOL"):
        await src.withdraw("USDT", "SOL", to["address"], "50", "py-2")
    assert "api_secret" not in repr(src) and sim.account(venue).api_secret not in repr(src)
