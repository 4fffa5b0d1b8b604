"""A preflight for real keys (``python -m arbhybrid doctor``): read-only calls only, so it
is safe on a live account. Per venue: connectivity and round trip, clock skew, the key
(a signed call) and its permissions (trading enabled; withdrawal reported as a risk),
balances against the trade size, fee rates and rate-limit headroom; per configured
symbol: listed and tradable by API on each venue with its rules, and the trade size
above each venue's minimums. Each check is one :class:`Check`; any ``FAIL`` is a
problem the caller exits non-zero for.

Nothing here places, cancels or changes anything: the calls are server time, the signed
balance call, the venue's own permission report where it has one, fee rates, the symbol
lists and the public books.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from arbhybrid import _native
from arbhybrid.config import Settings
from arbhybrid.engine import Endpoints, engine_config

OK, INFO, WARN, FAIL = "ok", "info", "warn", "FAIL"
#: Round trips per venue (the fastest and slowest are reported).
ROUND_TRIPS = 3
#: How long the public books may take to give a price for the minimum-quantity check.
BOOK_WAIT_S = 5.0
#: A clock this far off is reported (the client corrects its signed timestamps by the
#: measured offset; beyond the venue's receive window a request would be refused).
SKEW_WARN_MS = 1000


@dataclass(frozen=True)
class Check:
    """One line of the report: ``FAIL mexc permissions: trading is not enabled ...``."""

    status: str
    scope: str
    name: str
    detail: str

    def line(self) -> str:
        return f"{self.status:<4} {self.scope} {self.name}: {self.detail}"


def _dec(s: Any) -> Decimal:
    return Decimal(str(s))


async def _venue_checks(
    name: str, venue_cfg: dict[str, Any], out: list[Check]
) -> _native.VenueClient | None:
    """Connectivity, clock, key and permissions of one venue; the client if it answers."""

    def add(status: str, check: str, detail: str) -> None:
        out.append(Check(status, name, check, detail))

    client = _native.VenueClient(json.dumps(venue_cfg))
    rtts = []
    try:
        for _ in range(ROUND_TRIPS):
            t0 = time.perf_counter()
            await client.server_time()
            rtts.append((time.perf_counter() - t0) * 1000)
    except Exception as e:
        add(FAIL, "connectivity", f"{venue_cfg['rest_url']} does not answer: {e}")
        return None
    add(OK, "connectivity", f"round trip {min(rtts):.1f}-{max(rtts):.1f} ms ({ROUND_TRIPS} calls)")
    skew = int(client.clock_offset_ms)
    window = int(venue_cfg["recv_window_ms"])
    status = FAIL if abs(skew) >= window else WARN if abs(skew) > SKEW_WARN_MS else OK
    add(status, "clock", f"venue clock {skew:+d} ms from ours (receive window {window} ms)")
    if not venue_cfg["api_key"]:
        add(FAIL, "key", "no API key configured (set it in .env)")
        return None
    try:
        await client.balances()
    except Exception as e:
        add(FAIL, "key", f"the signed balance call was refused: {e}")
        return None
    add(OK, "key", "valid (signed balance call answered)")
    try:
        perms = await client.permissions()
    except Exception as e:
        add(FAIL, "permissions", f"cannot read them: {e}")
        return client
    if perms is None:
        add(
            INFO,
            "permissions",
            "the venue reports none read-only; a key without trade permission shows "
            "only when its first order is refused",
        )
        return client
    if perms["trade"]:
        add(OK, "permissions", "trade permission: enabled")
    else:
        add(FAIL, "permissions", "trade permission: not enabled for this key")
    if perms["withdraw"]:
        add(
            WARN,
            "permissions",
            "withdrawal permission: enabled (a risk: a leaked key could move funds; "
            "use a key with spot trading only)",
        )
    return client


def _price(md: Any, venue: str, symbol: str) -> Decimal | None:
    """The best ask of a synced book, else the best bid."""
    try:
        top = md.top(venue, symbol)
    except Exception:
        return None
    if not top["valid"]:
        return None
    level = top["ask"] or top["bid"]
    return _dec(level[0]) if level else None


async def _wait_books(md: Any, pairs: list[tuple[str, str]]) -> None:
    deadline = time.monotonic() + BOOK_WAIT_S
    while time.monotonic() < deadline:
        if all(_price(md, v, s) is not None for v, s in pairs):
            return
        await asyncio.sleep(0.1)


async def _symbol_checks(
    settings: Settings,
    feed: dict[str, Any],
    clients: dict[str, _native.VenueClient | None],
    out: list[Check],
) -> None:
    venues = [v["name"] for v in feed["venues"]]
    table = await asyncio.to_thread(_native.fetch_symbols, feed)
    notional = settings.strategy.trade_notional
    listed = [s for s in settings.strategy.symbols if table.id(s) is not None]
    md = _native.MarketData({**feed, "symbols": listed}) if listed else None
    if md is not None:
        await asyncio.to_thread(md.start)
    try:
        if md is not None:
            await _wait_books(md, [(v, s) for s in listed for v in venues])
        for symbol in settings.strategy.symbols:
            sid = table.id(symbol)
            rules = {v: (table.rules(sid, v) if sid is not None else None) for v in venues}
            lacking = [v for v, r in rules.items() if r is None]
            if len(venues) - len(lacking) < 2:
                out.append(Check(FAIL, symbol, "listed", f"not listed on {', '.join(lacking)}"))
                continue
            tradable = 0
            for v, r in rules.items():
                if r is None:
                    out.append(Check(WARN, symbol, f"{v} rules", "not listed here"))
                    continue
                _rules_line(symbol, v, r, out)
                if r["refusal"] is None:
                    tradable += 1
                    price = _price(md, v, symbol) if md is not None else None
                    _size_line(symbol, v, r, notional, price, out)
                    await _fee_line(symbol, v, r, clients.get(v), out)
            if tradable < 2:
                out.append(
                    Check(
                        FAIL,
                        symbol,
                        "tradable",
                        "tradable through the API on fewer than two venues",
                    )
                )
    finally:
        if md is not None:
            md.stop()


def _rules_line(symbol: str, venue: str, r: dict[str, Any], out: list[Check]) -> None:
    market = "yes" if r["market_orders"] else "no (its legs are IOC limits instead)"
    rules = (
        f"{r['venue_symbol']}: price {r['price_decimals']} dp, amount {r['amount_decimals']} dp, "
        f"min qty {r['min_qty']}, min notional {r['min_notional']}, market orders {market}"
    )
    if r["refusal"] is not None:
        out.append(Check(WARN, symbol, f"{venue} rules", f"{rules}; left out: {r['refusal']}"))
    else:
        out.append(Check(OK, symbol, f"{venue} rules", f"{rules}; tradable by API"))


def _size_line(
    symbol: str,
    venue: str,
    r: dict[str, Any],
    notional: Decimal,
    price: Decimal | None,
    out: list[Check],
) -> None:
    min_notional, min_qty = _dec(r["min_notional"]), _dec(r["min_qty"])
    problems = []
    if notional < min_notional:
        problems.append(f"below the minimum notional {min_notional}")
    if price is not None and price > 0 and notional / price < min_qty:
        problems.append(
            f"{notional / price:.8f} base at {price} is below the minimum qty {min_qty}"
        )
    if problems:
        detail = f"trade_notional {notional}: " + "; ".join(problems)
        out.append(Check(FAIL, symbol, f"{venue} trade size", detail))
        return
    at = f" (at {price})" if price is not None else " (no synced book: min qty not checked)"
    detail = f"trade_notional {notional} is above the minimums{at}"
    out.append(Check(OK if price is not None else WARN, symbol, f"{venue} trade size", detail))


async def _fee_line(
    symbol: str,
    venue: str,
    r: dict[str, Any],
    client: _native.VenueClient | None,
    out: list[Check],
) -> None:
    if client is None:
        return
    try:
        f = await client.fees(r["venue_symbol"])
    except Exception as e:
        out.append(Check(WARN, symbol, f"{venue} fees", f"not read ({e}); the listing's apply"))
        return
    out.append(
        Check(
            OK,
            symbol,
            f"{venue} fees",
            f"maker {f['maker']}, taker {f['taker']}; fee token: {_fee_token(f['fee_token'])}",
        )
    )


def _fee_token(state: bool | None) -> str:
    if state is None:
        return "not reported by the venue"
    return "discount on (fees paid in its token)" if state else "off"


async def _balance_checks(
    settings: Settings, clients: dict[str, _native.VenueClient | None], out: list[Check]
) -> None:
    notional = settings.strategy.trade_notional
    quotes = sorted({s.split("/")[1] for s in settings.strategy.symbols})
    bases = sorted({s.split("/")[0] for s in settings.strategy.symbols})
    for name, client in clients.items():
        if client is None:
            continue
        free = {b["asset"]: _dec(b["free"]) for b in await client.balances()}
        for q in quotes:
            have = free.get(q, Decimal(0))
            status = OK if have >= notional else WARN
            why = "" if status == OK else " (it can only sell here)"
            out.append(
                Check(status, name, "balance", f"{q} {have} for a trade of {notional} {q}{why}")
            )
        empty = [b for b in bases if free.get(b, Decimal(0)) <= 0]
        if empty:
            out.append(
                Check(WARN, name, "balance", f"no {', '.join(empty)}: it can only buy those here")
            )
        else:
            out.append(Check(OK, name, "balance", ", ".join(f"{b} {free[b]}" for b in bases)))


def _rate_limit_checks(clients: dict[str, _native.VenueClient | None], out: list[Check]) -> None:
    for name, client in clients.items():
        if client is None:
            continue
        s = client.conn_stats()
        status = WARN if s["venue_blocks"] else OK
        out.append(
            Check(
                status,
                name,
                "rate limits",
                f"{s['requests']} requests by this check: {s['limiter_waits']} waited for our "
                f"limiter, {s['venue_blocks']} refused by the venue (429)",
            )
        )


async def run_checks(settings: Settings, endpoints: Endpoints) -> list[Check]:
    """Every check against the enabled venues at ``endpoints``, in report order."""
    cfg = json.loads(engine_config(settings, endpoints))
    out: list[Check] = []
    clients: dict[str, _native.VenueClient | None] = {}
    for v in cfg["venues"]:
        clients[v["venue"]["name"]] = await _venue_checks(v["venue"]["name"], v, out)
    await _symbol_checks(settings, cfg["feed"], clients, out)
    await _balance_checks(settings, clients, out)
    _rate_limit_checks(clients, out)
    return out


def problems(checks: list[Check]) -> list[Check]:
    return [c for c in checks if c.status == FAIL]
