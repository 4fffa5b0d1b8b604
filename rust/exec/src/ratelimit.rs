//! Client-side rate limiting per venue and endpoint class, at the limits the venue's
//! adapter documents, so
//! the venue never has to answer 429. One [`RateLimiter`] per venue is shared (by `Arc`)
//! by every task that talks to that venue.
//!
//! Each limit is an exact sliding window ("at most N requests in any window of length
//! T"), not a token bucket: a bucket refilled at N/T lets 2N through in some window of
//! length T right after a burst, which is precisely what a venue counting fixed or
//! sliding windows punishes. A window remembers the send times of its last N requests;
//! request N+1 may go at `oldest + T`. Callers *reserve* a slot and then sleep, so
//! concurrent tasks queue in order without holding the lock while they wait.
//!
//! A 429 (or Gate's `X-Gate-RateLimit-Requests-Remain: 0`) blocks the endpoint class
//! until the time the venue named; nothing of that class is sent before it.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use arb_core::Venue;
use parking_lot::Mutex;
use tokio::time::Instant;

use crate::venue_api::VenueApi;

/// What a request is, for rate-limit accounting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Place,
    Cancel,
    QueryOrder,
    OpenOrders,
    MyTrades,
    Account,
    Fee,
    ListenKey,
    /// Wallet reads and withdrawals.
    Wallet,
    Public,
}

impl Endpoint {
    pub const fn as_str(self) -> &'static str {
        match self {
            Endpoint::Place => "place",
            Endpoint::Cancel => "cancel",
            Endpoint::QueryOrder => "query",
            Endpoint::OpenOrders => "open_orders",
            Endpoint::MyTrades => "my_trades",
            Endpoint::Account => "balances",
            Endpoint::Fee => "fees",
            Endpoint::ListenKey => "listen_key",
            Endpoint::Wallet => "wallet",
            Endpoint::Public => "public",
        }
    }
}

/// At most `max` requests in any window of `per`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub per: Duration,
}

impl Limit {
    pub const fn new(max: u32, per_ms: u64) -> Self {
        Limit {
            max,
            per: Duration::from_millis(per_ms),
        }
    }
}

struct Window {
    limit: Limit,
    /// Send times of the last `limit.max` reserved requests, oldest first.
    sent: VecDeque<Instant>,
}

impl Window {
    fn reserve(&mut self, now: Instant, margin: Duration, not_before: Instant) -> Instant {
        let mut at = now.max(not_before);
        if self.sent.len() as u32 >= self.limit.max {
            let oldest = self.sent.pop_front().expect("window is full");
            at = at.max(oldest + self.limit.per + margin);
        }
        // Reservations are handed out in order, so `sent` stays sorted.
        at = at.max(self.sent.back().copied().unwrap_or(at));
        self.sent.push_back(at);
        at
    }
}

#[derive(Default)]
struct State {
    windows: HashMap<(Endpoint, Option<String>), Window>,
    blocked_until: HashMap<Endpoint, Instant>,
    waits: u64,
    venue_blocks: u64,
}

/// Counters of what the limiter did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LimiterStats {
    /// Requests that had to wait for a slot.
    pub waits: u64,
    /// Times the venue told us to stop (429 / remain 0).
    pub venue_blocks: u64,
}

/// The rate limiter of one venue, at the limits its adapter documents.
pub struct RateLimiter {
    venue: Venue,
    api: &'static dyn VenueApi,
    enabled: bool,
    /// Extra spacing added to every window, for the jitter between our send time and
    /// the venue's receive time.
    margin: Duration,
    state: Mutex<State>,
}

impl RateLimiter {
    pub fn new(venue: Venue, enabled: bool) -> Self {
        RateLimiter {
            venue,
            api: crate::venues::adapter_for(venue),
            enabled,
            margin: Duration::from_millis(25),
            state: Mutex::new(State::default()),
        }
    }

    pub fn venue(&self) -> Venue {
        self.venue
    }

    /// Reserves a slot for one request and returns when it may be sent. Does not wait.
    pub fn reserve(&self, ep: Endpoint, symbol: &str) -> Instant {
        let now = Instant::now();
        let mut st = self.state.lock();
        let not_before = st.blocked_until.get(&ep).copied().unwrap_or(now);
        if !self.enabled {
            return now.max(not_before);
        }
        let key = (
            ep,
            self.api.limit_per_symbol(ep).then(|| symbol.to_string()),
        );
        let api = self.api;
        let at = st
            .windows
            .entry(key)
            .or_insert_with(|| Window {
                limit: api.documented_limit(ep),
                sent: VecDeque::new(),
            })
            .reserve(now, self.margin, not_before);
        if at > now {
            st.waits += 1;
        }
        at
    }

    /// Waits for a slot for one request.
    pub async fn acquire(&self, ep: Endpoint, symbol: &str) {
        let at = self.reserve(ep, symbol);
        if at > Instant::now() {
            tokio::time::sleep_until(at).await;
        }
    }

    /// The venue said stop until `until` (a 429's Retry-After, Gate's reset time):
    /// nothing of this endpoint class goes out before then. Always applied, even when
    /// the limiter's own windows are disabled.
    pub fn block_until(&self, ep: Endpoint, until: Instant) {
        let mut st = self.state.lock();
        st.venue_blocks += 1;
        let e = st.blocked_until.entry(ep).or_insert(until);
        *e = (*e).max(until);
    }

    pub fn stats(&self) -> LimiterStats {
        let st = self.state.lock();
        LimiterStats {
            waits: st.waits,
            venue_blocks: st.venue_blocks,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn never_more_than_max_in_any_window() {
        let rl = RateLimiter::new(Venue::GATE, true);
        let t0 = Instant::now();
        let slots: Vec<Instant> = (0..35)
            .map(|_| rl.reserve(Endpoint::Place, "BTC_USDT"))
            .collect();
        // Any 11 consecutive slots span more than one second.
        for w in slots.windows(11) {
            assert!(w[10] - w[0] > Duration::from_secs(1), "{:?}", w[10] - w[0]);
        }
        // The first ten go at once.
        assert!(slots[..10].iter().all(|&s| s == t0));
        // Another market has its own window.
        assert_eq!(rl.reserve(Endpoint::Place, "ETH_USDT"), t0);
        // Cancel is a different class with its own limit.
        assert_eq!(rl.reserve(Endpoint::Cancel, "BTC_USDT"), t0);
        assert!(rl.stats().waits >= 25);
    }

    #[tokio::test(start_paused = true)]
    async fn venue_block_holds_every_request_of_the_class() {
        let rl = RateLimiter::new(Venue::MEXC, false);
        let t0 = Instant::now();
        rl.block_until(Endpoint::QueryOrder, t0 + Duration::from_secs(2));
        assert_eq!(
            rl.reserve(Endpoint::QueryOrder, "X"),
            t0 + Duration::from_secs(2)
        );
        assert_eq!(rl.reserve(Endpoint::Place, "X"), t0);
        rl.acquire(Endpoint::QueryOrder, "X").await;
        assert!(Instant::now() >= t0 + Duration::from_secs(2));
    }
}
