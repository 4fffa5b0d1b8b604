//! Shared simulator state: the list of venue instances (each an adapter kind and a
//! name, reached by position) and, per instance, the matching engine behind its lock,
//! the event fan-out to WebSocket connections, the accounts and their keys, listenKeys,
//! limits and counters.
//!
//! Concurrency: one `parking_lot::Mutex` per venue guards that venue's engine. Events
//! are published to the venue's broadcast channel *while the lock is held*, so every
//! subscriber sees book versions in exactly the order they were assigned, and a REST
//! snapshot taken under the same lock is consistent with the pushes around it. The lock
//! is never held across an `.await`.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arb_core::fixed::format_scaled;
use arb_core::{Venue, VenueKind};
use parking_lot::Mutex;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::adapter::Adapter;
use crate::faults::{FaultBook, FaultKind, FaultSpec, Hook, WsFault, WsScope};
use crate::matching::{Event, Exchange, Order, OrderKind, Side, Status, Tif};
use crate::ratelimit::RateLimiter;
use crate::spec::{restriction_of, specs_for, SymbolSpec, BAL_SCALE};
use crate::{SimConfig, SimError, TestAccount, TruthBook, TruthFill, TruthOrder};

/// Counters of what the simulator did, per venue (all relaxed atomics).
#[derive(Default)]
pub struct Counters {
    pub rest_requests: AtomicU64,
    pub rest_rejected: AtomicU64,
    pub rate_limited: AtomicU64,
    pub orders: AtomicU64,
    pub fills: AtomicU64,
    pub book_events: AtomicU64,
    pub ws_connections: AtomicU64,
    pub ws_subscriptions: AtomicU64,
    pub frames_depth: AtomicU64,
    pub frames_ticker: AtomicU64,
    pub frames_trades: AtomicU64,
    pub frames_private: AtomicU64,
    pub frames_other: AtomicU64,
    pub gaps_injected: AtomicU64,
    pub ws_lagged_disconnects: AtomicU64,
}

impl Counters {
    fn json(&self) -> serde_json::Value {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        serde_json::json!({
            "rest_requests": g(&self.rest_requests),
            "rest_rejected": g(&self.rest_rejected),
            "rate_limited": g(&self.rate_limited),
            "orders": g(&self.orders),
            "fills": g(&self.fills),
            "book_events": g(&self.book_events),
            "ws_connections": g(&self.ws_connections),
            "ws_subscriptions": g(&self.ws_subscriptions),
            "frames": {
                "depth": g(&self.frames_depth),
                "book_ticker": g(&self.frames_ticker),
                "trades": g(&self.frames_trades),
                "private": g(&self.frames_private),
                "other": g(&self.frames_other),
            },
            "faults": {
                "gaps_injected": g(&self.gaps_injected),
                "ws_lagged_disconnects": g(&self.ws_lagged_disconnects),
            },
        })
    }
}

/// An API key's account.
#[derive(Clone)]
pub struct KeyEntry {
    pub account: u32,
    pub secret: String,
}

/// One venue instance the simulator hosts: its registered venue, the adapter kind that
/// speaks its protocol, its name (admin paths, counters, reports) and its port
/// (0 = OS-chosen). Made by [`SimConfig::instances`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    pub venue: Venue,
    pub kind: VenueKind,
    pub name: String,
    pub port: u16,
}

/// One venue instance: engine, fan-out, accounts.
pub struct VenueState {
    /// The instance (`arb_core::Venue`, registered under its name).
    pub venue: Venue,
    /// Which adapter speaks for it.
    pub kind: VenueKind,
    pub adapter: &'static Adapter,
    pub name: String,
    /// The port it was configured with (0 = OS-chosen).
    pub port: u16,
    /// Its position in [`Shared::venues`].
    pub index: usize,
    /// How many market steps its makers take to close the gap to the fair price: its
    /// adapter's lag, plus one for each earlier instance of the same kind, so two
    /// instances of a kind lag by different amounts and natural gaps open between them too.
    pub view_lag: i128,
    pub specs: Arc<Vec<SymbolSpec>>,
    pub by_symbol: HashMap<String, usize>,
    pub exchange: Mutex<Exchange>,
    pub tx: broadcast::Sender<Arc<Event>>,
    pub keys: HashMap<String, KeyEntry>,
    pub trader: TestAccount,
    pub trader_account: u32,
    /// Background maker and taker accounts (unlimited funds).
    pub maker_account: u32,
    pub taker_account: u32,
    /// listenKey -> (account, expiry).
    pub listen_keys: Mutex<HashMap<String, (u32, Instant)>>,
    pub limiter: RateLimiter,
    pub counters: Counters,
    pub faults: FaultBook,
    /// The referee every venue shares (orders report their arrival to it).
    pub referee: Arc<crate::referee::Referee>,
    pub cfg: Arc<SimConfig>,
    /// The wallets every instance shares (set once by [`Shared::new`]).
    wallets: std::sync::OnceLock<Arc<crate::wallet::Wallets>>,
    id_counter: AtomicU64,
}

impl VenueState {
    fn new(
        instance: &Instance,
        index: usize,
        view_lag: i128,
        specs: Vec<SymbolSpec>,
        cfg: Arc<SimConfig>,
        rng: &mut ChaCha8Rng,
        referee: Arc<crate::referee::Referee>,
    ) -> Result<Self, SimError> {
        let adapter = crate::adapter::adapter(instance.kind);
        let specs = Arc::new(specs);
        let by_symbol = specs
            .iter()
            .enumerate()
            .map(|(i, s)| (s.venue_symbol.clone(), i))
            .collect();
        let mut ex = Exchange::new(specs.clone(), adapter.first_order_id);
        let mut balances = BTreeMap::new();
        for (asset, amount) in &cfg.trader_balances {
            let m = crate::spec::parse_bal(amount).map_err(|e| {
                SimError::Config(format!("trader_balances.{asset} = {amount:?}: {e}"))
            })?;
            balances.insert(asset.to_ascii_uppercase(), m);
        }
        let trader_account = ex.add_account(false, balances);
        let maker_account = ex.add_account(true, BTreeMap::new());
        let taker_account = ex.add_account(true, BTreeMap::new());
        let (api_key, api_secret) = (adapter.credentials)(rng);
        let mut keys = HashMap::new();
        keys.insert(
            api_key.clone(),
            KeyEntry {
                account: trader_account,
                secret: api_secret.clone(),
            },
        );
        let (tx, _) = broadcast::channel(cfg.ws_backlog.max(16));
        Ok(VenueState {
            venue: instance.venue,
            kind: instance.kind,
            adapter,
            name: instance.name.clone(),
            port: instance.port,
            index,
            view_lag,
            specs,
            by_symbol,
            exchange: Mutex::new(ex),
            tx,
            keys,
            trader: TestAccount {
                venue: instance.venue,
                api_key,
                api_secret,
            },
            trader_account,
            maker_account,
            taker_account,
            listen_keys: Mutex::new(HashMap::new()),
            limiter: RateLimiter::new(),
            counters: Counters::default(),
            faults: FaultBook::default(),
            referee,
            cfg,
            wallets: std::sync::OnceLock::new(),
            id_counter: AtomicU64::new(1),
        })
    }

    /// The wallets of every instance (networks, addresses, transfers).
    pub fn wallets(&self) -> &crate::wallet::Wallets {
        self.wallets
            .get()
            .expect("Shared::new sets the wallets before any venue serves")
    }

    pub fn symbol_index(&self, venue_symbol: &str) -> Option<usize> {
        self.by_symbol.get(venue_symbol).copied()
    }

    /// Publishes `symbol`'s pending book changes as one push, applying an injected gap
    /// fault if one is due. Call with the lock held, then [`VenueState::publish`].
    pub fn flush(&self, ex: &mut Exchange, symbol: usize, now_ms: i64) {
        if !ex.has_pending(symbol) {
            return;
        }
        if let Some(FaultKind::Gap) = self.faults.take(Hook::Book, Some(symbol)) {
            ex.books[symbol].skip_next += 1;
            self.counters.gaps_injected.fetch_add(1, Ordering::Relaxed);
        }
        ex.flush_book(symbol, now_ms);
    }

    /// True while a Halt fault is in force.
    pub fn is_halted(&self) -> bool {
        self.faults.is_active(Hook::Halt)
    }

    /// Injects a fault on this venue; instant faults act now.
    ///
    /// # Errors
    /// An unknown symbol, or a symbol-less crossed/malformed frame fault.
    pub fn inject_fault(&self, spec: FaultSpec) -> Result<u64, SimError> {
        let symbol = match &spec.symbol {
            Some(s) => Some(self.symbol_index(s).ok_or_else(|| {
                SimError::Config(format!("fault: unknown {} symbol {s:?}", self.name))
            })?),
            None => None,
        };
        let needs_symbol = matches!(
            spec.kind,
            FaultKind::CrossedFrame | FaultKind::MalformedFrame | FaultKind::NestedFrame { .. }
        );
        if needs_symbol && symbol.is_none() {
            return Err(SimError::Config(format!(
                "fault {:?} needs a symbol",
                spec.kind
            )));
        }
        let kind = spec.kind.clone();
        let id = self.faults.add(spec, symbol);
        let now = arb_core::time::now_ms();
        match kind {
            FaultKind::CloseConnections { scope } => self.send_fault(WsFault::Close(scope)),
            FaultKind::Stall { secs } => {
                let d = Duration::from_secs_f64(secs.clamp(0.0, 3600.0));
                self.send_fault(WsFault::Stall(Instant::now() + d));
            }
            FaultKind::MalformedFrame => {
                if let Some(s) = symbol {
                    self.send_fault(WsFault::Malformed(s));
                }
            }
            FaultKind::NestedFrame { depth } => {
                if let Some(s) = symbol {
                    self.send_fault(WsFault::Nested(s, depth));
                }
            }
            FaultKind::CrossedFrame => {
                if let Some(s) = symbol {
                    let mut ex = self.exchange.lock();
                    ex.publish_crossed(s, now);
                    self.publish(&mut ex);
                }
            }
            FaultKind::ExpireListenKeys => {
                let now_i = Instant::now();
                for (_, exp) in self.listen_keys.lock().values_mut() {
                    *exp = now_i;
                }
                self.send_fault(WsFault::Close(WsScope::Private));
            }
            FaultKind::Resume => self.faults.clear_hook(Hook::Halt),
            _ => {}
        }
        Ok(id)
    }

    fn send_fault(&self, f: WsFault) {
        // Under the engine lock, so the fault lands in order with the book pushes.
        let _ex = self.exchange.lock();
        let _ = self.tx.send(Arc::new(Event::Fault(f)));
    }

    /// Publishes everything the engine produced, in order. Call with the lock held.
    pub fn publish(&self, ex: &mut Exchange) {
        for ev in ex.take_events() {
            match &ev {
                Event::Book(_) => {
                    self.counters.book_events.fetch_add(1, Ordering::Relaxed);
                }
                Event::Fill(_) => {
                    self.counters.fills.fetch_add(1, Ordering::Relaxed);
                }
                _ => {}
            }
            // No receivers is fine: nobody is subscribed.
            let _ = self.tx.send(Arc::new(ev));
        }
    }

    /// A fresh opaque id (listenKeys).
    pub fn next_token(&self) -> String {
        let n = self.id_counter.fetch_add(1, Ordering::Relaxed);
        let mut rng = ChaCha8Rng::seed_from_u64(self.cfg.seed ^ n.wrapping_mul(0x9E37_79B9));
        hex_string(&mut rng, 32)
    }

    pub fn truth_book(&self, venue_symbol: &str, depth: usize) -> Option<TruthBook> {
        let i = self.symbol_index(venue_symbol)?;
        let spec = &self.specs[i];
        let ex = self.exchange.lock();
        let book = &ex.books[i];
        let (bids, asks) = book.levels(depth);
        let f = |v: Vec<(u64, u64)>| {
            v.into_iter()
                .map(|(p, q)| (spec.fmt_price(p), spec.fmt_qty(q)))
                .collect()
        };
        Some(TruthBook {
            version: book.version,
            bids: f(bids),
            asks: f(asks),
        })
    }

    /// False for the trader's account on an instance named in `read_only_keys`.
    pub fn may_trade(&self, account: u32) -> bool {
        account != self.trader_account || !self.cfg.read_only_keys.contains(&self.name)
    }

    pub fn account_of(&self, api_key: &str) -> Option<u32> {
        self.keys.get(api_key).map(|k| k.account)
    }

    pub fn truth_balances(&self, api_key: &str) -> BTreeMap<String, (String, String)> {
        let Some(acc) = self.account_of(api_key) else {
            return BTreeMap::new();
        };
        let ex = self.exchange.lock();
        ex.accounts[acc as usize]
            .balances
            .iter()
            .map(|(a, b)| {
                (
                    a.clone(),
                    (
                        format_scaled(b.free, BAL_SCALE),
                        format_scaled(b.locked, BAL_SCALE),
                    ),
                )
            })
            .collect()
    }

    pub fn order_id_str(&self, id: u64) -> String {
        (self.adapter.format_order_id)(id)
    }

    /// Parses an order id in this venue's format.
    pub fn parse_order_id(&self, s: &str) -> Option<u64> {
        (self.adapter.parse_order_id)(s)
    }

    /// Tells the latency referee an order for `sym` arrived here now (every venue's
    /// order paths, REST and WebSocket, call it once the symbol is known).
    pub fn order_arrived(&self, sym: usize) {
        self.referee.order_received(self.index, sym, Instant::now());
    }

    pub fn truth_order(&self, o: &Order) -> TruthOrder {
        let spec = &self.specs[o.symbol];
        TruthOrder {
            order_id: self.order_id_str(o.id),
            client_order_id: o.client_id.clone(),
            symbol: spec.venue_symbol.clone(),
            side: side_str(o.side).into(),
            kind: match (o.kind, o.tif) {
                (OrderKind::Market, _) => "market",
                (_, Tif::PostOnly) => "limit_maker",
                (_, Tif::Ioc) => "ioc",
                (_, Tif::Fok) => "fok",
                (_, Tif::Gtc) => "limit",
            }
            .into(),
            price: spec.fmt_price(o.price),
            qty: spec.fmt_qty(o.qty),
            filled_qty: spec.fmt_qty(o.filled),
            status: match o.status {
                Status::New => "new",
                Status::PartiallyFilled => "partially_filled",
                Status::Filled => "filled",
                Status::Canceled => "canceled",
                Status::PartiallyCanceled => "partially_canceled",
            }
            .into(),
            create_time_ms: o.create_ms,
        }
    }

    pub fn truth_orders(&self, api_key: &str) -> Vec<TruthOrder> {
        let Some(acc) = self.account_of(api_key) else {
            return Vec::new();
        };
        let ex = self.exchange.lock();
        ex.accounts[acc as usize]
            .order_ids
            .iter()
            .filter_map(|id| ex.orders.get(id))
            .map(|o| self.truth_order(o))
            .collect()
    }

    pub fn truth_fills(&self, api_key: &str) -> Vec<TruthFill> {
        let Some(acc) = self.account_of(api_key) else {
            return Vec::new();
        };
        let ex = self.exchange.lock();
        ex.accounts[acc as usize]
            .fills
            .iter()
            .map(|f| {
                let spec = &self.specs[f.symbol];
                TruthFill {
                    trade_id: f.trade_id.to_string(),
                    order_id: self.order_id_str(f.order_id),
                    client_order_id: f.client_id.clone(),
                    symbol: spec.venue_symbol.clone(),
                    side: side_str(f.side).into(),
                    price: spec.fmt_price(f.price),
                    qty: spec.fmt_qty(f.qty),
                    quote_qty: spec.fmt_notional(f.quote),
                    fee: format_scaled(f.fee, BAL_SCALE),
                    fee_currency: f.fee_asset.clone(),
                    is_maker: f.is_maker,
                    time_ms: f.time_ms,
                }
            })
            .collect()
    }

    pub fn inject_gap(&self, venue_symbol: &str) {
        if let Some(i) = self.symbol_index(venue_symbol) {
            self.exchange.lock().books[i].skip_next += 1;
            self.counters.gaps_injected.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Registers a listenKey for `account`, valid for the configured lifetime.
    pub fn new_listen_key(&self, account: u32) -> String {
        let key = self.next_token();
        let ttl = Duration::from_secs(self.cfg.listen_key_ttl_secs);
        self.listen_keys
            .lock()
            .insert(key.clone(), (account, Instant::now() + ttl));
        key
    }

    /// The account of a listenKey that has not expired.
    pub fn listen_key_account(&self, key: &str) -> Option<u32> {
        let keys = self.listen_keys.lock();
        keys.get(key)
            .filter(|(_, exp)| *exp > Instant::now())
            .map(|(a, _)| *a)
    }
}

/// The next event already waiting on a broadcast receiver, without waiting.
pub fn try_next(
    rx: &mut broadcast::Receiver<Arc<Event>>,
) -> Option<Result<Arc<Event>, broadcast::error::RecvError>> {
    use broadcast::error::{RecvError, TryRecvError};
    match rx.try_recv() {
        Ok(e) => Some(Ok(e)),
        Err(TryRecvError::Empty) => None,
        Err(TryRecvError::Lagged(n)) => Some(Err(RecvError::Lagged(n))),
        Err(TryRecvError::Closed) => Some(Err(RecvError::Closed)),
    }
}

pub fn side_str(s: Side) -> &'static str {
    match s {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

/// `bytes` random bytes as hex (keys, secrets, listenKeys).
pub fn hex_string(rng: &mut ChaCha8Rng, bytes: usize) -> String {
    let mut v = vec![0u8; bytes];
    rng.fill(&mut v[..]);
    hex::encode(v)
}

/// A handle on one venue instance for its servers' handlers (their axum state).
#[derive(Clone)]
pub struct VenueRef {
    pub shared: Arc<Shared>,
    pub index: usize,
}

impl VenueRef {
    pub fn venue(&self) -> &VenueState {
        self.shared.venue_at(self.index)
    }
}

/// Everything the servers, the market and the API share.
pub struct Shared {
    pub cfg: Arc<SimConfig>,
    /// The venue instances, in [`SimConfig::instances`] order.
    venues: Vec<VenueState>,
    pub paused: AtomicBool,
    /// Tick-to-trade measurements of probe mode.
    pub referee: Arc<crate::referee::Referee>,
    /// Cancelled on shutdown; every WebSocket loop selects on it.
    pub cancel: CancellationToken,
    /// Every instance's wallets: networks, deposit addresses, transfers.
    pub wallets: Arc<crate::wallet::Wallets>,
}

impl Shared {
    /// Builds every venue instance of the config.
    ///
    /// # Errors
    /// A malformed symbol or balance in the config.
    pub fn new(cfg: SimConfig) -> Result<Self, SimError> {
        if cfg.symbols.is_empty() {
            return Err(SimError::Config("symbols is empty".into()));
        }
        if !(cfg.update_rate_hz.is_finite() && cfg.update_rate_hz >= 0.0) {
            return Err(SimError::Config(format!(
                "update_rate_hz must be a non-negative number, got {}",
                cfg.update_rate_hz
            )));
        }
        let instances = cfg.instances()?;
        if let Some(p) = &cfg.premium {
            let known = instances.iter().any(|i| i.name == p.venue);
            let ok = |x: f64| x.is_finite() && x >= 0.0;
            if !known || !ok(p.after_s) || !ok(p.for_s) || p.bps.abs() > 5_000 {
                return Err(SimError::Config(format!(
                    "premium: venue {:?} must be a configured instance, after_s and for_s \
                     non-negative, |bps| at most 5000 (got {p:?})",
                    p.venue
                )));
            }
        }
        let mut specs: Vec<Vec<SymbolSpec>> = vec![Vec::new(); instances.len()];
        let now_s = arb_core::time::now_ms() / 1000;
        let listed = cfg
            .symbols
            .iter()
            .filter(|s| cfg.invent_symbols || crate::spec::is_known(s));
        for (i, s) in listed.enumerate() {
            for (inst, list) in instances.iter().zip(specs.iter_mut()) {
                let mut spec = specs_for(s, i, cfg.seed, inst.venue)?;
                let r = restriction_of(&cfg.restricted, &spec.unified, inst.venue);
                if !crate::adapter::adapter(inst.kind).restrictions.contains(&r) {
                    return Err(SimError::Config(format!(
                        "restricted: {} lists no {r:?} restriction ({s})",
                        inst.name
                    )));
                }
                spec.restrict(r, now_s);
                if list.iter().any(|x| x.unified == spec.unified) {
                    return Err(SimError::Config(format!("symbol {s} listed twice")));
                }
                list.push(spec);
            }
        }
        let paused = AtomicBool::new(cfg.market_paused);
        let cfg = Arc::new(cfg);
        // One stream for every instance's keys, drawn in list order.
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x5EED_4B45_5953);
        let referee = Arc::new(crate::referee::Referee::new(
            instances.iter().map(|i| i.name.clone()).collect(),
        ));
        let venues = instances
            .iter()
            .zip(specs)
            .enumerate()
            .map(|(i, (inst, specs))| {
                let same_kind_before = instances[..i].iter().filter(|x| x.kind == inst.kind);
                let lag =
                    crate::adapter::adapter(inst.kind).view_lag + same_kind_before.count() as i128;
                VenueState::new(inst, i, lag, specs, cfg.clone(), &mut rng, referee.clone())
            })
            .collect::<Result<Vec<_>, _>>()?;
        let traders: Vec<(usize, &str, u32)> = venues
            .iter()
            .map(|v| (v.index, v.name.as_str(), v.trader_account))
            .collect();
        let wallets = Arc::new(crate::wallet::Wallets::new(
            &cfg.wallet,
            cfg.seed,
            &traders,
        )?);
        for v in &venues {
            let _ = v.wallets.set(wallets.clone());
        }
        Ok(Shared {
            cfg,
            venues,
            paused,
            referee,
            cancel: CancellationToken::new(),
            wallets,
        })
    }

    /// Every venue instance, in list order.
    pub fn venues(&self) -> &[VenueState] {
        &self.venues
    }

    /// The instance at `index` in [`Shared::venues`].
    pub fn venue_at(&self, index: usize) -> &VenueState {
        &self.venues[index]
    }

    /// The instance `v`, if this simulator hosts it.
    pub fn find(&self, v: Venue) -> Option<&VenueState> {
        self.venues.iter().find(|s| s.venue == v)
    }

    /// The instance `v` (the callers that name a venue by `arb_core::Venue`: the public
    /// API, benches).
    ///
    /// # Panics
    /// When this simulator does not host `v` (see [`Shared::find`]).
    pub fn venue(&self, v: Venue) -> &VenueState {
        self.find(v)
            .unwrap_or_else(|| panic!("{}", self.unknown(v.as_str())))
    }

    /// The instance called `name` (the kinds' aliases `gate` and `gate.io` name `gateio`).
    pub fn venue_named(&self, name: &str) -> Option<&VenueState> {
        Venue::named(name).and_then(|v| self.find(v))
    }

    /// The instance called `name`, or an error naming the configured ones.
    ///
    /// # Errors
    /// [`SimError::UnknownVenue`].
    pub fn lookup(&self, name: &str) -> Result<&VenueState, SimError> {
        self.venue_named(name).ok_or_else(|| self.unknown(name))
    }

    fn unknown(&self, name: &str) -> SimError {
        let names: Vec<&str> = self.venues.iter().map(|v| v.name.as_str()).collect();
        SimError::UnknownVenue {
            name: name.to_string(),
            configured: names.join(", "),
        }
    }

    /// The first instance of `kind`: the default instance when hosted (`mexc`,
    /// `gateio`), else the first of that kind in the list.
    pub fn first_of(&self, kind: VenueKind) -> Option<&VenueState> {
        self.find(kind.default_venue())
            .or_else(|| self.venues.iter().find(|s| s.kind == kind))
    }

    pub fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::Release);
    }

    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Acquire)
    }

    /// The trader's keys on every instance, by name: `{mexc: {api_key, api_secret}, ...}`
    /// (loopback-only test tooling hands them out, as `python -m arbhybrid sim` prints them).
    pub fn accounts_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        for vs in &self.venues {
            let t = &vs.trader;
            m.insert(
                vs.name.clone(),
                serde_json::json!({"api_key": t.api_key, "api_secret": t.api_secret}),
            );
        }
        serde_json::Value::Object(m)
    }

    pub fn counters_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        for vs in &self.venues {
            let mut c = vs.counters.json();
            let h = vs.faults.history();
            c["faults"]["injected"] = serde_json::json!(h.len());
            c["faults"]["fired"] = serde_json::json!(h.iter().map(|r| r.fired).sum::<u64>());
            m.insert(vs.name.clone(), c);
        }
        serde_json::Value::Object(m)
    }

    /// Injects a fault on the instance its spec names.
    ///
    /// # Errors
    /// A venue this simulator does not host; as [`VenueState::inject_fault`].
    pub fn inject_fault(&self, spec: FaultSpec) -> Result<u64, SimError> {
        self.lookup(spec.venue.as_str())?.inject_fault(spec)
    }

    /// Every fault injected on every venue, with how often each fired.
    pub fn faults_json(&self) -> serde_json::Value {
        let mut all = Vec::new();
        for vs in &self.venues {
            all.extend(vs.faults.history());
        }
        serde_json::to_value(all).unwrap_or_default()
    }

    /// Ends every active fault (a halt included).
    pub fn clear_faults(&self) {
        for vs in &self.venues {
            vs.faults.clear();
        }
    }
}
