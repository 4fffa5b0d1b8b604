//! Gate.io v4 spot market data: the book, ticker and trade frames and the REST order book
//! snapshot (this module's items), the feed adapter ([`GateFeed`]) and the
//! `currency_pairs` symbol list ([`GateSymbols`]).

mod feed;
mod frames;
mod symbols;

pub use feed::GateFeed;
pub use frames::*;
pub use symbols::{parse_gate, GateSymbols};

/// The venue's production (REST base, public WebSocket) endpoints.
pub const PUBLIC_ENDPOINTS: (&str, &str) =
    ("https://api.gateio.ws/api/v4", "wss://api.gateio.ws/ws/v4/");
