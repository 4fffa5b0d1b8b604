"""The bridge between the validated settings and the Rust engine: builds the engine's
configuration, starts it, forwards its events and applies configuration changes."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from arbhybrid import _native
from arbhybrid.config import (
    ConfigError,
    EngineSettings,
    ExchangeConfig,
    RiskConfig,
    Settings,
    StrategyConfig,
)
from arbhybrid.simulator import Simulator
from arbhybrid.types import (
    EngineEvent,
    Snapshot,
    VetoRequest,
    event_from_native,
    snapshot_from_native,
    veto_request_from_native,
)

#: The default engine instance (``engine.instance``), which prefixes client order ids
#: (``<instance>_<tx>_<leg>``).
CLIENT_ID_PREFIX: str = EngineSettings.model_fields["instance"].default
#: How long the resting sell of the market_limit style may wait for fills.
SELL_DEADLINE_MS = 1500
#: Spread samples into the journal (for the report).
SPREAD_SAMPLE_MS = 1000


@dataclass(frozen=True)
class VenueEndpoints:
    """Where one venue is and which account trades there (the secret is never printed)."""

    rest_url: str
    ws_url: str
    api_key: str
    api_secret: str

    def __repr__(self) -> str:
        return f"VenueEndpoints(rest_url={self.rest_url!r}, ws_url={self.ws_url!r}, api_key=***)"


#: Where each venue is, by its configured name (the ``exchanges:`` keys).
Endpoints = Mapping[str, VenueEndpoints]


def simulator_endpoints(sim: Simulator) -> dict[str, VenueEndpoints]:
    """Every venue instance's endpoints on a running simulator, with its trader account,
    by name (what ``RunningEngine.start`` takes)."""
    out: dict[str, VenueEndpoints] = {}
    for name, ep in sim.endpoints.venues.items():
        a = sim.account(name)
        out[name] = VenueEndpoints(ep.rest, ep.ws, a.api_key, a.api_secret)
    return out


def _plain(v: Any) -> Any:
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


#: ``strategy:`` keys that Python alone uses (the engine's schema rejects unknown keys).
PYTHON_ONLY_STRATEGY = frozenset({"python_rules", "python_hooks"})


def _strategy(s: StrategyConfig) -> Any:
    return _plain(s.model_dump(exclude=set(PYTHON_ONLY_STRATEGY)))


def strategy_json(s: StrategyConfig) -> str:
    return json.dumps(_strategy(s))


def risk_json(r: RiskConfig) -> str:
    return json.dumps(_plain(r.model_dump()))


def _venue(name: str, kind: str, ex: ExchangeConfig, ep: VenueEndpoints) -> dict[str, Any]:
    return {
        "venue": {"name": name, "kind": kind},
        "rest_url": ep.rest_url,
        "ws_url": ep.ws_url,
        "api_key": ep.api_key,
        "api_secret": ep.api_secret,
        "request_timeout_ms": ex.timeouts.request_ms,
        "connect_timeout_ms": ex.timeouts.connect_ms,
        "pool_size": ex.pool_size,
        "recv_window_ms": ex.recv_window_ms,
        "order_path": ex.order_path,
        "order_idle_ms": ex.order_idle_ms,
        "rate_limit": ex.rate_limit,
    }


def traded_venues(settings: Settings, endpoints: Endpoints) -> list[tuple[str, str]]:
    """``(name, kind)`` of every enabled venue, in the configuration's order.

    Raises :class:`ConfigError` for an enabled venue without endpoints."""
    out = []
    for name, _ex in settings.exchanges.enabled():
        if name not in endpoints:
            raise ConfigError(
                [
                    f"exchanges.{name}: enabled but no endpoints for it "
                    f"(have: {', '.join(endpoints) or 'none'})"
                ]
            )
        out.append((name, settings.exchanges.kind_of(name)))
    return out


def engine_config(
    settings: Settings,
    endpoints: Endpoints,
    *,
    journal_path: str | None = None,
    dry_run: bool = False,
    mode: str | None = None,
    session: str | None = None,
) -> str:
    """The engine's configuration (JSON) for these settings and each enabled venue's
    endpoints (by name).
    ``mode`` (``sim``/``live``, default ``settings.mode``) and ``session`` (a simulator
    session's name) are recorded in the journal, which then refuses another mode's,
    venue's or instance's engine."""
    md = settings.market_data
    venues = traded_venues(settings, endpoints)
    cfg = {
        "strategy": _strategy(settings.strategy),
        "risk": _plain(settings.risk.model_dump()),
        "feed": {
            "venues": [
                {
                    "name": n,
                    "kind": k,
                    "rest": endpoints[n].rest_url,
                    "ws": endpoints[n].ws_url,
                }
                for n, k in venues
            ],
            "gate_channel": md.gate_channel,
            "stale_after_ms": md.staleness_ms,
            "reset_after_ms": md.reconnect_after_stale_ms,
        },
        "venues": [_venue(n, k, settings.exchanges[n], endpoints[n]) for n, k in venues],
        "journal_path": journal_path or settings.journal.path,
        "mode": mode or settings.mode,
        "session": session,
        "client_id_prefix": settings.engine.instance,
        "hot": settings.engine.hot.model_dump(),
        "dry_run": dry_run,
        "sell_deadline_ms": SELL_DEADLINE_MS,
        "spread_sample_ms": SPREAD_SAMPLE_MS,
        "health_interval_ms": settings.health_interval_s * 1000,
    }
    return json.dumps(cfg)


#: Receives each batch of engine events (on the asyncio loop).
EventCallback = Callable[[list[EngineEvent]], None]
#: Approves (True) or refuses one trade in ``veto`` mode.
VetoRule = Callable[[VetoRequest], bool]


class RunningEngine:
    """A started engine: its state, parameters, Python risk rules and shutdown."""

    def __init__(self, native: _native.Engine) -> None:
        self._native = native

    @classmethod
    async def start(
        cls,
        settings: Settings,
        endpoints: Endpoints,
        *,
        on_events: EventCallback | None = None,
        journal_path: str | None = None,
        dry_run: bool = False,
        mode: str | None = None,
        session: str | None = None,
    ) -> RunningEngine:
        cfg = engine_config(
            settings,
            endpoints,
            journal_path=journal_path,
            dry_run=dry_run,
            mode=mode,
            session=session,
        )
        forward = None
        if on_events is not None:
            handler = on_events

            def forward(batch: list[dict[str, Any]]) -> None:
                handler([event_from_native(ev) for ev in batch])

        native = await _native.start_engine(cfg, forward)
        return cls(native)

    def snapshot(self) -> Snapshot:
        """Everything an operator watches, checked against :class:`Snapshot`."""
        return snapshot_from_native(self._native.snapshot())

    def apply(self, settings: Settings) -> None:
        """Pushes the (hot-reloadable) strategy and risk settings into the engine."""
        self._native.update(strategy_json(settings.strategy), risk_json(settings.risk))

    def set_veto(self, rule: VetoRule | None) -> None:
        """In ``veto`` mode, ``rule(request) -> bool`` approves each trade before it is
        sent; a rule that raises refuses the trade (and is logged), and so does one that
        answers after the engine's 1 s timeout. The rule runs on an engine thread, not on
        the asyncio loop (holding the interpreter lock, as every Python call does)."""
        if rule is None:
            self._native.set_veto(None)
            return
        import gc
        import logging

        # Every trade now waits for the interpreter lock, and a full collection holds it
        # while it walks every object: 9-26 ms measured with the start-up heap (modules,
        # pydantic schemas). Frozen, those are no longer walked.
        gc.freeze()
        log = logging.getLogger("arbhybrid.risk")
        # Every field of a VetoRequest is a plain ``str``, so whether a request passes the
        # strict check depends only on its shape (its keys and their value types): the
        # check runs once per shape, not once per trade, which on the engine's thread
        # cost ~30 us of the trade's latency.
        checked: set[tuple[tuple[str, type], ...]] = set()

        def on_batch(batch: list[tuple[dict[str, Any], _native.VetoResponder]]) -> None:
            for request, respond in batch:
                try:
                    shape = tuple((k, type(v)) for k, v in request.items())
                    if shape not in checked:
                        veto_request_from_native(request)
                        checked.add(shape)
                    ok = bool(rule(cast(VetoRequest, request)))
                except Exception:
                    log.exception("python risk rule raised; trade refused")
                    ok = False
                respond(ok)

        self._native.set_veto(on_batch)

    def halt(self) -> None:
        self._native.halt()

    def resume(self) -> None:
        self._native.resume()

    async def shutdown(self, timeout_s: float = 10.0) -> None:
        await self._native.shutdown(timeout_s)
