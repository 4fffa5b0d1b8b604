//! arb-market: the market-data core. Symbols and trading rules ([`symbols`]), exact L2
//! books ([`book`]) kept in sequence by each venue's documented procedure ([`sync`]),
//! the venues' book messages ([`mexc`], [`gate`]), the shared book store with health
//! ([`store`]) and the WebSocket feeds that drive it ([`feed`]).
//!
//! Prices and quantities are `u64` mantissas at per-symbol scales shared by both venues;
//! nothing here uses floating point for money.

pub mod book;
pub mod decimal;
pub mod feed;
pub mod gate;
mod json_scan;
pub mod mexc;
mod shard;
pub mod store;
pub mod symbols;
pub mod sync;

pub use book::{Level, OrderBook, Scales, Side, Sweep};
pub use decimal::Decimal;
pub use feed::{fetch_symbols, FeedConfig, LogLevel, LogRecord, LogSink, MarketData};
pub use store::{
    BookChange, BookStore, ChangeKind, Health, HealthState, InvalidReason, OnChange, Top,
};
pub use symbols::{SymbolId, SymbolInfo, SymbolStatus, SymbolTable, VenueRules};
pub use sync::{BookSync, Diff, Outcome, SyncFault};
