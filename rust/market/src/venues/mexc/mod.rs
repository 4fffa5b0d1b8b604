//! MEXC spot v3 market data: the protobuf messages ([`proto`]), the book, ticker and deals
//! frames and the REST depth snapshot (this module's items), the feed adapter
//! ([`MexcFeed`]) and the `exchangeInfo` symbol list ([`MexcSymbols`]).

mod feed;
mod frames;
pub mod proto;
mod symbols;

pub use feed::MexcFeed;
pub use frames::*;
pub use symbols::{parse_mexc, MexcSymbols};

/// The market layer's adapter of this venue kind (registered in [`super::adapter`]).
pub static ADAPTER: super::MarketAdapter = super::MarketAdapter {
    feed: |at, cfg| std::sync::Arc::new(MexcFeed::new(at.clone(), cfg.clone())),
    symbols: &MexcSymbols,
    public_endpoints: ("https://api.mexc.com", "wss://wbs-api.mexc.com/ws"),
};
