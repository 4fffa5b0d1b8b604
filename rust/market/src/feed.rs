//! Starting and stopping the market-data feeds: configuration, the symbol-table fetch,
//! the event log hook, reconnect backoff and feed counters. The connection loop itself
//! is in [`crate::shard`].
//!
//! One task per connection ("shard"): each venue's adapter says how many symbols one
//! connection carries (MEXC allows 30 channels per connection; Gate symbols share shards
//! of `gate_symbols_per_connection`). Each shard owns its books' sequencing state, so the
//! hot path (frame -> parse -> apply -> listeners) runs on one task without cross-task
//! hops. Nothing here knows a particular venue: the adapters come from
//! [`crate::venues::feed_protocol`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Once};
use std::time::Duration;

use arb_core::{Venue, VenueKind, VenueMap};
use rand::Rng;
use serde::Deserialize;
use tokio::runtime::Handle;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::gate::GateBookChannel;
use crate::protocol::Streams;
use crate::shard::{Shard, ShardBook};
use crate::store::{BookStore, InvalidReason};
use crate::symbols::{SymbolId, SymbolTable};

/// Feed configuration. URLs carry the scheme: `ws://`/`http://` for the simulator,
/// `wss://`/`https://` for the venues.
/// Unknown fields are rejected: a misspelt knob is an error, not a silent default.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeedConfig {
    /// The venues to feed, in order: each instance with its endpoints. The protocol
    /// knobs below (`mexc_*`, `gate_*`) apply to every instance of that kind.
    pub venues: Vec<FeedVenue>,
    /// `spot.obu` (default, like ccxt) or `spot.order_book_update`.
    pub gate_channel: GateBookChannel,
    /// spot.obu depth: 50 or 400.
    pub gate_obu_depth: u32,
    /// spot.order_book_update interval: `20ms` or `100ms`.
    pub gate_interval: String,
    /// aggre.depth interval: `10ms` or `100ms`.
    pub mexc_interval: String,
    /// Also subscribe best bid/ask (MEXC aggre.bookTicker, Gate spot.book_ticker) and
    /// deliver them as [`crate::store::MarketEvent::Ticker`].
    pub tickers: bool,
    /// Also subscribe public trades (MEXC aggre.deals, Gate spot.trades), delivered as
    /// [`crate::store::MarketEvent::Trade`].
    pub trades: bool,
    pub mexc_snapshot_limit: u32,
    pub gate_snapshot_limit: u32,
    /// A live book without an update for this long is stale (not tradable).
    #[serde(with = "millis", rename = "stale_after_ms")]
    pub stale_after: Duration,
    /// A book stale for this long is cleared and resynced; a connection silent for this
    /// long (not even a pong) is replaced.
    #[serde(with = "millis", rename = "reset_after_ms")]
    pub reset_after: Duration,
    #[serde(with = "millis", rename = "mexc_ping_ms")]
    pub mexc_ping: Duration,
    #[serde(with = "millis", rename = "gate_ping_ms")]
    pub gate_ping: Duration,
    #[serde(with = "millis", rename = "backoff_min_ms")]
    pub backoff_min: Duration,
    #[serde(with = "millis", rename = "backoff_max_ms")]
    pub backoff_max: Duration,
    pub mexc_symbols_per_connection: usize,
    pub gate_symbols_per_connection: usize,
    /// A connection older than this is replaced by a new one, overlapping until every
    /// book has moved over (MEXC closes connections at 24 h).
    #[serde(with = "millis", rename = "connection_max_age_ms")]
    pub connection_max_age: Duration,
    /// Longest overlap of old and new connection during a replacement; books that have
    /// not linked by then resync on the new connection.
    #[serde(with = "millis", rename = "rotation_overlap_max_ms")]
    pub rotation_overlap_max: Duration,
    /// REST request timeout.
    #[serde(with = "millis", rename = "http_timeout_ms")]
    pub http_timeout: Duration,
}

/// One venue instance's feed endpoints. URLs carry the scheme: `ws://`/`http://` for
/// the simulator, `wss://`/`https://` for the venues.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawFeedVenue")]
pub struct FeedVenue {
    pub venue: Venue,
    /// REST base: `https://api.mexc.com` (paths `/api/v3/...` are appended),
    /// `https://api.gateio.ws/api/v4`.
    pub rest: String,
    /// `wss://wbs-api.mexc.com/ws`, `wss://api.gateio.ws/ws/v4/`.
    pub ws: String,
}

impl FeedVenue {
    pub fn new(venue: Venue, rest: impl Into<String>, ws: impl Into<String>) -> Self {
        Self {
            venue,
            rest: rest.into(),
            ws: ws.into(),
        }
    }

    /// `venue` at its kind's public production endpoints.
    pub fn public(venue: Venue) -> Self {
        let (rest, ws) = crate::venues::public_endpoints(venue.kind());
        Self::new(venue, rest, ws)
    }
}

/// `{name, kind, rest, ws}` as configured; `kind` may be left out when the name is a
/// kind's (`mexc`, `gateio`). Reading it registers the instance.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFeedVenue {
    name: String,
    #[serde(default)]
    kind: Option<String>,
    rest: String,
    ws: String,
}

impl TryFrom<RawFeedVenue> for FeedVenue {
    type Error = String;
    fn try_from(r: RawFeedVenue) -> Result<Self, String> {
        let venue = Venue::configure(&r.name, r.kind.as_deref())?;
        Ok(FeedVenue::new(venue, r.rest, r.ws))
    }
}

mod millis {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

impl Default for FeedConfig {
    fn default() -> Self {
        Self {
            venues: VenueKind::ALL
                .iter()
                .map(|&k| FeedVenue::public(k.default_venue()))
                .collect(),
            gate_channel: GateBookChannel::Obu,
            gate_obu_depth: 50,
            gate_interval: "100ms".into(),
            mexc_interval: "100ms".into(),
            tickers: false,
            trades: false,
            mexc_snapshot_limit: 1000,
            gate_snapshot_limit: 100,
            stale_after: Duration::from_secs(5),
            reset_after: Duration::from_secs(30),
            mexc_ping: Duration::from_secs(20),
            gate_ping: Duration::from_secs(10),
            backoff_min: Duration::from_millis(250),
            backoff_max: Duration::from_secs(30),
            mexc_symbols_per_connection: crate::mexc::MAX_SUBSCRIPTIONS_PER_CONNECTION,
            gate_symbols_per_connection: 100,
            connection_max_age: Duration::from_secs(23 * 3600),
            rotation_overlap_max: Duration::from_secs(60),
            http_timeout: Duration::from_secs(10),
        }
    }
}

impl FeedConfig {
    /// The channels subscribed per symbol besides the book.
    pub fn streams(&self) -> Streams {
        Streams {
            tickers: self.tickers,
            trades: self.trades,
        }
    }
}

/// Severity of a feed log record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    Info,
    Warn,
    Error,
}

/// One feed log record: which venue, a stable event name (`connect_failed`,
/// `reconnect`, `gap`, ...) and a human detail (never secrets: feeds are public data).
#[derive(Clone, Copy, Debug)]
pub struct LogRecord<'a> {
    pub level: LogLevel,
    pub venue: Venue,
    pub event: &'static str,
    pub detail: &'a str,
}

/// Where feed log records go. The default writes one line to stderr; the ring logger
/// (arb-telemetry) plugs in here.
pub type LogSink = Arc<dyn Fn(&LogRecord<'_>) + Send + Sync>;

/// A sink writing `market <level> <venue> <event>: <detail>` lines to stderr.
pub fn stderr_log() -> LogSink {
    Arc::new(|r: &LogRecord<'_>| {
        eprintln!("market {:?} {} {}: {}", r.level, r.venue, r.event, r.detail);
    })
}

/// Counters for one venue's feeds.
#[derive(Default, Debug)]
pub struct VenueCounters {
    pub connects: AtomicU64,
    pub connect_failures: AtomicU64,
    pub disconnects: AtomicU64,
    pub frames: AtomicU64,
    pub unparsable_frames: AtomicU64,
    pub snapshots: AtomicU64,
    pub snapshot_failures: AtomicU64,
    pub resubscribes: AtomicU64,
    pub rotations: AtomicU64,
    pub pings: AtomicU64,
}

/// A copy of [`VenueCounters`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CountersSnapshot {
    pub connects: u64,
    pub connect_failures: u64,
    pub disconnects: u64,
    pub frames: u64,
    pub unparsable_frames: u64,
    pub snapshots: u64,
    pub snapshot_failures: u64,
    pub resubscribes: u64,
    pub rotations: u64,
    pub pings: u64,
}

impl VenueCounters {
    pub fn snapshot(&self) -> CountersSnapshot {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        CountersSnapshot {
            connects: l(&self.connects),
            connect_failures: l(&self.connect_failures),
            disconnects: l(&self.disconnects),
            frames: l(&self.frames),
            unparsable_frames: l(&self.unparsable_frames),
            snapshots: l(&self.snapshots),
            snapshot_failures: l(&self.snapshot_failures),
            resubscribes: l(&self.resubscribes),
            rotations: l(&self.rotations),
            pings: l(&self.pings),
        }
    }
}

/// Capped exponential backoff with jitter: attempt n waits a random time in
/// `[d/2, d]` with `d = min(max, min * 2^n)`; jitter keeps many shards from
/// reconnecting in lockstep after a venue outage.
#[derive(Clone, Debug)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Self {
        Self {
            min,
            max,
            attempt: 0,
        }
    }

    pub fn next_delay(&mut self) -> Duration {
        let d = self
            .min
            .saturating_mul(1u32 << self.attempt.min(20))
            .min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        let ns = d.as_nanos() as u64;
        Duration::from_nanos(rand::rng().random_range(ns / 2..=ns.max(1)))
    }

    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// Why the feeds could not start.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("{venue} REST {url}: {detail}")]
    Http {
        venue: Venue,
        url: String,
        detail: String,
    },
    #[error(transparent)]
    Symbols(#[from] crate::symbols::SymbolError),
    #[error("symbol {0:?} is not in the symbol table")]
    UnknownSymbol(String),
}

/// Installs rustls' `ring` provider once per process (tungstenite's rustls needs a
/// process default; `ring` builds with gcc alone, unlike aws-lc-rs which needs cmake).
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

pub(crate) fn http_client(cfg: &FeedConfig) -> reqwest::Client {
    install_crypto_provider();
    reqwest::Client::builder()
        .timeout(cfg.http_timeout)
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

pub(crate) async fn get_text(
    http: &reqwest::Client,
    venue: Venue,
    url: &str,
) -> Result<String, FeedError> {
    let err = |detail: String| FeedError::Http {
        venue,
        url: url.to_owned(),
        detail,
    };
    let resp = http.get(url).send().await.map_err(|e| err(e.to_string()))?;
    let status = resp.status();
    let body = resp.text().await.map_err(|e| err(e.to_string()))?;
    if !status.is_success() {
        let mut b = body;
        b.truncate(300);
        return Err(err(format!("HTTP {status}: {b}")));
    }
    Ok(body)
}

/// Fetches every enabled venue's symbol list (MEXC `exchangeInfo`, Gate
/// `currency_pairs`) and builds the symbol table.
///
/// # Errors
/// A request that fails or a body that does not parse.
pub async fn fetch_symbols(cfg: &FeedConfig) -> Result<SymbolTable, FeedError> {
    let http = http_client(cfg);
    let cfg = Arc::new(cfg.clone());
    let mut bodies = Vec::new();
    for fv in &cfg.venues {
        let proto = crate::venues::feed_protocol(fv, &cfg);
        bodies.push((
            fv.venue,
            get_text(&http, fv.venue, &proto.symbols_url()).await?,
        ));
    }
    Ok(SymbolTable::from_bodies(
        bodies.iter().map(|(v, b)| (*v, b.as_str())),
    )?)
}

/// Runs a shard, and runs it again if it panics: a panicked shard's task is gone, and
/// without this its books would stay "resyncing" (never tradable) until restart while
/// nothing said why. The panic itself is logged, counted and alerted by the process's
/// panic hook (arb-telemetry); here it is logged as a feed event, the books are
/// invalidated (a resync, counted) and a fresh shard reconnects after the backoff.
async fn supervise(make: impl Fn() -> Shard) {
    let mut backoff = None;
    loop {
        let shard = make();
        let (venue, no, cfg, store, log, cancel) = shard.parts();
        let ids: Vec<SymbolId> = shard.ids().collect();
        match tokio::spawn(shard.run()).await {
            Err(e) if e.is_panic() => {
                let b =
                    backoff.get_or_insert_with(|| Backoff::new(cfg.backoff_min, cfg.backoff_max));
                let d = b.next_delay();
                let now = arb_core::time::now_ns();
                for &id in &ids {
                    store.invalidate(venue, id, InvalidReason::Disconnected, true, now);
                }
                log(&LogRecord {
                    level: LogLevel::Error,
                    venue,
                    event: "shard_panicked",
                    detail: &format!(
                        "shard {no}: its task panicked; {} books invalid, restarting in {} ms",
                        ids.len(),
                        d.as_millis()
                    ),
                });
                tokio::select! {
                    _ = cancel.cancelled() => {}
                    _ = tokio::time::sleep(d) => continue,
                }
                for &id in &ids {
                    store.set_idle(venue, id);
                }
                return;
            }
            // Stopped (cancelled), or the runtime is shutting down.
            _ => return,
        }
    }
}

/// Test hook: the next shard to start panics (see [`supervise`]).
#[doc(hidden)]
pub fn panic_next_shard() {
    crate::shard::PANIC_NEXT_RUN.store(true, Ordering::Release);
}

/// Running feeds for a set of symbols on every configured venue, writing into a [`BookStore`].
/// Dropping it stops the feeds.
pub struct MarketData {
    store: Arc<BookStore>,
    cancel: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
    counters: VenueMap<Arc<VenueCounters>>,
}

impl std::fmt::Debug for MarketData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MarketData")
            .field("shards", &self.tasks.len())
            .finish()
    }
}

impl MarketData {
    /// Starts feeds on `handle` for `symbols` on every enabled venue that lists them.
    /// Listeners registered on the store (before or after) see every change.
    pub fn start(
        cfg: FeedConfig,
        store: Arc<BookStore>,
        symbols: &[SymbolId],
        handle: &Handle,
        log: LogSink,
    ) -> MarketData {
        install_crypto_provider();
        store.set_stale_after(cfg.stale_after);
        let cancel = CancellationToken::new();
        let counters = VenueMap::from_fn(cfg.venues.iter().map(|v| v.venue), |_| {
            Arc::new(VenueCounters::default())
        });
        let http = http_client(&cfg);
        let cfg = Arc::new(cfg);
        let mut tasks = Vec::new();
        let streams = cfg.streams();
        for fv in &cfg.venues {
            let venue = fv.venue;
            let proto = crate::venues::feed_protocol(fv, &cfg);
            let per_conn = proto.symbols_per_connection(streams);
            let table = store.table().clone();
            let listed: Vec<SymbolId> = symbols
                .iter()
                .copied()
                .filter(|&id| table.info(id).and_then(|i| i.rules(venue)).is_some())
                .collect();
            for (shard_no, chunk) in listed.chunks(per_conn).enumerate() {
                // Subscribed from now on: readers see "resyncing", not "idle", even
                // before the shard's task first runs.
                for &id in chunk {
                    store.set_resyncing(venue, id);
                }
                let (proto, cfg, store, table, http, log) = (
                    proto.clone(),
                    cfg.clone(),
                    store.clone(),
                    table.clone(),
                    http.clone(),
                    log.clone(),
                );
                let (counters, cancel) = (counters[venue].clone(), cancel.child_token());
                let ids = chunk.to_vec();
                let make = move || {
                    let books = ids
                        .iter()
                        .filter_map(|&id| {
                            let info = table.info(id)?;
                            let vs = info.rules(venue)?.venue_symbol.to_string();
                            Some(ShardBook::new(proto.book_sync(), id, vs, info))
                        })
                        .collect();
                    Shard::new(
                        proto.clone(),
                        shard_no,
                        cfg.clone(),
                        store.clone(),
                        books,
                        http.clone(),
                        log.clone(),
                        counters.clone(),
                        cancel.clone(),
                    )
                };
                tasks.push(handle.spawn(supervise(make)));
            }
        }
        MarketData {
            store,
            cancel,
            tasks,
            counters,
        }
    }

    pub fn store(&self) -> &Arc<BookStore> {
        &self.store
    }

    /// Number of connections (shards) running.
    pub fn shards(&self) -> usize {
        self.tasks.len()
    }

    /// A venue's feed counters (zero for a venue this feed does not serve).
    pub fn counters(&self, venue: Venue) -> CountersSnapshot {
        self.counters
            .get(venue)
            .map(|c| c.snapshot())
            .unwrap_or_default()
    }

    /// Stops every feed (idempotent); books become idle once their shard has exited.
    pub fn stop(&self) {
        self.cancel.cancel();
    }

    /// Stops and waits for every shard to exit.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }
}

impl Drop for MarketData {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_capped_and_jittered() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        let d: Vec<_> = (0..10).map(|_| b.next_delay()).collect();
        assert!(d[0] >= Duration::from_millis(50) && d[0] <= Duration::from_millis(100));
        assert!(d[3] >= Duration::from_millis(400) && d[3] <= Duration::from_millis(800));
        assert!(d.iter().all(|x| *x <= Duration::from_secs(2)));
        assert!(d[9] >= Duration::from_secs(1));
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(100));
    }

    #[test]
    fn config_from_json_with_defaults() {
        let c: FeedConfig = serde_json::from_str(r#"{"venues":[{"name":"mexc","rest":"http://127.0.0.1:1","ws":"ws://127.0.0.1:1/ws"}],"gate_channel":"order_book_update","stale_after_ms":700}"#).unwrap();
        assert_eq!(
            c.venues,
            [FeedVenue::new(
                Venue::MEXC,
                "http://127.0.0.1:1",
                "ws://127.0.0.1:1/ws"
            )]
        );
        assert_eq!(c.gate_channel, GateBookChannel::OrderBookUpdate);
        assert_eq!(c.stale_after, Duration::from_millis(700));
        assert_eq!(c.reset_after, Duration::from_secs(30));
        assert_eq!(c.mexc_symbols_per_connection, 30);
        let e = serde_json::from_str::<FeedConfig>(r#"{"stale_after":5}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("stale_after"), "{e}");
        assert_eq!(FeedConfig::default().venues.len(), 2);
    }

    #[test]
    fn venue_instances_are_registered_from_config_with_precise_errors() {
        let c: FeedConfig = serde_json::from_str(
            r#"{"venues":[{"name":"mexc_feed_cfg","kind":"mexc","rest":"http://r","ws":"ws://w"}]}"#,
        )
        .unwrap();
        let v = c.venues[0].venue;
        assert_eq!((v.as_str(), v.kind()), ("mexc_feed_cfg", VenueKind::Mexc));
        for (json, want) in [
            (
                r#"{"name":"x_feed_cfg","rest":"","ws":""}"#,
                "no kind given",
            ),
            (
                r#"{"name":"y_feed_cfg","kind":"binance","rest":"","ws":""}"#,
                "unknown venue kind",
            ),
            (
                r#"{"name":"mexc_feed_cfg","kind":"gateio","rest":"","ws":""}"#,
                "already registered",
            ),
            (
                r#"{"name":"Bad Name","kind":"mexc","rest":"","ws":""}"#,
                "not valid",
            ),
            (
                r#"{"name":"z_feed_cfg","kind":"mexc","rest":"","ws":"","extra":1}"#,
                "extra",
            ),
        ] {
            let e = serde_json::from_str::<FeedConfig>(&format!(r#"{{"venues":[{json}]}}"#))
                .unwrap_err()
                .to_string();
            assert!(e.contains(want), "{json}: {e}");
        }
    }
}
