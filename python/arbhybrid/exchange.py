"""The unified exchange: one object per venue uniting its trading (``_native.VenueClient``,
Rust crate ``arb-exec``) and its market data (``_native.MarketData``, crate ``arb-market``).

Every network call is a coroutine that runs in Rust on the native runtime; results are
typed, frozen dataclasses with money as :class:`decimal.Decimal` (built from the exact
decimal strings Rust hands over, never from floats). Errors are the exception classes of
``arbhybrid._native`` (``AuthenticationError``, ``InsufficientFundsError``,
``UnknownOutcomeError``, ...), all subclasses of ``ArbError``.

``connect_exchanges`` creates both venues' objects concurrently; ``submit_pair`` sends one
order to each of two venues at once and returns both outcomes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from arbhybrid import _native
from arbhybrid.errors import StartupError
from arbhybrid.venues import VENUES as VENUES  # (re-exported: its old home)


class OrderStatus(StrEnum):
    PENDING_NEW = "pending_new"
    UNKNOWN = "unknown"
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_final(self) -> bool:
        return self in (
            OrderStatus.FILLED,
            OrderStatus.CANCELED,
            OrderStatus.REJECTED,
            OrderStatus.EXPIRED,
        )


def _dec(v: Any) -> Decimal:
    return Decimal(str(v))


def _opt_dec(v: Any) -> Decimal | None:
    return None if v is None else Decimal(str(v))


@dataclass(frozen=True)
class VenueSettings:
    """How to reach one venue. ``extra`` holds optional ``VenueConfig`` fields
    (``request_timeout_ms``, ``pool_size``, ``rate_limit``, ``order_path``: "rest" | "ws", ...)."""

    venue: str
    rest_url: str
    ws_url: str
    api_key: str
    api_secret: str = field(repr=False)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"VenueSettings(venue={self.venue!r}, rest_url={self.rest_url!r}, "
            f"ws_url={self.ws_url!r}, api_key={self.api_key!r}, api_secret='***')"
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                **dict(self.extra),
                "venue": self.venue,
                "rest_url": self.rest_url,
                "ws_url": self.ws_url,
                "api_key": self.api_key,
                "api_secret": self.api_secret,
            }
        )


@dataclass(frozen=True)
class Balance:
    asset: str
    free: Decimal
    locked: Decimal

    @classmethod
    def from_native(cls, d: Mapping[str, Any]) -> Balance:
        return cls(d["asset"], _dec(d["free"]), _dec(d["locked"]))


@dataclass(frozen=True)
class FeeRates:
    """Fractions: 0.001 is 0.1 %."""

    maker: Decimal
    taker: Decimal


@dataclass(frozen=True)
class Fill:
    venue: str
    trade_id: str
    order_id: str
    client_id: str | None
    symbol: str
    side: str
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    fee: Decimal
    fee_currency: str
    is_maker: bool
    time_ms: int
    source: str  # "stream" or "rest"

    @classmethod
    def from_native(cls, d: Mapping[str, Any]) -> Fill:
        return cls(
            venue=d["venue"],
            trade_id=d["trade_id"],
            order_id=d["order_id"],
            client_id=d.get("client_id"),
            symbol=d["symbol"],
            side=d["side"],
            price=_dec(d["price"]),
            qty=_dec(d["qty"]),
            quote_qty=_dec(d["quote_qty"]),
            fee=_dec(d["fee"]),
            fee_currency=d["fee_currency"],
            is_maker=bool(d["is_maker"]),
            time_ms=int(d["time_ms"]),
            source=d["source"],
        )


@dataclass(frozen=True)
class OrderReport:
    """What the venue said about an order in one answer (query, cancel, open orders)."""

    venue: str
    order_id: str
    client_id: str | None
    symbol: str
    side: str | None
    status: OrderStatus
    price: Decimal | None
    orig_qty: Decimal | None
    filled_qty: Decimal | None
    filled_quote: Decimal | None
    time_ms: int

    @classmethod
    def from_native(cls, d: Mapping[str, Any]) -> OrderReport:
        return cls(
            venue=d["venue"],
            order_id=d["order_id"],
            client_id=d.get("client_id"),
            symbol=d["symbol"],
            side=d.get("side"),
            status=OrderStatus(d["status"]),
            price=_opt_dec(d.get("price")),
            orig_qty=_opt_dec(d.get("orig_qty")),
            filled_qty=_opt_dec(d.get("filled_qty")),
            filled_quote=_opt_dec(d.get("filled_quote")),
            time_ms=int(d["time_ms"]),
        )


@dataclass(frozen=True)
class Order:
    """An order as the tracker knows it: every REST answer and stream event merged."""

    venue: str
    client_id: str | None
    order_id: str | None
    symbol: str
    side: str | None
    status: OrderStatus
    orig_qty: Decimal | None
    filled_qty: Decimal
    filled_quote: Decimal
    fees: dict[str, Decimal]
    fills: tuple[Fill, ...]
    reason: str | None

    @classmethod
    def from_native(cls, d: Mapping[str, Any]) -> Order:
        return cls(
            venue=d["venue"],
            client_id=d.get("client_id"),
            order_id=d.get("order_id"),
            symbol=d["symbol"],
            side=d.get("side"),
            status=OrderStatus(d["status"]),
            orig_qty=_opt_dec(d.get("orig_qty")),
            filled_qty=_dec(d["filled_qty"]),
            filled_quote=_dec(d["filled_quote"]),
            fees={c: _dec(v) for c, v in d["fees"]},
            fills=tuple(Fill.from_native(f) for f in d["fills"]),
            reason=d.get("reason"),
        )


@dataclass(frozen=True)
class OrderSpec:
    """An order to send. ``type`` is "limit" (needs price and qty) or "market" (qty, or
    quote_qty for a quote-sized buy); ``tif`` is "gtc", "ioc", "fok" or "post_only"."""

    symbol: str
    side: str
    client_id: str
    qty: Decimal | None = None
    price: Decimal | None = None
    quote_qty: Decimal | None = None
    type: str = "limit"
    tif: str = "gtc"

    def to_native(self) -> dict[str, str | None]:
        def s(v: Decimal | None) -> str | None:
            return None if v is None else format(v, "f")

        return {
            "symbol": self.symbol,
            "side": self.side,
            "type": self.type,
            "tif": self.tif,
            "qty": s(self.qty),
            "price": s(self.price),
            "quote_qty": s(self.quote_qty),
            "client_id": self.client_id,
        }


@dataclass(frozen=True)
class PairResult:
    """Both legs of a concurrent submission: each an :class:`Order` or the exception."""

    a: Order | _native.ArbError
    b: Order | _native.ArbError

    @property
    def ok(self) -> bool:
        return isinstance(self.a, Order) and isinstance(self.b, Order)


def client_order_id(prefix: str, txn: int, leg: str) -> str:
    """``<prefix>_<txn base36>_<leg>``: names the arbitrage and leg ("a", "b", "u<n>")."""
    return str(_native.client_order_id(prefix, txn, leg))


def parse_client_order_id(text: str) -> tuple[str, int, str] | None:
    """``(prefix, txn, leg)`` of an id from :func:`client_order_id`, else None."""
    r = _native.parse_client_order_id(text)
    return None if r is None else (str(r[0]), int(r[1]), str(r[2]))


class Exchange:
    """One venue: trading, private stream, and (when given) market data.

    Build with :meth:`create` (or :func:`connect_exchanges` for both venues at once).
    """

    def __init__(self, client: Any, market: Any | None = None) -> None:
        self._client = client
        self._market = market
        self.venue: str = client.venue

    @classmethod
    async def create(
        cls,
        settings: VenueSettings,
        market: Any | None = None,
        symbol_table: Any | None = None,
    ) -> Exchange:
        """A ready exchange: client built, clock offset measured from server time, and
        trading rules loaded from ``symbol_table`` (or ``market.symbols``) when given."""
        ex = cls(_native.VenueClient(settings.to_json()), market)
        await ex.server_time()
        table = (
            symbol_table
            if symbol_table is not None
            else (market.symbols if market is not None else None)
        )
        if table is not None:
            ex.load_rules(table)
        return ex

    # -- configuration ----------------------------------------------------------------

    def load_rules(self, table: Any) -> int:
        """Registers every API-tradable symbol's rules from an ``arbhybrid._native.SymbolTable``;
        returns how many."""
        n = 0
        for name in table.names():
            sid = table.id(name)
            r = None if sid is None else table.rules(sid, self.venue)
            if r is None or not r["api_tradable"]:
                continue
            self.set_rules(
                r["venue_symbol"],
                int(r["price_decimals"]),
                int(r["amount_decimals"]),
                Decimal(r["min_qty"]),
                Decimal(r["min_notional"]),
            )
            n += 1
        return n

    def set_rules(
        self,
        symbol: str,
        price_decimals: int,
        amount_decimals: int,
        min_qty: Decimal = Decimal(0),
        min_notional: Decimal = Decimal(0),
    ) -> None:
        self._client.set_rules(
            symbol, price_decimals, amount_decimals, format(min_qty, "f"), format(min_notional, "f")
        )

    # -- state readable without the network ---------------------------------------------

    @property
    def breaker_state(self) -> str:
        """ "closed", "open" or "half_open"."""
        return str(self._client.breaker_state)

    @property
    def clock_offset_ms(self) -> int:
        return int(self._client.clock_offset_ms)

    def conn_stats(self) -> dict[str, Any]:
        return dict(self._client.conn_stats())

    def order(self, client_id: str) -> Order | None:
        d = self._client.order(client_id)
        return None if d is None else Order.from_native(d)

    def orders(self) -> list[Order]:
        return [Order.from_native(d) for d in self._client.orders()]

    # -- trading ------------------------------------------------------------------------

    async def server_time(self) -> int:
        return int(await self._client.server_time())

    async def balances(self) -> dict[str, Balance]:
        rows = await self._client.balances()
        return {r["asset"]: Balance.from_native(r) for r in rows}

    async def fees(self, symbol: str) -> FeeRates:
        d = await self._client.fees(symbol)
        return FeeRates(_dec(d["maker"]), _dec(d["taker"]))

    async def place(self, spec: OrderSpec) -> Order:
        return Order.from_native(await self._client.place(spec.to_native()))

    async def place_limit(
        self,
        symbol: str,
        side: str,
        qty: Decimal,
        price: Decimal,
        client_id: str,
        tif: str = "gtc",
    ) -> Order:
        return await self.place(OrderSpec(symbol, side, client_id, qty=qty, price=price, tif=tif))

    async def place_market(
        self,
        symbol: str,
        side: str,
        client_id: str,
        qty: Decimal | None = None,
        quote_qty: Decimal | None = None,
    ) -> Order:
        return await self.place(
            OrderSpec(symbol, side, client_id, qty=qty, quote_qty=quote_qty, type="market")
        )

    async def query(
        self, symbol: str, order_id: str | None = None, client_id: str | None = None
    ) -> OrderReport:
        return OrderReport.from_native(await self._client.query(symbol, order_id, client_id))

    async def cancel(
        self, symbol: str, order_id: str | None = None, client_id: str | None = None
    ) -> OrderReport:
        return OrderReport.from_native(await self._client.cancel(symbol, order_id, client_id))

    async def open_orders(self, symbol: str) -> list[OrderReport]:
        return [OrderReport.from_native(d) for d in await self._client.open_orders(symbol)]

    async def my_trades(
        self, symbol: str, since_ms: int | None = None, limit: int = 100
    ) -> list[Fill]:
        return [Fill.from_native(d) for d in await self._client.my_trades(symbol, since_ms, limit)]

    async def wait_final(self, client_id: str, timeout_s: float) -> Order | None:
        d = await self._client.wait_final(client_id, timeout_s)
        return None if d is None else Order.from_native(d)

    async def reconcile(self, symbols: Sequence[str], since_ms: int | None = None) -> int:
        return int(await self._client.reconcile(list(symbols), since_ms))

    # -- private stream -----------------------------------------------------------------

    async def start_user_stream(
        self,
        symbols: Sequence[str],
        on_events: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> None:
        """Starts the private stream; ``on_events`` receives batches of event dicts
        (``{"type": "order" | "fill" | "balance" | "stream", ...}``) on this loop."""
        self._client.start_user_stream(list(symbols), on_events)

    def stop_user_stream(self) -> None:
        self._client.stop_user_stream()

    def stream_stats(self) -> dict[str, Any] | None:
        s = self._client.stream_stats()
        return None if s is None else dict(s)

    # -- market data --------------------------------------------------------------------

    def _md(self) -> Any:
        if self._market is None:
            raise StartupError(f"{self.venue}: no market data attached to this exchange")
        return self._market

    def top(self, symbol: str) -> dict[str, Any]:
        """Best bid/ask of a unified symbol on this venue (exact decimal strings)."""
        return dict(self._md().top(self.venue, symbol))

    def depth(self, symbol: str, n: int = 10) -> dict[str, Any]:
        return dict(self._md().depth(self.venue, symbol, n))

    def health(self, symbol: str) -> dict[str, Any]:
        return dict(self._md().health(self.venue, symbol))

    def venue_symbol(self, unified: str) -> str | None:
        """The venue's spelling of a unified symbol, from the market's symbol table."""
        r = self._md().symbols.to_venue(unified, self.venue)
        return None if r is None else str(r)

    def __repr__(self) -> str:
        return f"Exchange({self.venue!r}, breaker={self.breaker_state!r})"


async def connect_exchanges(
    settings: Sequence[VenueSettings],
    market: Any | None = None,
    symbol_table: Any | None = None,
) -> dict[str, Exchange]:
    """Creates every venue's :class:`Exchange` concurrently; keyed by venue name."""
    made = await asyncio.gather(
        *(Exchange.create(s, market=market, symbol_table=symbol_table) for s in settings)
    )
    return {e.venue: e for e in made}


async def submit_pair(
    a: Exchange, order_a: OrderSpec, b: Exchange, order_b: OrderSpec
) -> PairResult:
    """Sends ``order_a`` to ``a`` and ``order_b`` to ``b`` at once (both signed and
    written without waiting for the other); a failed leg comes back as its exception."""
    ra, rb = await _native.submit_pair(
        a._client, order_a.to_native(), b._client, order_b.to_native()
    )
    return PairResult(
        Order.from_native(ra) if isinstance(ra, dict) else ra,
        Order.from_native(rb) if isinstance(rb, dict) else rb,
    )
