//! One arbitrage as a transaction with its own state machine.
//!
//! Two legs (buy on the cheap venue, sell on the dear one) are sent at once. Their
//! events — acknowledgements, fills, final states, rejections, unknown outcomes — arrive
//! in any order (a fill may precede its ack; a fill may land while a cancel is in
//! flight). The transaction folds them in and says what to do next:
//!
//! - the resting sell of the `market_limit` style not filled in time -> cancel it;
//! - both legs final with equal base amounts -> done;
//! - a residual (bought != sold) -> hedge per policy: `chase` (IOC on the venue of the
//!   short leg), `unwind` (market order reversing the long leg on its own venue) or
//!   `hold` (keep it, within the risk limits); a hedge that fails is retried a bounded
//!   number of times, then the transaction ends `hedge_failed` with the residual known.
//!
//! The state machine is pure (no I/O, no clock): the runner feeds it and carries out
//! the actions, which keeps every path testable.

use std::collections::HashSet;

use arb_core::{ErrorClass, Venue};

/// Which leg of the transaction an order is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LegRole {
    Buy,
    Sell,
    /// The n-th hedge order.
    Hedge(u8),
}

impl LegRole {
    pub fn label(self) -> &'static str {
        match self {
            LegRole::Buy => "buy",
            LegRole::Sell => "sell",
            LegRole::Hedge(_) => "hedge",
        }
    }
}

pub use arb_core::Side;

/// How a residual is closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HedgePolicy {
    Chase,
    Unwind,
    Hold,
}

/// Final states an order can reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderEnd {
    Filled,
    Canceled,
    Expired,
    Rejected(ErrorClass),
}

/// Where one order stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderPhase {
    /// Sent, no answer yet.
    PendingNew,
    /// Acknowledged and working.
    Open,
    /// Timed out or 5xx: may exist; being resolved by query.
    Unknown,
    /// A cancel was sent; fills may still arrive.
    Canceling,
    Final(OrderEnd),
}

/// One order of the transaction.
#[derive(Clone, Debug)]
pub struct LegOrder {
    pub role: LegRole,
    pub venue: Venue,
    pub side: Side,
    pub client_id: String,
    pub venue_id: Option<String>,
    /// Base quantity asked (qty mantissa); for a quote-sized market buy the expected base.
    pub qty: u64,
    pub phase: OrderPhase,
    /// Base filled: the larger of the distinct fills seen and the venue's reported total
    /// (a total can arrive before its fills, and fills after the total: neither is added
    /// to the other).
    pub filled: u64,
    fills_qty: u64,
    reported_qty: u64,
    trade_ids: HashSet<String>,
}

impl LegOrder {
    fn new(role: LegRole, venue: Venue, side: Side, client_id: String, qty: u64) -> Self {
        Self {
            role,
            venue,
            side,
            client_id,
            venue_id: None,
            qty,
            phase: OrderPhase::PendingNew,
            filled: 0,
            fills_qty: 0,
            reported_qty: 0,
            trade_ids: HashSet::new(),
        }
    }

    pub fn is_final(&self) -> bool {
        matches!(self.phase, OrderPhase::Final(_))
    }

    fn settle(&mut self) {
        self.filled = self.fills_qty.max(self.reported_qty);
    }
}

/// An event about one of the transaction's orders.
#[derive(Clone, Debug)]
pub enum LegEvent {
    Ack {
        venue_id: String,
    },
    /// One fill (de-duplicated by trade id).
    Fill {
        trade_id: String,
        qty: u64,
    },
    /// The venue says the order is final with `filled` in total (fills may still be in
    /// flight on the stream: the total wins when it is larger).
    Final {
        end: OrderEnd,
        filled: u64,
    },
    /// The request's outcome is unknown.
    Unknown,
    /// A cancel was sent.
    CancelSent,
}

/// What the runner should do next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Nothing until the next event or deadline.
    Wait,
    /// Cancel this order.
    Cancel { client_id: String, venue: Venue },
    /// Resolve an unknown outcome by querying with the client order id.
    Resolve { client_id: String, venue: Venue },
    /// Send a hedge order for `qty` base.
    Hedge {
        role: LegRole,
        venue: Venue,
        side: Side,
        qty: u64,
        /// `true`: IOC limit at the current best price (chase); `false`: market (unwind).
        ioc: bool,
    },
    /// The transaction is over.
    Done(Outcome),
}

/// How a transaction ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Both legs filled in full.
    Completed,
    /// Both legs filled the same partial amount (nothing to hedge).
    PartialBalanced,
    /// A residual was closed by chasing the short leg.
    Hedged,
    /// A residual was closed by reversing the long leg.
    Unwound,
    /// A residual is kept under the hold policy.
    Held,
    /// Hedging gave up; the residual is known and counted.
    HedgeFailed,
    /// Nothing filled on either leg.
    NotFilled,
    /// A residual remains that is below what either venue can trade (amount precision,
    /// minimums); it is kept in the inventory.
    Dust,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::PartialBalanced => "partial_balanced",
            Outcome::Hedged => "hedged",
            Outcome::Unwound => "unwound",
            Outcome::Held => "held",
            Outcome::HedgeFailed => "hedge_failed",
            Outcome::NotFilled => "not_filled",
            Outcome::Dust => "dust",
        }
    }
}

/// The transaction.
#[derive(Clone, Debug)]
pub struct ArbTx {
    pub id: u64,
    pub buy_venue: Venue,
    pub sell_venue: Venue,
    pub qty: u64,
    pub policy: HedgePolicy,
    pub max_hedges: u8,
    pub orders: Vec<LegOrder>,
    /// True once the resting sell's deadline passed (runner calls [`ArbTx::deadline`]).
    deadline_passed: bool,
    hedges_sent: u8,
    hedge_kind: Option<bool>,
    done: Option<Outcome>,
}

impl ArbTx {
    /// A new transaction whose two legs are about to be sent with these client ids.
    pub fn new(
        id: u64,
        buy_venue: Venue,
        sell_venue: Venue,
        qty: u64,
        buy_client_id: String,
        sell_client_id: String,
        policy: HedgePolicy,
    ) -> Self {
        Self {
            id,
            buy_venue,
            sell_venue,
            qty,
            policy,
            max_hedges: 3,
            orders: vec![
                LegOrder::new(LegRole::Buy, buy_venue, Side::Buy, buy_client_id, qty),
                LegOrder::new(LegRole::Sell, sell_venue, Side::Sell, sell_client_id, qty),
            ],
            deadline_passed: false,
            hedges_sent: 0,
            hedge_kind: None,
            done: None,
        }
    }

    pub fn outcome(&self) -> Option<Outcome> {
        self.done
    }

    /// Where it buys and where it sells.
    pub fn route(&self) -> arb_core::Route {
        arb_core::Route {
            buy: self.buy_venue,
            sell: self.sell_venue,
        }
    }

    pub fn order(&self, client_id: &str) -> Option<&LegOrder> {
        self.orders.iter().find(|o| o.client_id == client_id)
    }

    /// Base bought minus base sold across all orders (positive = long base).
    pub fn residual(&self) -> i128 {
        self.orders
            .iter()
            .map(|o| match o.side {
                Side::Buy => o.filled as i128,
                Side::Sell => -(o.filled as i128),
            })
            .sum()
    }

    /// Total base bought and sold.
    pub fn bought_sold(&self) -> (u64, u64) {
        let mut b = 0;
        let mut s = 0;
        for o in &self.orders {
            match o.side {
                Side::Buy => b += o.filled,
                Side::Sell => s += o.filled,
            }
        }
        (b, s)
    }

    /// Registers a hedge order the runner is about to send.
    pub fn add_hedge(
        &mut self,
        role: LegRole,
        venue: Venue,
        side: Side,
        client_id: String,
        qty: u64,
    ) {
        self.orders
            .push(LegOrder::new(role, venue, side, client_id, qty));
    }

    /// Folds one event in. Unknown client ids are ignored (returns false).
    pub fn apply(&mut self, client_id: &str, ev: LegEvent) -> bool {
        let Some(o) = self.orders.iter_mut().find(|o| o.client_id == client_id) else {
            return false;
        };
        match ev {
            LegEvent::Ack { venue_id } => {
                o.venue_id.get_or_insert(venue_id);
                if matches!(o.phase, OrderPhase::PendingNew | OrderPhase::Unknown) {
                    o.phase = OrderPhase::Open;
                }
            }
            LegEvent::Fill { trade_id, qty } => {
                if o.trade_ids.insert(trade_id) {
                    o.fills_qty += qty;
                    o.settle();
                    if matches!(o.phase, OrderPhase::PendingNew | OrderPhase::Unknown) {
                        o.phase = OrderPhase::Open;
                    }
                }
            }
            LegEvent::Final { end, filled } => {
                // The venue's total; stream fills may lag behind it (or come after).
                if filled > o.reported_qty {
                    o.reported_qty = filled;
                }
                o.settle();
                o.phase = OrderPhase::Final(end);
            }
            LegEvent::Unknown => {
                if !o.is_final() {
                    o.phase = OrderPhase::Unknown;
                }
            }
            LegEvent::CancelSent => {
                if !o.is_final() {
                    o.phase = OrderPhase::Canceling;
                }
            }
        }
        true
    }

    /// Ends the transaction keeping a residual no venue can trade.
    pub fn finish_dust(&mut self) {
        self.done = Some(Outcome::Dust);
    }

    /// The resting sell's time is up: it will be canceled.
    pub fn deadline(&mut self) {
        self.deadline_passed = true;
    }

    /// What to do now.
    pub fn next_action(&mut self) -> Action {
        if let Some(o) = self.done {
            return Action::Done(o);
        }
        // Unknown outcomes first: nothing else is decidable while an order may exist.
        if let Some(o) = self.orders.iter().find(|o| o.phase == OrderPhase::Unknown) {
            return Action::Resolve {
                client_id: o.client_id.clone(),
                venue: o.venue,
            };
        }
        // Cancel what still rests once the deadline passed, or at once when the other
        // leg ended with nothing filled (the resting leg would be a naked position). A
        // leg whose partner filled keeps resting until the deadline: it is priced to pay.
        let partner_empty = |i: usize| {
            let other = &self.orders[1 - i];
            other.is_final() && other.filled == 0
        };
        for (i, o) in self.orders.iter().enumerate() {
            let early = i < 2 && partner_empty(i);
            if o.phase == OrderPhase::Open && (self.deadline_passed || early) {
                return Action::Cancel {
                    client_id: o.client_id.clone(),
                    venue: o.venue,
                };
            }
        }
        if !self.orders.iter().all(LegOrder::is_final) {
            return Action::Wait;
        }
        let residual = self.residual();
        let (bought, _) = self.bought_sold();
        if residual == 0 {
            let outcome = match (self.hedges_sent, bought) {
                (0, 0) => Outcome::NotFilled,
                (0, b) if b == self.qty => Outcome::Completed,
                (0, _) => Outcome::PartialBalanced,
                _ if self.hedge_kind == Some(true) => Outcome::Hedged,
                _ => Outcome::Unwound,
            };
            self.done = Some(outcome);
            return Action::Done(outcome);
        }
        if self.policy == HedgePolicy::Hold {
            self.done = Some(Outcome::Held);
            return Action::Done(Outcome::Held);
        }
        if self.hedges_sent >= self.max_hedges {
            self.done = Some(Outcome::HedgeFailed);
            return Action::Done(Outcome::HedgeFailed);
        }
        let ioc = self.policy == HedgePolicy::Chase;
        let qty = residual.unsigned_abs() as u64;
        // Long base (sold less than bought): sell it. Chase sells where the sell leg
        // should have; unwind sells back where it was bought. Short base: buy it back.
        let (venue, side) = match (residual > 0, ioc) {
            (true, true) => (self.sell_venue, Side::Sell),
            (true, false) => (self.buy_venue, Side::Sell),
            (false, true) => (self.buy_venue, Side::Buy),
            (false, false) => (self.sell_venue, Side::Buy),
        };
        self.hedges_sent += 1;
        self.hedge_kind = Some(ioc);
        Action::Hedge {
            role: LegRole::Hedge(self.hedges_sent),
            venue,
            side,
            qty,
            ioc,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx(policy: HedgePolicy) -> ArbTx {
        ArbTx::new(
            7,
            Venue::MEXC,
            Venue::GATE,
            100,
            "b".into(),
            "s".into(),
            policy,
        )
    }

    fn fill(id: &str, qty: u64) -> LegEvent {
        LegEvent::Fill {
            trade_id: id.into(),
            qty,
        }
    }

    fn fin(end: OrderEnd, filled: u64) -> LegEvent {
        LegEvent::Final { end, filled }
    }

    #[test]
    fn both_filled_completes_even_with_fills_before_acks() {
        let mut t = tx(HedgePolicy::Unwind);
        t.apply("s", fill("s1", 60));
        t.apply("b", fill("b1", 100));
        t.apply("s", fill("s1", 60)); // duplicate trade id
        assert_eq!(t.order("s").unwrap().filled, 60);
        t.apply(
            "b",
            LegEvent::Ack {
                venue_id: "B".into(),
            },
        );
        t.apply("b", fin(OrderEnd::Filled, 100));
        // Sell still open (60/100) and the buy filled: the sell keeps resting until its
        // deadline (it is priced to pay).
        assert_eq!(t.next_action(), Action::Wait);
        t.deadline();
        assert_eq!(
            t.next_action(),
            Action::Cancel {
                client_id: "s".into(),
                venue: Venue::GATE
            }
        );
        t.apply("s", fill("s2", 40));
        t.apply("s", fin(OrderEnd::Filled, 100));
        assert_eq!(t.next_action(), Action::Done(Outcome::Completed));
        assert_eq!(t.residual(), 0);
    }

    #[test]
    fn a_total_before_its_fills_is_not_counted_twice() {
        let mut t = tx(HedgePolicy::Unwind);
        t.apply("b", fin(OrderEnd::Filled, 100));
        t.apply("s", fin(OrderEnd::Filled, 100));
        // The stream's fills arrive after the venue's totals.
        t.apply("b", fill("b1", 100));
        t.apply("s", fill("s1", 60));
        t.apply("s", fill("s2", 40));
        assert_eq!(t.order("b").unwrap().filled, 100);
        assert_eq!(t.order("s").unwrap().filled, 100);
        assert_eq!(t.next_action(), Action::Done(Outcome::Completed));
    }

    #[test]
    fn fill_during_cancel_is_counted_and_residual_unwound() {
        let mut t = tx(HedgePolicy::Unwind);
        t.apply("b", fin(OrderEnd::Filled, 100));
        t.apply(
            "s",
            LegEvent::Ack {
                venue_id: "S".into(),
            },
        );
        t.deadline();
        assert!(matches!(t.next_action(), Action::Cancel { .. }));
        t.apply("s", LegEvent::CancelSent);
        assert_eq!(t.next_action(), Action::Wait);
        t.apply("s", fill("s1", 30)); // lands while the cancel is in flight
        t.apply("s", fin(OrderEnd::Canceled, 30));
        // Long 70: unwind = market sell on the buy venue.
        assert_eq!(
            t.next_action(),
            Action::Hedge {
                role: LegRole::Hedge(1),
                venue: Venue::MEXC,
                side: Side::Sell,
                qty: 70,
                ioc: false
            }
        );
        t.add_hedge(LegRole::Hedge(1), Venue::MEXC, Side::Sell, "h1".into(), 70);
        assert_eq!(t.next_action(), Action::Wait);
        t.apply("h1", fin(OrderEnd::Filled, 70));
        assert_eq!(t.next_action(), Action::Done(Outcome::Unwound));
    }

    #[test]
    fn a_leg_whose_partner_filled_nothing_is_canceled_at_once() {
        let mut t = tx(HedgePolicy::Unwind);
        t.apply(
            "s",
            LegEvent::Ack {
                venue_id: "S".into(),
            },
        );
        t.apply(
            "b",
            fin(OrderEnd::Rejected(ErrorClass::InsufficientFunds), 0),
        );
        assert_eq!(
            t.next_action(),
            Action::Cancel {
                client_id: "s".into(),
                venue: Venue::GATE
            }
        );
    }

    #[test]
    fn chase_buys_the_short_side_on_the_buy_venue() {
        let mut t = tx(HedgePolicy::Chase);
        t.apply(
            "b",
            fin(OrderEnd::Rejected(ErrorClass::InsufficientFunds), 0),
        );
        t.apply("s", fin(OrderEnd::Filled, 100));
        assert_eq!(
            t.next_action(),
            Action::Hedge {
                role: LegRole::Hedge(1),
                venue: Venue::MEXC,
                side: Side::Buy,
                qty: 100,
                ioc: true
            }
        );
        t.add_hedge(LegRole::Hedge(1), Venue::MEXC, Side::Buy, "h1".into(), 100);
        t.apply("h1", fin(OrderEnd::Canceled, 40)); // IOC partially filled
        assert_eq!(
            t.next_action(),
            Action::Hedge {
                role: LegRole::Hedge(2),
                venue: Venue::MEXC,
                side: Side::Buy,
                qty: 60,
                ioc: true
            }
        );
        t.add_hedge(LegRole::Hedge(2), Venue::MEXC, Side::Buy, "h2".into(), 60);
        t.apply("h2", fin(OrderEnd::Filled, 60));
        assert_eq!(t.next_action(), Action::Done(Outcome::Hedged));
    }

    #[test]
    fn hedging_gives_up_after_max_attempts() {
        let mut t = tx(HedgePolicy::Chase);
        t.max_hedges = 2;
        t.apply("b", fin(OrderEnd::Filled, 100));
        t.apply("s", fin(OrderEnd::Rejected(ErrorClass::InvalidOrder), 0));
        for i in 1..=2u8 {
            let Action::Hedge {
                role,
                venue,
                side,
                qty,
                ..
            } = t.next_action()
            else {
                panic!()
            };
            let id = format!("h{i}");
            t.add_hedge(role, venue, side, id.clone(), qty);
            t.apply(&id, fin(OrderEnd::Expired, 0));
        }
        assert_eq!(t.next_action(), Action::Done(Outcome::HedgeFailed));
        assert_eq!(t.residual(), 100);
    }

    #[test]
    fn hold_keeps_the_residual_and_nothing_filled_is_not_filled() {
        let mut t = tx(HedgePolicy::Hold);
        t.apply("b", fin(OrderEnd::Filled, 100));
        t.apply("s", fin(OrderEnd::Canceled, 0));
        assert_eq!(t.next_action(), Action::Done(Outcome::Held));
        let mut t = tx(HedgePolicy::Unwind);
        t.apply("b", fin(OrderEnd::Rejected(ErrorClass::InvalidOrder), 0));
        t.apply("s", fin(OrderEnd::Rejected(ErrorClass::InvalidOrder), 0));
        assert_eq!(t.next_action(), Action::Done(Outcome::NotFilled));
    }

    #[test]
    fn unknown_outcome_is_resolved_before_anything_else() {
        let mut t = tx(HedgePolicy::Unwind);
        t.apply("b", LegEvent::Unknown);
        t.apply("s", fin(OrderEnd::Filled, 100));
        assert_eq!(
            t.next_action(),
            Action::Resolve {
                client_id: "b".into(),
                venue: Venue::MEXC
            }
        );
        // The query finds it filled.
        t.apply("b", fin(OrderEnd::Filled, 100));
        assert_eq!(t.next_action(), Action::Done(Outcome::Completed));
    }

    #[test]
    fn partial_both_sides_equal_is_balanced_and_deadline_cancels() {
        let mut t = tx(HedgePolicy::Unwind);
        t.apply(
            "b",
            LegEvent::Ack {
                venue_id: "1".into(),
            },
        );
        t.apply(
            "s",
            LegEvent::Ack {
                venue_id: "2".into(),
            },
        );
        t.apply("b", fill("x", 50));
        t.apply("s", fill("y", 50));
        assert_eq!(t.next_action(), Action::Wait);
        t.deadline();
        assert!(matches!(t.next_action(), Action::Cancel { .. }));
        t.apply("b", fin(OrderEnd::Canceled, 50));
        t.apply("s", fin(OrderEnd::Canceled, 50));
        assert_eq!(t.next_action(), Action::Done(Outcome::PartialBalanced));
    }
}
