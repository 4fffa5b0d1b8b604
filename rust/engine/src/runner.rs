//! The running engine: start-up, the hot-path hook, pre-trade checks, two-leg execution,
//! accounting, health, and the view Python reads.
//!
//! ## Hot path
//! The market-data feed calls [`Inner::on_change`] inline, on its own task, right after
//! a book update is applied. It copies the top levels of both venues' books for that
//! symbol (only valid, fresh books), runs detection in both directions, checks the risk
//! limits, and — only when there is something to do — claims the symbol and spawns the
//! execution task. Nothing there allocates in the common no-trade case, awaits, or
//! crosses into Python.
//!
//! ## Execution
//! The execution task re-checks balances (fresh from both venues at once, or the
//! streamed view with reservations), asks Python when in `veto` mode, sends both legs
//! concurrently (each signed and written without waiting for the other), and then drives the transaction's
//! state machine ([`crate::tx::ArbTx`]) from the order trackers, which the REST answers
//! and the private streams feed in any order: cancel the resting sell at its deadline,
//! resolve unknown outcomes by querying the client order id, hedge residuals per policy.
//! When it is done, the fills are booked in the ledger, the PnL and residual go to risk,
//! and the outcome to the journal and to Python.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arb_core::time::{now_ms, now_ns};
use arb_core::{ErrorClass, Venue};
use arb_exec::client::{Located, OrderRef, VenueClient};
use arb_exec::lifecycle::{ExecEvent, OrderState, OrderStatus};
use arb_exec::order::{
    ClientOrderId, Leg, OrderKind, OrderRequest, PreparedOrder, SymbolRules, TimeInForce,
};
use arb_exec::user_stream::UserStream;
use arb_exec::{Amount, ExecError};
use arb_market::feed::{LogSink, MarketData};
use arb_market::store::{BookChange, BookStore, ChangeKind};
use arb_market::{BookSide, SymbolId};
use arb_telemetry::metrics::{self, Counter, Histogram};
use parking_lot::{Mutex, RwLock};
use serde_json::json;
use tokio::runtime::Handle;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::accounting::Ledger;
use crate::balances::BalanceBook;
use crate::config::{
    acct_to_scale, scale_to_acct, BalanceMode, ConfigError, EngineConfig, MexcBuyOrder, OrderStyle,
    Params, PythonRiskMode,
};
use crate::detect::{detect, hedge_quote, Caps, DetectParams, LegRules, Opportunity, Scales};
use crate::journal::{self, Dec, Journal, JournalRecord};
use crate::risk::{KillReason, Proposal, RiskState};
use crate::tx::{Action, ArbTx, LegEvent, LegRole, OrderEnd, Outcome, Side};

/// Levels of each side copied out of a book for detection.
const DEPTH: usize = 20;

/// What Python (or any observer) is told.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EngineEvent {
    /// An opportunity passed detection and risk and is being acted on (or refused at
    /// pre-trade).
    Opportunity {
        id: u64,
        symbol: String,
        buy: Venue,
        sell: Venue,
        qty: String,
        edge_bps: String,
        decision: String,
    },
    /// A transaction ended.
    Transaction {
        tx_id: u64,
        symbol: String,
        outcome: String,
        realized_pnl: String,
        fees_quote: String,
        tick_to_trade_us: Option<i64>,
    },
    /// Trading halted by a kill switch.
    Halted { reason: String },
}

/// Receives engine events (the Python bindings forward them to a callback).
pub type EventSink = Arc<dyn Fn(EngineEvent) + Send + Sync>;

/// A trade Python is asked to approve in `veto` mode.
#[derive(Clone, Debug, serde::Serialize)]
pub struct VetoRequest {
    pub symbol: String,
    pub buy: Venue,
    pub sell: Venue,
    pub qty: String,
    pub notional: String,
    pub edge_bps: String,
}

/// Asks Python; the receiver yields the answer (a dropped sender counts as "no").
pub type VetoFn = Arc<dyn Fn(VetoRequest) -> oneshot::Receiver<bool> + Send + Sync>;

/// Start-up failures, naming the venue where one is at fault.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("{venue}: {what}: {source}")]
    Venue {
        venue: Venue,
        what: &'static str,
        #[source]
        source: ExecError,
    },
    #[error("symbols: {0}")]
    Symbols(String),
    #[error("{0}")]
    Journal(#[from] journal::JournalError),
}

/// One configured symbol, with everything the hot path needs precomputed.
pub(crate) struct Sym {
    pub(crate) id: SymbolId,
    pub(crate) unified: Arc<str>,
    pub(crate) base: String,
    pub(crate) quote: String,
    pub(crate) scales: Scales,
    /// Detection rules per venue (fees refreshed from the venues).
    pub(crate) legs: RwLock<[LegRules; 2]>,
    /// Order formatting rules per venue.
    pub(crate) rules: [Arc<SymbolRules>; 2],
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

/// A hedge order as planned: where, how much, and its limit price (`None`: market).
#[derive(Clone, Copy, Debug)]
struct HedgePlan {
    venue: Venue,
    qty: u64,
    limit: Option<u64>,
}

/// Counters and histograms (also exported at `/metrics`).
pub(crate) struct Stats {
    changes: Counter,
    detected: Counter,
    vetoed: Counter,
    vanished: Counter,
    taken: Counter,
    stale_refused: Counter,
    tick_to_trade: Histogram,
    decision_book_age: Histogram,
    decision_balance_age: Histogram,
    veto_wait: Histogram,
    leg_ack: [Histogram; 2],
    outcomes: Mutex<HashMap<&'static str, u64>>,
    errors: Mutex<HashMap<&'static str, u64>>,
    vetoes: Mutex<HashMap<&'static str, u64>>,
    pnl: Mutex<Amount>,
    fees: Mutex<Amount>,
    pub(crate) ledger: Mutex<Ledger>,
}

impl Stats {
    fn new() -> Self {
        let h = |n: &str| metrics::histogram(n, &[]);
        Stats {
            changes: metrics::counter("engine_book_changes_total", &[]),
            detected: metrics::counter("engine_opportunities_detected_total", &[]),
            vetoed: metrics::counter("engine_opportunities_vetoed_total", &[]),
            vanished: metrics::counter("engine_opportunities_vanished_total", &[]),
            taken: metrics::counter("engine_opportunities_taken_total", &[]),
            stale_refused: metrics::counter("engine_decisions_refused_stale_total", &[]),
            tick_to_trade: h("engine_tick_to_trade_seconds"),
            decision_book_age: h("engine_decision_book_age_seconds"),
            decision_balance_age: h("engine_decision_balance_age_seconds"),
            veto_wait: h("engine_python_veto_seconds"),
            leg_ack: [
                metrics::histogram("engine_leg_ack_seconds", &[("venue", "mexc")]),
                metrics::histogram("engine_leg_ack_seconds", &[("venue", "gateio")]),
            ],
            outcomes: Mutex::new(HashMap::new()),
            errors: Mutex::new(HashMap::new()),
            vetoes: Mutex::new(HashMap::new()),
            pnl: Mutex::new(Amount::ZERO),
            fees: Mutex::new(Amount::ZERO),
            ledger: Mutex::new(Ledger::new()),
        }
    }

    fn error(&self, class: ErrorClass) {
        *self.errors.lock().entry(class.as_str()).or_insert(0) += 1;
        metrics::counter("engine_errors_total", &[("class", class.as_str())]).inc();
    }
}

/// Shared state of the running engine.
pub struct Inner {
    pub(crate) cfg: EngineConfig,
    pub(crate) store: Arc<BookStore>,
    pub(crate) clients: [VenueClient; 2],
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
    pub(crate) handle: Handle,
    pub(crate) started: Instant,
    pub(crate) ready_ms: Mutex<serde_json::Value>,
    pub(crate) healthy: [AtomicBool; 2],
}

/// The engine. Dropping it does not stop it: call [`Engine::shutdown`].
pub struct Engine {
    inner: Arc<Inner>,
    market: Mutex<Option<MarketData>>,
    streams: Mutex<Vec<UserStream>>,
}

fn leg_rules(r: &arb_market::VenueRules, scales: Scales, fee: Amount) -> LegRules {
    let min_qty = parse_dec_at(r.min_qty, scales.qty).unwrap_or(0) as u64;
    let min_notional = parse_dec_at(r.min_notional, scales.price + scales.qty).unwrap_or(0) as u128;
    LegRules {
        price_decimals: r.price_decimals,
        amount_decimals: r.amount_decimals,
        min_qty,
        min_notional,
        taker_fee: fee_ppb8(fee),
    }
}

/// A market-crate decimal at `scale` decimals, rounded up (minimums must be met).
fn parse_dec_at(d: arb_market::Decimal, scale: u32) -> Option<i128> {
    let m = d.mantissa as i128;
    Some(if d.scale <= scale {
        m * 10i128.pow(scale - d.scale)
    } else {
        let p = 10i128.pow(d.scale - scale);
        (m + p - 1) / p
    })
}

fn dec_amount(d: arb_market::Decimal) -> Amount {
    Amount::from_scaled(d.mantissa, d.scale)
}

/// A fee fraction as parts per 10^8, rounded up (never underestimate a fee).
fn fee_ppb8(fee: Amount) -> u64 {
    let m = fee.mantissa().max(0);
    let p = 10i128.pow(10);
    ((m + p - 1) / p) as u64
}

fn venue_name(v: Venue) -> &'static str {
    v.as_str()
}

fn leg_of(role: LegRole) -> Leg {
    match role {
        LegRole::Buy => Leg::A,
        LegRole::Sell => Leg::B,
        LegRole::Hedge(n) => Leg::Unwind(n),
    }
}

/// The journal row of an order about to be sent (its intent: `pending_new`).
fn order_record(
    tx_id: u64,
    role: LegRole,
    sym: &Sym,
    p: &PreparedOrder,
    request_us: i64,
) -> JournalRecord {
    use arb_exec::order::PreparedKind;
    let (kind, price, qty, quote) = match &p.kind {
        PreparedKind::Limit { price, qty, tif } => (
            tif_label(*tif),
            Some(price.clone()),
            Some(qty.clone()),
            None,
        ),
        PreparedKind::Market { qty } => ("market", None, Some(qty.clone()), None),
        PreparedKind::MarketQuote { quote } => ("market_quote", None, None, Some(quote.clone())),
    };
    let d = |s: Option<String>| {
        s.and_then(|t| Amount::parse(&t).ok())
            .map(|a| Dec::new(a.mantissa(), 18))
    };
    JournalRecord::Order(Box::new(journal::OrderRecord {
        client_order_id: p.client_id.as_str().to_string(),
        tx_id,
        leg: role.label(),
        venue: venue_name(p.venue),
        symbol: sym.unified.clone(),
        side: p.side.as_str(),
        kind,
        price: d(price),
        qty: d(qty),
        quote_qty: d(quote),
        venue_order_id: None,
        status: "pending_new",
        filled_qty: None,
        request_us,
        ack_us: None,
        final_us: None,
        error_class: None,
        error: None,
    }))
}

/// An `Amount` (18 decimals) as a mantissa at `scale`, rounded down, as `u64`.
fn amount_at(a: Amount, scale: u32) -> u64 {
    acct_to_scale(a.mantissa(), scale).clamp(0, u64::MAX as i128) as u64
}

/// Test hook: the next transaction task panics before it starts (see
/// [`Engine::panic_next_transaction`]).
static PANIC_NEXT_TX: AtomicBool = AtomicBool::new(false);

/// Test hook: the health task panics at its next round (see
/// [`Engine::panic_next_health_check`]).
static PANIC_NEXT_HEALTH: AtomicBool = AtomicBool::new(false);

impl Engine {
    /// Test hook: makes the next transaction task (of any engine in the process) panic,
    /// to prove a panicked task releases its symbol and pauses it.
    #[doc(hidden)]
    pub fn panic_next_transaction() {
        PANIC_NEXT_TX.store(true, Ordering::Release);
    }

    /// Test hook: makes the health task (of any engine in the process) panic at its next
    /// round, to prove a panicked background task is started again.
    #[doc(hidden)]
    pub fn panic_next_health_check() {
        PANIC_NEXT_HEALTH.store(true, Ordering::Release);
    }

    /// Starts everything: symbols, venue clients (concurrently), credential check,
    /// fees, journal, private streams and market data. Returns once the feeds are
    /// starting; books become tradable as they sync.
    ///
    /// # Errors
    /// A bad configuration, a venue that rejects the credentials (named), symbols that
    /// cannot be loaded, or a journal that cannot be opened.
    pub async fn start(cfg: EngineConfig, log: LogSink) -> Result<Engine, StartError> {
        let t0 = Instant::now();
        let params = cfg.strategy.params(&cfg.risk)?;
        let limits = cfg.risk.limits()?;
        // The hot path builds ids with this prefix and cannot fail there.
        ClientOrderId::for_leg(&cfg.client_id_prefix, 0, Leg::A).map_err(|why| ConfigError {
            key: "engine.instance".into(),
            why,
        })?;
        // The journal first: one that belongs to another mode, venue or instance stops
        // the start before any venue is asked anything.
        let journal = Journal::open(&cfg.journal_path, &cfg.journal_meta())?;
        let handle = Handle::current();
        let client = |vc: &arb_exec::VenueConfig| {
            VenueClient::new(vc.clone()).map_err(|source| StartError::Venue {
                venue: vc.venue,
                what: "cannot create the client",
                source,
            })
        };
        let clients = [client(&cfg.mexc)?, client(&cfg.gateio)?];

        // Both venues at once: a signed call proves the credentials (a bad key fails
        // here, naming its venue) and syncs the clock offset.
        let check = |c: VenueClient| async move {
            let venue = c.venue();
            c.server_time().await.map_err(|source| StartError::Venue {
                venue,
                what: "server time",
                source,
            })?;
            let asked_ms = c.venue_now_ms();
            c.balances()
                .await
                .map(|b| (b, asked_ms))
                .map_err(|source| StartError::Venue {
                    venue,
                    what: "credentials check (signed balance call)",
                    source,
                })
        };
        let (symbols, m_bal, g_bal) = tokio::join!(
            arb_market::feed::fetch_symbols(&cfg.feed),
            check(clients[0].clone()),
            check(clients[1].clone())
        );
        let (m_bal, g_bal) = (m_bal?, g_bal?);
        let venues_ready_ms = t0.elapsed().as_millis() as u64;
        let table = Arc::new(symbols.map_err(|e| StartError::Symbols(e.to_string()))?);

        // Configured symbols: must exist on both venues and be API-tradable.
        let mut syms: Vec<Option<Arc<Sym>>> = vec![None; table.len()];
        let mut ids = Vec::new();
        for unified in &cfg.strategy.symbols {
            let id = table.id(unified).ok_or_else(|| {
                StartError::Symbols(format!("{unified} is not listed on both venues"))
            })?;
            let info = table.info(id).expect("id from the table");
            let scales = Scales {
                price: info.price_scale,
                qty: info.qty_scale,
            };
            let mut legs = [None, None];
            let mut rules = Vec::new();
            for v in Venue::ALL {
                let r = info.rules(v).ok_or_else(|| {
                    StartError::Symbols(format!("{unified} is not listed on {v}"))
                })?;
                if !r.api_tradable {
                    return Err(StartError::Symbols(format!(
                        "{unified} is not API-tradable on {v}"
                    )));
                }
                // Live taker fee from the venue; the symbol table's as a fallback.
                let fee = match clients[v.index()].fees(&r.venue_symbol).await {
                    Ok(f) => f.taker,
                    Err(_) => dec_amount(r.taker_fee),
                };
                legs[v.index()] = Some(leg_rules(r, scales, fee));
                let mut sr = SymbolRules::new(
                    v,
                    r.venue_symbol.to_string(),
                    r.price_decimals,
                    r.amount_decimals,
                    dec_amount(r.min_qty),
                    dec_amount(r.min_notional),
                );
                sr.quote_decimals = r.price_decimals;
                rules.push(Arc::new(sr));
            }
            let rules: [Arc<SymbolRules>; 2] = [rules[0].clone(), rules[1].clone()];
            syms[id.index()] = Some(Arc::new(Sym {
                id,
                unified: Arc::from(unified.as_str()),
                base: info.base.to_string(),
                quote: info.quote.to_string(),
                scales,
                legs: RwLock::new([legs[0].expect("set"), legs[1].expect("set")]),
                rules,
                last_act_ns: AtomicI64::new(0),
                busy: AtomicBool::new(false),
                paused: AtomicBool::new(false),
                paused_until_ns: AtomicI64::new(0),
            }));
            ids.push(id);
        }

        let store = Arc::new(BookStore::new(table.clone()));
        let mut balances = BalanceBook::default();
        for (v, (bals, asked_ms)) in [(Venue::Mexc, m_bal), (Venue::Gate, g_bal)] {
            let listed = bals.into_iter().map(|b| (b.asset, b.free));
            balances.snapshot(v, listed, asked_ms, now_ms());
        }
        let inner = Arc::new(Inner {
            store: store.clone(),
            clients,
            syms,
            params: RwLock::new(params),
            risk: Mutex::new(RiskState::new(limits, now_ms())),
            balances: Arc::new(Mutex::new(balances)),
            journal,
            next_id: AtomicU64::new(now_ms() as u64 * 1000),
            stats: Stats::new(),
            events: RwLock::new(None),
            veto: RwLock::new(None),
            cancel: CancellationToken::new(),
            handle: handle.clone(),
            started: t0,
            ready_ms: Mutex::new(json!({ "venues_ms": venues_ready_ms })),
            healthy: [AtomicBool::new(true), AtomicBool::new(true)],
            cfg,
        });

        // Private streams: order, fill and balance pushes for both venues.
        let mut streams = Vec::new();
        for v in Venue::ALL {
            let venue_syms: Vec<String> = ids
                .iter()
                .filter_map(|&id| table.venue_symbol(id, v).map(str::to_string))
                .collect();
            streams.push(UserStream::start(
                inner.clients[v.index()].clone(),
                venue_syms,
            ));
            inner.clone().spawn_balance_listener(v);
        }

        // Crash recovery before any trading: cancel our leftover orders, adopt fills
        // the journal missed, close unfinished transactions per the hedge policy.
        let recovery = crate::recovery::recover(&inner).await;
        inner.ready_ms.lock()["recovery"] = serde_json::to_value(&recovery).unwrap_or_default();

        // The hot-path hook, then the feeds.
        let hook_inner = inner.clone();
        store.add_listener(Arc::new(move |ch: &BookChange| hook_inner.on_change(ch)));
        let market = MarketData::start(inner.cfg.feed.clone(), store, &ids, &handle, log);
        inner.clone().spawn_health();
        inner.clone().spawn_spread_sampler();
        inner.clone().spawn_marker();
        inner.ready_ms.lock()["engine_ms"] = json!(t0.elapsed().as_millis() as u64);
        Ok(Engine {
            inner,
            market: Mutex::new(Some(market)),
            streams: Mutex::new(streams),
        })
    }

    /// Sets the event sink (Python callback).
    pub fn set_event_sink(&self, sink: Option<EventSink>) {
        *self.inner.events.write() = sink;
    }

    /// Sets the veto function used in `veto` mode.
    pub fn set_veto(&self, f: Option<VetoFn>) {
        *self.inner.veto.write() = f;
    }

    /// Replaces the strategy parameters and risk limits (hot reload).
    ///
    /// # Errors
    /// A value that does not parse, named by its key; nothing is changed then.
    pub fn update(
        &self,
        strategy: crate::config::StrategyConfig,
        risk: crate::config::RiskConfig,
    ) -> Result<(), ConfigError> {
        let params = strategy.params(&risk)?;
        let limits = risk.limits()?;
        *self.inner.params.write() = params;
        self.inner.risk.lock().set_limits(limits);
        Ok(())
    }

    /// Operator halt (`Some(reason text)`) or resume (`None`).
    pub fn set_halt(&self, halt: bool) {
        self.inner
            .risk
            .lock()
            .set_halt(halt.then_some(KillReason::Operator));
    }

    /// A JSON view of everything an operator watches (books, venues, stats, inventory).
    pub fn snapshot(&self) -> serde_json::Value {
        let mut v = self.inner.snapshot(self.market.lock().as_ref());
        // Private streams (order/fill/balance pushes): connections, listenKeys, fills
        // recovered by the REST reconciliation after each reconnect.
        for (venue, s) in Venue::ALL.iter().zip(self.streams.lock().iter()) {
            let st = &s.stats;
            let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
            v["venues"][venue.as_str()]["private_stream"] = json!({
                "connected": st.connected.load(Ordering::Relaxed),
                "connects": l(&st.connects),
                "listen_keys_created": l(&st.listen_keys_created),
                "frames": l(&st.frames),
                "fills": l(&st.fills),
                "reconciles": l(&st.reconciles),
                "reconciled_fills": l(&st.reconciled_fills),
                "decode_errors": l(&st.decode_errors),
            });
        }
        v
    }

    /// Waits until no transaction is running (or `timeout`), then stops feeds and
    /// streams and flushes the journal.
    pub async fn shutdown(&self, timeout: Duration) {
        self.set_halt(true);
        let deadline = Instant::now() + timeout;
        while self
            .inner
            .syms
            .iter()
            .flatten()
            .any(|s| s.busy.load(Ordering::Acquire))
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.inner.cancel.cancel();
        if let Some(m) = self.market.lock().take() {
            m.stop();
        }
        for s in self.streams.lock().drain(..) {
            s.stop();
        }
        self.inner.journal.flush();
    }
}

impl Inner {
    fn params(&self) -> Params {
        self.params.read().clone()
    }

    fn emit(&self, ev: EngineEvent) {
        if let Some(sink) = self.events.read().as_ref() {
            sink(ev);
        }
    }

    fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// The hot-path hook: runs inline on the feed task after each applied change.
    pub fn on_change(self: &Arc<Self>, ch: &BookChange) {
        if !matches!(ch.kind, ChangeKind::Update | ChangeKind::Synced) {
            if let ChangeKind::Invalidated(_) = ch.kind {
                if let Some(k) = self.risk.lock().resync(now_ms()) {
                    self.halted(k);
                }
            }
            return;
        }
        let Some(sym) = self.syms.get(ch.symbol.index()).and_then(Option::as_ref) else {
            return;
        };
        self.stats.changes.inc();
        if sym.busy.load(Ordering::Acquire) || sym.paused.load(Ordering::Relaxed) {
            return;
        }
        let p = self.params.read();
        let now = now_ns();
        if now - sym.last_act_ns.load(Ordering::Relaxed) < p.cooldown_ns
            || now < sym.paused_until_ns.load(Ordering::Relaxed)
        {
            return;
        }
        let Some((opp, buy, book_age_ms)) = self.best_opportunity(sym, &p, None) else {
            return;
        };
        self.stats.detected.inc();
        let notional = scale_to_acct(opp.buy_cost as i128, sym.scales.price + sym.scales.qty);
        let qty = scale_to_acct(opp.qty as i128, sym.scales.qty);
        let check = self.risk.lock().check(
            &Proposal {
                base_asset: &sym.base,
                qty,
                notional,
                buy,
                sell: buy.other(),
            },
            now / 1_000_000,
        );
        // One dislocation is acted on once: the cooldown starts whatever the decision.
        sym.last_act_ns.store(now, Ordering::Relaxed);
        if let Err(v) = check {
            self.stats.vetoed.inc();
            *self.stats.vetoes.lock().entry(v.label()).or_insert(0) += 1;
            return;
        }
        if sym
            .busy
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return;
        }
        self.risk.lock().opened(notional);
        self.stats.taken.inc();
        let me = self.clone();
        let sym = sym.clone();
        let recv_ns = ch.recv_ns;
        let params = p.clone();
        drop(p);
        // A panicked transaction would leave its symbol busy (never traded again) and its
        // notional counted open: the panic is caught in the task itself (no second task
        // per trade) and releases both, pausing the symbol since its legs may be anywhere
        // (the journal keeps the transaction unfinished, and recovery closes it at the
        // next start). Its balance reservations stay held for the same reason (its legs
        // may still fill). The panic itself was logged (scrubbed), counted and alerted by
        // the process's panic hook.
        self.handle.spawn(async move {
            let run = async {
                if PANIC_NEXT_TX.swap(false, Ordering::AcqRel) {
                    panic!("test hook: a transaction task of {} panicked", sym.unified);
                }
                me.clone()
                    .execute(
                        sym.clone(),
                        buy,
                        opp,
                        notional,
                        recv_ns,
                        book_age_ms,
                        params,
                    )
                    .await;
            };
            if futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(run))
                .await
                .is_err()
            {
                me.transaction_panicked(&sym, notional);
            }
        });
    }

    fn transaction_panicked(&self, sym: &Sym, notional: i128) {
        sym.paused.store(true, Ordering::Relaxed);
        self.release(sym, notional);
        let reason = format!(
            "{}: a transaction task panicked; symbol paused until restart",
            sym.unified
        );
        arb_telemetry::log_text(
            arb_telemetry::Level::Critical,
            "arb_engine",
            reason.clone(),
            [],
        );
        self.journal.send(JournalRecord::Event {
            t_ms: now_ms(),
            kind: "tx_panic",
            detail: reason.clone(),
        });
        self.emit(EngineEvent::Halted { reason });
    }

    /// Copies both books' top levels (valid and fresh only) and prices both directions.
    /// Returns the better opportunity, its buy venue and the older book's age (ms).
    fn best_opportunity(
        &self,
        sym: &Sym,
        p: &Params,
        caps: Option<[Caps; 2]>,
    ) -> Option<(Opportunity, Venue, i64)> {
        let mut bids = [[(0u64, 0u64); DEPTH]; 2];
        let mut asks = [[(0u64, 0u64); DEPTH]; 2];
        let mut n_bids = [0usize; 2];
        let mut n_asks = [0usize; 2];
        let mut age_ms = 0i64;
        for v in Venue::ALL {
            let i = v.index();
            let ok = self.store.read(v, sym.id, |book, valid| {
                if !valid {
                    return false;
                }
                for (k, l) in book.depth(BookSide::Bid, DEPTH).enumerate() {
                    bids[i][k] = (l.price, l.qty);
                    n_bids[i] = k + 1;
                }
                for (k, l) in book.depth(BookSide::Ask, DEPTH).enumerate() {
                    asks[i][k] = (l.price, l.qty);
                    n_asks[i] = k + 1;
                }
                true
            })?;
            if !ok {
                return None;
            }
            let age = self
                .store
                .age(v, sym.id)
                .map_or(i64::MAX, |d| d.as_millis() as i64);
            age_ms = age_ms.max(age);
        }
        if age_ms > p.max_book_age_ms as i64 {
            self.stats.stale_refused.inc();
            return None;
        }
        let legs = *sym.legs.read();
        let max_cost =
            acct_to_scale(p.trade_notional, sym.scales.price + sym.scales.qty).max(0) as u128;
        let dp = DetectParams {
            threshold: p.threshold,
            max_cost,
        };
        let mut best: Option<(Opportunity, Venue)> = None;
        for buy in Venue::ALL {
            let (b, s) = (buy.index(), buy.other().index());
            let c = caps.map_or(Caps::UNLIMITED, |c| c[b]);
            if let Ok(o) = detect(
                &asks[b][..n_asks[b]],
                &bids[s][..n_bids[s]],
                sym.scales,
                &legs[b],
                &legs[s],
                &dp,
                &c,
            ) {
                if best.as_ref().is_none_or(|(x, _)| o.profit_e8 > x.profit_e8) {
                    best = Some((o, buy));
                }
            }
        }
        best.map(|(o, v)| (o, v, age_ms))
    }

    fn caps_from(&self, sym: &Sym, buy: Venue, bal: &BalanceBook) -> Caps {
        let nscale = sym.scales.price + sym.scales.qty;
        // A balance whose available amount does not fit is none to trade with.
        let quote = bal
            .available(buy, &sym.quote)
            .map_or(0, |a| a.mantissa().max(0));
        let base = bal
            .available(buy.other(), &sym.base)
            .map_or(0, |a| a.mantissa().max(0));
        Caps {
            buy_quote: acct_to_scale(quote, nscale) as u128,
            sell_base: acct_to_scale(base, sym.scales.qty).min(u64::MAX as i128) as u64,
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn execute(
        self: Arc<Self>,
        sym: Arc<Sym>,
        buy: Venue,
        detected: Opportunity,
        notional: i128,
        recv_ns: i64,
        book_age_ms: i64,
        p: Params,
    ) {
        let opp_id = self.next_id();
        let sell = buy.other();
        // Every refusal before the orders go out is journaled, told to Python and
        // releases the symbol the same way.
        let refuse =
            |opp: &Opportunity, book_age_ms: i64, balance_age_ms: Option<i64>, why: &str| {
                self.abandon(
                    &sym,
                    opp,
                    buy,
                    notional,
                    opp_id,
                    book_age_ms,
                    balance_age_ms,
                    why,
                )
            };
        // Pre-trade: balances, then a final re-check on the current books.
        let (caps, balance_age_ms) = match p.balance_mode {
            BalanceMode::Fresh => {
                let asked_ms = [
                    self.clients[0].venue_now_ms(),
                    self.clients[1].venue_now_ms(),
                ];
                let (a, b) = tokio::join!(self.clients[0].balances(), self.clients[1].balances());
                match (a, b) {
                    (Ok(a), Ok(b)) => {
                        // Into the shared book: a newer push still wins, and in-flight
                        // reservations of other trades still apply.
                        let mut book = self.balances.lock();
                        for (v, bals) in [(Venue::Mexc, a), (Venue::Gate, b)] {
                            let listed = bals.into_iter().map(|x| (x.asset, x.free));
                            book.snapshot(v, listed, asked_ms[v.index()], now_ms());
                        }
                        let c = [
                            self.caps_from(&sym, Venue::Mexc, &book),
                            self.caps_from(&sym, Venue::Gate, &book),
                        ];
                        (c, 0)
                    }
                    (Err(e), _) | (_, Err(e)) => {
                        self.stats.error(e.class());
                        refuse(
                            &detected,
                            book_age_ms,
                            None,
                            &format!("balance check failed: {e}"),
                        );
                        return;
                    }
                }
            }
            BalanceMode::Stream => {
                let bal = self.balances.lock();
                let age = now_ms() - bal.updated_ms[buy.index()].min(bal.updated_ms[sell.index()]);
                let c = [
                    self.caps_from(&sym, Venue::Mexc, &bal),
                    self.caps_from(&sym, Venue::Gate, &bal),
                ];
                (c, age)
            }
        };
        self.stats
            .decision_balance_age
            .record(Duration::from_millis(balance_age_ms.max(0) as u64));
        self.stats
            .decision_book_age
            .record(Duration::from_millis(book_age_ms.max(0) as u64));
        if balance_age_ms > p.max_balance_age_ms as i64 {
            self.stats.stale_refused.inc();
            refuse(
                &detected,
                book_age_ms,
                Some(balance_age_ms),
                "refused: balance data too old",
            );
            return;
        }
        let Some((opp, buy2, book_age_ms)) = self.best_opportunity(&sym, &p, Some(caps)) else {
            self.stats.vanished.inc();
            refuse(
                &detected,
                book_age_ms,
                Some(balance_age_ms),
                "vanished at re-check",
            );
            return;
        };
        if buy2 != buy {
            self.stats.vanished.inc();
            refuse(
                &detected,
                book_age_ms,
                Some(balance_age_ms),
                "direction flipped at re-check",
            );
            return;
        }
        // Python: veto (wait for approval) or notify (never wait).
        let scales = sym.scales;
        let nscale = scales.price + scales.qty;
        let qty_txt = || arb_core::fixed::format_scaled(opp.qty as i128, scales.qty);
        let edge_txt = || arb_core::fixed::format_scaled(opp.edge as i128, 4);
        if p.python_risk_mode == PythonRiskMode::Veto {
            // Veto mode approves only what Python approves: with no rule installed
            // (e.g. the mode switched at runtime without one), nothing is sent.
            let Some(veto) = self.veto.read().clone() else {
                refuse(
                    &opp,
                    book_age_ms,
                    Some(balance_age_ms),
                    "refused: veto mode and no python rule installed",
                );
                return;
            };
            let t = Instant::now();
            let rx = veto(VetoRequest {
                symbol: sym.unified.to_string(),
                buy,
                sell,
                qty: qty_txt(),
                notional: arb_core::fixed::format_scaled(opp.buy_cost as i128, nscale),
                edge_bps: edge_txt(),
            });
            let ok = matches!(
                tokio::time::timeout(Duration::from_secs(1), rx).await,
                Ok(Ok(true))
            );
            self.stats.veto_wait.record(t.elapsed());
            if !ok {
                refuse(&opp, book_age_ms, Some(balance_age_ms), "vetoed by python");
                return;
            }
        }

        let tx_id = self.next_id();
        let prefix = self.cfg.client_id_prefix.clone();
        let id =
            |leg| ClientOrderId::for_leg(&prefix, tx_id, leg).expect("prefix validated at start");
        let (buy_id, sell_id) = (id(Leg::A), id(Leg::B));
        let (bk, sk) = (buy.index(), sell.index());
        let price = |m: u64| Amount::from_scaled(m, scales.price);
        let qty = Amount::from_scaled(opp.qty, scales.qty);
        let buy_kind = buy_order_kind(&p, buy, price(opp.buy_limit), qty);
        let sell_kind = OrderKind::Limit {
            price: price(opp.sell_limit),
            qty,
            tif: match p.order_style {
                OrderStyle::MarketLimit => TimeInForce::Gtc,
                OrderStyle::IocBoth => TimeInForce::Ioc,
            },
        };
        let buy_req = OrderRequest {
            rules: sym.rules[bk].clone(),
            side: Side::Buy,
            kind: buy_kind,
            client_id: buy_id.clone(),
        };
        let sell_req = OrderRequest {
            rules: sym.rules[sk].clone(),
            side: Side::Sell,
            kind: sell_kind,
            client_id: sell_id.clone(),
        };
        let prepared = buy_req
            .prepare()
            .and_then(|b| sell_req.prepare().map(|s| (b, s)));
        let (pb, ps) = match prepared {
            Ok(x) => x,
            Err(e) => {
                self.stats.error(e.class());
                refuse(
                    &opp,
                    book_age_ms,
                    Some(balance_age_ms),
                    &format!("order preparation failed: {e}"),
                );
                return;
            }
        };
        let opportunity_event = |decision: &str| EngineEvent::Opportunity {
            id: opp_id,
            symbol: sym.unified.to_string(),
            buy,
            sell,
            qty: qty_txt(),
            edge_bps: edge_txt(),
            decision: decision.into(),
        };
        if self.cfg.dry_run {
            let bal = Some(balance_age_ms);
            self.journal.send(self.opportunity_record(
                &sym,
                &opp,
                buy,
                opp_id,
                book_age_ms,
                bal,
                "dry_run",
                None,
            ));
            self.emit(opportunity_event("dry_run"));
            self.release(&sym, notional);
            return;
        }

        // Reserve what the legs use (stream mode reads these).
        let quote_res = Amount::from_mantissa(scale_to_acct(opp.buy_cost as i128, nscale));
        let reserved = {
            let mut b = self.balances.lock();
            let r = b
                .reserve(tx_id, buy, &sym.quote, quote_res)
                .and_then(|()| b.reserve(tx_id, sell, &sym.base, qty));
            if r.is_err() {
                b.finish(tx_id, [None, None], now_ms());
            }
            r
        };
        if let Err(e) = reserved {
            // Only absurd venue balances get here: nothing is sent.
            self.stats.error(ErrorClass::Malformed);
            self.journal.send(JournalRecord::Event {
                t_ms: now_ms(),
                kind: "not_sent",
                detail: format!("{}: {e}", sym.unified),
            });
            self.release(&sym, notional);
            return;
        }
        // The intent first: the transaction and both orders are staged in the journal
        // before they are sent (no syscall: the writer picks them up off this path), so
        // a crash after the send leaves the journal knowing what was in flight. The
        // Python event comes after the orders are out.
        let request_us = now_ns() / 1000;
        let submitted_ms = now_ms();
        self.journal.stage(self.opportunity_record(
            &sym,
            &opp,
            buy,
            opp_id,
            book_age_ms,
            Some(balance_age_ms),
            "taken",
            Some(tx_id),
        ));
        self.journal
            .stage(JournalRecord::TxStart(Box::new(journal::TxStart {
                tx_id,
                symbol: sym.unified.clone(),
                buy_venue: venue_name(buy),
                sell_venue: venue_name(sell),
                qty: Dec::new(opp.qty as i128, scales.qty),
                expected_pnl: Dec::new(opp.profit_e8, nscale + 8),
                started_ms: request_us / 1000,
            })));
        self.journal
            .stage(order_record(tx_id, LegRole::Buy, &sym, &pb, request_us));
        self.journal
            .stage(order_record(tx_id, LegRole::Sell, &sym, &ps, request_us));
        // Measured after the staging, so its cost is in the figure.
        let tick_to_trade_us = (now_ns() - recv_ns) / 1000;
        self.stats
            .tick_to_trade
            .record_ns((tick_to_trade_us.max(0) * 1000) as u64);
        // Both legs at once (as `arb_exec::submit_pair_prepared`), each timed on its own
        // so the per-venue acknowledgement latency is that venue's.
        let ((ra, ack_a), (rb, ack_b)) = tokio::join!(
            timed_place(&self.clients[bk], &pb),
            timed_place(&self.clients[sk], &ps)
        );
        self.emit(opportunity_event("taken"));
        for (v, r, ack_us, p) in [(buy, &ra, ack_a, &pb), (sell, &rb, ack_b, &ps)] {
            if let Ok(st) = r {
                self.stats.leg_ack[v.index()]
                    .record(Duration::from_micros((ack_us - request_us).max(0) as u64));
                self.journal_ack(tx_id, p, st, ack_us);
            }
        }

        let mut tx = ArbTx::new(
            tx_id,
            buy,
            sell,
            opp.qty,
            buy_id.as_str().to_string(),
            sell_id.as_str().to_string(),
            p.hedge_policy,
        );
        self.fold_result(&mut tx, &sym, buy_id.as_str(), ra);
        self.fold_result(&mut tx, &sym, sell_id.as_str(), rb);
        let outcome = self.drive(&mut tx, &sym, &p).await;

        self.settle_fills(&tx, &sym, submitted_ms).await;
        // Reservations (legs and hedges) stay until the balances reflect the fills.
        let last_fill_ms = self.last_fill_ms(&tx);
        self.balances.lock().finish(tx.id, last_fill_ms, now_ms());
        self.finish(&sym, &tx, outcome, notional, Some(tick_to_trade_us));
    }

    /// Folds a placement's immediate result into the transaction.
    fn fold_result(
        &self,
        tx: &mut ArbTx,
        sym: &Sym,
        client_id: &str,
        r: Result<OrderState, ExecError>,
    ) {
        match r {
            Ok(st) => self.fold_state(tx, sym, client_id, &st),
            Err(e) => {
                self.stats.error(e.class());
                // Rejections: never retried as they are. Not API-tradable: the symbol
                // stops for good. Invalid order (precision, minimum, price range): our
                // rules disagree with the venue's; the symbol pauses for a minute.
                // Insufficient funds: the streamed balances are refreshed at once.
                match e.class() {
                    ErrorClass::SymbolNotTradable => sym.paused.store(true, Ordering::Relaxed),
                    ErrorClass::InvalidOrder => sym
                        .paused_until_ns
                        .store(now_ns() + 60_000_000_000, Ordering::Relaxed),
                    ErrorClass::InsufficientFunds => self.refresh_balances(e.venue),
                    _ => {}
                }
                let ev = if e.class() == ErrorClass::UnknownOutcome {
                    LegEvent::Unknown
                } else {
                    LegEvent::Final {
                        end: OrderEnd::Rejected(e.class()),
                        filled: 0,
                    }
                };
                tx.apply(client_id, ev);
                self.journal.send(JournalRecord::Event {
                    t_ms: now_ms(),
                    kind: "order_error",
                    detail: format!("tx {} {client_id}: {e}", tx.id),
                });
            }
        }
    }

    /// Folds a tracker state (fills, ack, final status) into the transaction.
    fn fold_state(&self, tx: &mut ArbTx, sym: &Sym, client_id: &str, st: &OrderState) {
        let qs = sym.scales.qty;
        if let Some(oid) = &st.order_id {
            tx.apply(
                client_id,
                LegEvent::Ack {
                    venue_id: oid.clone(),
                },
            );
        }
        for f in &st.fills {
            tx.apply(
                client_id,
                LegEvent::Fill {
                    trade_id: f.trade_id.clone(),
                    qty: amount_at(f.qty, qs),
                },
            );
        }
        let end = match st.status {
            OrderStatus::Filled => Some(OrderEnd::Filled),
            OrderStatus::Canceled => Some(OrderEnd::Canceled),
            OrderStatus::Expired => Some(OrderEnd::Expired),
            OrderStatus::Rejected => Some(OrderEnd::Rejected(ErrorClass::InvalidOrder)),
            OrderStatus::Unknown => {
                tx.apply(client_id, LegEvent::Unknown);
                None
            }
            _ => None,
        };
        if let Some(end) = end {
            tx.apply(
                client_id,
                LegEvent::Final {
                    end,
                    filled: amount_at(effective_filled(st), qs),
                },
            );
        }
    }

    fn tracker_state(&self, venue: Venue, client_id: &str) -> Option<OrderState> {
        self.clients[venue.index()]
            .tracker()
            .get(&ClientOrderId::from_venue(client_id))
    }

    /// Runs the transaction's state machine to its end.
    async fn drive(&self, tx: &mut ArbTx, sym: &Sym, p: &Params) -> Outcome {
        let started_ms = now_ms();
        let deadline = Instant::now() + Duration::from_millis(self.cfg.sell_deadline_ms);
        let hard_stop = Instant::now() + Duration::from_secs(60);
        loop {
            // Refresh from the trackers (streams and REST feed them).
            for i in 0..tx.orders.len() {
                let (venue, cid) = (tx.orders[i].venue, tx.orders[i].client_id.clone());
                if let Some(st) = self.tracker_state(venue, &cid) {
                    self.fold_state(tx, sym, &cid, &st);
                }
            }
            if Instant::now() >= deadline {
                tx.deadline();
            }
            // Everything final: make sure every fill is in before the residual decides
            // anything (a fill can trail its order's final state).
            if tx.outcome().is_none() && tx.orders.iter().all(|o| o.is_final()) {
                self.settle_fills(tx, sym, started_ms).await;
                for i in 0..tx.orders.len() {
                    let (venue, cid) = (tx.orders[i].venue, tx.orders[i].client_id.clone());
                    if let Some(st) = self.tracker_state(venue, &cid) {
                        self.fold_state(tx, sym, &cid, &st);
                    }
                }
            }
            match tx.next_action() {
                Action::Done(o) => return o,
                Action::Wait => {
                    if Instant::now() >= hard_stop {
                        // Something never answered: resolve every open order by query.
                        tx.deadline();
                    }
                    let live: Vec<(Venue, String)> = tx
                        .orders
                        .iter()
                        .filter(|o| !o.is_final())
                        .map(|o| (o.venue, o.client_id.clone()))
                        .collect();
                    let wait = deadline
                        .saturating_duration_since(Instant::now())
                        .max(Duration::from_millis(20));
                    self.wait_any_change(&live, wait.min(Duration::from_millis(500)))
                        .await;
                }
                Action::Cancel { client_id, venue } => {
                    tx.apply(&client_id, LegEvent::CancelSent);
                    let r = self.clients[venue.index()]
                        .cancel(
                            &sym.rules[venue.index()].venue_symbol,
                            &OrderRef::Client(ClientOrderId::from_venue(&client_id)),
                        )
                        .await;
                    if let Err(e) = &r {
                        if !e.is_order_not_found() {
                            self.stats.error(e.class());
                        }
                        // Already final (filled/canceled) or unknown: ask the venue.
                        self.resolve(tx, sym, venue, &client_id).await;
                    }
                }
                Action::Resolve { client_id, venue } => {
                    self.resolve(tx, sym, venue, &client_id).await;
                }
                Action::Hedge {
                    role,
                    venue,
                    side,
                    qty,
                    ioc,
                } => {
                    let legs: Vec<String> = tx
                        .orders
                        .iter()
                        .map(|o| {
                            format!(
                                "{}:{}:{:?}:filled={}",
                                o.client_id, o.venue, o.phase, o.filled
                            )
                        })
                        .collect();
                    self.journal.send(JournalRecord::Event {
                        t_ms: now_ms(),
                        kind: "hedge",
                        detail: format!(
                            "tx {} residual {} -> {} {qty} on {venue}; legs {}",
                            tx.id,
                            tx.residual(),
                            side.as_str(),
                            legs.join(", ")
                        ),
                    });
                    // Where the residual can be traded: the policy's venue if its
                    // amount precision and minimum take it exactly, else the other venue
                    // (chasing there) if that one can; what neither can take is dust.
                    let Some(plan) = self.hedge_plan(sym, venue, side, qty, ioc, p.slippage) else {
                        self.journal.send(JournalRecord::Event {
                            t_ms: now_ms(),
                            kind: "dust",
                            detail: format!(
                                "tx {}: residual {} base units below what either venue can trade; kept",
                                tx.id,
                                tx.residual()
                            ),
                        });
                        tx.finish_dust();
                        continue;
                    };
                    // `None`: nothing was sent (the venue would refuse it): dust, no failure.
                    if let Some(ok) = self.hedge(tx, sym, role, side, plan).await {
                        if let Some(k) = self.risk.lock().hedge_result(ok) {
                            self.halted(k);
                        }
                    }
                }
            }
        }
    }

    async fn wait_any_change(&self, live: &[(Venue, String)], wait: Duration) {
        if live.is_empty() {
            return;
        }
        type Waiter = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;
        let futs: Vec<Waiter> = live
            .iter()
            .map(|(v, cid)| -> Waiter {
                let tracker = self.clients[v.index()].tracker().clone();
                let cid = ClientOrderId::from_venue(cid);
                // The version is read now, before waiting, so a change that lands in
                // between is not missed.
                let seen = tracker.get(&cid).map_or(0, |s| s.version);
                Box::pin(async move {
                    tracker
                        .wait_until(&cid, wait, move |s| s.version > seen)
                        .await;
                })
            })
            .collect();
        let _ = tokio::time::timeout(wait, futures_select_any(futs)).await;
    }

    /// Queries an order and folds the answer in. An acknowledged order is asked for by
    /// its venue id (venues forget client ids of finished orders: Gate at once, in its
    /// order lookup). One never acknowledged is looked for in every source that covers
    /// finished orders (`VenueClient::resolve_unknown`: the tracker, the order by
    /// client id, the order and trade histories around the send, twice, after MEXC's
    /// read lag); only that proof of absence makes it final with nothing filled. A
    /// source that cannot be read leaves it unknown, asked again on the next round.
    async fn resolve(&self, tx: &mut ArbTx, sym: &Sym, venue: Venue, client_id: &str) {
        let c = &self.clients[venue.index()];
        let symbol = &sym.rules[venue.index()].venue_symbol;
        let venue_id = tx
            .order(client_id)
            .and_then(|o| o.venue_id.clone())
            .or_else(|| {
                self.tracker_state(venue, client_id)
                    .and_then(|s| s.order_id)
            });
        let found = match &venue_id {
            Some(id) => c
                .query(symbol, &OrderRef::Venue(id.clone()))
                .await
                .map(|_| true),
            None => c
                .resolve_unknown(symbol, &ClientOrderId::from_venue(client_id))
                .await
                .map(|l| l != Located::Absent),
        };
        match found {
            Ok(true) => {
                if let Some(st) = self.tracker_state(venue, client_id) {
                    self.fold_state(tx, sym, client_id, &st);
                }
            }
            Ok(false) => {
                tx.apply(
                    client_id,
                    LegEvent::Final {
                        end: OrderEnd::Rejected(ErrorClass::UnknownOutcome),
                        filled: 0,
                    },
                );
            }
            Err(e) => {
                self.stats.error(e.class());
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }

    /// The best price an order of `side` takes on `venue` (its best ask for a buy).
    fn touch(&self, sym: &Sym, venue: Venue, side: Side) -> Option<u64> {
        self.store.top(venue, sym.id).and_then(|t| match side {
            Side::Buy => t.ask.map(|l| l.price),
            Side::Sell => t.bid.map(|l| l.price),
        })
    }

    /// The venue time of the transaction's last fill on each venue (`None`: nothing
    /// filled there). An order reported filled whose fills are not in is taken as filled
    /// now.
    fn last_fill_ms(&self, tx: &ArbTx) -> [Option<i64>; 2] {
        let mut last = [None, None];
        for o in &tx.orders {
            let Some(st) = self.tracker_state(o.venue, &o.client_id) else {
                continue;
            };
            let t = match st.fills.iter().map(|f| f.time_ms).max() {
                Some(t) => t,
                None if effective_filled(&st).is_zero() => continue,
                None => self.clients[o.venue.index()].venue_now_ms(),
            };
            let l = &mut last[o.venue.index()];
            *l = Some(l.map_or(t, |x: i64| x.max(t)));
        }
        last
    }

    /// Chooses where a hedge goes, or `None` when the residual is dust neither venue can
    /// trade.
    fn hedge_plan(
        &self,
        sym: &Sym,
        venue: Venue,
        side: Side,
        qty: u64,
        ioc: bool,
        slippage: u64,
    ) -> Option<HedgePlan> {
        let legs = *sym.legs.read();
        // What `venue` takes and at which price: an IOC limit through the touch (chase,
        // and buys on Gate, which has no base-sized market buy) or a market order.
        let on = |venue: Venue, ioc: bool| {
            let limit = ioc || (side == Side::Buy && venue == Venue::Gate);
            let q = hedge_quote(
                qty,
                self.touch(sym, venue, side),
                side == Side::Buy,
                limit,
                slippage,
                sym.scales,
                &legs[venue.index()],
            );
            HedgePlan {
                venue,
                qty: q.qty,
                limit: q.limit,
            }
        };
        let here = on(venue, ioc);
        if here.qty == qty {
            return Some(here);
        }
        let there = on(venue.other(), true);
        if there.qty == qty {
            return Some(there);
        }
        // Neither takes it exactly: the larger tradable part; the rest becomes dust.
        match here.qty.max(there.qty) {
            0 => None,
            q if q == here.qty => Some(here),
            _ => Some(there),
        }
    }

    async fn hedge(
        &self,
        tx: &mut ArbTx,
        sym: &Sym,
        role: LegRole,
        side: Side,
        plan: HedgePlan,
    ) -> Option<bool> {
        let HedgePlan { venue, qty, limit } = plan;
        let scales = sym.scales;
        let rules = &sym.rules[venue.index()];
        let q = Amount::from_scaled(qty, scales.qty);
        let cid = ClientOrderId::for_leg(&self.cfg.client_id_prefix, tx.id, leg_of(role))
            .expect("validated prefix");
        // At the price the plan checked the venue's minimums at.
        let kind = match limit {
            None => OrderKind::Market { qty: q },
            Some(px) => OrderKind::Limit {
                price: Amount::from_scaled(px, scales.price),
                qty: q,
                tif: TimeInForce::Ioc,
            },
        };
        let req = OrderRequest {
            rules: rules.clone(),
            side,
            kind,
            client_id: cid.clone(),
        };
        let prepared = match req.prepare() {
            Ok(p) => p,
            Err(e) => {
                // Refused by the venue's rules before sending: the residual is dust (the
                // same rejection would come back on every retry, tripping the
                // hedge-failure kill switch over a residual nothing can trade).
                self.journal.send(JournalRecord::Event {
                    t_ms: now_ms(),
                    kind: "dust",
                    detail: format!(
                        "tx {}: residual {} cannot be hedged ({e}); kept",
                        tx.id,
                        tx.residual()
                    ),
                });
                tx.finish_dust();
                return None;
            }
        };
        tx.add_hedge(role, venue, side, cid.as_str().to_string(), qty);
        // Reserved like the legs (released with them, once the balances show the fills):
        // base for a sell, quote at the limit (a market buy: at the ask) for a buy.
        let (asset, amount) = match side {
            Side::Sell => (&sym.base, q),
            Side::Buy => {
                let px = limit.or_else(|| self.touch(sym, venue, side)).unwrap_or(0);
                // prepare() has refused a notional out of range, so the product fits; a
                // touch price that would not (no book) reserves nothing rather than panic.
                let notional = q.checked_mul(Amount::from_scaled(px, scales.price));
                (&sym.quote, notional.unwrap_or(Amount::ZERO))
            }
        };
        if let Err(e) = self.balances.lock().reserve(tx.id, venue, asset, amount) {
            // Sent anyway (a residual must be hedged); only the stream-mode view of the
            // balance misses it until the next REST snapshot.
            self.stats.error(ErrorClass::Malformed);
            self.journal.send(JournalRecord::Event {
                t_ms: now_ms(),
                kind: "not_reserved",
                detail: format!("tx {}: {e}", tx.id),
            });
        }
        self.journal_order(tx.id, role, sym, &prepared, now_ns() / 1000);
        let r = self.clients[venue.index()].place_prepared(&prepared).await;
        let ok = r.is_ok();
        self.fold_result(tx, sym, cid.as_str(), r);
        Some(ok)
    }

    /// Makes sure every fill of every order is known before booking: a venue's order
    /// answer can say "filled" before the private stream has delivered each fill.
    /// Waits (bounded) for the stream, then asks the venue's trade list over REST.
    async fn settle_fills(&self, tx: &ArbTx, sym: &Sym, since_ms: i64) {
        fn complete(st: &OrderState) -> bool {
            st.fills.iter().fold(Amount::ZERO, |a, f| a + f.qty) >= effective_filled(st)
        }
        for o in &tx.orders {
            let c = &self.clients[o.venue.index()];
            let cid = ClientOrderId::from_venue(&o.client_id);
            if c.tracker().get(&cid).is_none_or(|s| complete(&s)) {
                continue;
            }
            let settled = c
                .tracker()
                .wait_until(&cid, Duration::from_millis(1500), complete)
                .await;
            if settled.is_none() {
                let venue_symbol = &sym.rules[o.venue.index()].venue_symbol;
                if let Err(e) = c.my_trades(venue_symbol, Some(since_ms - 5_000), 100).await {
                    self.stats.error(e.class());
                }
            }
        }
    }

    /// Books a finished transaction: ledger, PnL, risk, journal, Python.
    fn finish(
        &self,
        sym: &Sym,
        tx: &ArbTx,
        outcome: Outcome,
        notional: i128,
        tick_to_trade_us: Option<i64>,
    ) {
        let mut ledger = Ledger::new();
        // What could not be booked (venue values beyond any real account): journaled
        // in the transaction's detail, counted as malformed.
        let mut not_booked = Vec::new();
        let mut journal_fills = Vec::new();
        for o in &tx.orders {
            let Some(st) = self.tracker_state(o.venue, &o.client_id) else {
                continue;
            };
            self.journal_tracked(tx.id, &o.client_id, o.role, sym, o.side.as_str(), &st);
            for f in &st.fills {
                if let Err(e) = ledger.record(f, &sym.base, &sym.quote) {
                    not_booked.push(e.to_string());
                }
                journal_fills.push(f.clone());
            }
        }
        for f in journal_fills {
            self.journal_fill(tx.id, sym, &f);
        }
        // Mark residual base at the mid of the venues' tops (for PnL and risk).
        let mark = self.mark_price(sym);
        let pnl = ledger
            .pnl(&sym.quote, |asset| {
                (asset == sym.base).then_some(mark).flatten()
            })
            .unwrap_or_else(|| {
                not_booked.push("realized PnL does not fit; booked as 0".into());
                Amount::ZERO
            });
        let fees = ledger.fees_quote();
        let residual = tx.residual();
        let residual_acct = scale_to_acct(residual, sym.scales.qty);
        not_booked.extend(merge_ledger(
            &mut self.stats.ledger.lock(),
            &tx.orders,
            self,
            sym,
        ));
        for (total, add, what) in [
            (&self.stats.pnl, pnl, "PnL"),
            (&self.stats.fees, fees, "fees"),
        ] {
            let mut total = total.lock();
            match total.checked_add(add) {
                Some(t) => *total = t,
                None => not_booked.push(format!("the run's {what} total does not fit; left out")),
            }
        }
        if !not_booked.is_empty() {
            self.stats.error(ErrorClass::Malformed);
        }
        *self
            .stats
            .outcomes
            .lock()
            .entry(outcome.label())
            .or_insert(0) += 1;
        metrics::counter("engine_transactions_total", &[("outcome", outcome.label())]).inc();
        let kill = self.risk.lock().closed(
            notional,
            &sym.base,
            pnl.mantissa(),
            residual_acct,
            mark.map_or(0, |m| m.mantissa()),
            now_ms(),
        );
        if let Some(k) = kill {
            self.halted(k);
        }
        let (bought, sold) = tx.bought_sold();
        self.journal
            .send(JournalRecord::TxFinish(Box::new(journal::TxFinish {
                tx_id: tx.id,
                finished_ms: now_ms(),
                outcome: outcome.label(),
                bought_qty: Dec::new(bought as i128, sym.scales.qty),
                sold_qty: Dec::new(sold as i128, sym.scales.qty),
                realized_pnl: Dec::new(pnl.mantissa(), 18),
                fees_quote: Dec::new(fees.mantissa(), 18),
                residual_base: Dec::new(residual, sym.scales.qty),
                tick_to_trade_us,
                detail: not_booked.join("; "),
            })));
        self.emit(EngineEvent::Transaction {
            tx_id: tx.id,
            symbol: sym.unified.to_string(),
            outcome: outcome.label().into(),
            realized_pnl: pnl.to_string(),
            fees_quote: fees.to_string(),
            tick_to_trade_us,
        });
        sym.busy.store(false, Ordering::Release);
    }

    pub(crate) fn mark_price(&self, sym: &Sym) -> Option<Amount> {
        let mut sum = 0u128;
        let mut n = 0u128;
        for v in Venue::ALL {
            if let Some(t) = self.store.top(v, sym.id) {
                if let (Some(b), Some(a)) = (t.bid, t.ask) {
                    sum += b.price as u128 + a.price as u128;
                    n += 2;
                }
            }
        }
        (n > 0).then(|| Amount::from_scaled((sum / n) as u64, sym.scales.price))
    }

    fn release(&self, sym: &Sym, notional: i128) {
        self.risk
            .lock()
            .closed(notional, &sym.base, 0, 0, 0, now_ms());
        sym.busy.store(false, Ordering::Release);
    }

    #[allow(clippy::too_many_arguments)]
    fn abandon(
        &self,
        sym: &Sym,
        opp: &Opportunity,
        buy: Venue,
        notional: i128,
        opp_id: u64,
        book_age_ms: i64,
        balance_age_ms: Option<i64>,
        why: &str,
    ) {
        self.journal.send(self.opportunity_record(
            sym,
            opp,
            buy,
            opp_id,
            book_age_ms,
            balance_age_ms,
            why,
            None,
        ));
        self.emit(EngineEvent::Opportunity {
            id: opp_id,
            symbol: sym.unified.to_string(),
            buy,
            sell: buy.other(),
            qty: arb_core::fixed::format_scaled(opp.qty as i128, sym.scales.qty),
            edge_bps: arb_core::fixed::format_scaled(opp.edge as i128, 4),
            decision: why.to_string(),
        });
        self.release(sym, notional);
    }

    fn halted(&self, k: KillReason) {
        self.journal.send(JournalRecord::Event {
            t_ms: now_ms(),
            kind: "halt",
            detail: k.to_string(),
        });
        self.emit(EngineEvent::Halted {
            reason: k.to_string(),
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn opportunity_record(
        &self,
        sym: &Sym,
        opp: &Opportunity,
        buy: Venue,
        id: u64,
        book_age_ms: i64,
        balance_age_ms: Option<i64>,
        decision: &str,
        tx_id: Option<u64>,
    ) -> JournalRecord {
        let (ps, qs) = (sym.scales.price, sym.scales.qty);
        JournalRecord::Opportunity(Box::new(journal::OpportunityRecord {
            id,
            t_ms: now_ms(),
            symbol: sym.unified.clone(),
            buy_venue: venue_name(buy),
            sell_venue: venue_name(buy.other()),
            qty: Dec::new(opp.qty as i128, qs),
            buy_cost: Dec::new(opp.buy_cost as i128, ps + qs),
            sell_proceeds: Dec::new(opp.sell_proceeds as i128, ps + qs),
            best_ask: Dec::new(opp.best_ask as i128, ps),
            best_bid: Dec::new(opp.best_bid as i128, ps),
            edge: opp.edge,
            book_age_ms,
            balance_age_ms,
            decision: decision.to_string(),
            tx_id,
        }))
    }

    pub(crate) fn journal_order(
        &self,
        tx_id: u64,
        role: LegRole,
        sym: &Sym,
        p: &PreparedOrder,
        request_us: i64,
    ) {
        self.journal
            .send(order_record(tx_id, role, sym, p, request_us));
    }

    /// Records an order's state as the venue reports it (recovery).
    pub(crate) fn journal_order_state(
        &self,
        tx_id: u64,
        sym: &Sym,
        venue: Venue,
        r: &arb_exec::lifecycle::OrderReport,
    ) {
        let cid = r
            .client_id
            .as_ref()
            .map(|c| c.as_str().to_string())
            .unwrap_or_else(|| format!("#{}", r.order_id));
        let leg = cid.rsplit('_').next().map_or("", |l| match l {
            "a" => "buy",
            "b" => "sell",
            _ => "hedge",
        });
        self.journal
            .send(JournalRecord::Order(Box::new(journal::OrderRecord {
                client_order_id: cid,
                tx_id,
                leg,
                venue: venue_name(venue),
                symbol: sym.unified.clone(),
                side: r.side.map_or("", Side::as_str),
                kind: "",
                price: r.price.map(|p| Dec::new(p.mantissa(), 18)),
                qty: r.orig_qty.map(|q| Dec::new(q.mantissa(), 18)),
                quote_qty: None,
                venue_order_id: Some(r.order_id.clone()),
                status: r.status.as_str(),
                filled_qty: r.filled_qty.map(|q| Dec::new(q.mantissa(), 18)),
                request_us: 0,
                ack_us: None,
                final_us: r.status.is_final().then(|| now_ns() / 1000),
                error_class: None,
                error: None,
            })));
    }

    /// Records an order's state as its venue client tracks it (status, venue id, filled
    /// quantity; final time once final) in the journal.
    pub(crate) fn journal_tracked(
        &self,
        tx_id: u64,
        client_id: &str,
        role: LegRole,
        sym: &Sym,
        side: &'static str,
        st: &OrderState,
    ) {
        self.journal
            .send(JournalRecord::Order(Box::new(journal::OrderRecord {
                client_order_id: client_id.to_string(),
                tx_id,
                leg: role.label(),
                venue: venue_name(st.venue),
                symbol: sym.unified.clone(),
                side,
                kind: "",
                price: None,
                qty: None,
                quote_qty: None,
                venue_order_id: st.order_id.clone(),
                status: st.status.as_str(),
                filled_qty: Some(Dec::new(st.filled_qty.mantissa(), 18)),
                request_us: 0,
                ack_us: None,
                final_us: st.status.is_final().then(|| now_ns() / 1000),
                error_class: None,
                error: st.reason.clone(),
            })));
    }

    /// Records a leg's acknowledgement (venue id, status, time) in the journal.
    fn journal_ack(&self, tx_id: u64, p: &PreparedOrder, st: &OrderState, ack_us: i64) {
        self.journal
            .send(JournalRecord::Order(Box::new(journal::OrderRecord {
                client_order_id: p.client_id.as_str().to_string(),
                tx_id,
                leg: "",
                venue: venue_name(p.venue),
                symbol: Arc::from(""),
                side: "",
                kind: "",
                price: None,
                qty: None,
                quote_qty: None,
                venue_order_id: st.order_id.clone(),
                status: st.status.as_str(),
                filled_qty: None,
                request_us: 0,
                ack_us: Some(ack_us),
                final_us: None,
                error_class: None,
                error: None,
            })));
    }

    pub(crate) fn journal_fill(&self, tx_id: u64, sym: &Sym, f: &arb_exec::lifecycle::Fill) {
        self.journal
            .send(JournalRecord::Fill(Box::new(journal::FillRecord {
                venue: venue_name(f.venue),
                trade_id: f.trade_id.clone(),
                client_order_id: f
                    .client_id
                    .as_ref()
                    .map(|c| c.as_str().to_string())
                    .unwrap_or_default(),
                venue_order_id: f.order_id.clone(),
                tx_id: Some(tx_id),
                symbol: sym.unified.clone(),
                side: f.side.as_str(),
                price: f.price.to_string(),
                qty: f.qty.to_string(),
                quote_qty: f.quote_qty.to_string(),
                fee: f.fee.to_string(),
                fee_asset: f.fee_currency.clone(),
                is_maker: f.is_maker,
                t_ms: f.time_ms,
                recv_us: now_ns() / 1000,
            })));
    }

    /// Re-reads one venue's balances over REST into the streamed view (in the
    /// background: called from the execution path).
    fn refresh_balances(&self, venue: Venue) {
        let client = self.clients[venue.index()].clone();
        let balances = self.balances.clone();
        self.handle.spawn(async move {
            let asked_ms = client.venue_now_ms();
            if let Ok(bals) = client.balances().await {
                let listed = bals.into_iter().map(|x| (x.asset, x.free));
                balances.lock().snapshot(venue, listed, asked_ms, now_ms());
            }
        });
    }

    /// Runs a background task and starts it again whenever it panics: a dead health
    /// check or balance listener would leave trading on state nobody updates any more.
    /// The panic itself was logged (scrubbed), counted and alerted by the process's
    /// panic hook; here it is journaled, and `on_panic` withdraws what the dead task was
    /// vouching for until it runs again.
    fn supervise<F, Fut>(self: &Arc<Self>, name: &'static str, on_panic: fn(&Inner), make: F)
    where
        F: Fn(Arc<Self>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let me = self.clone();
        self.handle.spawn(async move {
            loop {
                match me.handle.spawn(make(me.clone())).await {
                    Err(e) if e.is_panic() => {
                        on_panic(&me);
                        me.journal.send(JournalRecord::Event {
                            t_ms: now_ms(),
                            kind: "task_panic",
                            detail: format!("the {name} task panicked; started again in 1 s"),
                        });
                        tokio::select! {
                            _ = me.cancel.cancelled() => return,
                            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        }
                    }
                    _ => return,
                }
            }
        });
    }

    /// Keeps the streamed balances current (stream mode) from balance pushes. A restart
    /// after a panic subscribes again; the health task's REST refresh covers the gap.
    fn spawn_balance_listener(self: Arc<Self>, venue: Venue) {
        self.supervise(
            "balance listener",
            |_| {},
            move |me| me.balance_listener(venue),
        );
    }

    async fn balance_listener(self: Arc<Self>, venue: Venue) {
        let mut rx = self.clients[venue.index()].tracker().subscribe_events();
        let cancel = self.cancel.clone();
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                ev = rx.recv() => match ev {
                    Ok(ExecEvent::Balance { venue, balance, time_ms }) => {
                        // The venue's time orders it; an update without one is as of
                        // its arrival.
                        let t = if time_ms > 0 {
                            time_ms
                        } else {
                            self.clients[venue.index()].venue_now_ms()
                        };
                        self.balances.lock().push(venue, &balance.asset, balance.free, t, now_ms());
                    }
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(_) => return,
                }
            }
        }
    }

    /// Health checks: REST round trip and clock offset per venue, feed freshness,
    /// breaker state; an unhealthy venue pauses trading. In stream mode, also the
    /// periodic REST reconciliation of balances.
    fn spawn_health(self: Arc<Self>) {
        // A dead health check vouches for nothing: every venue is unhealthy (no trading)
        // until it runs again.
        let unhealthy: fn(&Inner) = |me| {
            for v in Venue::ALL {
                me.healthy[v.index()].store(false, Ordering::Relaxed);
                me.risk.lock().set_venue_healthy(v, false);
            }
        };
        self.supervise("health", unhealthy, |me| me.health());
    }

    async fn health(self: Arc<Self>) {
        let cancel = self.cancel.clone();
        let every = Duration::from_millis(self.cfg.health_interval_ms.max(100));
        let mut next_health = Instant::now();
        loop {
            let stream_mode = self.params().balance_mode == BalanceMode::Stream;
            let tick = if stream_mode {
                Duration::from_millis(500)
            } else {
                every
            };
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(tick) => {}
            }
            if stream_mode {
                for v in Venue::ALL {
                    let c = &self.clients[v.index()];
                    let asked_ms = c.venue_now_ms();
                    if let Ok(bals) = c.balances().await {
                        let listed = bals.into_iter().map(|x| (x.asset, x.free));
                        self.balances.lock().snapshot(v, listed, asked_ms, now_ms());
                    }
                }
            }
            if Instant::now() < next_health {
                continue;
            }
            next_health = Instant::now() + every;
            for v in Venue::ALL {
                let c = &self.clients[v.index()];
                let t = Instant::now();
                let ok = c.server_time().await.is_ok();
                metrics::histogram("engine_health_rtt_seconds", &[("venue", v.as_str())])
                    .record(t.elapsed());
                metrics::gauge("engine_clock_offset_ms", &[("venue", v.as_str())])
                    .set(c.clock_offset_ms() as f64);
                let breaker_ok = c.breaker_state() != arb_exec::BreakerState::Open;
                let healthy = ok && breaker_ok;
                self.healthy[v.index()].store(healthy, Ordering::Relaxed);
                self.risk.lock().set_venue_healthy(v, healthy);
                metrics::gauge("engine_venue_healthy", &[("venue", v.as_str())]).set(if healthy {
                    1.0
                } else {
                    0.0
                });
            }
            if PANIC_NEXT_HEALTH.swap(false, Ordering::AcqRel) {
                panic!("test hook: the health task panicked");
            }
        }
    }

    /// Re-values held residuals (`hold`, dust) at the current mid a few times a second,
    /// for the daily PnL and the leg-imbalance kill switch (off the hot path).
    fn spawn_marker(self: Arc<Self>) {
        self.supervise("marker", |_| {}, |me| me.marker());
    }

    async fn marker(self: Arc<Self>) {
        let cancel = self.cancel.clone();
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            }
            for sym in self.syms.iter().flatten() {
                if self.risk.lock().position(&sym.base) == 0 {
                    continue;
                }
                let Some(m) = self.mark_price(sym) else {
                    continue;
                };
                let kill = self.risk.lock().mark(&sym.base, m.mantissa(), now_ms());
                if let Some(k) = kill {
                    self.halted(k);
                }
            }
        }
    }

    /// Samples both venues' tops per symbol into the journal for the report.
    fn spawn_spread_sampler(self: Arc<Self>) {
        if self.cfg.spread_sample_ms == 0 {
            return;
        }
        self.supervise("spread sampler", |_| {}, |me| me.spread_sampler());
    }

    async fn spread_sampler(self: Arc<Self>) {
        let cancel = self.cancel.clone();
        let every = Duration::from_millis(self.cfg.spread_sample_ms);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
            for sym in self.syms.iter().flatten() {
                let side = |v| {
                    self.store.top(v, sym.id).filter(|t| t.valid).and_then(|t| {
                        Some((
                            Dec::new(t.bid?.price as i128, sym.scales.price),
                            Dec::new(t.ask?.price as i128, sym.scales.price),
                        ))
                    })
                };
                self.journal
                    .send(JournalRecord::Spread(Box::new(journal::SpreadSample {
                        t_ms: now_ms(),
                        symbol: sym.unified.clone(),
                        mexc: side(Venue::Mexc),
                        gate: side(Venue::Gate),
                    })));
            }
        }
    }

    fn snapshot(&self, market: Option<&MarketData>) -> serde_json::Value {
        let mut symbols = serde_json::Map::new();
        for sym in self.syms.iter().flatten() {
            let mut venues = serde_json::Map::new();
            let mut tops = [None, None];
            for v in Venue::ALL {
                let top = self.store.top(v, sym.id);
                let h = self.store.health(v, sym.id);
                let fmt = |m: u64| arb_core::fixed::format_scaled(m as i128, sym.scales.price);
                tops[v.index()] = top
                    .filter(|t| t.valid)
                    .and_then(|t| Some((t.bid?.price, t.ask?.price)));
                venues.insert(
                    v.as_str().into(),
                    json!({
                        "bid": top.and_then(|t| t.bid).map(|l| fmt(l.price)),
                        "ask": top.and_then(|t| t.ask).map(|l| fmt(l.price)),
                        "valid": top.is_some_and(|t| t.valid),
                        "state": h.map(|h| format!("{:?}", h.state).to_lowercase()),
                        "age_ms": h.and_then(|h| h.age).map(|d| d.as_millis() as u64),
                        "resyncs": h.map(|h| h.resyncs),
                        "gaps": h.map(|h| h.gaps),
                        "updates": h.map(|h| h.updates),
                    }),
                );
            }
            // Gross top-of-book edge in bps for both directions.
            let edge = |buy: usize, sell: usize| -> Option<String> {
                let (_, ask) = tops[buy]?;
                let (bid, _) = tops[sell]?;
                let e = (bid as i128 - ask as i128) * 1_000_000 / ask.max(1) as i128;
                Some(arb_core::fixed::format_scaled(e, 2))
            };
            symbols.insert(
                sym.unified.to_string(),
                json!({
                    "venues": venues,
                    "edge_bps": {"buy_mexc_sell_gateio": edge(0, 1), "buy_gateio_sell_mexc": edge(1, 0)},
                    "busy": sym.busy.load(Ordering::Relaxed),
                    "paused": sym.paused.load(Ordering::Relaxed),
                }),
            );
        }
        let mut venues = serde_json::Map::new();
        for v in Venue::ALL {
            let c = &self.clients[v.index()];
            let conn = c.conn_stats();
            venues.insert(
                v.as_str().into(),
                json!({
                    "healthy": self.healthy[v.index()].load(Ordering::Relaxed),
                    "breaker": format!("{:?}", c.breaker_state()).to_lowercase(),
                    "clock_offset_ms": c.clock_offset_ms(),
                    "rate_limit": {
                        "waits": c.limiter().stats().waits,
                        "venue_blocks": c.limiter().stats().venue_blocks,
                    },
                    "requests": conn.requests,
                    "new_connections": conn.new_connections,
                    "connection_reuse": conn.reuse_ratio(),
                    "feed": market.map(|m| {
                        let c = m.counters(v);
                        json!({"connects": c.connects, "disconnects": c.disconnects, "frames": c.frames,
                               "unparsable_frames": c.unparsable_frames, "snapshots": c.snapshots,
                               "resubscribes": c.resubscribes})
                    }),
                }),
            );
        }
        let q = |h: &Histogram| {
            let s = h.snapshot();
            json!({
                "count": s.count(),
                "p50_us": s.quantile(0.5).map(|v| v / 1000),
                "p99_us": s.quantile(0.99).map(|v| v / 1000),
                "max_us": s.max().map(|v| v / 1000),
            })
        };
        let st = &self.stats;
        let mut inventory = serde_json::Map::new();
        for (v, asset, d) in st.ledger.lock().deltas() {
            inventory
                .entry(v.as_str().to_string())
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .expect("object")
                .insert(asset.to_string(), json!(d.to_string()));
        }
        let risk = self.risk.lock();
        let p = self.params();
        json!({
            "uptime_s": self.started.elapsed().as_secs_f64(),
            // A dry run detects and sends nothing: the views say so instead of "taken".
            "dry_run": self.cfg.dry_run,
            "strategy": {
                "min_edge_bps": arb_core::fixed::format_scaled((p.threshold - p.slippage) as i128, 4),
                "slippage_buffer_bps": arb_core::fixed::format_scaled(p.slippage as i128, 4),
                "trade_notional": Amount::from_mantissa(p.trade_notional).to_string(),
                "cooldown_ms": p.cooldown_ns / 1_000_000,
                "order_style": format!("{:?}", p.order_style),
                "mexc_buy_order": format!("{:?}", p.mexc_buy_order),
                "hedge_policy": format!("{:?}", p.hedge_policy),
                "balance_mode": format!("{:?}", p.balance_mode),
                "python_risk_mode": format!("{:?}", p.python_risk_mode),
            },
            "startup_ms": self.ready_ms.lock().clone(),
            "symbols": symbols,
            "venues": venues,
            "stats": {
                "book_changes": st.changes.get(),
                "opportunities_detected": st.detected.get(),
                "opportunities_vetoed": st.vetoed.get(),
                "opportunities_taken": st.taken.get(),
                "opportunities_vanished": st.vanished.get(),
                "refused_stale": st.stale_refused.get(),
                "vetoes": st.vetoes.lock().clone(),
                "outcomes": st.outcomes.lock().clone(),
                "errors": st.errors.lock().clone(),
                "pnl": st.pnl.lock().to_string(),
                "fees": st.fees.lock().to_string(),
                "tick_to_trade": q(&st.tick_to_trade),
                "leg_ack": {"mexc": q(&st.leg_ack[0]), "gateio": q(&st.leg_ack[1])},
                "decision_book_age": q(&st.decision_book_age),
                "decision_balance_age": q(&st.decision_balance_age),
                "python_veto": q(&st.veto_wait),
            },
            "inventory": inventory,
            "risk": {
                "halted": risk.halted().map(|k| k.to_string()),
                "open_arbitrages": risk.open_arbitrages(),
                "daily_pnl": Amount::from_mantissa(risk.daily_pnl()).to_string(),
            },
            "journal_errors": self.journal.errors(),
        })
    }
}

/// What an order has filled as far as anything says: its filled quantity, and for an
/// order reported `filled` at least its original quantity (a status can arrive before
/// the quantity that goes with it, e.g. a placement answer without `executedQty`).
fn effective_filled(st: &OrderState) -> Amount {
    let fills = st.fills.iter().fold(Amount::ZERO, |a, f| a + f.qty);
    let mut q = st.filled_qty.max(fills);
    if st.status == OrderStatus::Filled {
        if let Some(orig) = st.orig_qty {
            q = q.max(orig);
        }
    }
    q
}

/// Places one order and notes when its answer came (wall-clock microseconds).
/// The buy leg: capped at the worst ask detection priced (an IOC limit; `prepare()`
/// rounds a buy price down to the venue's tick, the safe side of the cap) unless MEXC is
/// told to buy at market (`strategy.mexc_buy_order: market`).
fn buy_order_kind(p: &Params, venue: Venue, cap: Amount, qty: Amount) -> OrderKind {
    match (p.order_style, venue, p.mexc_buy_order) {
        (OrderStyle::MarketLimit, Venue::Mexc, MexcBuyOrder::Market) => OrderKind::Market { qty },
        _ => OrderKind::Limit {
            price: cap,
            qty,
            tif: TimeInForce::Ioc,
        },
    }
}

async fn timed_place(c: &VenueClient, o: &PreparedOrder) -> (Result<OrderState, ExecError>, i64) {
    let r = c.place_prepared(o).await;
    (r, now_ns() / 1000)
}

fn tif_label(t: TimeInForce) -> &'static str {
    match t {
        TimeInForce::Gtc => "limit_gtc",
        TimeInForce::Ioc => "limit_ioc",
        TimeInForce::Fok => "limit_fok",
        TimeInForce::PostOnly => "limit_post_only",
    }
}

/// Adds a finished transaction's fills to the running inventory ledger; returns why
/// each fill that could not be booked was not.
fn merge_ledger(
    total: &mut Ledger,
    orders: &[crate::tx::LegOrder],
    inner: &Inner,
    sym: &Sym,
) -> Vec<String> {
    let mut not_booked = Vec::new();
    for o in orders {
        if let Some(st) = inner.tracker_state(o.venue, &o.client_id) {
            for f in &st.fills {
                if let Err(e) = total.record(f, &sym.base, &sym.quote) {
                    not_booked.push(e.to_string());
                }
            }
        }
    }
    not_booked
}

/// Resolves when the first of `futs` does.
async fn futures_select_any(
    futs: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>>,
) {
    if futs.is_empty() {
        return;
    }
    let mut futs = futs;
    std::future::poll_fn(move |cx| {
        for f in futs.iter_mut() {
            if f.as_mut().poll(cx).is_ready() {
                return std::task::Poll::Ready(());
            }
        }
        std::task::Poll::Pending
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_buy_leg_is_capped_unless_mexc_is_told_to_buy_at_market() {
        let cfg: crate::config::StrategyConfig = serde_json::from_str(
            r#"{"symbols":["BTC/USDT"],"min_edge_bps":"5","slippage_buffer_bps":"2",
                "trade_notional":"100","order_style":"market_limit","hedge_policy":"unwind",
                "cooldown_ms":0,"balance_mode":"fresh","python_risk_mode":"notify"}"#,
        )
        .unwrap();
        let risk = crate::config::RiskConfig {
            max_position_per_asset: "1".into(),
            max_total_exposure: "1".into(),
            max_notional_per_trade: "1".into(),
            daily_loss_limit: "1".into(),
            max_open_arbitrages: 1,
            max_book_age_ms: 1,
            max_balance_age_ms: 1,
            kill_switches: crate::config::KillSwitchConfig {
                leg_imbalance_notional: "1".into(),
                consecutive_hedge_failures: 1,
                resyncs_per_minute: 1,
            },
        };
        let mut p = cfg.params(&risk).unwrap();
        let (cap, qty) = (
            Amount::parse("100.5").unwrap(),
            Amount::parse("0.01").unwrap(),
        );
        let capped = OrderKind::Limit {
            price: cap,
            qty,
            tif: TimeInForce::Ioc,
        };
        // The default: both venues' buys are IOC limits at the cap.
        assert_eq!(p.mexc_buy_order, MexcBuyOrder::IocLimit);
        for v in Venue::ALL {
            assert_eq!(buy_order_kind(&p, v, cap, qty), capped, "{v}");
        }
        p.mexc_buy_order = MexcBuyOrder::Market;
        assert_eq!(
            buy_order_kind(&p, Venue::Mexc, cap, qty),
            OrderKind::Market { qty }
        );
        assert_eq!(buy_order_kind(&p, Venue::Gate, cap, qty), capped);
        p.order_style = OrderStyle::IocBoth;
        assert_eq!(buy_order_kind(&p, Venue::Mexc, cap, qty), capped);
    }
}
