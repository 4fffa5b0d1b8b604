//! The shared book store: one exact book per (symbol, venue), its health, and the
//! change listeners. Feeds write; the engine, Python and tests read from any thread.
//!
//! Concurrency: each book sits behind its own `parking_lot::Mutex`, held only to apply
//! one push or to copy out what a reader needs (well under a microsecond), so a reader
//! never blocks a feed for longer than that and feeds for different books never contend.
//! Health fields are atomics, readable without the lock. Listeners are called INLINE on
//! the feed task after the book lock is released, so a listener may read any book
//! (including the one that just changed) without deadlocking.

use std::sync::atomic::{AtomicI64, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arb_core::{Venue, MAX_VENUES};
use parking_lot::{Mutex, MutexGuard, RwLock};

use crate::book::{BookSide, Level, OrderBook, Scales};
use crate::symbols::{SymbolId, SymbolTable};

/// Sequencing state of a book as the feed sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum SyncState {
    /// Not subscribed by any feed.
    Idle = 0,
    /// Subscribed, waiting for a snapshot / full push (initially or after a fault).
    Resyncing = 1,
    /// In sequence.
    Live = 2,
}

impl SyncState {
    fn from_u8(v: u8) -> Self {
        match v {
            1 => SyncState::Resyncing,
            2 => SyncState::Live,
            _ => SyncState::Idle,
        }
    }
}

/// What a reader is told about a book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HealthState {
    Idle,
    Resyncing,
    /// In sequence but no update for longer than the staleness limit: not tradable.
    Stale,
    /// In sequence and fresh: the only tradable state.
    Valid,
}

impl HealthState {
    pub const fn as_str(self) -> &'static str {
        match self {
            HealthState::Idle => "idle",
            HealthState::Resyncing => "resyncing",
            HealthState::Stale => "stale",
            HealthState::Valid => "valid",
        }
    }
}

/// Why a book was invalidated (counted per reason).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvalidReason {
    Gap,
    Crossed,
    Unparsable,
    /// Stale far beyond the limit: cleared and resynced.
    Stale,
    /// The connection carrying it dropped.
    Disconnected,
    /// The snapshot was older than the buffered pushes (refetched).
    SnapshotBehind,
    /// The REST snapshot request failed.
    SnapshotFailed,
}

impl InvalidReason {
    pub const fn as_str(self) -> &'static str {
        match self {
            InvalidReason::Gap => "gap",
            InvalidReason::Crossed => "crossed",
            InvalidReason::Unparsable => "unparsable",
            InvalidReason::Stale => "stale",
            InvalidReason::Disconnected => "disconnected",
            InvalidReason::SnapshotBehind => "snapshot_behind",
            InvalidReason::SnapshotFailed => "snapshot_failed",
        }
    }
}

/// Health of one (venue, symbol) book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Health {
    pub state: HealthState,
    /// Time since the last applied update (or since the sync state last changed);
    /// `None` before the first update.
    pub age: Option<Duration>,
    /// Version (MEXC toVersion / Gate u) of the last change applied.
    pub version: u64,
    /// Times the book went back to resyncing after being live or after a failed sync.
    pub resyncs: u64,
    pub gaps: u64,
    pub crossed: u64,
    pub unparsable: u64,
    /// Updates applied since start.
    pub updates: u64,
}

/// Best bid and ask with the book's validity, copied out under the lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Top {
    pub bid: Option<Level>,
    pub ask: Option<Level>,
    pub version: u64,
    pub valid: bool,
    pub scales: Scales,
}

/// What a listener is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    /// Levels changed (an increment or a full replacement).
    Update,
    /// The book became live from a snapshot or full push.
    Synced,
    /// The book is no longer tradable (gap, crossed, unparsable, disconnected, stale).
    Invalidated(InvalidReason),
}

/// A book change, as delivered to listeners (small and `Copy`: no allocation per event).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookChange {
    pub venue: Venue,
    pub symbol: SymbolId,
    pub kind: ChangeKind,
    pub version: u64,
    pub bid: Option<Level>,
    pub ask: Option<Level>,
    /// Wall-clock ns when the frame carrying the change was received.
    pub recv_ns: i64,
}

/// A change listener. Called inline on the feed task: keep it short and never block.
pub type OnChange = Arc<dyn Fn(&BookChange) + Send + Sync>;

/// A public trade or best bid/ask from the venues' ticker and trade channels (enabled
/// with `FeedConfig::tickers` / `FeedConfig::trades`). Prices and quantities are
/// mantissas at the symbol's book scales.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarketEvent {
    /// MEXC aggre.bookTicker / Gate spot.book_ticker.
    Ticker {
        venue: Venue,
        symbol: SymbolId,
        bid: Option<Level>,
        ask: Option<Level>,
        time_ms: i64,
        recv_ns: i64,
    },
    /// MEXC aggre.deals / Gate spot.trades.
    Trade {
        venue: Venue,
        symbol: SymbolId,
        price: u64,
        qty: u64,
        /// The taker bought (the trade lifted an ask).
        taker_buy: bool,
        time_ms: i64,
        recv_ns: i64,
    },
}

/// A ticker/trade listener, called inline on the feed task like [`OnChange`].
pub type OnMarketEvent = Arc<dyn Fn(&MarketEvent) + Send + Sync>;

struct Slot {
    book: Mutex<OrderBook>,
    state: AtomicU8,
    version: AtomicU64,
    /// ns since the store's epoch of the last update (0 = never).
    last_ns: AtomicI64,
    resyncs: AtomicU64,
    gaps: AtomicU64,
    crossed: AtomicU64,
    unparsable: AtomicU64,
    updates: AtomicU64,
}

/// Every book for a symbol table; share it in an `Arc`.
pub struct BookStore {
    table: Arc<SymbolTable>,
    /// One row per symbol, one column per venue of the table.
    slots: Box<[Slot]>,
    /// Column of each venue (by [`Venue::index`]); `NO_COLUMN` for a venue the table
    /// does not list.
    columns: [u8; MAX_VENUES],
    width: usize,
    epoch: Instant,
    stale_after_ns: AtomicI64,
    listeners: RwLock<Vec<(u64, OnChange)>>,
    event_listeners: RwLock<Vec<(u64, OnMarketEvent)>>,
    next_listener: AtomicU64,
}

impl std::fmt::Debug for BookStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BookStore")
            .field("books", &self.slots.len())
            .finish()
    }
}

const NO_COLUMN: u8 = u8::MAX;

/// Default staleness limit.
pub const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(5);

impl BookStore {
    /// Creates an empty (idle) book for every symbol on every venue, at the symbol's scales.
    pub fn new(table: Arc<SymbolTable>) -> Self {
        let venues = table.venues();
        let mut columns = [NO_COLUMN; MAX_VENUES];
        for (c, v) in venues.iter().enumerate() {
            columns[v.index()] = c as u8;
        }
        let slots = table
            .iter()
            .flat_map(|info| {
                let scales = Scales {
                    price: info.price_scale,
                    qty: info.qty_scale,
                };
                venues.iter().map(move |_| Slot {
                    book: Mutex::new(OrderBook::new(scales)),
                    state: AtomicU8::new(SyncState::Idle as u8),
                    version: AtomicU64::new(0),
                    last_ns: AtomicI64::new(0),
                    resyncs: AtomicU64::new(0),
                    gaps: AtomicU64::new(0),
                    crossed: AtomicU64::new(0),
                    unparsable: AtomicU64::new(0),
                    updates: AtomicU64::new(0),
                })
            })
            .collect();
        Self {
            table,
            slots,
            columns,
            width: venues.len(),
            epoch: Instant::now(),
            stale_after_ns: AtomicI64::new(DEFAULT_STALE_AFTER.as_nanos() as i64),
            listeners: RwLock::new(Vec::new()),
            event_listeners: RwLock::new(Vec::new()),
            next_listener: AtomicU64::new(1),
        }
    }

    pub fn table(&self) -> &Arc<SymbolTable> {
        &self.table
    }

    pub fn set_stale_after(&self, d: Duration) {
        self.stale_after_ns
            .store(d.as_nanos() as i64, Ordering::Relaxed);
    }

    pub fn stale_after(&self) -> Duration {
        Duration::from_nanos(self.stale_after_ns.load(Ordering::Relaxed) as u64)
    }

    #[inline]
    fn slot(&self, venue: Venue, id: SymbolId) -> Option<&Slot> {
        let c = *self.columns.get(venue.index())?;
        if c == NO_COLUMN {
            return None;
        }
        self.slots.get(id.index() * self.width + c as usize)
    }

    #[inline]
    fn now_ns(&self) -> i64 {
        self.epoch.elapsed().as_nanos() as i64
    }

    fn valid_at(&self, s: &Slot, now: i64) -> bool {
        SyncState::from_u8(s.state.load(Ordering::Acquire)) == SyncState::Live
            && now - s.last_ns.load(Ordering::Acquire)
                <= self.stale_after_ns.load(Ordering::Relaxed)
    }

    /// True if the book is in sequence and fresh: the only state in which it may be traded.
    pub fn is_valid(&self, venue: Venue, id: SymbolId) -> bool {
        self.slot(venue, id)
            .is_some_and(|s| self.valid_at(s, self.now_ns()))
    }

    /// Best bid/ask and validity, copied under the book's lock.
    pub fn top(&self, venue: Venue, id: SymbolId) -> Option<Top> {
        let s = self.slot(venue, id)?;
        let b = s.book.lock();
        let top = Top {
            bid: b.best_bid(),
            ask: b.best_ask(),
            version: s.version.load(Ordering::Acquire),
            valid: false,
            scales: b.scales(),
        };
        drop(b);
        Some(Top {
            valid: self.valid_at(s, self.now_ns()),
            ..top
        })
    }

    /// The best `n` levels of each side `(bids, asks)` and the version, copied under the lock.
    pub fn depth(
        &self,
        venue: Venue,
        id: SymbolId,
        n: usize,
    ) -> Option<(Vec<Level>, Vec<Level>, u64)> {
        let s = self.slot(venue, id)?;
        let b = s.book.lock();
        Some((
            b.depth(BookSide::Bid, n).collect(),
            b.depth(BookSide::Ask, n).collect(),
            s.version.load(Ordering::Acquire),
        ))
    }

    /// Runs `f` on the book under its lock (for the engine: VWAP, several levels at once).
    /// `f` must be short; it blocks that book's feed while it runs.
    pub fn read<R>(
        &self,
        venue: Venue,
        id: SymbolId,
        f: impl FnOnce(&OrderBook, bool) -> R,
    ) -> Option<R> {
        let s = self.slot(venue, id)?;
        let valid = self.valid_at(s, self.now_ns());
        let b = s.book.lock();
        Some(f(&b, valid))
    }

    pub fn health(&self, venue: Venue, id: SymbolId) -> Option<Health> {
        let s = self.slot(venue, id)?;
        let now = self.now_ns();
        let last = s.last_ns.load(Ordering::Acquire);
        let sync = SyncState::from_u8(s.state.load(Ordering::Acquire));
        let state = match sync {
            SyncState::Idle => HealthState::Idle,
            SyncState::Resyncing => HealthState::Resyncing,
            SyncState::Live if self.valid_at(s, now) => HealthState::Valid,
            SyncState::Live => HealthState::Stale,
        };
        Some(Health {
            state,
            age: (last != 0).then(|| Duration::from_nanos((now - last).max(0) as u64)),
            version: s.version.load(Ordering::Acquire),
            resyncs: s.resyncs.load(Ordering::Relaxed),
            gaps: s.gaps.load(Ordering::Relaxed),
            crossed: s.crossed.load(Ordering::Relaxed),
            unparsable: s.unparsable.load(Ordering::Relaxed),
            updates: s.updates.load(Ordering::Relaxed),
        })
    }

    /// Adds a listener; returns its id for [`BookStore::remove_listener`].
    pub fn add_listener(&self, f: OnChange) -> u64 {
        let id = self.next_listener.fetch_add(1, Ordering::Relaxed);
        self.listeners.write().push((id, f));
        id
    }

    pub fn remove_listener(&self, id: u64) {
        self.listeners.write().retain(|(i, _)| *i != id);
    }

    /// Adds a ticker/trade listener; returns its id for [`BookStore::remove_event_listener`].
    pub fn add_event_listener(&self, f: OnMarketEvent) -> u64 {
        let id = self.next_listener.fetch_add(1, Ordering::Relaxed);
        self.event_listeners.write().push((id, f));
        id
    }

    pub fn remove_event_listener(&self, id: u64) {
        self.event_listeners.write().retain(|(i, _)| *i != id);
    }

    /// Delivers a ticker/trade event to the listeners (feeds call this).
    pub fn publish(&self, event: &MarketEvent) {
        for (_, f) in self.event_listeners.read().iter() {
            f(event);
        }
    }

    fn notify(&self, change: &BookChange) {
        for (_, f) in self.listeners.read().iter() {
            f(change);
        }
    }

    // -----------------------------------------------------------------------------
    // Writer side (feeds, replays, benches).

    /// Locks a book for writing. Callers then report what happened with
    /// [`BookStore::applied`] or [`BookStore::invalidate`] AFTER dropping the guard.
    pub fn lock(&self, venue: Venue, id: SymbolId) -> Option<MutexGuard<'_, OrderBook>> {
        self.slot(venue, id).map(|s| s.book.lock())
    }

    /// Marks the book subscribed and waiting for its sync.
    pub fn set_resyncing(&self, venue: Venue, id: SymbolId) {
        if let Some(s) = self.slot(venue, id) {
            s.state.store(SyncState::Resyncing as u8, Ordering::Release);
        }
    }

    /// Marks the book unsubscribed and clears it.
    pub fn set_idle(&self, venue: Venue, id: SymbolId) {
        if let Some(s) = self.slot(venue, id) {
            s.book.lock().clear();
            s.state.store(SyncState::Idle as u8, Ordering::Release);
        }
    }

    /// Records an applied update (or a completed sync when `synced`) at `version` and
    /// tells the listeners. `top` is the best bid/ask read while the book was locked.
    pub fn applied(
        &self,
        venue: Venue,
        id: SymbolId,
        version: u64,
        synced: bool,
        top: (Option<Level>, Option<Level>),
        recv_ns: i64,
    ) {
        let Some(s) = self.slot(venue, id) else {
            return;
        };
        s.version.store(version, Ordering::Release);
        s.last_ns.store(self.now_ns().max(1), Ordering::Release);
        s.updates.fetch_add(1, Ordering::Relaxed);
        s.state.store(SyncState::Live as u8, Ordering::Release);
        self.notify(&BookChange {
            venue,
            symbol: id,
            kind: if synced {
                ChangeKind::Synced
            } else {
                ChangeKind::Update
            },
            version,
            bid: top.0,
            ask: top.1,
            recv_ns,
        });
    }

    /// Marks the book not tradable, clears it, counts the reason and tells the listeners.
    /// Counted as a resync unless the book was already resyncing for the same episode
    /// (`count_resync = false`).
    pub fn invalidate(
        &self,
        venue: Venue,
        id: SymbolId,
        reason: InvalidReason,
        count_resync: bool,
        recv_ns: i64,
    ) {
        let Some(s) = self.slot(venue, id) else {
            return;
        };
        s.book.lock().clear();
        let was = SyncState::from_u8(s.state.swap(SyncState::Resyncing as u8, Ordering::AcqRel));
        match reason {
            InvalidReason::Gap => s.gaps.fetch_add(1, Ordering::Relaxed),
            InvalidReason::Crossed => s.crossed.fetch_add(1, Ordering::Relaxed),
            InvalidReason::Unparsable => s.unparsable.fetch_add(1, Ordering::Relaxed),
            _ => 0,
        };
        if count_resync {
            s.resyncs.fetch_add(1, Ordering::Relaxed);
        }
        // Keep the age running from the invalidation so "stale for long" logic sees it.
        s.last_ns.store(self.now_ns().max(1), Ordering::Release);
        if was == SyncState::Live {
            self.notify(&BookChange {
                venue,
                symbol: id,
                kind: ChangeKind::Invalidated(reason),
                version: s.version.load(Ordering::Acquire),
                bid: None,
                ask: None,
                recv_ns,
            });
        }
    }

    /// Time since the book's last update / state change, if any.
    pub fn age(&self, venue: Venue, id: SymbolId) -> Option<Duration> {
        let s = self.slot(venue, id)?;
        let last = s.last_ns.load(Ordering::Acquire);
        (last != 0).then(|| Duration::from_nanos((self.now_ns() - last).max(0) as u64))
    }

    pub fn sync_state(&self, venue: Venue, id: SymbolId) -> Option<SyncState> {
        self.slot(venue, id)
            .map(|s| SyncState::from_u8(s.state.load(Ordering::Acquire)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::symbols::SymbolTable;

    fn store() -> (BookStore, SymbolId) {
        let gate = r#"[{"id":"BTC_USDT","base":"BTC","quote":"USDT","fee":"0.1","amount_precision":6,"precision":1}]"#;
        let t = Arc::new(SymbolTable::from_json(None, Some(gate)).unwrap());
        let id = t.id("BTC/USDT").unwrap();
        (BookStore::new(t), id)
    }

    #[test]
    fn validity_follows_state_and_staleness() {
        let (st, id) = store();
        let v = Venue::GATE;
        assert_eq!(st.health(v, id).unwrap().state, HealthState::Idle);
        st.set_resyncing(v, id);
        assert!(!st.is_valid(v, id));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s2 = seen.clone();
        st.add_listener(Arc::new(move |c: &BookChange| s2.lock().push(c.kind)));
        {
            let mut b = st.lock(v, id).unwrap();
            b.set(BookSide::Bid, Level { price: 10, qty: 1 });
        }
        st.applied(v, id, 7, true, (Some(Level { price: 10, qty: 1 }), None), 0);
        assert!(st.is_valid(v, id));
        assert_eq!(
            st.top(v, id).unwrap().bid,
            Some(Level { price: 10, qty: 1 })
        );
        st.set_stale_after(Duration::ZERO);
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(st.health(v, id).unwrap().state, HealthState::Stale);
        assert!(!st.top(v, id).unwrap().valid);
        st.set_stale_after(Duration::from_secs(5));
        st.invalidate(v, id, InvalidReason::Gap, true, 0);
        let h = st.health(v, id).unwrap();
        assert_eq!((h.state, h.gaps, h.resyncs), (HealthState::Resyncing, 1, 1));
        assert!(st.top(v, id).unwrap().bid.is_none());
        assert_eq!(
            *seen.lock(),
            [
                ChangeKind::Synced,
                ChangeKind::Invalidated(InvalidReason::Gap)
            ]
        );
    }
}
