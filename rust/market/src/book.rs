//! An exact L2 order book: price and quantity mantissas (`u64`) at the symbol's shared
//! scales, absolute levels (quantity 0 deletes), best bid/ask, depth, VWAP and the
//! crossed check.
//!
//! Each side is a `Vec` sorted so that the best level is the LAST element: bids
//! ascending, asks descending. Venue updates cluster at the top of the book, so inserts
//! and deletes there move only a few elements, and the best level is one index away.

use arb_core::fixed::{parse_scaled, FixedError};

/// One price level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Level {
    pub price: u64,
    pub qty: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BookSide {
    Bid,
    Ask,
}

impl BookSide {
    pub const fn as_str(self) -> &'static str {
        match self {
            BookSide::Bid => "bid",
            BookSide::Ask => "ask",
        }
    }
}

/// Scales (decimals) of prices and quantities in a book.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Scales {
    pub price: u32,
    pub qty: u32,
}

impl Scales {
    /// Parses a `[price, qty]` pair of decimal strings at these scales.
    ///
    /// # Errors
    /// A value with more decimals than the scale (never silently rounded), or malformed.
    #[inline]
    pub fn level(self, price: &str, qty: &str) -> Result<Level, LevelError> {
        Ok(Level {
            price: parse_scaled(price, self.price)
                .map_err(|e| LevelError::Price(price.into(), e))?,
            qty: parse_scaled(qty, self.qty).map_err(|e| LevelError::Qty(qty.into(), e))?,
        })
    }
}

/// A price or quantity that could not be held exactly at the book's scale.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LevelError {
    #[error("price {0:?}: {1}")]
    Price(String, FixedError),
    #[error("quantity {0:?}: {1}")]
    Qty(String, FixedError),
}

/// The result of walking one side for a quantity (exact; see [`OrderBook::sweep`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sweep {
    /// Quantity that the book can fill (at most the asked quantity).
    pub qty: u64,
    /// Sum of `price * qty` over the levels taken, at scale `price + qty`.
    pub notional: u128,
    /// The last (worst) price touched.
    pub worst_price: u64,
    /// Levels touched.
    pub levels: usize,
}

impl Sweep {
    /// True if the whole asked quantity is available.
    pub fn complete(&self, asked: u64) -> bool {
        self.qty >= asked
    }
}

/// An exact L2 book. Version, validity and health live with the store, not here.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrderBook {
    /// Ascending by price: best bid last.
    bids: Vec<Level>,
    /// Descending by price: best ask last.
    asks: Vec<Level>,
    scales: Scales,
}

impl OrderBook {
    pub fn new(scales: Scales) -> Self {
        Self {
            bids: Vec::with_capacity(128),
            asks: Vec::with_capacity(128),
            scales,
        }
    }

    #[inline]
    pub fn scales(&self) -> Scales {
        self.scales
    }

    pub fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.bids.is_empty() && self.asks.is_empty()
    }

    /// Number of levels on `side`.
    pub fn len(&self, side: BookSide) -> usize {
        match side {
            BookSide::Bid => self.bids.len(),
            BookSide::Ask => self.asks.len(),
        }
    }

    /// Sets an absolute level; quantity 0 deletes it (deleting a missing level is a no-op,
    /// as venues send deletes for levels beyond the depth a snapshot carried).
    #[inline]
    pub fn set(&mut self, side: BookSide, level: Level) {
        match side {
            BookSide::Bid => {
                let v = &mut self.bids;
                // Ascending: search by price.
                match v.binary_search_by(|l| l.price.cmp(&level.price)) {
                    Ok(i) if level.qty == 0 => {
                        v.remove(i);
                    }
                    Ok(i) => v[i].qty = level.qty,
                    Err(_) if level.qty == 0 => {}
                    Err(i) => v.insert(i, level),
                }
            }
            BookSide::Ask => {
                let v = &mut self.asks;
                // Descending: reverse comparison.
                match v.binary_search_by(|l| level.price.cmp(&l.price)) {
                    Ok(i) if level.qty == 0 => {
                        v.remove(i);
                    }
                    Ok(i) => v[i].qty = level.qty,
                    Err(_) if level.qty == 0 => {}
                    Err(i) => v.insert(i, level),
                }
            }
        }
    }

    /// Applies absolute levels for both sides.
    #[inline]
    pub fn apply(&mut self, bids: &[Level], asks: &[Level]) {
        for &l in bids {
            self.set(BookSide::Bid, l);
        }
        for &l in asks {
            self.set(BookSide::Ask, l);
        }
    }

    /// Replaces the whole book (a snapshot or a full push). Levels may come in any order;
    /// zero quantities are skipped and a repeated price keeps the last quantity given.
    pub fn replace(&mut self, bids: &[Level], asks: &[Level]) {
        self.clear();
        self.apply(bids, asks);
    }

    #[inline]
    pub fn best_bid(&self) -> Option<Level> {
        self.bids.last().copied()
    }

    #[inline]
    pub fn best_ask(&self) -> Option<Level> {
        self.asks.last().copied()
    }

    /// Best bid >= best ask: impossible on a venue, so the local book is wrong.
    #[inline]
    pub fn is_crossed(&self) -> bool {
        matches!((self.best_bid(), self.best_ask()), (Some(b), Some(a)) if b.price >= a.price)
    }

    /// Levels of `side`, best first.
    pub fn levels(&self, side: BookSide) -> impl ExactSizeIterator<Item = Level> + '_ {
        match side {
            BookSide::Bid => self.bids.iter().rev().copied(),
            BookSide::Ask => self.asks.iter().rev().copied(),
        }
    }

    /// The best `n` levels of `side`, best first.
    pub fn depth(&self, side: BookSide, n: usize) -> impl Iterator<Item = Level> + '_ {
        self.levels(side).take(n)
    }

    /// Walks `side` best first taking up to `qty` (take asks to buy, bids to sell) and
    /// returns what was taken, exactly.
    pub fn sweep(&self, side: BookSide, qty: u64) -> Sweep {
        let mut s = Sweep {
            qty: 0,
            notional: 0,
            worst_price: 0,
            levels: 0,
        };
        for l in self.levels(side) {
            if s.qty >= qty {
                break;
            }
            let take = l.qty.min(qty - s.qty);
            s.qty += take;
            s.notional += l.price as u128 * take as u128;
            s.worst_price = l.price;
            s.levels += 1;
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(price: u64, qty: u64) -> Level {
        Level { price, qty }
    }

    #[test]
    fn absolute_levels_and_best() {
        let mut b = OrderBook::new(Scales { price: 2, qty: 3 });
        b.apply(
            &[l(100, 1), l(99, 2), l(101, 3)],
            &[l(105, 1), l(103, 2), l(104, 0)],
        );
        assert_eq!(b.best_bid(), Some(l(101, 3)));
        assert_eq!(b.best_ask(), Some(l(103, 2)));
        b.set(BookSide::Bid, l(101, 0));
        b.set(BookSide::Ask, l(103, 7));
        assert_eq!(b.best_bid(), Some(l(100, 1)));
        assert_eq!(b.best_ask(), Some(l(103, 7)));
        assert_eq!(
            b.depth(BookSide::Bid, 5).collect::<Vec<_>>(),
            [l(100, 1), l(99, 2)]
        );
        assert_eq!(b.depth(BookSide::Ask, 1).collect::<Vec<_>>(), [l(103, 7)]);
        assert!(!b.is_crossed());
        b.set(BookSide::Bid, l(103, 1));
        assert!(b.is_crossed());
    }

    #[test]
    fn sweep_is_exact() {
        let mut b = OrderBook::new(Scales { price: 2, qty: 3 });
        b.apply(&[], &[l(10_000, 1_500), l(10_010, 2_000)]);
        let s = b.sweep(BookSide::Ask, 2_500);
        assert_eq!(s.qty, 2_500);
        assert_eq!(s.notional, 10_000 * 1_500 + 10_010 * 1_000);
        assert_eq!(s.worst_price, 10_010);
        assert_eq!(s.levels, 2);
        let s = b.sweep(BookSide::Ask, 10_000);
        assert!(!s.complete(10_000));
        assert_eq!(s.qty, 3_500);
        assert_eq!(b.sweep(BookSide::Bid, 5).qty, 0);
    }

    #[test]
    fn parses_levels_exactly() {
        let sc = Scales { price: 8, qty: 10 };
        assert_eq!(
            sc.level("0.00010616", "20.51071557").unwrap(),
            l(10_616, 205_107_155_700)
        );
        assert!(matches!(
            sc.level("0.000106161", "1"),
            Err(LevelError::Price(..))
        ));
        assert!(matches!(sc.level("1", "1e3"), Err(LevelError::Qty(..))));
    }
}
