"""A ccxt.pro gap trader: the client the engine's tick-to-trade is compared with.

It watches BTC/USDT on both venues and, when one venue's bid clears the other's ask by
more than both taker fees, sends a market buy on the cheap venue and a market sell on the
dear one at once (``asyncio.gather``), once per gap. The simulator's latency referee
times it exactly as it times the engine. ``tests/test_sim_referee.py`` runs the same
loop in-process; ``benches/python/out_of_process.py`` runs this file as its own pinned
process, with ccxt's rate limiter off (``enableRateLimit: False``) so that ccxt's request
throttle does not stand in for its latency.

Run: ``python benches/python/ccxt_gap_trader.py --rounds 300`` with the venues' URLs and
keys in the environment, as the engine reads them (``MEXC_REST_URL``, ``MEXC_WS_URL``,
``MEXC_API_KEY``, ``MEXC_API_SECRET``, the same with ``GATEIO_``). Prints one JSON line,
``{"traded": N}``, when it has traded ``--rounds`` gaps.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from typing import Any

SYMBOL = "BTC/USDT"


async def trade_gaps(clients: dict[str, Any], rounds: int, qty: float = 0.001) -> int:
    """Trades ``rounds`` gaps between ``clients["mexc"]`` and ``clients["gateio"]``
    (ccxt.pro clients); returns how many gaps it traded."""
    books: dict[str, Any] = {}
    changed = asyncio.Event()

    async def watch(name: str) -> None:
        while True:
            books[name] = await clients[name].watch_order_book(SYMBOL)
            changed.set()

    await asyncio.gather(*(c.load_markets() for c in clients.values()))
    watchers = [asyncio.create_task(watch(n)) for n in clients]
    traded, armed = 0, True
    try:
        while traded < rounds:
            await asyncio.wait_for(changed.wait(), 30)
            changed.clear()
            if len(books) < 2 or not all(b["bids"] and b["asks"] for b in books.values()):
                continue
            gap = None
            for dear, cheap in (("mexc", "gateio"), ("gateio", "mexc")):
                bid, ask = books[dear]["bids"][0][0], books[cheap]["asks"][0][0]
                # Both taker fees (0.05 % + 0.1 %) and a little margin.
                if bid > ask * 1.002:
                    gap = (dear, cheap, ask)
            if gap is None:
                armed = True
                continue
            if not armed:
                continue
            dear, cheap, ask = gap
            await asyncio.gather(
                clients[cheap].create_order(SYMBOL, "market", "buy", qty, ask),
                clients[dear].create_order(SYMBOL, "market", "sell", qty),
            )
            traded, armed = traded + 1, False
    finally:
        for w in watchers:
            w.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
    return traded


def clients_from_env(environ: dict[str, str]) -> dict[str, Any]:
    """ccxt.pro clients on the venues the environment names, rate limiter off (spot
    only; REST and WebSocket URLs overridden, as tests/conftest.py does for the
    simulator)."""
    import ccxt.pro as ccxt_pro

    def creds(prefix: str) -> dict[str, Any]:
        return {
            "apiKey": environ[f"{prefix}_API_KEY"],
            "secret": environ[f"{prefix}_API_SECRET"],
            "enableRateLimit": False,
        }

    mexc = ccxt_pro.mexc(creds("MEXC"))
    mexc.options["fetchMarkets"] = {
        "types": {"spot": True, "swap": {"linear": False, "inverse": False}}
    }
    rest = environ["MEXC_REST_URL"]
    mexc.urls["api"]["spot"] = {"public": rest, "private": rest}
    # ccxt 4.5 asks for futures metadata during load_markets regardless of the option;
    # the simulator answers it with an empty contract list.
    mexc.urls["api"]["contract"] = {
        "public": rest + "/api/v1/contract",
        "private": rest + "/api/v1/private",
    }
    mexc.urls["api"]["ws"] = {"spot": environ["MEXC_WS_URL"], "swap": environ["MEXC_WS_URL"]}

    gate = ccxt_pro.gate(creds("GATEIO"))
    gate.options["fetchMarkets"] = {"types": ["spot"]}
    for access in ("public", "private"):
        for k in list(gate.urls["api"][access]):
            gate.urls["api"][access][k] = environ["GATEIO_REST_URL"]
    gate.urls["api"]["spot"] = environ["GATEIO_WS_URL"]
    return {"mexc": mexc, "gateio": gate}


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=300, help="gaps to trade, then exit")
    ap.add_argument("--qty", type=float, default=0.001, help="BTC per leg")
    args = ap.parse_args()
    clients = clients_from_env(dict(os.environ))
    try:
        traded = await trade_gaps(clients, args.rounds, args.qty)
    finally:
        await asyncio.gather(*(c.close() for c in clients.values()))
    print(json.dumps({"traded": traded}), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
