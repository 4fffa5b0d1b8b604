//! The venue adapter interfaces of the market-data layer: what the generic feed machinery
//! ([`crate::feed`], [`crate::shard`]) and the symbol table ([`crate::symbols`]) ask of a
//! venue. Each venue implements them once in its own folder under [`crate::venues`];
//! [`crate::venues::adapter`] is the one place that picks the implementation, by a
//! [`Venue`]'s kind.
//!
//! The hot path is one virtual call per frame ([`FeedProtocol::on_frame`]) that reads the
//! frame in place and reports what it held through [`FrameHandler`], the shard's side:
//! the frame's text is borrowed, never copied, and a book push is parsed straight into the
//! shard's reused scratch [`Diff`].

use std::time::Duration;

use arb_core::{Venue, VenueKind};

use crate::book::{Level, Scales};
use crate::symbols::{Listing, SymbolError};
use crate::sync::{BookSync, Diff};

/// One WebSocket frame as received.
#[derive(Clone, Copy, Debug)]
pub enum Frame<'a> {
    Text(&'a str),
    Binary(&'a [u8]),
}

/// Subscribe or unsubscribe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubAction {
    Subscribe,
    Unsubscribe,
}

/// Which channels a subscription covers for each symbol: always the book, and the best
/// bid/ask and public trades when asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Streams {
    pub tickers: bool,
    pub trades: bool,
}

impl Streams {
    /// Only the book channel (a book's resubscription).
    pub const BOOK: Streams = Streams {
        tickers: false,
        trades: false,
    };

    /// Channels per symbol: the book plus the extras.
    pub const fn channels_per_symbol(self) -> usize {
        1 + self.tickers as usize + self.trades as usize
    }
}

/// A REST book snapshot, parsed at the book's scales.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// The version the snapshot is at (MEXC `lastUpdateId`, Gate `id`).
    pub version: u64,
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
}

/// The shard's side of [`FeedProtocol::on_frame`]: how a venue's frame reaches the books.
/// Every method runs inline, on the shard's task, while the frame is being read.
pub trait FrameHandler {
    /// The book fed on this connection for `venue_symbol` and its scales; `None` for a
    /// symbol this connection does not feed (the push is ignored).
    fn book(&self, venue_symbol: &str) -> Option<(usize, Scales)>;
    /// The reused diff a book push is parsed into (the parser clears it first).
    fn scratch(&mut self) -> &mut Diff;
    /// [`FrameHandler::scratch`] now holds a push for `book`.
    fn diff(&mut self, book: usize);
    /// A push for `book` whose levels could not be read: the book resyncs.
    fn bad_diff(&mut self, book: usize, detail: &str);
    /// Best bid and ask of `book` as `(price, quantity)` text; an empty price is an empty
    /// side.
    fn ticker(&mut self, book: usize, bid: (&str, &str), ask: (&str, &str), time_ms: i64);
    /// One public trade on `book`, price and quantity as text.
    fn trade(&mut self, book: usize, price: &str, qty: &str, taker_buy: bool, time_ms: i64);
    /// The venue reported an error (logged as `venue_error`).
    fn venue_error(&mut self, detail: &str);
    /// Text the venue sent that is no protocol message (logged as `venue_text`).
    fn venue_text(&mut self, text: &str);
    /// A frame that could not be read and names no book (counted, `unparsable_frame`).
    fn unparsable(&mut self, detail: &str);
}

/// A venue's public market-data protocol, configured (URLs, intervals, depth) from the
/// [`crate::FeedConfig`] it was built with.
pub trait FeedProtocol: Send + Sync {
    /// The instance this protocol serves (its kind picked the implementation).
    fn venue(&self) -> Venue;
    /// The public WebSocket URL.
    fn ws_url(&self) -> &str;
    /// How many symbols one connection carries with `streams` (the venue's
    /// per-connection channel cap and the configured share).
    fn symbols_per_connection(&self, streams: Streams) -> usize;
    /// The client frames that (un)subscribe `streams` for `symbols` (venue spellings).
    fn subscription(&self, symbols: &[&str], action: SubAction, streams: Streams) -> Vec<String>;
    /// How often the application-level ping is sent.
    fn ping_interval(&self) -> Duration;
    /// The application-level ping frame.
    fn ping(&self) -> String;
    /// Reads one frame and reports what it held to `to`.
    fn on_frame(&self, frame: Frame<'_>, to: &mut dyn FrameHandler);
    /// The sequencing procedure a book of this feed follows; its [`crate::sync::Start`]
    /// says whether a REST snapshot is needed.
    fn book_sync(&self) -> BookSync;
    /// The REST snapshot URL for `venue_symbol`.
    fn snapshot_url(&self, venue_symbol: &str) -> String;
    /// Parses a REST snapshot body.
    ///
    /// # Errors
    /// A body that is not the venue's snapshot, or levels that do not fit `scales`.
    fn parse_snapshot(
        &self,
        venue_symbol: &str,
        body: &str,
        scales: Scales,
    ) -> Result<Snapshot, String>;
    /// The REST URL of the venue's symbol list (read by [`SymbolFormat::parse_list`]).
    fn symbols_url(&self) -> String;
}

/// A venue's symbol list and spelling; needs no configuration.
pub trait SymbolFormat: Sync {
    fn kind(&self) -> VenueKind;
    /// Parses the venue's symbol list body (MEXC `exchangeInfo`, Gate `currency_pairs`);
    /// errors name the kind's default venue ([`SymbolError::at`] renames them).
    ///
    /// # Errors
    /// Invalid JSON or an unreadable field (named in the error).
    fn parse_list(&self, body: &str) -> Result<Vec<Listing>, SymbolError>;
    /// The venue's spelling of `base`/`quote` (`BTCUSDT`, `BTC_USDT`).
    fn spell(&self, base: &str, quote: &str) -> String;
}

/// A [`FrameHandler`] that writes down what a frame held, for the adapters' tests.
#[cfg(test)]
pub(crate) mod recorder {
    use super::*;

    /// Feeds one book, `symbol` at `scales`; `events` reads like the shard's log.
    pub(crate) struct Recorder {
        pub symbol: &'static str,
        pub scales: Scales,
        pub scratch: Diff,
        pub events: Vec<String>,
    }

    impl Recorder {
        pub(crate) fn new(symbol: &'static str, scales: Scales) -> Self {
            Self {
                symbol,
                scales,
                scratch: Diff::default(),
                events: Vec::new(),
            }
        }
    }

    impl FrameHandler for Recorder {
        fn book(&self, venue_symbol: &str) -> Option<(usize, Scales)> {
            (venue_symbol == self.symbol).then_some((0, self.scales))
        }
        fn scratch(&mut self) -> &mut Diff {
            &mut self.scratch
        }
        fn diff(&mut self, book: usize) {
            let d = &self.scratch;
            self.events.push(format!(
                "diff {book} {}..{} full={} bids={:?} asks={:?}",
                d.first, d.last, d.full, d.bids, d.asks
            ));
        }
        fn bad_diff(&mut self, book: usize, detail: &str) {
            self.events.push(format!("bad_diff {book}: {detail}"));
        }
        fn ticker(&mut self, book: usize, bid: (&str, &str), ask: (&str, &str), time_ms: i64) {
            self.events
                .push(format!("ticker {book} {bid:?} {ask:?} {time_ms}"));
        }
        fn trade(&mut self, book: usize, price: &str, qty: &str, taker_buy: bool, time_ms: i64) {
            self.events
                .push(format!("trade {book} {price} {qty} {taker_buy} {time_ms}"));
        }
        fn venue_error(&mut self, detail: &str) {
            self.events.push(format!("venue_error {detail}"));
        }
        fn venue_text(&mut self, text: &str) {
            self.events.push(format!("venue_text {text}"));
        }
        fn unparsable(&mut self, detail: &str) {
            self.events.push(format!("unparsable {detail}"));
        }
    }
}
