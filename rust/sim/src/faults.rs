//! Fault injection: the ways real venues misbehave, switchable at runtime per venue (and
//! per symbol where it applies), each for the next N events and/or for a duration, from
//! Rust ([`crate::Simulator::inject_fault`]), the admin API (`POST /faults`) and Python.
//!
//! One mechanism serves every fault: a [`FaultSpec`] becomes an active entry in the
//! venue's [`FaultBook`]; the REST handlers, the order path and the WebSocket loops ask
//! the book at their hook points ([`FaultBook::take`]), which consumes one use and
//! records that the fault fired. Faults that act on open connections (close, stall,
//! malformed or crossed frames) are delivered in order through the venue's event stream.
//! Everything injected and every firing is kept for the ground-truth API, so a test can
//! count what a client should have noticed.

use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

/// A fault delivered to open WebSocket connections through the venue's event stream.
#[derive(Clone, Debug, PartialEq)]
pub enum WsFault {
    /// Close the connections in scope.
    Close(WsScope),
    /// Withhold frames until this instant.
    Stall(Instant),
    /// Send an unparseable frame to subscribers of this symbol's book.
    Malformed(usize),
    /// Send a book frame nested this deep to subscribers of this symbol's book.
    Nested(usize, u32),
}

/// Response extension marking an answer that must never be sent (apply-then-timeout).
#[derive(Clone, Copy, Debug)]
pub struct Hang;

/// Which WebSocket connections a connection-level fault hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WsScope {
    All,
    Public,
    Private,
}

impl WsScope {
    /// Whether a connection (private = authenticated / on a listenKey) is in scope.
    pub fn hits(self, private: bool) -> bool {
        match self {
            WsScope::All => true,
            WsScope::Public => !private,
            WsScope::Private => private,
        }
    }
}

/// A real error an order can be refused with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderError {
    /// MEXC 10101 / Gate BALANCE_NOT_ENOUGH.
    InsufficientBalance,
    /// MEXC 30002 / Gate INVALID_PARAM_VALUE "too small".
    BelowMinimum,
    /// MEXC 10007 "symbol not support api" / Gate INVALID_CURRENCY_PAIR-style refusal.
    SymbolNotTradable,
    /// MEXC 30019 "api market order is disabled" (Gate: as SymbolNotTradable).
    MarketOrderDisabled,
    /// A symbol listed without `MARKET` in its order types: MEXC 30051 "api market
    /// order is disabled".
    MarketOrdersNotListed,
    /// The side is not open to the API (MEXC 30016 "trading disabled"; Gate
    /// INVALID_CURRENCY_PAIR naming the side).
    SideNotOpen,
}

/// What goes wrong.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FaultKind {
    /// Close WebSocket connections now.
    CloseConnections { scope: WsScope },
    /// Book streams skip a sequence number (each use = one gap on the next push).
    Gap,
    /// Book/ticker/trade frames stop for `secs` while the connection stays open; the
    /// withheld frames are delivered late, in order, when the stall ends.
    Stall { secs: f64 },
    /// A book push that crosses the book (a phantom level through the touch), followed
    /// by the push that removes it.
    CrossedFrame,
    /// A frame that does not parse (garbage bytes / broken JSON) on book streams.
    MalformedFrame,
    /// A hostile book frame nested `depth` deep: JSON arrays in the Gate `result`,
    /// protobuf groups in an unknown MEXC field (what a recursive parser dies on).
    NestedFrame { depth: u32 },
    /// REST responses are delayed by `ms`.
    RestDelay { ms: u64 },
    /// REST requests get no answer at all (the connection is held open).
    RestTimeout,
    /// REST requests get this HTTP status (500, 502, 503...) with the venue's error body.
    RestStatus { status: u16 },
    /// REST requests get 429 with `Retry-After: secs`.
    RestRateLimit { retry_after_secs: u64 },
    /// Order placements are applied, then never answered.
    ApplyThenTimeout,
    /// Order placements are refused with a server error without being applied.
    RejectWithoutApply,
    /// Order placements are refused with a real venue error.
    RejectOrder { error: OrderError },
    /// Orders fill at most `pct` % of their size; the rest is cancelled.
    PartialFill { pct: u32 },
    /// Every listenKey of the venue expires now (MEXC).
    ExpireListenKeys,
    /// The venue halts: REST answers 503, the market stops there, until `Resume`.
    Halt,
    /// Lifts a halt.
    Resume,
    /// Deposits and withdrawals of `asset` on `chain` are suspended at the venue (its
    /// wallet APIs report the network closed) while the fault is in force.
    NetworkSuspended { asset: String, chain: String },
    /// Withdrawals are applied (debited, sent on), then never answered.
    WithdrawApplyThenTimeout,
}

impl FaultKind {
    /// Faults that act once, right when injected.
    fn is_instant(&self) -> bool {
        matches!(
            self,
            FaultKind::CloseConnections { .. }
                | FaultKind::ExpireListenKeys
                | FaultKind::Resume
                | FaultKind::CrossedFrame
                | FaultKind::MalformedFrame
                | FaultKind::NestedFrame { .. }
                | FaultKind::Stall { .. }
        )
    }

    /// The hook a fault is consumed at.
    pub fn hook(&self) -> Hook {
        match self {
            FaultKind::RestDelay { .. }
            | FaultKind::RestTimeout
            | FaultKind::RestStatus { .. }
            | FaultKind::RestRateLimit { .. } => Hook::Rest,
            FaultKind::ApplyThenTimeout
            | FaultKind::RejectWithoutApply
            | FaultKind::RejectOrder { .. }
            | FaultKind::PartialFill { .. } => Hook::Order,
            FaultKind::Gap => Hook::Book,
            FaultKind::Halt => Hook::Halt,
            FaultKind::NetworkSuspended { .. } => Hook::Wallet,
            FaultKind::WithdrawApplyThenTimeout => Hook::Withdraw,
            _ => Hook::Instant,
        }
    }
}

/// Where a fault is looked up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hook {
    /// Every REST request (before routing).
    Rest,
    /// Order placements (REST and WebSocket API).
    Order,
    /// Book pushes.
    Book,
    /// Venue-wide halt state.
    Halt,
    /// Wallet state asked, never consumed (network suspensions).
    Wallet,
    /// Withdrawal requests.
    Withdraw,
    /// Acted on when injected.
    Instant,
}

/// A fault to inject. `count` = for the next N events; `duration_ms` = for this long;
/// neither = until cleared (both: whichever ends first).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultSpec {
    /// The instance it hits, by name ("mexc", "gateio", "mexc_b").
    pub venue: arb_core::Venue,
    /// Venue-format symbol the fault is limited to (book and order faults).
    #[serde(default)]
    pub symbol: Option<String>,
    #[serde(flatten)]
    pub kind: FaultKind,
    #[serde(default)]
    pub count: Option<u64>,
    #[serde(default)]
    pub duration_ms: Option<u64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct FaultRecord {
    pub id: u64,
    pub spec: FaultSpec,
    pub injected_ms: i64,
    /// How many times it acted.
    pub fired: u64,
    pub active: bool,
}

struct Active {
    id: u64,
    spec: FaultSpec,
    hook: Hook,
    /// Symbol index the fault is limited to.
    symbol: Option<usize>,
    left: Option<u64>,
    until: Option<Instant>,
}

/// One venue's faults.
#[derive(Default)]
pub struct FaultBook {
    inner: Mutex<FaultState>,
}

#[derive(Default)]
struct FaultState {
    active: Vec<Active>,
    history: Vec<FaultRecord>,
    next_id: u64,
}

impl FaultBook {
    /// Registers a fault; returns its id. Instant faults are recorded as fired once and
    /// the caller acts on them.
    pub fn add(&self, spec: FaultSpec, symbol: Option<usize>) -> u64 {
        let mut st = self.inner.lock();
        st.next_id += 1;
        let id = st.next_id;
        let instant = spec.kind.is_instant();
        st.history.push(FaultRecord {
            id,
            spec: spec.clone(),
            injected_ms: arb_core::time::now_ms(),
            fired: u64::from(instant),
            active: !instant,
        });
        if !instant {
            let until = spec
                .duration_ms
                .map(|ms| Instant::now() + Duration::from_millis(ms));
            st.active.push(Active {
                id,
                hook: spec.kind.hook(),
                left: spec.count,
                until,
                symbol,
                spec,
            });
        }
        id
    }

    /// The first live fault at `hook` (for `symbol` when the fault names one), consuming
    /// one use. Expired and used-up faults are retired on the way.
    pub fn take(&self, hook: Hook, symbol: Option<usize>) -> Option<FaultKind> {
        let mut st = self.inner.lock();
        if st.active.is_empty() {
            return None;
        }
        st.retire_expired();
        let pos = st.active.iter().position(|a| {
            a.hook == hook && (a.symbol.is_none() || symbol.is_none() || a.symbol == symbol)
        })?;
        let a = &mut st.active[pos];
        let kind = a.spec.kind.clone();
        let id = a.id;
        let done = match &mut a.left {
            Some(n) => {
                *n -= 1;
                *n == 0
            }
            None => false,
        };
        if done {
            st.active.remove(pos);
        }
        if let Some(r) = st.history.iter_mut().find(|r| r.id == id) {
            r.fired += 1;
            if done {
                r.active = false;
            }
        }
        Some(kind)
    }

    /// Whether a fault is live at `hook`, without consuming it (halt state).
    pub fn is_active(&self, hook: Hook) -> bool {
        let mut st = self.inner.lock();
        if st.active.is_empty() {
            return false;
        }
        st.retire_expired();
        st.active.iter().any(|a| a.hook == hook)
    }

    /// Every live fault at `hook`, without consuming them (wallet state).
    pub fn live(&self, hook: Hook) -> Vec<FaultKind> {
        let mut st = self.inner.lock();
        if st.active.is_empty() {
            return Vec::new();
        }
        st.retire_expired();
        st.active
            .iter()
            .filter(|a| a.hook == hook)
            .map(|a| a.spec.kind.clone())
            .collect()
    }

    /// Ends every fault at `hook` (Resume lifts Halt).
    pub fn clear_hook(&self, hook: Hook) {
        let mut st = self.inner.lock();
        let ids: Vec<u64> = st
            .active
            .iter()
            .filter(|a| a.hook == hook)
            .map(|a| a.id)
            .collect();
        st.active.retain(|a| a.hook != hook);
        for r in st.history.iter_mut().filter(|r| ids.contains(&r.id)) {
            r.active = false;
        }
    }

    /// Ends every active fault.
    pub fn clear(&self) {
        let mut st = self.inner.lock();
        st.active.clear();
        for r in &mut st.history {
            r.active = false;
        }
    }

    /// Every fault injected, with how often it fired.
    pub fn history(&self) -> Vec<FaultRecord> {
        let mut st = self.inner.lock();
        st.retire_expired();
        st.history.clone()
    }
}

impl FaultState {
    fn retire_expired(&mut self) {
        let now = Instant::now();
        let expired: Vec<u64> = self
            .active
            .iter()
            .filter(|a| a.until.is_some_and(|u| u <= now))
            .map(|a| a.id)
            .collect();
        if expired.is_empty() {
            return;
        }
        self.active.retain(|a| !expired.contains(&a.id));
        for r in self.history.iter_mut().filter(|r| expired.contains(&r.id)) {
            r.active = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arb_core::Venue;

    fn spec(kind: FaultKind, count: Option<u64>) -> FaultSpec {
        FaultSpec {
            venue: Venue::MEXC,
            symbol: None,
            kind,
            count,
            duration_ms: None,
        }
    }

    #[test]
    fn counted_faults_fire_n_times_and_are_recorded() {
        let b = FaultBook::default();
        b.add(spec(FaultKind::RestStatus { status: 503 }, Some(2)), None);
        assert_eq!(b.take(Hook::Order, None), None);
        assert_eq!(
            b.take(Hook::Rest, None),
            Some(FaultKind::RestStatus { status: 503 })
        );
        assert!(b.take(Hook::Rest, None).is_some());
        assert_eq!(b.take(Hook::Rest, None), None);
        let h = b.history();
        assert_eq!((h[0].fired, h[0].active), (2, false));
    }

    #[test]
    fn symbol_limited_faults_only_hit_their_symbol() {
        let b = FaultBook::default();
        b.add(spec(FaultKind::Gap, None), Some(1));
        assert_eq!(b.take(Hook::Book, Some(0)), None);
        assert_eq!(b.take(Hook::Book, Some(1)), Some(FaultKind::Gap));
        assert_eq!(b.take(Hook::Book, Some(1)), Some(FaultKind::Gap));
        b.clear();
        assert_eq!(b.take(Hook::Book, Some(1)), None);
    }

    #[test]
    fn timed_faults_expire() {
        let b = FaultBook::default();
        let mut s = spec(FaultKind::RestTimeout, None);
        s.duration_ms = Some(0);
        b.add(s, None);
        b.add(spec(FaultKind::Halt, None), None);
        assert_eq!(b.take(Hook::Rest, None), None);
        assert!(b.is_active(Hook::Halt));
        b.clear_hook(Hook::Halt);
        assert!(!b.is_active(Hook::Halt));
        assert!(b.history().iter().all(|r| !r.active));
    }

    #[test]
    fn specs_parse_from_json() {
        let s: FaultSpec = serde_json::from_str(
            r#"{"venue":"gateio","type":"partial_fill","pct":30,"count":2,"symbol":"BTC_USDT"}"#,
        )
        .unwrap();
        assert_eq!(s.kind, FaultKind::PartialFill { pct: 30 });
        assert_eq!((s.venue, s.count), (Venue::GATE, Some(2)));
        let s: FaultSpec = serde_json::from_str(
            r#"{"venue":"mexc","type":"reject_order","error":"symbol_not_tradable"}"#,
        )
        .unwrap();
        assert_eq!(
            s.kind,
            FaultKind::RejectOrder {
                error: OrderError::SymbolNotTradable
            }
        );
    }
}
