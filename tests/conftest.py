"""Shared pytest fixtures: a real exchange simulator on loopback (``sim``, ``sim_endpoints``)
and ccxt clients pointed at it exactly as the protocol reference prescribes (spot only;
REST and WebSocket URLs overridden, keys set, nothing else changed)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from arbhybrid.simulator import Simulator

# Background activity fast enough that books change many times a second, but the
# machine is shared: tests that need more ask for it with `sim_config`.
DEFAULT_SIM_CONFIG: dict[str, Any] = {"seed": 7, "update_rate_hz": 20.0}


@pytest.fixture
def sim_config() -> dict[str, Any]:
    """Override in a test module (or parametrize indirectly) to configure ``sim``."""
    return {}


@pytest.fixture
def sim(sim_config: dict[str, Any]) -> Iterator[Simulator]:
    """A started simulator (function scope); quiet it with ``sim.set_market_paused(True)``."""
    s = Simulator({**DEFAULT_SIM_CONFIG, **sim_config}).start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def sim_endpoints(sim: Simulator) -> dict[str, Any]:
    """Endpoints and test accounts, as ``python -m arbhybrid sim`` prints them."""
    return sim.info


def ccxt_mexc(
    sim: Simulator, pro: bool = False, secret: str | None = None, instance: str = "mexc"
) -> Any:
    """A ccxt (async or pro) MEXC client on the simulator's MEXC instance ``instance``."""
    import ccxt.async_support as ccxt_async
    import ccxt.pro as ccxt_pro

    info = sim.info
    acc = info["accounts"][instance]
    cls = ccxt_pro.mexc if pro else ccxt_async.mexc
    x = cls({"apiKey": acc["api_key"], "secret": secret or acc["api_secret"]})
    x.options["fetchMarkets"] = {
        "types": {"spot": True, "swap": {"linear": False, "inverse": False}}
    }
    endpoint = sim.endpoints.venues[instance]
    rest = endpoint.rest
    x.urls["api"]["spot"] = {"public": rest, "private": rest}
    # ccxt 4.5 asks for futures metadata during load_markets regardless of the option;
    # the simulator answers it with an empty contract list.
    x.urls["api"]["contract"] = {
        "public": rest + "/api/v1/contract",
        "private": rest + "/api/v1/private",
    }
    if pro:
        x.urls["api"]["ws"] = {"spot": endpoint.ws, "swap": endpoint.ws}
    return x


def ccxt_gate(sim: Simulator, pro: bool = False, secret: str | None = None) -> Any:
    """A ccxt (async or pro) Gate client on the simulator."""
    import ccxt.async_support as ccxt_async
    import ccxt.pro as ccxt_pro

    info = sim.info
    acc = info["accounts"]["gateio"]
    cls = ccxt_pro.gate if pro else ccxt_async.gate
    x = cls({"apiKey": acc["api_key"], "secret": secret or acc["api_secret"]})
    x.options["fetchMarkets"] = {"types": ["spot"]}
    for access in ("public", "private"):
        for k in list(x.urls["api"][access]):
            x.urls["api"][access][k] = info["gate_rest"]
    if pro:
        x.urls["api"]["spot"] = info["gate_ws"]
    return x


CLIENTS: dict[str, Callable[..., Any]] = {"mexc": ccxt_mexc, "gateio": ccxt_gate}
VENUE_SYMBOL = {"mexc": "BTCUSDT", "gateio": "BTC_USDT"}


@pytest.fixture(params=["mexc", "gateio"])
def venue(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def exchange(sim: Simulator, venue: str) -> AsyncIterator[Any]:
    """An async ccxt REST client for ``venue`` with markets loaded."""
    x = CLIENTS[venue](sim)
    try:
        await x.load_markets()
        yield x
    finally:
        await x.close()


async def until(predicate: Callable[[], bool], timeout_s: float = 15.0) -> bool:
    """Polls ``predicate`` until true or ``timeout_s`` passes (a liveness bound, not a
    timing assertion: callers assert on the state, and the bound only avoids hanging)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout_s
    while loop.time() < end:
        if predicate():
            return True
        await asyncio.sleep(0.02)
    return predicate()


async def fetch_order_settled(exchange: Any, order_id: str, symbol: str) -> Any:
    """``fetch_order`` asked again while the venue does not find the order yet: MEXC's
    order query answers -2013 "Order does not exist." briefly after accepting an order
    (its read lags its write; the simulator does the same). Bounded by attempts."""
    import ccxt

    for _ in range(200):
        try:
            return await exchange.fetch_order(order_id, symbol)
        except ccxt.ExchangeError as e:
            # ccxt 4.5 has no class for -2013: a plain ExchangeError naming the code.
            if '"code":-2013' not in str(e):
                raise
            await asyncio.sleep(0.02)
    return await exchange.fetch_order(order_id, symbol)
