//! arb-market: the market-data core. Symbols and trading rules ([`symbols`]), exact L2
//! books ([`book`]) kept in sequence by each venue's documented procedure ([`sync`]),
//! the shared book store with health ([`store`]) and the WebSocket feeds that drive it
//! ([`feed`]). The feeds and the table know no venue: each venue is an adapter in its
//! own folder under [`venues`] ([`mexc`], [`gate`]: protocol, frames, symbol list),
//! reached through the interfaces in [`protocol`].
//!
//! Prices and quantities are `u64` mantissas at per-symbol scales shared by every venue;
//! nothing here uses floating point for money.
//!
//! Typical use (the engine): build the table, a store, register the hot-path listener,
//! start the feeds; the listener runs inline on the feed task right after each applied
//! update and may read any book from the store.
//!
//! ```no_run
//! # async fn f() -> Result<(), arb_market::feed::FeedError> {
//! use std::sync::Arc;
//! use arb_core::Venue;
//! use arb_market::{BookChange, BookStore, FeedConfig, MarketData, BookSide};
//!
//! let cfg = FeedConfig::default(); // real venues; the simulator's URLs in tests
//! let table = Arc::new(arb_market::fetch_symbols(&cfg).await?);
//! let store = Arc::new(BookStore::new(table.clone()));
//! let s = store.clone();
//! store.add_listener(Arc::new(move |c: &BookChange| {
//!     for other in [Venue::MEXC, Venue::GATE].into_iter().filter(|&v| v != c.venue) {
//!         if s.is_valid(c.venue, c.symbol) && s.is_valid(other, c.symbol) {
//!             let _cost = s.read(other, c.symbol, |book, _valid| book.sweep(BookSide::Ask, 1_000_000));
//!         }
//!     }
//! }));
//! let md = MarketData::start(cfg, store, table.common(), &tokio::runtime::Handle::current(), arb_market::feed::stderr_log());
//! # drop(md); Ok(()) }
//! ```

pub mod book;
pub mod decimal;
pub mod feed;
mod json_scan;
pub mod protocol;
mod shard;
pub mod stamped;
pub mod store;
pub mod symbols;
pub mod sync;
pub mod venues;

/// The venue folders, also at the crate root where their users have always found them.
pub use venues::{gate, mexc};

pub use book::{BookSide, Level, OrderBook, Scales, Sweep};
pub use decimal::Decimal;
pub use feed::{fetch_symbols, FeedConfig, LogLevel, LogRecord, LogSink, MarketData};
pub use store::{
    BookChange, BookStore, ChangeKind, Health, HealthState, InvalidReason, MarketEvent, OnChange,
    OnMarketEvent, Top,
};
pub use symbols::{SymbolId, SymbolInfo, SymbolStatus, SymbolTable, VenueRules};
pub use sync::{BookSync, Diff, Outcome, SyncFault};
