//! The running engine's shared state: [`Inner`], each configured symbol with what the hot
//! path needs precomputed ([`Sym`]), and the counters and histograms ([`Stats`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use arb_core::{ErrorClass, Venue, VenueMap};
use arb_exec::client::VenueClient;
use arb_exec::order::SymbolRules;
use arb_exec::Amount;
use arb_market::store::BookStore;
use arb_market::SymbolId;
use arb_telemetry::metrics::{self, Counter, Histogram};
use parking_lot::{Mutex, RwLock};
use tokio::runtime::Handle;
use tokio_util::sync::CancellationToken;

use super::{EventSink, StartupTimes, VetoFn};
use crate::accounting::Ledger;
use crate::balances::BalanceBook;
use crate::config::{EngineConfig, Params};
use crate::detect::{LegRules, Scales};
use crate::journal::Journal;
use crate::risk::RiskState;

/// One configured symbol, with everything the hot path needs precomputed.
pub(crate) struct Sym {
    pub(crate) id: SymbolId,
    pub(crate) unified: Arc<str>,
    pub(crate) base: String,
    pub(crate) quote: String,
    pub(crate) scales: Scales,
    /// The configured venues that list it (at least two), in configuration order: the
    /// hot path prices every route between them.
    pub(crate) venues: Vec<Venue>,
    /// Detection rules per venue (fees refreshed from the venues).
    pub(crate) legs: RwLock<VenueMap<LegRules>>,
    /// Order formatting rules per venue.
    pub(crate) rules: VenueMap<Arc<SymbolRules>>,
    /// `now_ns` of the last opportunity acted on (cooldown).
    pub(crate) last_act_ns: AtomicI64,
    /// A transaction for this symbol is running.
    pub(crate) busy: AtomicBool,
    /// Paused after a rejection that cannot be fixed (e.g. not API-tradable).
    pub(crate) paused: AtomicBool,
    /// Paused until this `now_ns` after an invalid-order rejection: the venue's rules
    /// differ from ours, and retrying the same order would be refused again.
    pub(crate) paused_until_ns: AtomicI64,
}

/// Counters and histograms (also exported at `/metrics`).
pub(crate) struct Stats {
    pub(super) changes: Counter,
    pub(super) detected: Counter,
    pub(super) vetoed: Counter,
    pub(super) vanished: Counter,
    pub(super) taken: Counter,
    pub(super) stale_refused: Counter,
    pub(super) tick_to_trade: Histogram,
    pub(super) hot_path: HotPathStages,
    pub(super) decision_book_age: Histogram,
    pub(super) decision_balance_age: Histogram,
    pub(super) veto_wait: Histogram,
    pub(super) leg_ack: VenueMap<Histogram>,
    pub(super) outcomes: Mutex<HashMap<&'static str, u64>>,
    pub(super) errors: Mutex<HashMap<&'static str, u64>>,
    pub(super) vetoes: Mutex<HashMap<&'static str, u64>>,
    pub(super) pnl: Mutex<Amount>,
    pub(super) fees: Mutex<Amount>,
    pub(crate) ledger: Mutex<Ledger>,
}

impl Stats {
    pub(super) fn new(venues: &[Venue]) -> Self {
        let h = |n: &str| metrics::histogram(n, &[]);
        Stats {
            changes: metrics::counter("engine_book_changes_total", &[]),
            detected: metrics::counter("engine_opportunities_detected_total", &[]),
            vetoed: metrics::counter("engine_opportunities_vetoed_total", &[]),
            vanished: metrics::counter("engine_opportunities_vanished_total", &[]),
            taken: metrics::counter("engine_opportunities_taken_total", &[]),
            stale_refused: metrics::counter("engine_decisions_refused_stale_total", &[]),
            tick_to_trade: h("engine_tick_to_trade_seconds"),
            hot_path: HotPathStages::new(),
            decision_book_age: h("engine_decision_book_age_seconds"),
            decision_balance_age: h("engine_decision_balance_age_seconds"),
            veto_wait: h("engine_python_veto_seconds"),
            leg_ack: VenueMap::from_fn(venues.iter().copied(), |v| {
                metrics::histogram("engine_leg_ack_seconds", &[("venue", v.as_str())])
            }),
            outcomes: Mutex::new(HashMap::new()),
            errors: Mutex::new(HashMap::new()),
            vetoes: Mutex::new(HashMap::new()),
            pnl: Mutex::new(Amount::ZERO),
            fees: Mutex::new(Amount::ZERO),
            ledger: Mutex::new(Ledger::new()),
        }
    }

    pub(super) fn error(&self, class: ErrorClass) {
        *self.errors.lock().entry(class.as_str()).or_insert(0) += 1;
        metrics::counter("engine_errors_total", &[("class", class.as_str())]).inc();
    }
}

/// Shared state of the running engine.
pub struct Inner {
    pub(crate) cfg: EngineConfig,
    pub(crate) store: Arc<BookStore>,
    /// The configured venues, in configuration order.
    pub(crate) venues: Vec<Venue>,
    pub(crate) clients: VenueMap<VenueClient>,
    /// Indexed by `SymbolId::index()`; `None` for symbols not traded.
    pub(crate) syms: Vec<Option<Arc<Sym>>>,
    pub(crate) params: RwLock<Params>,
    pub(crate) risk: Mutex<RiskState>,
    /// Shared with background refreshes (hence the `Arc`).
    pub(crate) balances: Arc<Mutex<BalanceBook>>,
    pub(crate) journal: Journal,
    pub(crate) next_id: AtomicU64,
    pub(crate) stats: Stats,
    pub(crate) events: RwLock<Option<EventSink>>,
    pub(crate) veto: RwLock<Option<VetoFn>>,
    pub(crate) cancel: CancellationToken,
    /// The caller's runtime: background work (health, samplers, supervision).
    pub(crate) handle: Handle,
    /// The hot path's runtime (feeds, transactions, order connections).
    pub(crate) hot: Handle,
    pub(crate) started: Instant,
    /// Start-up times and the recovery report, as the view shows them.
    pub(crate) ready_ms: Mutex<StartupTimes>,
    pub(crate) healthy: VenueMap<AtomicBool>,
}

impl Inner {
    pub(super) fn params(&self) -> Params {
        self.params.read().clone()
    }

    pub(super) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }
}

/// Where the time between a frame's read and its orders goes: each stage is timed from
/// the moment the frame's bytes were read from the socket (`BookChange::recv_ns`), so the
/// stages add up to the first-order figure and the jump between two of them is that
/// step's cost (`engine_hot_path_seconds{stage}`).
pub(crate) struct HotPathStages {
    /// Detection found an opportunity that passed the limits (on the feed task).
    pub detected: Histogram,
    /// The transaction's task started (the hand-off from the feed task).
    pub task_started: Histogram,
    /// The pre-trade checks cleared it.
    pub checks_cleared: Histogram,
    /// The first leg's placement yielded: on the owned order connections
    /// ([`arb_exec::h1`]), right after its request was written to the socket.
    pub first_order_out: Histogram,
    /// Both legs' placements yielded.
    pub both_orders_out: Histogram,
}

impl HotPathStages {
    fn new() -> Self {
        let h = |stage: &str| metrics::histogram("engine_hot_path_seconds", &[("stage", stage)]);
        HotPathStages {
            detected: h("detected"),
            task_started: h("task_started"),
            checks_cleared: h("checks_cleared"),
            first_order_out: h("first_order_out"),
            both_orders_out: h("both_orders_out"),
        }
    }

    /// Records `stage` at `now_ns`, for a frame read at `recv_ns`.
    pub fn mark(stage: &Histogram, recv_ns: i64, now_ns: i64) {
        stage.record_ns((now_ns - recv_ns).max(0) as u64);
    }
}
