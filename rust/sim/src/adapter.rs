//! What the venue-free simulator needs from a venue adapter (`src/mexc/`, `src/gate/`):
//! its id and key formats, symbol names and trading rules, how its makers follow the
//! fair price, its routes and URLs; and [`adapter`], the one place that maps an adapter
//! kind to its adapter.

use arb_core::VenueKind;
use axum::Router;
use rand_chacha::ChaCha8Rng;

use crate::spec::{Known, Restriction, Rules};
use crate::state::VenueRef;

/// One venue protocol's constants and constructors, as plain data and function pointers
/// (each adapter is a `static`).
pub struct Adapter {
    /// The first order id the venue hands out (ids look like the real venue's).
    pub first_order_id: u64,
    /// A fresh API key and secret in the venue's format.
    pub credentials: fn(&mut ChaCha8Rng) -> (String, String),
    /// An order id as the venue writes it.
    pub format_order_id: fn(u64) -> String,
    /// An order id in the venue's format back to the engine's number.
    pub parse_order_id: fn(&str) -> Option<u64>,
    /// The venue's name of a base/quote pair ("BTCUSDT", "BTC_USDT").
    pub symbol: fn(&str, &str) -> String,
    /// The venue's rules of a symbol in the known table.
    pub known_rules: fn(&Known) -> Rules,
    /// The venue's rules of a generated symbol with these price/qty decimals.
    pub generated_rules: fn(u32, u32) -> Rules,
    /// The symbol restrictions the venue can list (`Restriction::None` among them).
    pub restrictions: &'static [Restriction],
    /// How many market steps its makers take to close the gap to the fair price (the
    /// venues lag by different amounts, so cross-venue gaps open); a second instance of
    /// the kind lags one step more (`VenueState::view_lag`).
    pub view_lag: i128,
    /// REST and WebSocket routes of one instance.
    pub router: fn(VenueRef) -> Router,
    /// (REST base URL, WebSocket URL) of an instance listening on `port`.
    pub urls: fn(u16) -> (String, String),
}

/// The adapter of a venue kind.
pub fn adapter(kind: VenueKind) -> &'static Adapter {
    match kind {
        VenueKind::Mexc => &crate::mexc::ADAPTER,
        VenueKind::Gate => &crate::gate::ADAPTER,
    }
}
