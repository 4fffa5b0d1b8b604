//! The order lifecycle state machine and the [`OrderTracker`] the engine awaits on.
//!
//! pending-new -> open -> partially-filled -> filled | canceled | rejected | expired,
//! plus unknown (a placement that timed out or got a 5xx) until the venue's word
//! resolves it. Evidence arrives from REST answers and from private streams in any
//! order — a fill can beat the placement's own acknowledgement, a stale "open" push
//! can arrive after "filled" — so every input is merged monotonically: a status never
//! moves backwards, quantities only grow, and fills are de-duplicated by trade id
//! (each fill is typically seen twice: once on the stream, once by a REST
//! reconciliation).
//!
//! Why a `parking_lot::Mutex` around one map and a `watch` per order: updates are
//! short and synchronous (no await under the lock), and a waiter needs "wake me when
//! this order changed", which a version counter in a `watch` gives without cloning
//! the order into every waiter.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use arb_core::Venue;
use parking_lot::Mutex;
use tokio::sync::{broadcast, watch};

use crate::amount::Amount;
use crate::order::{ClientOrderId, Side};

/// Where an order stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    PendingNew,
    Unknown,
    Open,
    PartiallyFilled,
    Filled,
    Canceled,
    Rejected,
    Expired,
}

impl OrderStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            OrderStatus::PendingNew => "pending_new",
            OrderStatus::Unknown => "unknown",
            OrderStatus::Open => "open",
            OrderStatus::PartiallyFilled => "partially_filled",
            OrderStatus::Filled => "filled",
            OrderStatus::Canceled => "canceled",
            OrderStatus::Rejected => "rejected",
            OrderStatus::Expired => "expired",
        }
    }

    pub const fn is_final(self) -> bool {
        matches!(
            self,
            OrderStatus::Filled
                | OrderStatus::Canceled
                | OrderStatus::Rejected
                | OrderStatus::Expired
        )
    }

    /// Progress order: pending/unknown < open < partially filled < any final state.
    const fn rank(self) -> u8 {
        match self {
            OrderStatus::PendingNew | OrderStatus::Unknown => 0,
            OrderStatus::Open => 1,
            OrderStatus::PartiallyFilled => 2,
            _ => 3,
        }
    }
}

/// Where a piece of evidence came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Rest,
    Stream,
}

/// One execution of one of our orders.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Fill {
    pub venue: Venue,
    pub trade_id: String,
    pub order_id: String,
    pub client_id: Option<ClientOrderId>,
    pub symbol: String,
    pub side: Side,
    pub price: Amount,
    pub qty: Amount,
    pub quote_qty: Amount,
    pub fee: Amount,
    pub fee_currency: String,
    pub is_maker: bool,
    pub time_ms: i64,
    pub source: Source,
}

/// Why the tracker refused a fill: its amounts summed with its order's earlier fills
/// do not fit (corrupt or hostile venue values). Nothing of it was recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fill {trade_id} of order {order_id} refused: its {what} summed with the order's earlier fills does not fit")]
pub struct FillRejected {
    pub trade_id: String,
    pub order_id: String,
    /// Which sum: "quantity", "quote amount" or "fee".
    pub what: &'static str,
}

/// What the venue says about an order (a REST answer or a stream push).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OrderReport {
    pub venue: Venue,
    pub order_id: String,
    pub client_id: Option<ClientOrderId>,
    pub symbol: String,
    pub side: Option<Side>,
    pub status: OrderStatus,
    pub price: Option<Amount>,
    pub orig_qty: Option<Amount>,
    /// Cumulative filled base quantity, when the report carries it.
    pub filled_qty: Option<Amount>,
    pub filled_quote: Option<Amount>,
    pub time_ms: i64,
    pub source: Source,
}

/// A balance as a stream push or a REST answer reports it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Balance {
    pub asset: String,
    pub free: Amount,
    pub locked: Amount,
}

/// Everything the execution layer reports, in arrival order.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ExecEvent {
    Order(OrderReport),
    Fill(Fill),
    Balance {
        venue: Venue,
        balance: Balance,
        time_ms: i64,
    },
    /// A private stream connected (`true`) or dropped (`false`), with why.
    Stream {
        venue: Venue,
        connected: bool,
        detail: String,
    },
}

/// The tracked state of one order.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OrderState {
    pub venue: Venue,
    pub client_id: Option<ClientOrderId>,
    pub order_id: Option<String>,
    pub symbol: String,
    pub side: Option<Side>,
    pub status: OrderStatus,
    pub orig_qty: Option<Amount>,
    pub filled_qty: Amount,
    pub filled_quote: Amount,
    /// Fees paid, per currency, summed over the fills.
    pub fees: Vec<(String, Amount)>,
    pub fills: Vec<Fill>,
    /// Why it is unknown or rejected, when it is.
    pub reason: Option<String>,
    /// When it was last sent (local wall clock, ms): the time window in which the
    /// venue's histories are searched for it while its outcome is unknown.
    pub sent_ms: Option<i64>,
    /// When its outcome last became unknown (local wall clock, ms): MEXC's order query
    /// can miss an order for a while after accepting it.
    pub unknown_since_ms: Option<i64>,
    /// How many inputs changed it.
    pub version: u64,
}

impl OrderState {
    fn new(venue: Venue, client_id: Option<ClientOrderId>, symbol: &str) -> Self {
        OrderState {
            venue,
            client_id,
            order_id: None,
            symbol: symbol.to_string(),
            side: None,
            status: OrderStatus::PendingNew,
            orig_qty: None,
            filled_qty: Amount::ZERO,
            filled_quote: Amount::ZERO,
            fees: Vec::new(),
            fills: Vec::new(),
            reason: None,
            sent_ms: None,
            unknown_since_ms: None,
            version: 0,
        }
    }

    /// Records a fill not seen before: its quantity, quote amount and fee added to the
    /// order's. All three sums are checked before anything changes, so a fill whose sums
    /// do not fit (corrupt or hostile venue values) leaves the order as it was.
    fn add_fill(&mut self, f: &Fill) -> Result<(), FillRejected> {
        let refuse = |what| FillRejected {
            trade_id: f.trade_id.clone(),
            order_id: f.order_id.clone(),
            what,
        };
        let sum = |get: fn(&Fill) -> Amount| {
            self.fills
                .iter()
                .try_fold(get(f), |a, g| a.checked_add(get(g)))
        };
        let qty = sum(|g| g.qty).ok_or_else(|| refuse("quantity"))?;
        let quote = sum(|g| g.quote_qty).ok_or_else(|| refuse("quote amount"))?;
        let fee = match self.fees.iter().position(|(c, _)| *c == f.fee_currency) {
            Some(i) => Some(i).zip(self.fees[i].1.checked_add(f.fee)),
            None => Some((self.fees.len(), f.fee)),
        };
        let (fee_at, fee) = fee.ok_or_else(|| refuse("fee"))?;
        if fee_at == self.fees.len() {
            self.fees.push((f.fee_currency.clone(), fee));
        } else {
            self.fees[fee_at].1 = fee;
        }
        self.fills.push(f.clone());
        if self.side.is_none() {
            self.side = Some(f.side);
        }
        self.filled_qty = self.filled_qty.max(qty);
        self.filled_quote = self.filled_quote.max(quote);
        Ok(())
    }

    /// A fully filled order whose status has not said so yet is filled.
    fn settle_by_quantity(&mut self) {
        if let Some(q) = self.orig_qty {
            if !q.is_zero() && self.filled_qty >= q && self.status != OrderStatus::Filled {
                // A cancel racing the last fill: the fills are what happened.
                self.status = OrderStatus::Filled;
                return;
            }
        }
        if !self.status.is_final() && !self.filled_qty.is_zero() {
            self.status = OrderStatus::PartiallyFilled;
        }
    }

    fn merge_status(&mut self, new: OrderStatus) {
        if self.status.is_final() {
            // First final state wins, except that the venue's "filled" overrides a
            // cancel/expire we inferred (IOC remainder cancel racing its fill).
            if new == OrderStatus::Filled && self.status != OrderStatus::Rejected {
                self.status = OrderStatus::Filled;
            }
            return;
        }
        if new.rank() > self.status.rank()
            || (new.rank() == self.status.rank() && new != OrderStatus::Unknown)
        {
            self.status = new;
        }
    }
}

struct Entry {
    state: OrderState,
    trade_ids: HashSet<String>,
    changed: watch::Sender<u64>,
    /// When the state last changed (for pruning finished orders).
    touched: std::time::Instant,
}

impl Entry {
    /// Folds the state recorded under the venue id alone into this entry.
    fn absorb(&mut self, o: OrderState) {
        let s = &mut self.state;
        if s.side.is_none() {
            s.side = o.side;
        }
        if s.orig_qty.is_none() {
            s.orig_qty = o.orig_qty;
        }
        if s.symbol.is_empty() {
            s.symbol = o.symbol;
        }
        for f in &o.fills {
            // Each of these fills was accepted under the venue id alone; one whose sums
            // with this entry's fills do not fit is left out here (its trade id stays
            // unseen, so the REST reconciliation's copy is refused with the reason).
            if !self.trade_ids.contains(&f.trade_id) && s.add_fill(f).is_ok() {
                self.trade_ids.insert(f.trade_id.clone());
            }
        }
        s.filled_qty = s.filled_qty.max(o.filled_qty);
        s.filled_quote = s.filled_quote.max(o.filled_quote);
        s.merge_status(o.status);
        s.settle_by_quantity();
    }
}

#[derive(Default)]
struct Book {
    /// Keyed by client id text, or `#<order id>` for orders placed without one.
    orders: HashMap<String, Entry>,
    by_order_id: HashMap<String, String>,
}

/// Every order of one venue client, fed by REST and streams, awaited by the engine.
pub struct OrderTracker {
    venue: Venue,
    book: Mutex<Book>,
    events: broadcast::Sender<ExecEvent>,
    /// Final orders older than this are forgotten (see [`OrderTracker::prune_final`]).
    final_retention: Duration,
    submits: std::sync::atomic::AtomicU64,
}

/// How long a final order stays tracked: far beyond any late report or reconciliation
/// (a late duplicate fill of a forgotten order is still de-duplicated by the journal's
/// trade id).
pub const FINAL_RETENTION: Duration = Duration::from_secs(600);

/// The tracker prunes itself every this many submissions, so a long run stays bounded
/// without anyone having to call [`OrderTracker::prune_final`].
pub const PRUNE_EVERY_SUBMITS: u64 = 1024;

fn key_of(client_id: Option<&ClientOrderId>, order_id: &str) -> String {
    match client_id {
        Some(c) => c.as_str().to_string(),
        None => format!("#{order_id}"),
    }
}

impl OrderTracker {
    pub fn new(venue: Venue) -> Self {
        OrderTracker {
            venue,
            book: Mutex::new(Book::default()),
            events: broadcast::channel(65_536).0,
            final_retention: FINAL_RETENTION,
            submits: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The same tracker keeping final orders for `d` instead of [`FINAL_RETENTION`].
    pub fn with_final_retention(mut self, d: Duration) -> Self {
        self.final_retention = d;
        self
    }

    pub fn venue(&self) -> Venue {
        self.venue
    }

    /// Every event (orders, fills, balances, stream state) from now on.
    pub fn subscribe_events(&self) -> broadcast::Receiver<ExecEvent> {
        self.events.subscribe()
    }

    /// Publishes an event that is not about an order (balances, stream state).
    pub fn publish(&self, ev: ExecEvent) {
        let _ = self.events.send(ev);
    }

    fn with_entry<R>(
        &self,
        client_id: Option<&ClientOrderId>,
        order_id: Option<&str>,
        symbol: &str,
        f: impl FnOnce(&mut OrderState, &mut HashSet<String>) -> R,
    ) -> R {
        let mut book = self.book.lock();
        let key = match (client_id, order_id) {
            (Some(c), _) => c.as_str().to_string(),
            (None, Some(o)) => book
                .by_order_id
                .get(o)
                .cloned()
                .unwrap_or_else(|| key_of(None, o)),
            (None, None) => {
                return f(
                    &mut OrderState::new(self.venue, None, symbol),
                    &mut HashSet::new(),
                )
            }
        };
        // Evidence that named the order only by its venue id (a fill pushed before the
        // placement's acknowledgement told us the id) sits under `#<id>`; once an input
        // carries both ids, that orphan is folded into the client-id entry.
        let mut orphan = None;
        if let Some(o) = order_id {
            match book.by_order_id.get(o) {
                Some(k) if *k != key => {
                    let k = k.clone();
                    if client_id.is_some() {
                        orphan = book.orders.remove(&k);
                        book.by_order_id.insert(o.to_string(), key.clone());
                    }
                }
                Some(_) => {}
                None => {
                    book.by_order_id.insert(o.to_string(), key.clone());
                }
            }
        }
        let venue = self.venue;
        let entry = book.orders.entry(key).or_insert_with(|| Entry {
            state: OrderState::new(venue, client_id.cloned(), symbol),
            trade_ids: HashSet::new(),
            changed: watch::channel(0).0,
            touched: std::time::Instant::now(),
        });
        if entry.state.order_id.is_none() {
            entry.state.order_id = order_id.map(str::to_string);
        }
        let before = entry.state.clone();
        if let Some(o) = orphan {
            entry.absorb(o.state);
        }
        let r = f(&mut entry.state, &mut entry.trade_ids);
        if entry.state != before {
            entry.touched = std::time::Instant::now();
            entry.state.version += 1;
            let v = entry.state.version;
            entry.changed.send_replace(v);
        }
        r
    }

    /// An order is about to be sent (or re-sent after being proven absent).
    pub fn on_submit(
        &self,
        client_id: &ClientOrderId,
        symbol: &str,
        side: Side,
        qty: Option<Amount>,
    ) {
        self.with_entry(Some(client_id), None, symbol, |s, _| {
            if matches!(s.status, OrderStatus::Unknown | OrderStatus::Rejected)
                && s.filled_qty.is_zero()
            {
                s.status = OrderStatus::PendingNew;
                s.reason = None;
            }
            s.side = Some(side);
            if s.orig_qty.is_none() {
                s.orig_qty = qty;
            }
            s.sent_ms = Some(arb_core::time::now_ms());
        });
        let n = self
            .submits
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        if n % PRUNE_EVERY_SUBMITS == 0 {
            self.prune_final(self.final_retention);
        }
    }

    /// The venue's word on an order.
    pub fn on_report(&self, r: &OrderReport) {
        self.with_entry(
            r.client_id.as_ref(),
            Some(&r.order_id),
            &r.symbol,
            |s, _| {
                if s.side.is_none() {
                    s.side = r.side;
                }
                if s.orig_qty.is_none() || r.orig_qty.is_some_and(|q| !q.is_zero()) {
                    s.orig_qty = r.orig_qty.or(s.orig_qty);
                }
                if let Some(q) = r.filled_qty {
                    s.filled_qty = s.filled_qty.max(q);
                }
                if let Some(q) = r.filled_quote {
                    s.filled_quote = s.filled_quote.max(q);
                }
                s.merge_status(r.status);
                if s.status != OrderStatus::Unknown {
                    s.reason = None;
                }
                s.settle_by_quantity();
            },
        );
        let _ = self.events.send(ExecEvent::Order(r.clone()));
    }

    /// One fill; `Ok(false)` if this trade id was already recorded.
    ///
    /// # Errors
    /// The fill's quantity, quote amount or fee summed with the order's earlier fills
    /// does not fit: nothing of it is recorded or published, and the same trade id
    /// arriving again is refused again.
    pub fn on_fill(&self, f: &Fill) -> Result<bool, FillRejected> {
        let fresh = self.with_entry(
            f.client_id.as_ref(),
            Some(&f.order_id),
            &f.symbol,
            |s, ids| {
                if ids.contains(&f.trade_id) {
                    return Ok(false);
                }
                s.add_fill(f)?;
                ids.insert(f.trade_id.clone());
                s.settle_by_quantity();
                Ok(true)
            },
        )?;
        if fresh {
            let _ = self.events.send(ExecEvent::Fill(f.clone()));
        }
        Ok(fresh)
    }

    /// A placement's outcome is unknown (timeout, 5xx) until resolved.
    pub fn on_unknown(&self, client_id: &ClientOrderId, reason: &str) {
        self.with_entry(Some(client_id), None, "", |s, _| {
            if s.status == OrderStatus::PendingNew {
                s.status = OrderStatus::Unknown;
                s.reason = Some(reason.to_string());
                s.unknown_since_ms = Some(arb_core::time::now_ms());
            }
        });
    }

    /// The venue refused the placement (or it was proven absent and not re-sent).
    pub fn on_rejected(&self, client_id: &ClientOrderId, reason: &str) {
        self.with_entry(Some(client_id), None, "", |s, _| {
            if matches!(s.status, OrderStatus::PendingNew | OrderStatus::Unknown) {
                s.status = OrderStatus::Rejected;
                s.reason = Some(reason.to_string());
            }
        });
    }

    /// The current state of an order.
    pub fn get(&self, client_id: &ClientOrderId) -> Option<OrderState> {
        self.book
            .lock()
            .orders
            .get(client_id.as_str())
            .map(|e| e.state.clone())
    }

    /// The current state of an order known only by its venue id.
    pub fn get_by_order_id(&self, order_id: &str) -> Option<OrderState> {
        let book = self.book.lock();
        let key = book.by_order_id.get(order_id)?;
        book.orders.get(key).map(|e| e.state.clone())
    }

    /// Every tracked order.
    pub fn all(&self) -> Vec<OrderState> {
        self.book
            .lock()
            .orders
            .values()
            .map(|e| e.state.clone())
            .collect()
    }

    /// Orders not yet in a final state (what a reconciliation must re-query).
    pub fn live(&self) -> Vec<OrderState> {
        self.book
            .lock()
            .orders
            .values()
            .filter(|e| !e.state.status.is_final())
            .map(|e| e.state.clone())
            .collect()
    }

    /// Forgets orders that reached a final state more than `age` ago (a long-running
    /// engine would otherwise keep every order it ever placed). Returns how many.
    /// A late duplicate fill of a forgotten order would be recorded anew, so `age`
    /// should comfortably exceed the reconciliation window.
    pub fn prune_final(&self, age: Duration) -> usize {
        let mut book = self.book.lock();
        let before = book.orders.len();
        book.orders
            .retain(|_, e| !(e.state.status.is_final() && e.touched.elapsed() >= age));
        let Book {
            orders,
            by_order_id,
        } = &mut *book;
        by_order_id.retain(|_, k| orders.contains_key(k));
        before - book.orders.len()
    }

    /// Waits until `pred` holds for the order (checked on every change), or `timeout`.
    /// Returns the state that satisfied it, or `None` on timeout / unknown order.
    pub async fn wait_until(
        &self,
        client_id: &ClientOrderId,
        timeout: Duration,
        pred: impl Fn(&OrderState) -> bool,
    ) -> Option<OrderState> {
        let mut rx = {
            let book = self.book.lock();
            let e = book.orders.get(client_id.as_str())?;
            if pred(&e.state) {
                return Some(e.state.clone());
            }
            e.changed.subscribe()
        };
        let fut = async {
            loop {
                if rx.changed().await.is_err() {
                    return None;
                }
                if let Some(s) = self.get(client_id) {
                    if pred(&s) {
                        return Some(s);
                    }
                }
            }
        };
        tokio::time::timeout(timeout, fut).await.ok().flatten()
    }

    /// Waits until the order is filled, canceled, rejected or expired.
    pub async fn wait_final(
        &self,
        client_id: &ClientOrderId,
        timeout: Duration,
    ) -> Option<OrderState> {
        self.wait_until(client_id, timeout, |s| s.status.is_final())
            .await
    }

    /// Waits until the order has more than `seen` fills.
    pub async fn wait_fill(
        &self,
        client_id: &ClientOrderId,
        seen: usize,
        timeout: Duration,
    ) -> Option<OrderState> {
        self.wait_until(client_id, timeout, |s| s.fills.len() > seen)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cid(s: &str) -> ClientOrderId {
        ClientOrderId::custom(s).unwrap()
    }

    fn amt(s: &str) -> Amount {
        Amount::parse(s).unwrap()
    }

    fn report(status: OrderStatus, filled: &str) -> OrderReport {
        OrderReport {
            venue: Venue::MEXC,
            order_id: "O1".into(),
            client_id: Some(cid("c1")),
            symbol: "BTCUSDT".into(),
            side: Some(Side::Buy),
            status,
            price: Some(amt("100")),
            orig_qty: Some(amt("2")),
            filled_qty: Some(amt(filled)),
            filled_quote: None,
            time_ms: 0,
            source: Source::Rest,
        }
    }

    fn fill(trade: &str, qty: &str, with_client_id: bool) -> Fill {
        Fill {
            venue: Venue::MEXC,
            trade_id: trade.into(),
            order_id: "O1".into(),
            client_id: with_client_id.then(|| cid("c1")),
            symbol: "BTCUSDT".into(),
            side: Side::Buy,
            price: amt("100"),
            qty: amt(qty),
            quote_qty: amt(qty).checked_mul(amt("100")).unwrap(),
            fee: amt("0.001"),
            fee_currency: "BTC".into(),
            is_maker: false,
            time_ms: 0,
            source: Source::Stream,
        }
    }

    #[test]
    fn fill_before_ack_and_stale_reports_never_move_backwards() {
        let t = OrderTracker::new(Venue::MEXC);
        t.on_submit(&cid("c1"), "BTCUSDT", Side::Buy, Some(amt("2")));
        assert_eq!(t.get(&cid("c1")).unwrap().status, OrderStatus::PendingNew);
        // The stream's fill beats the REST acknowledgement.
        assert_eq!(t.on_fill(&fill("T1", "1", true)), Ok(true));
        assert_eq!(
            t.get(&cid("c1")).unwrap().status,
            OrderStatus::PartiallyFilled
        );
        // The late "NEW" acknowledgement does not undo it.
        t.on_report(&report(OrderStatus::Open, "0"));
        let s = t.get(&cid("c1")).unwrap();
        assert_eq!(s.status, OrderStatus::PartiallyFilled);
        assert_eq!(s.order_id.as_deref(), Some("O1"));
        assert_eq!(s.filled_qty, amt("1"));
        // The same trade again (from the REST reconciliation) is not counted twice.
        assert_eq!(
            t.on_fill(&Fill {
                source: Source::Rest,
                ..fill("T1", "1", false)
            }),
            Ok(false)
        );
        // A fill known only by order id lands on the same order.
        assert_eq!(t.on_fill(&fill("T2", "1", false)), Ok(true));
        let s = t.get(&cid("c1")).unwrap();
        assert_eq!(s.status, OrderStatus::Filled);
        assert_eq!(s.fills.len(), 2);
        assert_eq!(s.fees, vec![("BTC".to_string(), amt("0.002"))]);
        // Final is absorbing.
        t.on_report(&report(OrderStatus::Open, "1"));
        assert_eq!(t.get(&cid("c1")).unwrap().status, OrderStatus::Filled);
    }

    #[test]
    fn a_fill_known_only_by_venue_id_joins_its_order_when_the_ack_names_both() {
        let t = OrderTracker::new(Venue::MEXC);
        t.on_submit(&cid("c1"), "BTCUSDT", Side::Buy, Some(amt("2")));
        // The fill names only the venue id, which nobody has told us yet.
        assert_eq!(t.on_fill(&fill("T1", "2", false)), Ok(true));
        assert_eq!(t.get(&cid("c1")).unwrap().fills.len(), 0);
        // The acknowledgement carries both ids: the orphan fill moves over.
        t.on_report(&report(OrderStatus::Open, "0"));
        let s = t.get(&cid("c1")).unwrap();
        assert_eq!((s.fills.len(), s.status), (1, OrderStatus::Filled));
        assert_eq!(t.all().len(), 1);
        assert_eq!(t.on_fill(&fill("T1", "2", true)), Ok(false));
        assert_eq!(t.get_by_order_id("O1").unwrap().client_id, Some(cid("c1")));
    }

    /// Two fills whose quantities sum beyond `i128` (each within what a venue could send
    /// before the parse bound) used to overflow in the tracker: a panic under the `ci`
    /// profile, a wrapped quantity in release.
    #[test]
    fn a_fill_whose_sums_do_not_fit_is_refused_and_nothing_of_it_is_kept() {
        let t = OrderTracker::new(Venue::MEXC);
        t.on_submit(&cid("c1"), "BTCUSDT", Side::Buy, None);
        let half = Amount::from_mantissa(i128::MAX / 2 + 1);
        let big = |trade: &str| Fill {
            qty: half,
            quote_qty: amt("1"),
            ..fill(trade, "1", true)
        };
        let mut events = t.subscribe_events();
        assert_eq!(t.on_fill(&big("T1")), Ok(true));
        let before = t.get(&cid("c1")).unwrap();
        let refused = FillRejected {
            trade_id: "T2".into(),
            order_id: "O1".into(),
            what: "quantity",
        };
        assert_eq!(t.on_fill(&big("T2")), Err(refused.clone()));
        assert_eq!(
            refused.to_string(),
            "fill T2 of order O1 refused: its quantity summed with the order's earlier fills does not fit"
        );
        // Nothing of it is kept or published; delivered again, it is refused again.
        assert_eq!(t.get(&cid("c1")).unwrap(), before);
        assert_eq!(before.filled_qty, half);
        assert_eq!(t.on_fill(&big("T2")).unwrap_err().what, "quantity");
        assert!(matches!(events.try_recv(), Ok(ExecEvent::Fill(f)) if f.trade_id == "T1"));
        assert!(events.try_recv().is_err());
        // A fee that does not fit is refused the same way.
        let fee = Fill {
            fee: Amount::from_mantissa(i128::MAX),
            fee_currency: "USDT".into(),
            ..fill("T3", "0", true)
        };
        assert_eq!(t.on_fill(&fee), Ok(true));
        let fee2 = Fill {
            trade_id: "T4".into(),
            ..fee
        };
        assert_eq!(t.on_fill(&fee2).unwrap_err().what, "fee");
        // The duplicate of an accepted fill is still just a duplicate.
        assert_eq!(t.on_fill(&big("T1")), Ok(false));
    }

    /// `prune_final` was written to bound the tracker and never called: every order of a
    /// long run stayed in memory.
    #[test]
    fn the_tracker_prunes_itself_as_orders_are_placed() {
        let t = OrderTracker::new(Venue::MEXC).with_final_retention(Duration::ZERO);
        for i in 0..5_000 {
            let c = cid(&format!("c{i}"));
            t.on_submit(&c, "BTCUSDT", Side::Buy, Some(amt("2")));
            t.on_rejected(&c, "test");
        }
        assert!(
            t.all().len() <= PRUNE_EVERY_SUBMITS as usize,
            "{}",
            t.all().len()
        );
    }

    #[test]
    fn prunes_only_final_orders() {
        let t = OrderTracker::new(Venue::MEXC);
        t.on_submit(&cid("c1"), "BTCUSDT", Side::Buy, Some(amt("2")));
        t.on_report(&report(OrderStatus::Canceled, "0"));
        t.on_submit(&cid("c2"), "BTCUSDT", Side::Buy, Some(amt("2")));
        assert_eq!(t.prune_final(Duration::ZERO), 1);
        assert!(t.get(&cid("c1")).is_none());
        assert!(t.get_by_order_id("O1").is_none());
        assert_eq!(t.get(&cid("c2")).unwrap().status, OrderStatus::PendingNew);
        assert_eq!(t.prune_final(Duration::ZERO), 0);
    }

    #[test]
    fn unknown_resolves_by_evidence_or_rejection() {
        let t = OrderTracker::new(Venue::MEXC);
        t.on_submit(&cid("c1"), "BTCUSDT", Side::Buy, Some(amt("2")));
        t.on_unknown(&cid("c1"), "timeout");
        assert_eq!(t.get(&cid("c1")).unwrap().status, OrderStatus::Unknown);
        // Proven absent and re-sent: pending again.
        t.on_submit(&cid("c1"), "BTCUSDT", Side::Buy, Some(amt("2")));
        assert_eq!(t.get(&cid("c1")).unwrap().status, OrderStatus::PendingNew);
        t.on_unknown(&cid("c1"), "5xx");
        t.on_report(&report(OrderStatus::Canceled, "0.5"));
        let s = t.get(&cid("c1")).unwrap();
        assert_eq!(s.status, OrderStatus::Canceled);
        assert_eq!(s.reason, None);
        // A rejection cannot overwrite a final state.
        t.on_rejected(&cid("c1"), "late");
        assert_eq!(t.get(&cid("c1")).unwrap().status, OrderStatus::Canceled);
    }

    #[tokio::test]
    async fn waiters_wake_on_final_state_and_fills() {
        let t = std::sync::Arc::new(OrderTracker::new(Venue::MEXC));
        t.on_submit(&cid("c1"), "BTCUSDT", Side::Buy, Some(amt("2")));
        let t2 = t.clone();
        let waiter = tokio::spawn(async move {
            let f = t2
                .wait_fill(&cid("c1"), 0, Duration::from_secs(30))
                .await
                .unwrap();
            let done = t2
                .wait_final(&cid("c1"), Duration::from_secs(30))
                .await
                .unwrap();
            (f.fills.len(), done.status)
        });
        tokio::task::yield_now().await;
        t.on_fill(&fill("T1", "0.5", true)).unwrap();
        t.on_report(&report(OrderStatus::Canceled, "0.5"));
        assert_eq!(waiter.await.unwrap(), (1, OrderStatus::Canceled));
        assert!(t
            .wait_final(&cid("nope"), Duration::from_millis(1))
            .await
            .is_none());
    }
}
