//! The engine's view of each venue's balances: pushed updates and REST snapshots in the
//! venue's time order, minus reservations for the orders of running trades.
//!
//! Three races the order of arrival alone gets wrong:
//! - a REST snapshot answered after a push may be older than it: a snapshot replaces a
//!   balance only if it was requested after that balance's last update (venue time);
//! - pushes can overtake each other: an update older than the one held is dropped;
//! - a trade ends before the pushes for its fills arrive: its reservations are kept
//!   until the balance is as of its last fill (or for [`SETTLE_TIMEOUT_MS`] at most),
//!   else the same funds would count twice, once free and once in flight.
//!
//! Pure (no I/O, no clock): callers pass the times.

use std::collections::HashMap;

use arb_core::{Venue, VenueMap};
use arb_exec::Amount;

/// How long (local ms) a finished trade's reservations wait for a balance that reflects
/// its fills; the periodic REST refresh normally releases them well before.
pub const SETTLE_TIMEOUT_MS: i64 = 5_000;

/// Orders updates in venue time: a push at `t` has key `2t`; a snapshot requested at
/// `t` reflects everything before `t`, key `2t - 1` (after the pushes of `t - 1`, before
/// those of `t`).
fn push_key(venue_ms: i64) -> i64 {
    venue_ms.saturating_mul(2)
}

fn snapshot_key(started_venue_ms: i64) -> i64 {
    started_venue_ms.saturating_mul(2).saturating_sub(1)
}

#[derive(Clone, Copy, Debug)]
struct Held {
    free: Amount,
    key: i64,
}

/// A finished trade's reservation waiting for the balance to reflect its fills.
#[derive(Clone, Debug)]
struct Settling {
    venue: Venue,
    asset: String,
    amount: Amount,
    /// Released once the balance's key reaches this (its last fill's push key).
    until_key: i64,
    /// Released anyway at this local time.
    expires_ms: i64,
}

/// Why a reservation was refused: the asset's reservations would not fit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{venue} {asset}: reserving {amount} more does not fit")]
pub struct ReservationOverflow {
    pub venue: Venue,
    pub asset: String,
    pub amount: Amount,
}

/// Balances per (venue, asset) with reservations.
#[derive(Debug, Default)]
pub struct BalanceBook {
    held: HashMap<(Venue, String), Held>,
    reserved: HashMap<(Venue, String), Amount>,
    /// Reservations of each running transaction.
    running: HashMap<u64, Vec<(Venue, String, Amount)>>,
    settling: Vec<Settling>,
    /// Local time of the last update applied per venue (the balance age).
    updated_ms: VenueMap<i64>,
}

impl BalanceBook {
    /// Local time (ms) of the last update applied for `venue`; 0 if none yet.
    pub fn updated_ms(&self, venue: Venue) -> i64 {
        self.updated_ms.get(venue).copied().unwrap_or(0)
    }

    /// Free minus reserved, or `None` when the difference does not fit (a venue balance
    /// beyond any real account: callers treat it as nothing available).
    pub fn available(&self, venue: Venue, asset: &str) -> Option<Amount> {
        let k = (venue, asset.to_string());
        let free = self.held.get(&k).map_or(Amount::ZERO, |h| h.free);
        free.checked_sub(self.reserved.get(&k).copied().unwrap_or(Amount::ZERO))
    }

    /// Reservations in force per (venue, asset) (for another view of the free balances).
    pub fn reserved(&self) -> &HashMap<(Venue, String), Amount> {
        &self.reserved
    }

    /// A pushed balance stamped `venue_ms` by the venue: kept unless a newer one is held.
    pub fn push(&mut self, venue: Venue, asset: &str, free: Amount, venue_ms: i64, now_ms: i64) {
        let key = push_key(venue_ms);
        let e = self.held.entry((venue, asset.to_string())).or_insert(Held {
            free,
            key: i64::MIN,
        });
        if key >= e.key {
            *e = Held { free, key };
            self.updated_ms.insert(venue, now_ms);
        }
        self.settle(now_ms);
    }

    /// Every balance of `venue` as a REST answer gave them, requested at
    /// `started_venue_ms` (venue time): each replaces what is held unless a newer push
    /// is; an asset the answer does not list is zero.
    pub fn snapshot(
        &mut self,
        venue: Venue,
        balances: impl IntoIterator<Item = (String, Amount)>,
        started_venue_ms: i64,
        now_ms: i64,
    ) {
        let key = snapshot_key(started_venue_ms);
        let mut listed: HashMap<String, Amount> = balances.into_iter().collect();
        for ((v, asset), h) in self.held.iter_mut() {
            if *v == venue && !listed.contains_key(asset) && key > h.key {
                *h = Held {
                    free: Amount::ZERO,
                    key,
                };
            }
        }
        for (asset, free) in listed.drain() {
            let e = self.held.entry((venue, asset)).or_insert(Held {
                free,
                key: i64::MIN,
            });
            if key > e.key {
                *e = Held { free, key };
            }
        }
        self.updated_ms.insert(venue, now_ms);
        self.settle(now_ms);
    }

    /// Reserves `amount` of `asset` on `venue` for an order of transaction `tx`.
    ///
    /// # Errors
    /// The asset's reservations would not fit (a notional from absurd venue values):
    /// nothing is reserved, the caller does not send the order.
    pub fn reserve(
        &mut self,
        tx: u64,
        venue: Venue,
        asset: &str,
        amount: Amount,
    ) -> Result<(), ReservationOverflow> {
        let e = self
            .reserved
            .entry((venue, asset.to_string()))
            .or_insert(Amount::ZERO);
        *e = e.checked_add(amount).ok_or_else(|| ReservationOverflow {
            venue,
            asset: asset.to_string(),
            amount,
        })?;
        self.running
            .entry(tx)
            .or_default()
            .push((venue, asset.to_string(), amount));
        Ok(())
    }

    /// Transaction `tx` ended; its last fill on each venue was at `last_fill_ms[venue]`
    /// (venue time; `None`: nothing filled there). Each reservation is released once its
    /// balance is as of that fill, or at `now_ms +` [`SETTLE_TIMEOUT_MS`].
    pub fn finish(&mut self, tx: u64, last_fill_ms: &VenueMap<i64>, now_ms: i64) {
        for (venue, asset, amount) in self.running.remove(&tx).unwrap_or_default() {
            match last_fill_ms.get(venue).copied() {
                None => self.release(venue, &asset, amount),
                Some(t) => self.settling.push(Settling {
                    venue,
                    asset,
                    amount,
                    until_key: push_key(t),
                    expires_ms: now_ms + SETTLE_TIMEOUT_MS,
                }),
            }
        }
        self.settle(now_ms);
    }

    /// Releases what finished trades reserved once their balance reflects their fills
    /// (or their time is up).
    fn settle(&mut self, now_ms: i64) {
        let mut i = 0;
        while i < self.settling.len() {
            let s = &self.settling[i];
            let key = self
                .held
                .get(&(s.venue, s.asset.clone()))
                .map_or(i64::MIN, |h| h.key);
            if key >= s.until_key || now_ms >= s.expires_ms {
                let s = self.settling.swap_remove(i);
                self.release(s.venue, &s.asset, s.amount);
            } else {
                i += 1;
            }
        }
    }

    fn release(&mut self, venue: Venue, asset: &str, amount: Amount) {
        let e = self
            .reserved
            .entry((venue, asset.to_string()))
            .or_insert(Amount::ZERO);
        // Both are non-negative sums of what `reserve` accepted, so this fits.
        *e = e
            .checked_sub(amount)
            .filter(|r| !r.is_negative())
            .unwrap_or(Amount::ZERO);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Amount {
        Amount::parse(s).unwrap()
    }

    const G: Venue = Venue::GATE;

    #[test]
    fn a_rest_snapshot_older_than_a_push_does_not_overwrite_it() {
        let mut b = BalanceBook::default();
        b.push(G, "USDT", a("90"), 1_000, 0);
        // Requested before the push (answered after it): the push is newer.
        b.snapshot(G, [("USDT".to_string(), a("100"))], 990, 0);
        assert_eq!(b.available(G, "USDT").unwrap(), a("90"));
        // Requested after it: the snapshot is newer.
        b.snapshot(G, [("USDT".to_string(), a("80"))], 1_001, 0);
        assert_eq!(b.available(G, "USDT").unwrap(), a("80"));
        // A push from before that request, arriving late, is older: dropped.
        b.push(G, "USDT", a("70"), 1_000, 0);
        assert_eq!(b.available(G, "USDT").unwrap(), a("80"));
    }

    #[test]
    fn pushes_are_kept_in_venue_time_order_and_unlisted_assets_are_zero() {
        let mut b = BalanceBook::default();
        b.push(G, "BTC", a("1"), 2_000, 0);
        b.push(G, "BTC", a("2"), 1_999, 0); // overtaken on the way
        assert_eq!(b.available(G, "BTC").unwrap(), a("1"));
        b.push(G, "BTC", a("0.5"), 2_000, 0); // same time, later: newer
        assert_eq!(b.available(G, "BTC").unwrap(), a("0.5"));
        // A later snapshot that does not list BTC: sold out.
        b.snapshot(G, [("USDT".to_string(), a("5"))], 3_000, 0);
        assert_eq!(b.available(G, "BTC").unwrap(), Amount::ZERO);
        assert_eq!(b.available(Venue::MEXC, "BTC").unwrap(), Amount::ZERO);
    }

    #[test]
    fn a_finished_trade_stays_reserved_until_the_balance_reflects_its_fills() {
        let mut b = BalanceBook::default();
        b.snapshot(G, [("USDT".to_string(), a("100"))], 1_000, 0);
        b.reserve(7, G, "USDT", a("30")).unwrap();
        b.reserve(7, Venue::MEXC, "BTC", a("0.1")).unwrap(); // nothing filled there
        assert_eq!(b.available(G, "USDT").unwrap(), a("70"));
        // The buy filled at venue time 2000; the trade ends before its balance push.
        b.finish(7, &[(Venue::GATE, 2_000)].into_iter().collect(), 10);
        assert_eq!(b.available(G, "USDT").unwrap(), a("70"));
        assert_eq!(
            b.reserved()[&(Venue::MEXC, "BTC".to_string())],
            Amount::ZERO
        );
        // A push from before the fill does not release it...
        b.push(G, "USDT", a("100"), 1_999, 20);
        assert_eq!(b.available(G, "USDT").unwrap(), a("70"));
        // ...the push for the fill does, with the spent quote gone from the balance.
        b.push(G, "USDT", a("70"), 2_000, 30);
        assert_eq!(b.available(G, "USDT").unwrap(), a("70"));
        assert_eq!(b.reserved()[&(G, "USDT".to_string())], Amount::ZERO);
    }

    #[test]
    fn a_reservation_whose_balance_never_comes_is_released_in_bounded_time() {
        let mut b = BalanceBook::default();
        b.snapshot(G, [("USDT".to_string(), a("100"))], 1_000, 0);
        b.reserve(8, G, "USDT", a("30")).unwrap();
        b.reserve(8, G, "USDT", a("10")).unwrap(); // a hedge of the same trade
        b.finish(8, &[(Venue::GATE, 5_000)].into_iter().collect(), 100);
        assert_eq!(b.available(G, "USDT").unwrap(), a("60"));
        // An unrelated asset's push, before the time is up: still held.
        b.push(G, "BTC", a("1"), 6_000, 100 + SETTLE_TIMEOUT_MS - 1);
        assert_eq!(b.available(G, "USDT").unwrap(), a("60"));
        b.push(G, "BTC", a("1"), 6_001, 100 + SETTLE_TIMEOUT_MS);
        assert_eq!(b.available(G, "USDT").unwrap(), a("100"));
        // A snapshot requested after the fill also releases it.
        b.reserve(9, G, "USDT", a("50")).unwrap();
        b.finish(9, &[(Venue::GATE, 7_000)].into_iter().collect(), 200);
        b.snapshot(G, [("USDT".to_string(), a("60"))], 7_001, 210);
        assert_eq!(b.available(G, "USDT").unwrap(), a("60"));
    }

    /// A balance beyond what `i128` can take minus a reservation (a value a venue could
    /// send before the parse bound) used to overflow in `available`: a panic under `ci`.
    #[test]
    fn a_balance_whose_available_does_not_fit_is_not_available() {
        let mut b = BalanceBook::default();
        b.push(G, "USDT", Amount::from_mantissa(-i128::MAX), 1_000, 0);
        b.reserve(1, G, "USDT", a("1")).unwrap();
        assert_eq!(b.available(G, "USDT"), None);
        // Reservations that would not fit are refused, and nothing is reserved.
        b.push(G, "USDT", a("5"), 2_000, 0);
        let huge = Amount::from_mantissa(i128::MAX);
        assert_eq!(
            b.reserve(2, G, "USDT", huge).unwrap_err().to_string(),
            format!("gateio USDT: reserving {huge} more does not fit")
        );
        assert_eq!(b.available(G, "USDT"), Some(a("4")));
        b.finish(2, &VenueMap::new(), 0);
        b.finish(1, &VenueMap::new(), 0);
        assert_eq!(b.available(G, "USDT"), Some(a("5")));
    }
}
