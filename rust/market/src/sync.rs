//! Keeping a local book in sequence with a venue: the documented procedures, as a pure
//! state machine with no I/O (the feeds drive it; the capture replay and the property
//! tests drive it the same way).
//!
//! - MEXC `aggre.depth`: buffer pushes until the REST snapshot (`lastUpdateId` = S); drop
//!   pushes with `toVersion <= S`; the first applied push must contain S + 1
//!   (`fromVersion <= S + 1`), else data is missing; after that every push must have
//!   `fromVersion == previous toVersion + 1` ([`Continuity::Strict`]). ccxt and
//!   hummingbot skip this last check; a gap here would leave a silently wrong book.
//! - Gate `spot.order_book_update`: the same with the REST `with_id=true` id, `U`/`u`;
//!   a push with `u <= local` is old and dropped, `U > local + 1` is a gap
//!   ([`Continuity::Overlap`]); a `full: true` push replaces the book.
//! - Gate `spot.obu`: no REST; the first push after subscribing is a full book
//!   ([`Start::FullPush`]); then `U == local + 1` strictly, else resubscribe.

use crate::book::{Level, OrderBook};

/// One book push, parsed: version range and absolute levels at the book's scales.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diff {
    /// `fromVersion` / `U` (equal to `last` for a full push that carries only `u`).
    pub first: u64,
    /// `toVersion` / `u`.
    pub last: u64,
    /// The push replaces the whole book.
    pub full: bool,
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
}

impl Diff {
    pub fn clear(&mut self) {
        self.first = 0;
        self.last = 0;
        self.full = false;
        self.bids.clear();
        self.asks.clear();
    }
}

/// How consecutive pushes must chain once live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Continuity {
    /// `first == local + 1` (MEXC, Gate obu).
    Strict,
    /// `first <= local + 1`; pushes with `last <= local` are dropped (Gate order_book_update).
    Overlap,
}

/// How a book becomes live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// Buffer pushes until a REST snapshot arrives.
    Snapshot,
    /// Drop pushes until a full push arrives.
    FullPush,
}

/// What a push did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Kept until the snapshot arrives.
    Buffered,
    /// Older than the book (or an increment before the first full push): ignored.
    Dropped,
    /// Applied to the book.
    Applied,
    /// Replaced the book (full push).
    Replaced,
}

/// Why the book lost sync. The caller invalidates the book and resyncs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SyncFault {
    #[error("sequence gap: expected {expected}, got a push starting at {got}")]
    Gap { expected: u64, got: u64 },
    #[error(
        "snapshot {snapshot} is older than the first buffered push ({first_buffered}): refetch"
    )]
    SnapshotBehind { snapshot: u64, first_buffered: u64 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Waiting,
    /// `anchored` is false between the snapshot and the first applied push, while the
    /// first push only has to contain `last + 1`.
    Live {
        last: u64,
        anchored: bool,
    },
}

/// The sequencing state of one (venue, symbol) book.
#[derive(Clone, Debug)]
pub struct BookSync {
    start: Start,
    continuity: Continuity,
    state: State,
    buffer: Vec<Diff>,
    max_buffer: usize,
}

/// Pushes kept while waiting for a snapshot; older ones are dropped first (a snapshot
/// older than what remains is refetched anyway).
pub const DEFAULT_MAX_BUFFER: usize = 4096;

impl BookSync {
    pub fn new(start: Start, continuity: Continuity) -> Self {
        Self {
            start,
            continuity,
            state: State::Waiting,
            buffer: Vec::new(),
            max_buffer: DEFAULT_MAX_BUFFER,
        }
    }

    /// MEXC aggre.depth.
    pub fn mexc() -> Self {
        Self::new(Start::Snapshot, Continuity::Strict)
    }

    /// Gate spot.order_book_update with REST snapshots.
    pub fn gate_update() -> Self {
        Self::new(Start::Snapshot, Continuity::Overlap)
    }

    /// Gate spot.obu.
    pub fn gate_obu() -> Self {
        Self::new(Start::FullPush, Continuity::Strict)
    }

    pub fn start(&self) -> Start {
        self.start
    }

    /// True once the book is in sequence.
    pub fn is_live(&self) -> bool {
        matches!(self.state, State::Live { .. })
    }

    /// The version of the last change applied, once live.
    pub fn version(&self) -> Option<u64> {
        match self.state {
            State::Live { last, .. } => Some(last),
            State::Waiting => None,
        }
    }

    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// Lets the next push overlap the current version instead of chaining exactly (it
    /// only has to contain `version + 1`), as right after a snapshot. Used when a second
    /// connection takes over a live book: its pushes are aggregated over different
    /// windows, and absolute levels make an overlapping push exact.
    pub fn relink(&mut self) {
        if let State::Live { last, .. } = self.state {
            self.state = State::Live {
                last,
                anchored: false,
            };
        }
    }

    /// Forgets the sequence: back to waiting, buffer emptied.
    pub fn reset(&mut self) {
        self.state = State::Waiting;
        self.buffer.clear();
    }

    /// Handles one push.
    ///
    /// # Errors
    /// [`SyncFault::Gap`] when a push does not chain; the state is reset to waiting and
    /// the book must be treated as invalid until resynced.
    pub fn on_diff(&mut self, diff: &Diff, book: &mut OrderBook) -> Result<Outcome, SyncFault> {
        if diff.full {
            book.replace(&diff.bids, &diff.asks);
            self.buffer.clear();
            self.state = State::Live {
                last: diff.last,
                anchored: true,
            };
            return Ok(Outcome::Replaced);
        }
        match self.state {
            State::Waiting => match self.start {
                Start::FullPush => Ok(Outcome::Dropped),
                Start::Snapshot => {
                    if self.buffer.len() >= self.max_buffer {
                        self.buffer.remove(0);
                    }
                    self.buffer.push(diff.clone());
                    Ok(Outcome::Buffered)
                }
            },
            State::Live { last, anchored } => {
                let next = last + 1;
                let ok = match (self.continuity, anchored) {
                    (_, false) | (Continuity::Overlap, true) => {
                        if diff.last < next {
                            return Ok(Outcome::Dropped);
                        }
                        diff.first <= next
                    }
                    (Continuity::Strict, true) => diff.first == next,
                };
                if !ok {
                    self.reset();
                    return Err(SyncFault::Gap {
                        expected: next,
                        got: diff.first,
                    });
                }
                book.apply(&diff.bids, &diff.asks);
                self.state = State::Live {
                    last: diff.last,
                    anchored: true,
                };
                Ok(Outcome::Applied)
            }
        }
    }

    /// Installs a REST snapshot at `version` and replays the buffered pushes on top.
    /// Returns how many buffered pushes were applied.
    ///
    /// # Errors
    /// [`SyncFault::SnapshotBehind`] if the oldest buffered push starts after
    /// `version + 1` (the snapshot is too old: keep buffering and fetch again; the buffer
    /// is kept); [`SyncFault::Gap`] if the buffered pushes themselves do not chain.
    pub fn on_snapshot(
        &mut self,
        version: u64,
        bids: &[Level],
        asks: &[Level],
        book: &mut OrderBook,
    ) -> Result<usize, SyncFault> {
        if self.is_live() {
            // Already in sequence (a `full` push arrived first): an older snapshot would
            // take the book back in time, a newer one adds nothing.
            return Ok(0);
        }
        let buffer = std::mem::take(&mut self.buffer);
        if let Some(first) = buffer.iter().find(|d| d.last > version) {
            if first.first > version + 1 {
                let first_buffered = first.first;
                self.buffer = buffer;
                return Err(SyncFault::SnapshotBehind {
                    snapshot: version,
                    first_buffered,
                });
            }
        }
        book.replace(bids, asks);
        self.state = State::Live {
            last: version,
            anchored: false,
        };
        let mut applied = 0;
        for d in &buffer {
            if self.on_diff(d, book)? == Outcome::Applied {
                applied += 1;
            }
        }
        Ok(applied)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::{BookSide, Scales};

    fn d(first: u64, last: u64, bid: (u64, u64)) -> Diff {
        Diff {
            first,
            last,
            full: false,
            bids: vec![Level {
                price: bid.0,
                qty: bid.1,
            }],
            asks: vec![],
        }
    }

    fn book() -> OrderBook {
        OrderBook::new(Scales { price: 0, qty: 0 })
    }

    #[test]
    fn mexc_buffers_then_anchors_then_is_strict() {
        let mut s = BookSync::mexc();
        let mut b = book();
        assert_eq!(s.on_diff(&d(5, 8, (1, 1)), &mut b), Ok(Outcome::Buffered));
        assert_eq!(s.on_diff(&d(9, 12, (2, 1)), &mut b), Ok(Outcome::Buffered));
        assert_eq!(s.on_diff(&d(13, 13, (3, 1)), &mut b), Ok(Outcome::Buffered));
        // Snapshot at 10: [5,8] dropped, [9,12] contains 11, [13,13] chains.
        let applied = s
            .on_snapshot(10, &[Level { price: 1, qty: 9 }], &[], &mut b)
            .unwrap();
        assert_eq!(applied, 2);
        assert_eq!(s.version(), Some(13));
        assert_eq!(b.depth(BookSide::Bid, 9).count(), 3);
        assert_eq!(b.best_bid().unwrap().price, 3);
        // Level 1 keeps the snapshot quantity: the [5,8] push was older than the snapshot.
        assert_eq!(b.levels(BookSide::Bid).last().unwrap().qty, 9);
        assert_eq!(s.on_diff(&d(14, 20, (4, 1)), &mut b), Ok(Outcome::Applied));
        // A duplicate or an overlap is not a chain on MEXC.
        assert_eq!(
            s.on_diff(&d(20, 21, (4, 1)), &mut b),
            Err(SyncFault::Gap {
                expected: 21,
                got: 20
            })
        );
        assert!(!s.is_live());
    }

    #[test]
    fn snapshot_behind_keeps_buffer() {
        let mut s = BookSync::mexc();
        let mut b = book();
        s.on_diff(&d(20, 25, (1, 1)), &mut b).unwrap();
        assert_eq!(
            s.on_snapshot(10, &[], &[], &mut b),
            Err(SyncFault::SnapshotBehind {
                snapshot: 10,
                first_buffered: 20
            })
        );
        assert_eq!(s.buffered(), 1);
        assert_eq!(s.on_snapshot(19, &[], &[], &mut b), Ok(1));
        assert_eq!(s.version(), Some(25));
    }

    #[test]
    fn snapshot_ahead_of_every_push_waits_for_the_next() {
        let mut s = BookSync::mexc();
        let mut b = book();
        s.on_diff(&d(1, 3, (1, 1)), &mut b).unwrap();
        assert_eq!(s.on_snapshot(10, &[], &[], &mut b), Ok(0));
        assert_eq!(s.on_diff(&d(4, 10, (1, 1)), &mut b), Ok(Outcome::Dropped));
        assert_eq!(s.on_diff(&d(9, 12, (1, 1)), &mut b), Ok(Outcome::Applied));
        assert_eq!(
            s.on_diff(&d(14, 15, (1, 1)), &mut b),
            Err(SyncFault::Gap {
                expected: 13,
                got: 14
            })
        );
    }

    #[test]
    fn gate_update_allows_overlap_and_drops_old() {
        let mut s = BookSync::gate_update();
        let mut b = book();
        s.on_snapshot(100, &[], &[], &mut b).unwrap();
        assert_eq!(s.on_diff(&d(90, 100, (1, 1)), &mut b), Ok(Outcome::Dropped));
        assert_eq!(s.on_diff(&d(95, 105, (1, 1)), &mut b), Ok(Outcome::Applied));
        assert_eq!(
            s.on_diff(&d(104, 106, (1, 1)), &mut b),
            Ok(Outcome::Applied)
        );
        assert_eq!(
            s.on_diff(&d(100, 101, (1, 1)), &mut b),
            Ok(Outcome::Dropped)
        );
        assert_eq!(
            s.on_diff(&d(108, 108, (1, 1)), &mut b),
            Err(SyncFault::Gap {
                expected: 107,
                got: 108
            })
        );
    }

    #[test]
    fn snapshot_after_a_full_push_is_ignored() {
        let mut s = BookSync::gate_update();
        let mut b = book();
        let mut full = d(50, 50, (7, 7));
        full.full = true;
        assert_eq!(s.on_diff(&full, &mut b), Ok(Outcome::Replaced));
        assert_eq!(s.on_diff(&d(51, 52, (8, 1)), &mut b), Ok(Outcome::Applied));
        assert_eq!(s.on_snapshot(40, &[], &[], &mut b), Ok(0));
        assert_eq!(s.version(), Some(52));
        assert_eq!(b.best_bid().unwrap().price, 8);
    }

    #[test]
    fn obu_waits_for_full_then_is_strict() {
        let mut s = BookSync::gate_obu();
        let mut b = book();
        assert_eq!(s.on_diff(&d(5, 6, (1, 1)), &mut b), Ok(Outcome::Dropped));
        let mut full = d(50, 50, (7, 7));
        full.full = true;
        assert_eq!(s.on_diff(&full, &mut b), Ok(Outcome::Replaced));
        assert_eq!(b.best_bid().unwrap().price, 7);
        assert_eq!(s.on_diff(&d(51, 52, (8, 1)), &mut b), Ok(Outcome::Applied));
        assert!(s.on_diff(&d(52, 53, (8, 1)), &mut b).is_err());
        assert_eq!(s.on_diff(&d(54, 55, (8, 1)), &mut b), Ok(Outcome::Dropped));
    }
}
