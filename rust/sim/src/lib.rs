//! arb-sim: a MEXC spot v3 and Gate.io v4 exchange simulator on loopback — matching
//! engine, a seeded moving market, the venues' real REST and WebSocket protocols, rate
//! limits and a ground-truth admin API — faithful enough that ccxt and `gate-api` work
//! against it with only their URLs and keys changed. It hosts any list of venue
//! instances (`SimConfig::venues`), two of the same kind included.
//!
//! Layout: [`matching`] is the pure engine; [`state`] wraps one venue's engine with its
//! lock, event fan-out and accounts, and holds the list of venue instances; [`market`]
//! drives background activity; [`http`] and [`ws`] are the request prologue and the
//! WebSocket send loop every venue shares; [`mexc`] and [`gate`] speak the venue
//! protocols on top of them (reached through [`adapter`]); [`wallet`] holds the
//! wallets and moves transfers between instances; [`admin`] serves ground truth.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use arb_core::{Venue, VenueKind};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub mod adapter;
pub mod admin;
pub mod config;
pub mod faults;
pub mod gate;
pub mod http;
pub mod market;
pub mod matching;
pub mod mexc;
pub mod ratelimit;
pub mod referee;
pub mod sign;
pub mod spec;
pub mod state;
pub mod wallet;
pub mod ws;

pub use config::{SimConfig, VenueConfig};
pub use faults::{FaultKind, FaultRecord, FaultSpec, OrderError, WsScope};
pub use state::Shared;

/// Why the simulator could not start, or could not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("simulator config: {0}")]
    Config(String),
    /// A venue name this simulator does not host.
    #[error("unknown venue {name:?} (configured: {configured})")]
    UnknownVenue { name: String, configured: String },
    #[error("simulator could not bind {what} on 127.0.0.1:{port}: {source}")]
    Bind {
        what: String,
        port: u16,
        source: std::io::Error,
    },
}

/// Where each venue instance and the admin API listen. The named fields are the first
/// instance of each kind (the default `mexc` / `gateio` when hosted; empty when the
/// config hosts none of that kind); `venues` lists every instance.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Endpoints {
    /// `http://127.0.0.1:PORT` (paths `/api/v3/...`).
    pub mexc_rest: String,
    /// `ws://127.0.0.1:PORT/ws` (private: `...?listenKey=`).
    pub mexc_ws: String,
    /// `http://127.0.0.1:PORT/api/v4`.
    pub gate_rest: String,
    /// `ws://127.0.0.1:PORT/ws/v4/`.
    pub gate_ws: String,
    /// `http://127.0.0.1:PORT`.
    pub admin: String,
    /// Every instance, in config order.
    pub venues: Vec<VenueEndpoint>,
}

/// Where one venue instance listens (serialized `{name, kind, rest, ws}`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct VenueEndpoint {
    #[serde(rename = "name")]
    pub venue: Venue,
    #[serde(serialize_with = "kind_name")]
    pub kind: VenueKind,
    /// The REST base URL in the kind's format (as `mexc_rest` / `gate_rest`).
    pub rest: String,
    /// The WebSocket URL in the kind's format (as `mexc_ws` / `gate_ws`).
    pub ws: String,
}

fn kind_name<S: serde::Serializer>(k: &VenueKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(k.as_str())
}

/// API credentials of an account on one venue.
#[derive(Clone)]
pub struct TestAccount {
    pub venue: Venue,
    pub api_key: String,
    pub api_secret: String,
}

impl fmt::Debug for TestAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestAccount")
            .field("venue", &self.venue)
            .field("api_key", &self.api_key)
            .field("api_secret", &"***")
            .finish()
    }
}

/// A venue's true book: levels best first, decimal strings.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TruthBook {
    /// MEXC version / Gate update id of the last change.
    pub version: u64,
    pub bids: Vec<(String, String)>,
    pub asks: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TruthFill {
    pub trade_id: String,
    pub order_id: String,
    pub client_order_id: String,
    /// Venue format ("BTCUSDT", "BTC_USDT").
    pub symbol: String,
    /// "buy" / "sell".
    pub side: String,
    pub price: String,
    pub qty: String,
    pub quote_qty: String,
    pub fee: String,
    pub fee_currency: String,
    pub is_maker: bool,
    pub time_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TruthOrder {
    pub order_id: String,
    pub client_order_id: String,
    pub symbol: String,
    /// "buy" / "sell".
    pub side: String,
    /// "limit", "market", "limit_maker", "ioc", "fok".
    pub kind: String,
    pub price: String,
    pub qty: String,
    pub filled_qty: String,
    /// "new", "partially_filled", "filled", "canceled", "partially_canceled".
    pub status: String,
    pub create_time_ms: i64,
}

/// A running simulator. Dropping it without [`Simulator::shutdown`] also stops it
/// (its tasks watch a cancellation token that `Drop` cancels).
pub struct Simulator {
    endpoints: Endpoints,
    shared: Arc<Shared>,
    cancel: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl Simulator {
    /// Builds every venue instance, binds their servers on 127.0.0.1 and starts the market.
    /// Must be called inside a tokio runtime.
    ///
    /// # Errors
    /// A bad config (unknown symbol format, bad balance) or a port that cannot be bound.
    pub async fn start(cfg: SimConfig) -> Result<Simulator, SimError> {
        let shared = Arc::new(Shared::new(cfg)?);
        let cancel = shared.cancel.clone();
        let port = |l: &tokio::net::TcpListener| l.local_addr().map(|a| a.port()).unwrap_or(0);
        let mut listeners = Vec::new();
        for vs in shared.venues() {
            listeners.push(bind(&vs.name, vs.port).await?);
        }
        let admin = bind("admin", shared.cfg.admin_port).await?;
        let venues: Vec<VenueEndpoint> = shared
            .venues()
            .iter()
            .zip(&listeners)
            .map(|(vs, l)| {
                let (rest, ws) = (vs.adapter.urls)(port(l));
                VenueEndpoint {
                    venue: vs.venue,
                    kind: vs.kind,
                    rest,
                    ws,
                }
            })
            .collect();
        let urls_of = |kind: VenueKind| {
            shared.first_of(kind).map_or_else(Default::default, |vs| {
                let e = &venues[vs.index];
                (e.rest.clone(), e.ws.clone())
            })
        };
        let ((mexc_rest, mexc_ws), (gate_rest, gate_ws)) =
            (urls_of(VenueKind::Mexc), urls_of(VenueKind::Gate));
        let endpoints = Endpoints {
            mexc_rest,
            mexc_ws,
            gate_rest,
            gate_ws,
            admin: format!("http://127.0.0.1:{}", port(&admin)),
            venues,
        };
        let mut tasks = Vec::new();
        for (index, listener) in listeners.into_iter().enumerate() {
            let venue = state::VenueRef {
                shared: shared.clone(),
                index,
            };
            let router = (shared.venue_at(index).adapter.router)(venue);
            tasks.push(serve(listener, router, cancel.clone()));
        }
        tasks.push(serve(admin, admin::router(shared.clone()), cancel.clone()));
        tasks.push(tokio::spawn(wallet::run(shared.clone(), cancel.clone())));
        let mut m = market::Market::new(&shared);
        m.seed_books(&shared);
        if shared.cfg.probe_mode {
            tasks.push(tokio::spawn(market::run_probe(
                shared.clone(),
                m,
                cancel.clone(),
            )));
        } else {
            tasks.push(tokio::spawn(market::run(shared.clone(), m, cancel.clone())));
        }
        Ok(Simulator {
            endpoints,
            shared,
            cancel,
            tasks,
        })
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// The account a client trades with on `venue`.
    ///
    /// # Panics
    /// When this simulator does not host `venue` (as every method taking a `Venue`;
    /// [`Shared::lookup`] is the fallible lookup by name).
    pub fn trader(&self, venue: Venue) -> &TestAccount {
        &self.shared.venue(venue).trader
    }

    /// The venue's true book for `venue_symbol` ("BTCUSDT" / "BTC_USDT"), `depth` levels a side.
    pub fn truth_book(&self, venue: Venue, venue_symbol: &str, depth: usize) -> Option<TruthBook> {
        self.shared.venue(venue).truth_book(venue_symbol, depth)
    }

    /// Asset -> (free, locked) of the account with `api_key`; empty for an unknown key.
    pub fn balances(&self, venue: Venue, api_key: &str) -> BTreeMap<String, (String, String)> {
        self.shared.venue(venue).truth_balances(api_key)
    }

    /// Every order of the account, oldest first.
    pub fn orders(&self, venue: Venue, api_key: &str) -> Vec<TruthOrder> {
        self.shared.venue(venue).truth_orders(api_key)
    }

    /// Every fill of the account, oldest first.
    pub fn fills(&self, venue: Venue, api_key: &str) -> Vec<TruthFill> {
        self.shared.venue(venue).truth_fills(api_key)
    }

    /// Every withdrawal, deposit and trader deposit address, by venue name (JSON).
    pub fn wallets(&self) -> serde_json::Value {
        self.shared.wallets.json(&self.shared)
    }

    /// Background makers/takers off (`true`) or on; client orders still match.
    pub fn set_market_paused(&self, paused: bool) {
        self.shared.set_paused(paused);
    }

    /// The next book push for that symbol skips a sequence number.
    pub fn inject_gap(&self, venue: Venue, venue_symbol: &str) {
        self.shared.venue(venue).inject_gap(venue_symbol);
    }

    /// Injects a fault (see [`FaultKind`]); returns its id.
    ///
    /// # Errors
    /// An unknown symbol, or a frame fault without a symbol.
    pub fn inject_fault(&self, spec: FaultSpec) -> Result<u64, SimError> {
        self.shared.inject_fault(spec)
    }

    /// Every fault injected, with how often each fired (JSON list of [`FaultRecord`]).
    pub fn faults(&self) -> serde_json::Value {
        self.shared.faults_json()
    }

    /// Ends every active fault.
    pub fn clear_faults(&self) {
        self.shared.clear_faults();
    }

    /// Probe-mode tick-to-trade report: probes, first-leg and both-legs latency (count,
    /// p50, p90, p99, p99.9, max in microseconds) and every probe.
    pub fn referee(&self) -> serde_json::Value {
        self.shared.referee.report()
    }

    /// Frames sent per venue/channel, requests, orders, fills, faults.
    pub fn counters(&self) -> serde_json::Value {
        self.shared.counters_json()
    }

    /// The shared state (for the bindings and benches that drive the venues directly).
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Stops the servers and the market and waits for them.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

async fn bind(what: &str, port: u16) -> Result<tokio::net::TcpListener, SimError> {
    tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|source| SimError::Bind {
            what: what.to_string(),
            port,
            source,
        })
}

fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    cancel: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        // TCP_NODELAY on every accepted socket: the simulator is the latency referee, and
        // Nagle would hold a small push back until the client's delayed ACK (~40 ms).
        use axum::serve::ListenerExt;
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move { cancel.cancelled().await })
            .await;
    })
}
