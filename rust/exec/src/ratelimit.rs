//! Client-side rate limiting per venue and endpoint class, at the limits the venue's
//! adapter documents, so
//! the venue never has to answer 429. One [`RateLimiter`] per venue is shared (by `Arc`)
//! by every task that talks to that venue.
//!
//! Each limit is an exact sliding window ("at most N requests, or N weight units, in
//! any window of length T"), not a token bucket: a bucket refilled at N/T lets 2N through in some window of
//! length T right after a burst, which is precisely what a venue counting fixed or
//! sliding windows punishes. A window remembers the send times and costs of the
//! requests inside it; a request of cost c may go once the oldest have left enough
//! room for c. Venues that count weights (MEXC: each endpoint has a documented weight)
//! give each call its weight; budgets are per account (this client) or per IP (every
//! client of the process for that host). Callers *reserve* a slot and then sleep, so
//! concurrent tasks queue in order without holding the lock while they wait.
//!
//! A 429 (or Gate's `X-Gate-RateLimit-Requests-Remain: 0`) blocks the endpoint class
//! until the time the venue named; nothing of that class is sent before it.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, LazyLock};
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

/// What a limit counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Every request counts 1.
    Requests,
    /// Every request counts its weight ([`crate::venue_api::VenueApi::weight`]).
    Weight,
}

/// Whose budget a limit is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The account's (API key's): this client's alone.
    Account,
    /// The source IP's: shared by every client of this process that talks to the same
    /// REST host ([`RateLimiter::sharing_ip_of`]).
    Ip,
}

/// At most `max` requests (or weight units) in any window of `per`, per `scope`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub per: Duration,
    pub unit: Unit,
    pub scope: Scope,
}

impl Limit {
    /// At most `max` requests per `per_ms`, per account.
    pub const fn new(max: u32, per_ms: u64) -> Self {
        Limit {
            max,
            per: Duration::from_millis(per_ms),
            unit: Unit::Requests,
            scope: Scope::Account,
        }
    }

    /// At most `max` weight units per `per_ms`, per account.
    pub const fn weight(max: u32, per_ms: u64) -> Self {
        Limit {
            unit: Unit::Weight,
            ..Limit::new(max, per_ms)
        }
    }

    /// The same limit counted per IP.
    pub const fn per_ip(self) -> Self {
        Limit {
            scope: Scope::Ip,
            ..self
        }
    }

    /// What a request of `weight` counts against this limit (never more than the whole
    /// budget, so every request can go eventually).
    fn cost(&self, weight: u32) -> u32 {
        match self.unit {
            Unit::Requests => 1,
            Unit::Weight => weight.clamp(1, self.max.max(1)),
        }
    }
}

struct Window {
    limit: Limit,
    /// Send times and costs of the reserved requests still inside the window, oldest
    /// first.
    sent: VecDeque<(Instant, u32)>,
    /// The sum of the costs in `sent`.
    used: u32,
}

impl Window {
    fn new(limit: Limit) -> Self {
        Window {
            limit,
            sent: VecDeque::new(),
            used: 0,
        }
    }

    /// The earliest time, not before `from` nor before the last reservation, at which
    /// `cost` more fits: the sum of the costs in the window ending then stays within
    /// the budget. Changes nothing.
    fn earliest(&self, from: Instant, cost: u32, margin: Duration) -> Instant {
        let mut at = from.max(self.sent.back().map_or(from, |e| e.0));
        let mut used = self.used;
        for &(t, c) in &self.sent {
            if used + cost <= self.limit.max {
                break;
            }
            at = at.max(t + self.limit.per + margin);
            used -= c;
        }
        at
    }

    /// Records a request of `cost` at `at` (found by [`Window::earliest`]). Entries that
    /// left the window by `now` are dropped (those still in it or queued after it are
    /// what [`Window::headroom_pct`] reports).
    fn commit(&mut self, now: Instant, at: Instant, cost: u32, margin: Duration) {
        while let Some(&(t, c)) = self.sent.front() {
            if t + self.limit.per + margin > now {
                break;
            }
            self.sent.pop_front();
            self.used -= c;
        }
        self.sent.push_back((at, cost));
        self.used += cost;
    }

    /// The share of the budget still free at `now`, in percent: 0 while requests queue.
    fn headroom_pct(&self, now: Instant, margin: Duration) -> u32 {
        let used: u32 = self
            .sent
            .iter()
            .filter(|(t, _)| *t + self.limit.per + margin > now)
            .map(|(_, c)| c)
            .sum();
        self.limit.max.saturating_sub(used) * 100 / self.limit.max.max(1)
    }
}

/// A window's key: the endpoint class, the symbol when the limit is per symbol, and the
/// limit's place in the adapter's list.
type WindowKey = (Endpoint, Option<String>, usize);

/// The windows of one IP budget.
type IpWindows = Arc<Mutex<HashMap<WindowKey, Window>>>;

/// The IP budgets of this process, by REST host: clients of one host share them.
static IP_BUDGETS: LazyLock<Mutex<HashMap<String, IpWindows>>> = LazyLock::new(Default::default);

/// The window of limit `l` under `key`, in the account's or the IP's windows.
fn window<'a>(
    account: &'a mut HashMap<WindowKey, Window>,
    ip: &'a mut HashMap<WindowKey, Window>,
    key: WindowKey,
    l: Limit,
) -> &'a mut Window {
    let windows = match l.scope {
        Scope::Account => account,
        Scope::Ip => ip,
    };
    windows.entry(key).or_insert_with(|| Window::new(l))
}

#[derive(Default)]
struct State {
    windows: HashMap<WindowKey, Window>,
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
    /// The smallest share (percent) of any budget still free now; `None` before the
    /// first request, or with the limiter off.
    pub headroom_pct: Option<u32>,
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
    /// The IP budget (locked after `state`, never before).
    ip: IpWindows,
}

impl RateLimiter {
    /// A limiter whose IP budget is its own (see [`RateLimiter::sharing_ip_of`]).
    pub fn new(venue: Venue, enabled: bool) -> Self {
        RateLimiter {
            venue,
            api: crate::venues::adapter_for(venue),
            enabled,
            margin: Duration::from_millis(25),
            state: Mutex::new(State::default()),
            ip: IpWindows::default(),
        }
    }

    /// Shares the IP budget with every other limiter of this process for the same REST
    /// host (`rest_url`'s host and port): they leave from the same address.
    pub fn sharing_ip_of(mut self, rest_url: &str) -> Self {
        let host = reqwest::Url::parse(rest_url)
            .ok()
            .and_then(|u| Some(format!("{}:{}", u.host_str()?, u.port_or_known_default()?)))
            .unwrap_or_else(|| rest_url.to_string());
        self.ip = IP_BUDGETS.lock().entry(host).or_default().clone();
        self
    }

    pub fn venue(&self) -> Venue {
        self.venue
    }

    /// Reserves a slot for one request of `weight` (the adapter's weight of the call;
    /// 1 for a venue that counts requests) and returns when it may be sent. Does not
    /// wait.
    pub fn reserve(&self, ep: Endpoint, symbol: &str, weight: u32) -> Instant {
        let now = Instant::now();
        let mut st = self.state.lock();
        let not_before = st.blocked_until.get(&ep).copied().unwrap_or(now);
        if !self.enabled {
            return now.max(not_before);
        }
        let limits = self.api.documented_limits(ep);
        let sym = self.api.limit_per_symbol(ep).then(|| symbol.to_string());
        let mut ip = self.ip.lock();
        let st = &mut *st;
        // The earliest time every budget allows; a later time still suits a budget
        // that allowed an earlier one (its entries only leave the window).
        let mut at = now.max(not_before);
        for (i, &l) in limits.iter().enumerate() {
            let w = window(&mut st.windows, &mut ip, (ep, sym.clone(), i), l);
            at = at.max(w.earliest(at, l.cost(weight), self.margin));
        }
        for (i, &l) in limits.iter().enumerate() {
            let w = window(&mut st.windows, &mut ip, (ep, sym.clone(), i), l);
            w.commit(now, at, l.cost(weight), self.margin);
        }
        if at > now {
            st.waits += 1;
        }
        at
    }

    /// Waits for a slot for one request of weight 1.
    pub async fn acquire(&self, ep: Endpoint, symbol: &str) {
        let at = self.reserve(ep, symbol, 1);
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
        let now = Instant::now();
        let st = self.state.lock();
        let ip = self.ip.lock();
        let headroom_pct = st
            .windows
            .values()
            .chain(ip.values())
            .map(|w| w.headroom_pct(now, self.margin))
            .min();
        LimiterStats {
            waits: st.waits,
            venue_blocks: st.venue_blocks,
            headroom_pct,
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
            .map(|_| rl.reserve(Endpoint::Place, "BTC_USDT", 1))
            .collect();
        // Any 11 consecutive slots span more than one second.
        for w in slots.windows(11) {
            assert!(w[10] - w[0] > Duration::from_secs(1), "{:?}", w[10] - w[0]);
        }
        // The first ten go at once.
        assert!(slots[..10].iter().all(|&s| s == t0));
        // Another market has its own window.
        assert_eq!(rl.reserve(Endpoint::Place, "ETH_USDT", 1), t0);
        // Cancel is a different class with its own limit.
        assert_eq!(rl.reserve(Endpoint::Cancel, "BTC_USDT", 1), t0);
        assert!(rl.stats().waits >= 25);
    }

    #[tokio::test(start_paused = true)]
    async fn venue_block_holds_every_request_of_the_class() {
        let rl = RateLimiter::new(Venue::MEXC, false);
        let t0 = Instant::now();
        rl.block_until(Endpoint::QueryOrder, t0 + Duration::from_secs(2));
        assert_eq!(
            rl.reserve(Endpoint::QueryOrder, "X", 2),
            t0 + Duration::from_secs(2)
        );
        assert_eq!(rl.reserve(Endpoint::Place, "X", 1), t0);
        rl.acquire(Endpoint::QueryOrder, "X").await;
        assert!(Instant::now() >= t0 + Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn weights_add_up_to_the_budget_in_any_window() {
        // MEXC: 500 weight per 10 s per endpoint; myTrades weighs 10.
        let rl = RateLimiter::new(Venue::MEXC, true);
        let t0 = Instant::now();
        let slots: Vec<Instant> = (0..120)
            .map(|_| rl.reserve(Endpoint::MyTrades, "BTCUSDT", 10))
            .collect();
        assert!(slots[..50].iter().all(|&s| s == t0));
        assert!(slots[50] >= t0 + Duration::from_secs(10));
        // Any 51 consecutive slots (510 weight) span more than the window.
        for w in slots.windows(51) {
            assert!(w[50] - w[0] > Duration::from_secs(10), "{:?}", w[50] - w[0]);
        }
        // Another endpoint has its own budget.
        assert_eq!(rl.reserve(Endpoint::QueryOrder, "BTCUSDT", 2), t0);
        // Mixed weights: 125 of 2 and one of 250 fill the budget at once; 1 more waits.
        let q: Vec<Instant> = (0..125)
            .map(|_| rl.reserve(Endpoint::OpenOrders, "BTCUSDT", 2))
            .collect();
        assert!(q.iter().all(|&s| s == t0));
        assert_eq!(rl.reserve(Endpoint::OpenOrders, "BTCUSDT", 250), t0);
        assert!(rl.reserve(Endpoint::OpenOrders, "BTCUSDT", 1) > t0);
        assert_eq!(rl.stats().headroom_pct, Some(0));
    }

    #[tokio::test(start_paused = true)]
    async fn account_reads_are_also_two_a_second() {
        let rl = RateLimiter::new(Venue::MEXC, true);
        let t0 = Instant::now();
        let slots: Vec<Instant> = (0..6)
            .map(|_| rl.reserve(Endpoint::Account, "", 10))
            .collect();
        assert!(slots[..2].iter().all(|&s| s == t0));
        assert!(slots[2] >= t0 + Duration::from_secs(1));
        assert!(slots[4] >= t0 + Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn the_ip_budget_is_shared_by_clients_of_one_host() {
        let url = "http://127.0.0.9:1/";
        let a = RateLimiter::new(Venue::MEXC, true).sharing_ip_of(url);
        let b = RateLimiter::new(Venue::MEXC, true).sharing_ip_of(url);
        let other = RateLimiter::new(Venue::MEXC, true);
        let t0 = Instant::now();
        // Public endpoints count per IP: two clients share 500 per 10 s.
        for _ in 0..250 {
            assert_eq!(a.reserve(Endpoint::Public, "", 1), t0);
            assert_eq!(b.reserve(Endpoint::Public, "", 1), t0);
        }
        assert!(a.reserve(Endpoint::Public, "", 1) > t0);
        assert_eq!(other.reserve(Endpoint::Public, "", 1), t0);
        // Signed queries count per account: b's do not wait for a's.
        for _ in 0..250 {
            a.reserve(Endpoint::QueryOrder, "BTCUSDT", 2);
        }
        assert_eq!(b.reserve(Endpoint::QueryOrder, "BTCUSDT", 2), t0);
    }
}
