"""Typed views of what the engine hands to Python: its snapshot, its events and the
trades it asks Python to approve (``veto`` mode).

They mirror the engine's JSON exactly (``rust/engine/src/runner.rs``: ``fn snapshot``,
``EngineEvent``, ``VetoRequest``), key for key, as ``TypedDict``s: at run time each is the
plain ``dict`` the engine produced, so the wire shape (``status --json``, the journal) and
code that reads them by key stay as they were, while a type checker sees every key.

The ``*_from_native`` functions are the boundary: they check a value against its type
(every key there, no key the mirror lacks, the right JSON types; ``MalformedError``, an
``ArbError``, names what does not match) and return it unchanged,
so a change on the Rust side that the mirror misses fails loudly at the first snapshot,
not as a ``KeyError`` deep in a view. Money and quantities are exact decimal strings
(``Decimal(s)`` to compute), never floats.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypeAlias, cast

from pydantic import ConfigDict, TypeAdapter, ValidationError, with_config
from typing_extensions import TypedDict

from arbhybrid.errors import MalformedError

_EXACT = ConfigDict(extra="forbid")

#: A configured venue's name (an ``exchanges:`` key: ``mexc``, ``gateio``, ``mexc_b``).
VenueName: TypeAlias = str

# ---------------------------------------------------------------------------------------
# Events (EngineEvent: serde tag "type")


@with_config(_EXACT)
class OpportunityEvent(TypedDict):
    """An opportunity passed detection and risk and is being acted on (or refused at
    pre-trade); ``decision`` says which."""

    type: Literal["opportunity"]
    id: int
    symbol: str
    buy: VenueName
    sell: VenueName
    qty: str
    edge_bps: str
    decision: str


@with_config(_EXACT)
class TransactionEvent(TypedDict):
    """A transaction ended."""

    type: Literal["transaction"]
    tx_id: int
    symbol: str
    outcome: str
    realized_pnl: str
    fees_quote: str
    tick_to_trade_us: int | None


@with_config(_EXACT)
class HaltedEvent(TypedDict):
    """Trading halted by a kill switch."""

    type: Literal["halted"]
    reason: str


#: One engine event; ``ev["type"]`` tells which (and narrows the type).
EngineEvent: TypeAlias = OpportunityEvent | TransactionEvent | HaltedEvent


@with_config(_EXACT)
class VetoRequest(TypedDict):
    """A trade the engine asks Python to approve in ``veto`` mode."""

    symbol: str
    buy: VenueName
    sell: VenueName
    qty: str
    notional: str
    edge_bps: str


# ---------------------------------------------------------------------------------------
# The snapshot (Engine::snapshot)


@with_config(_EXACT)
class BookView(TypedDict):
    """One venue's book of a symbol: top of book and health (None before it synced)."""

    bid: str | None
    ask: str | None
    valid: bool
    state: str | None
    age_ms: int | None
    resyncs: int | None
    gaps: int | None
    updates: int | None


#: Gross top-of-book edge in bps per route, keyed ``buy_<venue>_sell_<venue>``
#: (``buy_mexc_sell_gateio``); None without both books.
EdgeView: TypeAlias = dict[str, str | None]


@with_config(_EXACT)
class SymbolView(TypedDict):
    venues: dict[str, BookView]
    edge_bps: EdgeView
    busy: bool
    paused: bool


@with_config(_EXACT)
class RateLimitView(TypedDict):
    waits: int
    venue_blocks: int
    #: The smallest share (percent) of any rate-limit budget still free now; None
    #: before the first request or with limits off.
    headroom_pct: int | None


@with_config(_EXACT)
class RestOutcomesView(TypedDict):
    """What a venue's REST answers were, by class (counts since start)."""

    #: Refusals for the rate (429, MEXC's 418 and 403).
    rate_limited: int
    #: HTTP 5xx answers.
    server_errors: int
    #: Attempts the retry policy sent again.
    retries: int
    #: Unknown placement outcomes resolved (found, or proven absent) / still unknown.
    unknown_resolved: int
    unknown_unresolved: int


@with_config(_EXACT)
class FeedCounters(TypedDict):
    connects: int
    disconnects: int
    frames: int
    unparsable_frames: int
    snapshots: int
    resubscribes: int


@with_config(_EXACT)
class PrivateStreamView(TypedDict):
    connected: bool
    connects: int
    listen_keys_created: int
    frames: int
    fills: int
    reconciles: int
    reconciled_fills: int
    decode_errors: int


@with_config(_EXACT)
class VenueView(TypedDict):
    healthy: bool
    breaker: str
    clock_offset_ms: int
    rate_limit: RateLimitView
    rest: RestOutcomesView
    requests: int
    new_connections: int
    connection_reuse: float
    feed: FeedCounters | None
    #: Absent once the engine stopped its private streams.
    private_stream: NotRequired[PrivateStreamView]


@with_config(_EXACT)
class LatencyView(TypedDict):
    """A latency histogram: microseconds, None while empty."""

    count: int
    p50_us: int | None
    p99_us: int | None
    max_us: int | None


@with_config(_EXACT)
class HotPathView(TypedDict):
    """The hot path by stage, each timed from the read of the frame that opened the gap:
    detection passed the limits, the transaction's task started, the pre-trade checks
    cleared, the first and both orders out (written, on plain-HTTP venues)."""

    detected: LatencyView
    task_started: LatencyView
    checks_cleared: LatencyView
    first_order_out: LatencyView
    both_orders_out: LatencyView


#: Per venue (by name): how long its order acknowledgements took.
LegAckView: TypeAlias = dict[str, LatencyView]


@with_config(_EXACT)
class StatsView(TypedDict):
    book_changes: int
    opportunities_detected: int
    opportunities_vetoed: int
    opportunities_taken: int
    opportunities_vanished: int
    refused_stale: int
    vetoes: dict[str, int]
    outcomes: dict[str, int]
    errors: dict[str, int]
    pnl: str
    fees: str
    tick_to_trade: LatencyView
    hot_path: HotPathView
    leg_ack: LegAckView
    decision_book_age: LatencyView
    decision_balance_age: LatencyView
    python_veto: LatencyView


@with_config(_EXACT)
class StrategyView(TypedDict):
    """The parameters in effect (enums as the engine names them, e.g. ``MarketLimit``)."""

    min_edge_bps: str
    slippage_buffer_bps: str
    trade_notional: str
    cooldown_ms: int
    order_style: str
    mexc_buy_order: str
    hedge_policy: str
    balance_mode: str
    python_risk_mode: str


@with_config(_EXACT)
class RecoveryView(TypedDict):
    """What start-up recovery did (or in a dry run would have done)."""

    dry_run: bool
    canceled_orders: int
    adopted_fills: int
    #: ``[tx id, symbol, residual before, action]`` per transaction closed or amended.
    transactions: list[list[int | str]]
    would: list[str]
    errors: list[str]


@with_config(_EXACT)
class StartupView(TypedDict):
    """Start-up milestones, milliseconds from the engine's start."""

    #: Every venue's client, credentials and symbol list (they are fetched at once).
    venues_ms: int
    #: Each venue's own check (server time, signed balances), by name.
    per_venue_ms: NotRequired[dict[str, int]]
    #: Order connections opened (warm) before trading, over every venue.
    warm_connections: NotRequired[int]
    recovery: NotRequired[RecoveryView]
    #: Ready to trade.
    engine_ms: NotRequired[int]


@with_config(_EXACT)
class RiskView(TypedDict):
    halted: str | None
    open_arbitrages: int
    daily_pnl: str


@with_config(_EXACT)
class Snapshot(TypedDict):
    """Everything an operator watches (``RunningEngine.snapshot()``)."""

    uptime_s: float
    dry_run: bool
    strategy: StrategyView
    startup_ms: StartupView
    symbols: dict[str, SymbolView]
    venues: dict[str, VenueView]
    stats: StatsView
    #: Per venue, per asset: the balance change since start (exact decimal string).
    inventory: dict[str, dict[str, str]]
    risk: RiskView
    journal_errors: int


_SNAPSHOT: TypeAdapter[Snapshot] = TypeAdapter(Snapshot)
_EVENT: TypeAdapter[EngineEvent] = TypeAdapter(EngineEvent)
_VETO: TypeAdapter[VetoRequest] = TypeAdapter(VetoRequest)


def _checked(adapter: TypeAdapter[Any], raw: dict[str, Any], what: str) -> None:
    try:
        adapter.validate_python(raw, strict=True)
    except ValidationError as e:
        raise MalformedError(f"{what} does not match arbhybrid.types: {e}") from None


def snapshot_from_native(raw: dict[str, Any]) -> Snapshot:
    """The engine's snapshot, checked against :class:`Snapshot` (raises
    ``MalformedError`` naming the key that does not match)."""
    _checked(_SNAPSHOT, raw, "engine snapshot")
    return cast(Snapshot, raw)


def event_from_native(raw: dict[str, Any]) -> EngineEvent:
    """One engine event, checked against :data:`EngineEvent`."""
    _checked(_EVENT, raw, "engine event")
    return cast(EngineEvent, raw)


def veto_request_from_native(raw: dict[str, Any]) -> VetoRequest:
    """One veto request, checked against :class:`VetoRequest`."""
    _checked(_VETO, raw, "veto request")
    return cast(VetoRequest, raw)


__all__ = [
    "BookView",
    "EdgeView",
    "EngineEvent",
    "FeedCounters",
    "HaltedEvent",
    "LatencyView",
    "LegAckView",
    "OpportunityEvent",
    "PrivateStreamView",
    "RateLimitView",
    "RecoveryView",
    "RestOutcomesView",
    "RiskView",
    "Snapshot",
    "StartupView",
    "StatsView",
    "StrategyView",
    "SymbolView",
    "TransactionEvent",
    "VenueName",
    "VenueView",
    "VetoRequest",
    "event_from_native",
    "snapshot_from_native",
    "veto_request_from_native",
]
