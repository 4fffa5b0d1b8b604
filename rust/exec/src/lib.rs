//! arb-exec: where money moves. Signed REST clients for MEXC and Gate.io, their private
//! streams, the order lifecycle, error classes with a retry policy that never resends
//! an order blindly, client-side rate limits, a circuit breaker per venue, and the
//! concurrent two-venue submission the engine calls on its hot path.
//!
//! The machinery is generic; each venue is an adapter in its own folder
//! (`venues/<venue>/`: signing, endpoints, parsers, error classification, documented
//! limits, client-id wire format, private stream) behind the traits of [`venue_api`],
//! picked by [`venues::adapter_for`].
//!
//! The path of an arbitrage, as the engine drives it:
//!
//! ```no_run
//! # async fn f(mexc_cfg: arb_exec::VenueConfig, gate_cfg: arb_exec::VenueConfig,
//! #            mexc_rules: std::sync::Arc<arb_exec::SymbolRules>,
//! #            gate_rules: std::sync::Arc<arb_exec::SymbolRules>) -> Result<(), arb_exec::ExecError> {
//! use arb_exec::*;
//! let mexc = VenueClient::new(mexc_cfg)?; // pooled, signed, rate limited, breaker
//! let gate = VenueClient::new(gate_cfg)?;
//! mexc.server_time().await?; // clock offset for signed timestamps
//! let _streams = [
//!     UserStream::start(mexc.clone(), vec!["BTCUSDT".into()]),
//!     UserStream::start(gate.clone(), vec!["BTC_USDT".into()]),
//! ];
//! let txn = 42;
//! let buy = OrderRequest {
//!     rules: mexc_rules,
//!     side: Side::Buy,
//!     kind: OrderKind::Limit { price: Amount::parse("65000.12").unwrap(), qty: Amount::parse("0.01").unwrap(), tif: TimeInForce::Ioc },
//!     client_id: ClientOrderId::for_leg("arb", txn, Leg::A).unwrap(),
//! };
//! let sell = OrderRequest {
//!     rules: gate_rules,
//!     side: Side::Sell,
//!     kind: OrderKind::Limit { price: Amount::parse("65100.1").unwrap(), qty: Amount::parse("0.01").unwrap(), tif: TimeInForce::Ioc },
//!     client_id: ClientOrderId::for_leg("arb", txn, Leg::B).unwrap(),
//! };
//! let (a, b) = submit_pair_prepared(&mexc, &buy.prepare()?, &gate, &sell.prepare()?).await;
//! // Each leg: Ok(tracked state) or the classified error (UnknownOutcome only when the
//! // venue could not be asked; the tracker then holds the order as `unknown`).
//! let done = mexc.tracker().wait_final(&buy.client_id, std::time::Duration::from_secs(5)).await;
//! # let _ = (a, b, done); Ok(()) }
//! ```

pub mod amount;
pub mod breaker;
pub mod client;
pub mod config;
pub mod error;
pub mod h1;
pub mod http;
pub(crate) mod json;
pub mod lifecycle;
pub mod order;
pub mod ratelimit;
pub mod rest_stats;
pub mod secret;
pub mod submit;
pub mod user_stream;
pub mod venue_api;
pub mod venues;
pub mod wallet;
pub mod ws_trade;

/// The venue folders under their former names (`arb_exec::mexc::parse_order`, ...).
pub use venues::{gate, mexc};

/// Re-exported so the bindings crate can name `Serialize` without its own serde dependency.
pub use serde;

pub use amount::Amount;
pub use breaker::{Breaker, BreakerState};
pub use client::{FeeRates, Located, OrderRef, VenueClient};
pub use config::{OrderPath, VenueConfig};
pub use error::ExecError;
pub use http::ConnStats;
pub use lifecycle::{
    Balance, ExecEvent, Fill, FillRejected, OrderReport, OrderState, OrderStatus, OrderTracker,
    Source,
};
pub use order::{
    ClientOrderId, Leg, OrderKind, OrderRequest, PreparedOrder, Side, SymbolRules, TimeInForce,
};
pub use ratelimit::{Endpoint, RateLimiter};
pub use rest_stats::RestOutcomes;
pub use secret::Secret;
pub use submit::{submit_pair, submit_pair_prepared, PairOutcome};
pub use user_stream::{StreamStats, UserStream};
pub use venue_api::VenueApi;
pub use venues::adapter_for;
pub use wallet::{
    DepositAddress, DepositRecord, NetworkInfo, TransferStatus, Wallet, WithdrawRequest,
    WithdrawalRecord,
};
