"""The embedded exchange simulator from Python: a thin wrapper over
``arbhybrid._native.Simulator`` (Rust crate ``arb-sim``).

The simulator serves MEXC spot v3 and Gate.io v4 (REST and WebSocket) on 127.0.0.1 with a
seeded moving market, plus an admin HTTP API with the ground truth. It hosts any list of
venue instances (``venues``, default ``mexc`` and ``gateio``), each on its own port with
its own books and accounts. Everything runs on the
native module's runtime; this class only starts, stops and asks for the truth.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from decimal import Decimal
from types import TracebackType
from typing import Any

from arbhybrid import _native
from arbhybrid.errors import StartupError
from arbhybrid.venues import VENUES as VENUES  # (re-exported: its old home)


@dataclass(frozen=True)
class Account:
    """API credentials of the trader account on one venue."""

    api_key: str
    api_secret: str

    def __repr__(self) -> str:
        return f"Account(api_key={self.api_key!r}, api_secret='***')"


@dataclass(frozen=True)
class VenueEndpoint:
    """Where one venue instance listens: its adapter kind (``mexc`` / ``gateio``) and
    its REST and WebSocket URLs in that kind's format."""

    kind: str
    rest: str
    ws: str


@dataclass(frozen=True)
class Endpoints:
    """The named fields are the first instance of each kind (the default ``mexc`` /
    ``gateio`` when hosted; empty when none of that kind is); ``venues`` holds every
    instance by name, in config order."""

    mexc_rest: str
    mexc_ws: str
    gate_rest: str
    gate_ws: str
    admin: str
    venues: dict[str, VenueEndpoint]


class Simulator:
    """A running (after :meth:`start`) simulator.

    ``config`` holds the fields of ``arb_sim::SimConfig`` (all optional): ``seed``,
    ``symbols`` (unified, ``"BTC/USDT"``), ``venues`` (``[{"name": "mexc_b", "kind":
    "mexc", "port": 0}, ...]``), ``mexc_port``, ``gateio_port``, ``admin_port``,
    ``trader_balances`` (asset -> decimal string), ``update_rate_hz``,
    ``opportunity_rate_per_min``, ``rate_limits``, ``market_paused``, ``maker_levels``,
    ``wallet`` (``{"networks": {asset: [{"chain", "name", "withdraw_fee", "withdraw_min",
    "withdraw_max", "min_delay_s", "max_delay_s"}, ...]}}``), ``premium`` (``{"venue",
    "bps", "after_s", "for_s"}``: one venue priced off the others for a stretch),
    ``invent_symbols`` (false: list only the symbols it has rules for), ``restricted``
    (``[{"symbol": "KAS/USDT", "venue": "mexc", "restriction": "no_market"}, ...]``:
    no_api, no_market, buy_only, sell_only, buy_later; default KAS/USDT no_market and
    PEPE/USDT no_api on MEXC, TON/USDT buy_later on Gate, when listed), ``read_only_keys`` (venue
    names whose trader key may read but not trade), ...
    """

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self._config = dict(config or {})
        self._native = _native.Simulator(json.dumps(self._config))
        self._info: dict[str, Any] | None = None

    def start(self) -> Simulator:
        self._info = self._native.start()
        return self

    def stop(self) -> None:
        self._native.stop()
        self._info = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def info(self) -> dict[str, Any]:
        """Endpoints and accounts, as ``python -m arbhybrid sim`` prints them."""
        if self._info is None:
            raise StartupError("simulator is not running")
        return self._info

    @property
    def endpoints(self) -> Endpoints:
        i = self.info
        return Endpoints(
            mexc_rest=i["mexc_rest"],
            mexc_ws=i["mexc_ws"],
            gate_rest=i["gate_rest"],
            gate_ws=i["gate_ws"],
            admin=i["admin"],
            venues={
                v["name"]: VenueEndpoint(kind=v["kind"], rest=v["rest"], ws=v["ws"])
                for v in i["venues"]
            },
        )

    def account(self, venue: str) -> Account:
        """The trader's keys on the instance called ``venue``."""
        accounts = self.info["accounts"]
        if venue not in accounts:
            names = ", ".join(v["name"] for v in self.info["venues"])
            raise ValueError(f"unknown venue {venue!r} (configured: {names})")
        a = accounts[venue]
        return Account(api_key=a["api_key"], api_secret=a["api_secret"])

    def truth_book(self, venue: str, venue_symbol: str, depth: int = 20) -> dict[str, Any] | None:
        """``{"version", "bids": [[price, qty], ...], "asks": [...]}``, best first."""
        book: dict[str, Any] | None = self._native.truth_book(venue, venue_symbol, depth)
        return book

    def balances(
        self, venue: str, api_key: str | None = None
    ) -> dict[str, tuple[Decimal, Decimal]]:
        """Asset -> (free, locked) of the account (default: the trader)."""
        key = api_key or self.account(venue).api_key
        raw: dict[str, list[str]] = self._native.balances(venue, key)
        return {a: (Decimal(f), Decimal(lk)) for a, (f, lk) in raw.items()}

    def orders(self, venue: str, api_key: str | None = None) -> list[dict[str, Any]]:
        key = api_key or self.account(venue).api_key
        orders: list[dict[str, Any]] = self._native.orders(venue, key)
        return orders

    def fills(self, venue: str, api_key: str | None = None) -> list[dict[str, Any]]:
        key = api_key or self.account(venue).api_key
        fills: list[dict[str, Any]] = self._native.fills(venue, key)
        return fills

    def set_market_paused(self, paused: bool) -> None:
        self._native.set_market_paused(paused)

    def inject_gap(self, venue: str, venue_symbol: str) -> None:
        self._native.inject_gap(venue, venue_symbol)

    def inject_fault(self, venue: str, type: str, **params: Any) -> int:
        """Injects a fault; returns its id. ``type`` is one of ``close_connections``
        (``scope``: all/public/private), ``gap``, ``stall`` (``secs``), ``crossed_frame``,
        ``malformed_frame``, ``nested_frame`` (``depth``), ``rest_delay`` (``ms``),
        ``rest_timeout``, ``rest_status``
        (``status``), ``rest_rate_limit`` (``retry_after_secs``), ``apply_then_timeout``,
        ``reject_without_apply``, ``reject_order`` (``error``: insufficient_balance /
        below_minimum / symbol_not_tradable / market_order_disabled /
        market_orders_not_listed / side_not_open), ``partial_fill``
        (``pct``), ``expire_listen_keys``, ``halt``, ``resume``, ``network_suspended``
        (``asset``, ``chain``: deposits and withdrawals closed there),
        ``withdraw_apply_then_timeout``. Common params: ``symbol``
        (venue format), ``count`` (next N events), ``duration_ms``."""
        spec = {"venue": venue, "type": type, **params}
        fault_id: int = self._native.inject_fault(json.dumps(spec))
        return fault_id

    def faults(self) -> list[dict[str, Any]]:
        """Every fault injected, with ``fired`` (how often it acted) and ``active``."""
        faults: list[dict[str, Any]] = self._native.faults()
        return faults

    def clear_faults(self) -> None:
        self._native.clear_faults()

    def referee(self) -> dict[str, Any]:
        """Probe mode (``probe_mode: true``): tick-to-trade for the first leg and both legs
        (``count, p50, p90, p99, p99_9, max`` in microseconds) and every probe."""
        report: dict[str, Any] = self._native.referee()
        return report

    def counters(self) -> dict[str, Any]:
        counters: dict[str, Any] = self._native.counters()
        return counters

    def wallets(self) -> dict[str, Any]:
        """Ground truth of the wallets: ``withdrawals`` and ``deposits`` (every account's,
        amounts as decimal strings, ``phase`` processing / on_chain / credited) and the
        trader's deposit ``addresses`` (venue -> asset -> chain -> address), from the admin
        API."""
        with urllib.request.urlopen(self.endpoints.admin + "/wallets", timeout=10) as r:
            wallets: dict[str, Any] = json.loads(r.read())
        return wallets


def config_from_settings(settings: Any, symbols: list[str] | None = None) -> dict[str, Any]:
    """The simulator config for a validated ``arbhybrid.config.Settings``: the
    ``simulator`` section; without ``symbols`` (here or there) it lists those of
    ``strategy.symbols`` it has rules for, so one it lacks stops the engine's start."""
    s = settings.simulator
    listed = symbols or s.symbols
    out: dict[str, Any] = {
        "seed": s.seed,
        "symbols": list(listed or settings.strategy.symbols),
        # Like a real venue, it lists only its own symbols unless told what to list.
        "invent_symbols": bool(listed),
        "read_only_keys": list(s.read_only_keys),
        # One simulated instance per enabled venue, as the engine will trade them.
        "venues": [
            {"name": n, "kind": settings.exchanges.kind_of(n)}
            for n, _ in settings.exchanges.enabled()
        ],
        "mexc_port": s.ports.mexc,
        "gateio_port": s.ports.gateio,
        "admin_port": s.ports.admin,
        "update_rate_hz": s.update_rate_hz,
        "opportunity_rate_per_min": s.opportunity_rate_per_min,
        "first_gap_after_s": s.first_gap_s,
        "rate_limits": s.rate_limits,
        "mexc_read_lag_ms": s.mexc_read_lag_ms,
    }
    if s.trader_balances:
        out["trader_balances"] = {k: str(v) for k, v in s.trader_balances.items()}
    return out
