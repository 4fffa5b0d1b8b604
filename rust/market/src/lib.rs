//! arb-market: the market-data core. Symbols and trading rules ([`symbols`]), exact L2
//! books ([`book`]) kept in sequence by each venue's documented procedure ([`sync`]),
//! the venues' book messages ([`mexc`], [`gate`]), the shared book store with health
//! ([`store`]) and the WebSocket feeds that drive it ([`feed`]).
//!
//! Prices and quantities are `u64` mantissas at per-symbol scales shared by both venues;
//! nothing here uses floating point for money.

pub mod book;
pub mod decimal;
pub mod gate;
pub mod mexc;
pub mod symbols;
pub mod sync;

pub use book::{Level, OrderBook, Scales, Side, Sweep};
pub use decimal::Decimal;
pub use symbols::{SymbolId, SymbolInfo, SymbolStatus, SymbolTable, VenueRules};
pub use sync::{BookSync, Diff, Outcome, SyncFault};
