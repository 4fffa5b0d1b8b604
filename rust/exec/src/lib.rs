//! arb-exec: where money moves. Signed REST clients for MEXC and Gate.io, their private
//! streams, the order lifecycle, error classes with a retry policy that never resends
//! an order blindly, client-side rate limits, a circuit breaker per venue, and the
//! concurrent two-venue submission the engine calls on its hot path.

pub mod amount;
pub mod breaker;
pub mod error;
pub mod lifecycle;
pub mod order;
pub mod ratelimit;
pub mod secret;

pub use amount::Amount;
pub use breaker::{Breaker, BreakerState};
pub use error::ExecError;
pub use lifecycle::{
    Balance, ExecEvent, Fill, OrderReport, OrderState, OrderStatus, OrderTracker, Source,
};
pub use order::{ClientOrderId, Leg, OrderKind, OrderRequest, Side, SymbolRules, TimeInForce};
pub use ratelimit::{Endpoint, RateLimiter};
pub use secret::Secret;
