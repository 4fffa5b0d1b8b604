//! arb-exec: where money moves. Signed REST clients for MEXC and Gate.io, their private
//! streams, the order lifecycle, error classes with a retry policy that never resends
//! an order blindly, client-side rate limits, a circuit breaker per venue, and the
//! concurrent two-venue submission the engine calls on its hot path.

pub mod amount;
pub mod breaker;
pub mod client;
pub mod config;
pub mod error;
pub mod gate;
pub mod gate_ws_trade;
pub mod http;
pub(crate) mod json;
pub mod lifecycle;
pub mod mexc;
pub mod order;
pub mod ratelimit;
pub mod secret;
pub mod submit;
pub mod user_stream;

/// Re-exported so the bindings crate can name `Serialize` without its own serde dependency.
pub use serde;

pub use amount::Amount;
pub use breaker::{Breaker, BreakerState};
pub use client::{FeeRates, OrderRef, VenueClient};
pub use config::{OrderPath, VenueConfig};
pub use error::ExecError;
pub use http::ConnStats;
pub use lifecycle::{
    Balance, ExecEvent, Fill, OrderReport, OrderState, OrderStatus, OrderTracker, Source,
};
pub use order::{ClientOrderId, Leg, OrderKind, OrderRequest, Side, SymbolRules, TimeInForce};
pub use ratelimit::{Endpoint, RateLimiter};
pub use secret::Secret;
pub use submit::{submit_pair, submit_pair_prepared, PairOutcome};
pub use user_stream::{StreamStats, UserStream};
