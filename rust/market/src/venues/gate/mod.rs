//! Gate.io v4 spot market data: the book, ticker and trade frames and the REST order book
//! snapshot (this module's items), the feed adapter ([`GateFeed`]) and the
//! `currency_pairs` symbol list ([`GateSymbols`]).

mod feed;
mod frames;
mod symbols;

pub use feed::GateFeed;
pub use frames::*;
pub use symbols::{parse_gate, GateSymbols};

/// The market layer's adapter of this venue kind (registered in [`super::adapter`]).
pub static ADAPTER: super::MarketAdapter = super::MarketAdapter {
    feed: |at, cfg| std::sync::Arc::new(GateFeed::new(at.clone(), cfg.clone())),
    symbols: &GateSymbols,
    public_endpoints: ("https://api.gateio.ws/api/v4", "wss://api.gateio.ws/ws/v4/"),
};
