//! The running engine: start-up, the hot-path hook, pre-trade checks, two-leg execution,
//! accounting, health, and the view Python reads.
//!
//! ## Hot path
//! The market-data feed calls [`Inner::on_change`] inline, on its own task (on the hot
//! thread, `engine.hot`), right after a book update is applied. It copies the top levels
//! of every venue's book for that symbol (only valid, fresh books), runs detection on
//! every route (ordered pair of venues), checks the risk limits, and — only when there is
//! something to do — claims the symbol and spawns the execution task on the same thread. Nothing there allocates in the common no-trade case, awaits, or
//! crosses into Python.
//!
//! ## Execution
//! The execution task re-checks balances (fresh from the route's two venues at once, or the
//! streamed view with reservations), asks Python when in `veto` mode, sends both legs
//! concurrently (each signed and written without waiting for the other), and then drives the transaction's
//! state machine ([`crate::tx::ArbTx`]) from the order trackers, which the REST answers
//! and the private streams feed in any order: cancel the resting sell at its deadline,
//! resolve unknown outcomes by querying the client order id, hedge residuals per policy.
//! When it is done, the fills are booked in the ledger, the PnL and residual go to risk,
//! and the outcome to the journal and to Python.
//!
//! ## Where things are
//! - [`state`]: the shared state ([`Inner`]), each symbol's precomputed rules, the stats.
//! - [`hot_path`]: the book-change hook, detection over both books, balance caps.
//! - [`pretrade`]: balances, the final re-check on the current books, Python's veto.
//! - [`execute`]: sending both legs, driving the transaction to its end, resolving
//!   unknown outcomes.
//! - [`listing`]: which configured symbols trade on which venues (start-up).
//! - [`hedge`]: where and how a residual is hedged.
//! - [`finish`]: booking a finished transaction, releasing one that never started.
//! - [`journaling`]: the journal rows of opportunities, orders, acks and fills.
//! - [`background`]: supervised tasks (health, balance listener, marker, spread sampler).
//! - [`events`]: what Python is told and asked.
//! - [`view`]: the snapshot an operator watches, as typed structs (the contract with Python).
//! - This file: the [`Engine`] handle: start-up, control, shutdown.

mod background;
mod events;
mod execute;
mod finish;
mod hedge;
mod hot_path;
mod hot_thread;
mod journaling;
mod listing;
mod pretrade;
mod state;
pub mod view;

pub use events::{EngineEvent, EventSink, VetoFn, VetoRequest};
pub use hot_thread::HotConfig;
pub use state::Inner;
pub(crate) use state::Sym;
pub use view::{Snapshot, StartupTimes};

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arb_core::time::now_ms;
use arb_core::{Venue, VenueMap};
use arb_exec::client::VenueClient;
use arb_exec::order::{ClientOrderId, Leg, SymbolRules};
use arb_exec::user_stream::UserStream;
use arb_exec::{Amount, ExecError};
use arb_market::feed::{LogSink, MarketData};
use arb_market::store::{BookChange, BookStore};
use parking_lot::{Mutex, RwLock};
use tokio::runtime::Handle;
use tokio_util::sync::CancellationToken;

use crate::balances::BalanceBook;
use crate::config::{ConfigError, EngineConfig};
use crate::convert::{dec_amount, fee_ppb8, parse_dec_at};
use crate::detect::{LegRules, Scales};
use crate::journal::{self, Journal};
use crate::risk::{KillReason, RiskState};
use state::Stats;
/// Test hook: the next transaction task panics before it starts (see
/// [`Engine::panic_next_transaction`]).
static PANIC_NEXT_TX: AtomicBool = AtomicBool::new(false);

/// Test hook: the health task panics at its next round (see
/// [`Engine::panic_next_health_check`]).
static PANIC_NEXT_HEALTH: AtomicBool = AtomicBool::new(false);

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
    #[error("{0}")]
    HotThread(String),
}

/// The engine. Dropping it does not stop it: call [`Engine::shutdown`].
pub struct Engine {
    inner: Arc<Inner>,
    market: Mutex<Option<MarketData>>,
    streams: Mutex<Vec<UserStream>>,
    /// The hot path's own thread (`None`: it runs on the caller's runtime).
    hot: Mutex<Option<hot_thread::HotThread>>,
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
        cfg.check_venues()?;
        // The hot path builds ids with this prefix and cannot fail there.
        ClientOrderId::for_leg(&cfg.client_id_prefix, 0, Leg::A).map_err(|why| ConfigError {
            key: "engine.instance".into(),
            why,
        })?;
        // The journal first: one that belongs to another mode, venue or instance stops
        // the start before any venue is asked anything.
        let journal = Journal::open(&cfg.journal_path, &cfg.journal_meta())?;
        let handle = Handle::current();
        let hot = if cfg.hot.thread {
            Some(hot_thread::HotThread::start(&cfg.hot).map_err(StartError::HotThread)?)
        } else {
            None
        };
        let hot_handle = hot
            .as_ref()
            .map_or_else(|| handle.clone(), |h| h.handle().clone());
        let client = |vc: &arb_exec::VenueConfig| {
            VenueClient::new(vc.clone()).map_err(|source| StartError::Venue {
                venue: vc.venue,
                what: "cannot create the client",
                source,
            })
        };
        let venues: Vec<Venue> = cfg.venues.iter().map(|v| v.venue).collect();
        let mut clients = VenueMap::new();
        for vc in &cfg.venues {
            clients.insert(vc.venue, client(vc)?);
        }

        // Every venue at once: a signed call proves the credentials (a bad key fails
        // here, naming its venue) and syncs the clock offset.
        let check = |c: VenueClient| async move {
            let venue = c.venue();
            let t = Instant::now();
            c.server_time().await.map_err(|source| StartError::Venue {
                venue,
                what: "server time",
                source,
            })?;
            let asked_ms = c.venue_now_ms();
            c.balances()
                .await
                .map(|b| (venue, b, asked_ms, t.elapsed().as_millis() as u64))
                .map_err(|source| StartError::Venue {
                    venue,
                    what: "credentials check (signed balance call)",
                    source,
                })
        };
        let (symbols, checked) = tokio::join!(
            arb_market::feed::fetch_symbols(&cfg.feed),
            futures_util::future::join_all(clients.values().cloned().map(check))
        );
        let checked = checked.into_iter().collect::<Result<Vec<_>, _>>()?;
        let venues_ready_ms = t0.elapsed().as_millis() as u64;
        let table = Arc::new(symbols.map_err(|e| StartError::Symbols(e.to_string()))?);

        // Configured symbols: a symbol fewer than two enabled venues list stops the
        // start; a venue whose rules refuse the API is left out for it (one line each).
        let resolved = listing::resolve(&table, &cfg.strategy.symbols, &venues, now_ms() / 1000)
            .map_err(StartError::Symbols)?;
        for line in &resolved.left_out {
            arb_telemetry::log_text(arb_telemetry::Level::Warn, "arb_engine", line.clone(), []);
        }
        let mut syms: Vec<Option<Arc<Sym>>> = vec![None; table.len()];
        let mut ids = Vec::new();
        for t in &resolved.tradable {
            let (id, unified) = (t.id, t.unified);
            let info = table.info(id).expect("id from the table");
            let scales = Scales {
                price: info.price_scale,
                qty: info.qty_scale,
            };
            let mut legs = VenueMap::new();
            let mut rules = VenueMap::new();
            for &(v, r) in &t.venues {
                // Live taker fee from the venue; the symbol table's as a fallback.
                let fee = match clients[v].fees(&r.venue_symbol).await {
                    Ok(f) => f.taker,
                    Err(_) => dec_amount(r.taker_fee),
                };
                legs.insert(v, leg_rules(r, scales, fee));
                let mut sr = SymbolRules::new(
                    v,
                    r.venue_symbol.to_string(),
                    r.price_decimals,
                    r.amount_decimals,
                    dec_amount(r.min_qty),
                    dec_amount(r.min_notional),
                );
                sr.quote_decimals = r.price_decimals;
                sr.market_orders = r.market_orders;
                rules.insert(v, Arc::new(sr));
            }
            syms[id.index()] = Some(Arc::new(Sym {
                venues: rules.venues().collect(),
                id,
                unified: Arc::from(unified),
                base: info.base.to_string(),
                quote: info.quote.to_string(),
                scales,
                legs: RwLock::new(legs),
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
        let mut per_venue_ms = std::collections::BTreeMap::new();
        for (v, bals, asked_ms, took_ms) in checked {
            let listed = bals.into_iter().map(|b| (b.asset, b.free));
            balances.snapshot(v, listed, asked_ms, now_ms());
            per_venue_ms.insert(v.as_str().to_string(), took_ms);
        }
        let inner = Arc::new(Inner {
            store: store.clone(),
            clients,
            venues: venues.clone(),
            syms,
            params: RwLock::new(params),
            risk: Mutex::new(RiskState::new(limits, now_ms())),
            balances: Arc::new(Mutex::new(balances)),
            journal,
            next_id: AtomicU64::new(now_ms() as u64 * 1000),
            stats: Stats::new(&venues),
            events: RwLock::new(None),
            veto: RwLock::new(None),
            cancel: CancellationToken::new(),
            handle: handle.clone(),
            hot: hot_handle.clone(),
            started: t0,
            ready_ms: Mutex::new(StartupTimes {
                venues_ms: venues_ready_ms,
                per_venue_ms,
                ..StartupTimes::default()
            }),
            healthy: VenueMap::from_fn(venues.iter().copied(), |_| AtomicBool::new(true)),
            cfg,
        });

        // Private streams: order, fill and balance pushes for every venue.
        let mut streams = Vec::new();
        for &v in &venues {
            let venue_syms: Vec<String> = ids
                .iter()
                .filter_map(|&id| table.venue_symbol(id, v).map(str::to_string))
                .collect();
            streams.push(UserStream::start(inner.clients[v].clone(), venue_syms));
            inner.clone().spawn_balance_listener(v);
        }

        // Crash recovery before any trading: cancel our leftover orders, adopt fills
        // the journal missed, close unfinished transactions per the hedge policy.
        let recovery = crate::recovery::recover(&inner).await;
        inner.ready_ms.lock().recovery = recovery;

        // The order connections, opened from the hot runtime (their tasks live there)
        // and kept warm; then the hot-path hook and the feeds, on the same runtime.
        let warm = inner.cfg.hot.warm_connections;
        let opened = futures_util::future::join_all(inner.venues.iter().map(|&v| {
            let c = inner.clients[v].clone();
            hot_handle.spawn(async move { c.warm_orders(warm).await })
        }))
        .await;
        inner.ready_ms.lock().warm_connections = opened.into_iter().map(|r| r.unwrap_or(0)).sum();
        inner.clone().spawn_rewarm();
        let hook_inner = inner.clone();
        store.add_listener(Arc::new(move |ch: &BookChange| hook_inner.on_change(ch)));
        let market = MarketData::start(inner.cfg.feed.clone(), store, &ids, &hot_handle, log);
        inner.clone().spawn_health();
        inner.clone().spawn_spread_sampler();
        inner.clone().spawn_marker();
        inner.ready_ms.lock().engine_ms = t0.elapsed().as_millis() as u64;
        Ok(Engine {
            inner,
            market: Mutex::new(Some(market)),
            streams: Mutex::new(streams),
            hot: Mutex::new(hot),
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

    /// Waits until no transaction is running (or `timeout`), then stops feeds and
    /// streams and flushes and checkpoints the journal (its file alone then holds the
    /// run; the engine, and so the journal, may stay open long after).
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
        if let Some(mut h) = self.hot.lock().take() {
            h.stop(Duration::from_secs(1));
        }
        self.inner.journal.checkpoint();
    }
}
