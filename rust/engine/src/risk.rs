//! Risk limits and kill switches, evaluated in Rust before every trade.
//!
//! Amounts here are exact: quote and base amounts at [`ACCT_SCALE`] decimals in `i128`,
//! so positions and PnL from symbols with different book scales add up without rounding.
//! Limits come from configuration and may be replaced while running (`set_limits`).
//!
//! Two kinds of "no":
//! - a **veto** refuses one trade (too big, too many open, position limit...);
//! - a **kill switch** halts all trading until an operator resets it (daily loss limit,
//!   leg-imbalance notional, consecutive hedge failures, book resync storm). An unhealthy
//!   venue pauses trading only while it is unhealthy.

use std::collections::HashMap;
use std::fmt;

use arb_core::Venue;

/// Decimals of every accounting amount (quote and base).
pub const ACCT_SCALE: u32 = 18;

/// Converts a mantissa at `scale` to [`ACCT_SCALE`].
pub fn to_acct(m: i128, scale: u32) -> i128 {
    debug_assert!(scale <= ACCT_SCALE);
    m * 10i128.pow(ACCT_SCALE - scale)
}

/// `a * b / 10^ACCT_SCALE` for two accounting amounts (e.g. base units times a price)
/// without overflowing `i128`: `a` is split at 10^9 so each partial product stays below
/// 10^35. The result is truncated toward zero (error below one unit at ACCT_SCALE).
pub fn mul_acct(a: i128, b: i128) -> i128 {
    const HALF: i128 = 1_000_000_000;
    let (hi, lo) = (a / HALF, a % HALF);
    hi * b / HALF + lo * b / (HALF * HALF)
}

/// Limits from configuration (all amounts at [`ACCT_SCALE`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RiskLimits {
    /// Largest net base position per asset the engine may carry (residuals of trades
    /// that did not fully hedge), in base units.
    pub max_position_per_asset: i128,
    /// Largest quote notional at risk: open arbitrages plus residual positions.
    pub max_total_exposure: i128,
    /// Largest buy cost of one arbitrage.
    pub max_notional_per_trade: i128,
    /// Realized loss (positive number) at which trading halts for the day.
    pub daily_loss_limit: i128,
    pub max_open_arbitrages: u32,
    /// Kill switch: residual (unhedged) notional across assets.
    pub leg_imbalance_notional: i128,
    /// Kill switch: hedges that failed in a row.
    pub consecutive_hedge_failures: u32,
    /// Kill switch: book resyncs in the last minute across all books.
    pub resyncs_per_minute: u32,
}

/// Why one trade is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Veto {
    Halted(KillReason),
    VenueUnhealthy(Venue),
    TooManyOpen { open: u32, max: u32 },
    NotionalPerTrade,
    Exposure,
    Position { asset: String },
}

impl fmt::Display for Veto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Veto::Halted(r) => write!(f, "trading halted: {r}"),
            Veto::VenueUnhealthy(v) => write!(f, "venue {v} unhealthy"),
            Veto::TooManyOpen { open, max } => write!(f, "{open} arbitrages open (max {max})"),
            Veto::NotionalPerTrade => f.write_str("notional above max_notional_per_trade"),
            Veto::Exposure => f.write_str("would exceed max_total_exposure"),
            Veto::Position { asset } => {
                write!(f, "would exceed max_position_per_asset for {asset}")
            }
        }
    }
}

impl Veto {
    /// Short stable label for counters.
    pub fn label(&self) -> &'static str {
        match self {
            Veto::Halted(_) => "halted",
            Veto::VenueUnhealthy(_) => "venue_unhealthy",
            Veto::TooManyOpen { .. } => "too_many_open",
            Veto::NotionalPerTrade => "notional_per_trade",
            Veto::Exposure => "exposure",
            Veto::Position { .. } => "position",
        }
    }
}

/// Why trading halted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KillReason {
    DailyLoss,
    LegImbalance,
    HedgeFailures,
    ResyncStorm,
    Operator,
}

impl fmt::Display for KillReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KillReason::DailyLoss => "daily loss limit reached",
            KillReason::LegImbalance => "leg-imbalance notional above limit",
            KillReason::HedgeFailures => "consecutive hedge failures",
            KillReason::ResyncStorm => "book resync rate above limit",
            KillReason::Operator => "stopped by operator",
        })
    }
}

/// A trade as risk sees it.
#[derive(Clone, Debug)]
pub struct Proposal<'a> {
    pub base_asset: &'a str,
    /// Base quantity of each leg.
    pub qty: i128,
    /// Buy cost (quote) before fees.
    pub notional: i128,
    pub buy: Venue,
    pub sell: Venue,
}

/// Mutable risk state; one per engine, updated as trades open and close.
#[derive(Debug)]
pub struct RiskState {
    limits: RiskLimits,
    open: u32,
    open_notional: i128,
    /// Net base position per asset (residuals), base units.
    positions: HashMap<String, i128>,
    /// Residual notional per asset at the last known price (quote).
    residual_notional: HashMap<String, i128>,
    /// The price each held position was last valued at (ACCT_SCALE quote per base unit).
    marks: HashMap<String, i128>,
    daily_pnl: i128,
    day: i64,
    hedge_failures_in_row: u32,
    halted: Option<KillReason>,
    /// Bit `venue.index()` set: that venue is unhealthy.
    unhealthy: u64,
    resync_times_ms: std::collections::VecDeque<i64>,
}

impl RiskState {
    pub fn new(limits: RiskLimits, now_ms: i64) -> Self {
        Self {
            limits,
            open: 0,
            open_notional: 0,
            positions: HashMap::new(),
            residual_notional: HashMap::new(),
            marks: HashMap::new(),
            daily_pnl: 0,
            day: now_ms.div_euclid(86_400_000),
            hedge_failures_in_row: 0,
            halted: None,
            unhealthy: 0,
            resync_times_ms: Default::default(),
        }
    }

    pub fn limits(&self) -> &RiskLimits {
        &self.limits
    }

    /// Replaces the limits (hot reload). Halts already in force stay.
    pub fn set_limits(&mut self, limits: RiskLimits) {
        self.limits = limits;
    }

    pub fn halted(&self) -> Option<&KillReason> {
        self.halted.as_ref()
    }

    /// Operator: halt now (`Some`) or clear a halt (`None`).
    pub fn set_halt(&mut self, reason: Option<KillReason>) {
        self.halted = reason;
        if self.halted.is_none() {
            self.hedge_failures_in_row = 0;
        }
    }

    pub fn set_venue_healthy(&mut self, venue: Venue, healthy: bool) {
        let bit = 1u64 << venue.index();
        if healthy {
            self.unhealthy &= !bit;
        } else {
            self.unhealthy |= bit;
        }
    }

    pub fn venue_healthy(&self, venue: Venue) -> bool {
        self.unhealthy & (1u64 << venue.index()) == 0
    }

    pub fn open_arbitrages(&self) -> u32 {
        self.open
    }

    pub fn daily_pnl(&self) -> i128 {
        self.daily_pnl
    }

    pub fn position(&self, asset: &str) -> i128 {
        self.positions.get(asset).copied().unwrap_or(0)
    }

    fn roll_day(&mut self, now_ms: i64) {
        let day = now_ms.div_euclid(86_400_000);
        if day != self.day {
            self.day = day;
            self.daily_pnl = 0;
            if self.halted == Some(KillReason::DailyLoss) {
                self.halted = None;
            }
        }
    }

    /// Checks one trade. The worst one-legged outcome (one leg fills, the other does not)
    /// must stay within the position and exposure limits.
    ///
    /// # Errors
    /// The [`Veto`] that refuses it.
    pub fn check(&mut self, p: &Proposal<'_>, now_ms: i64) -> Result<(), Veto> {
        self.roll_day(now_ms);
        if let Some(r) = &self.halted {
            return Err(Veto::Halted(r.clone()));
        }
        for v in [p.buy, p.sell] {
            if self.unhealthy & (1u64 << v.index()) != 0 {
                return Err(Veto::VenueUnhealthy(v));
            }
        }
        let l = &self.limits;
        if self.open >= l.max_open_arbitrages {
            return Err(Veto::TooManyOpen {
                open: self.open,
                max: l.max_open_arbitrages,
            });
        }
        if p.notional > l.max_notional_per_trade {
            return Err(Veto::NotionalPerTrade);
        }
        let residual: i128 = self.residual_notional.values().map(|v| v.abs()).sum();
        if self.open_notional + p.notional + residual > l.max_total_exposure {
            return Err(Veto::Exposure);
        }
        if self.position(p.base_asset).abs() + p.qty > l.max_position_per_asset {
            return Err(Veto::Position {
                asset: p.base_asset.to_string(),
            });
        }
        Ok(())
    }

    /// A trade was sent: counts it as open.
    pub fn opened(&mut self, notional: i128) {
        self.open += 1;
        self.open_notional += notional;
    }

    /// A trade finished: releases it, books its realized PnL and any residual base
    /// position (positive = long base), valued at `price_acct` quote per base unit
    /// (ACCT_SCALE). Returns the kill switch that tripped, if one did.
    pub fn closed(
        &mut self,
        notional: i128,
        asset: &str,
        realized_pnl: i128,
        residual_base: i128,
        price_acct: i128,
        now_ms: i64,
    ) -> Option<KillReason> {
        self.roll_day(now_ms);
        self.open = self.open.saturating_sub(1);
        self.open_notional -= notional;
        self.daily_pnl += realized_pnl;
        // What was already held is re-valued at this price first; the new residual is
        // valued at it in `realized_pnl`.
        self.remark(asset, price_acct);
        if residual_base != 0 {
            let pos = self.positions.entry(asset.to_string()).or_insert(0);
            *pos += residual_base;
            let value = mul_acct(*pos, price_acct);
            self.residual_notional.insert(asset.to_string(), value);
        }
        self.evaluate_kill_switches()
    }

    /// Re-values the held position of `asset` (residuals kept under `hold`, dust) at
    /// `price_acct`, as prices move: the change goes to the daily PnL and the value to the
    /// leg-imbalance notional. Returns the kill switch that tripped, if one did.
    pub fn mark(&mut self, asset: &str, price_acct: i128, now_ms: i64) -> Option<KillReason> {
        self.roll_day(now_ms);
        if self.position(asset) == 0 {
            return None;
        }
        self.remark(asset, price_acct);
        self.evaluate_kill_switches()
    }

    /// A zero price (no book to value at) changes nothing.
    fn remark(&mut self, asset: &str, price_acct: i128) {
        if price_acct == 0 {
            return;
        }
        let pos = self.position(asset);
        if let Some(last) = self.marks.insert(asset.to_string(), price_acct) {
            self.daily_pnl += mul_acct(pos, price_acct - last);
        }
        if pos != 0 {
            self.residual_notional
                .insert(asset.to_string(), mul_acct(pos, price_acct));
        }
    }

    /// Records a hedge outcome.
    pub fn hedge_result(&mut self, ok: bool) -> Option<KillReason> {
        if ok {
            self.hedge_failures_in_row = 0;
        } else {
            self.hedge_failures_in_row += 1;
        }
        self.evaluate_kill_switches()
    }

    /// Records one book resync.
    pub fn resync(&mut self, now_ms: i64) -> Option<KillReason> {
        self.resync_times_ms.push_back(now_ms);
        while self
            .resync_times_ms
            .front()
            .is_some_and(|&t| t < now_ms - 60_000)
        {
            self.resync_times_ms.pop_front();
        }
        self.evaluate_kill_switches()
    }

    fn evaluate_kill_switches(&mut self) -> Option<KillReason> {
        if self.halted.is_some() {
            return None;
        }
        let l = &self.limits;
        let residual: i128 = self.residual_notional.values().map(|v| v.abs()).sum();
        let reason = if -self.daily_pnl >= l.daily_loss_limit {
            Some(KillReason::DailyLoss)
        } else if residual > l.leg_imbalance_notional {
            Some(KillReason::LegImbalance)
        } else if self.hedge_failures_in_row >= l.consecutive_hedge_failures {
            Some(KillReason::HedgeFailures)
        } else if self.resync_times_ms.len() as u32 > l.resyncs_per_minute {
            Some(KillReason::ResyncStorm)
        } else {
            None
        };
        if reason.is_some() {
            self.halted = reason.clone();
        }
        reason
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(units: i128) -> i128 {
        units * 10i128.pow(ACCT_SCALE)
    }

    fn limits() -> RiskLimits {
        RiskLimits {
            max_position_per_asset: q(1),
            max_total_exposure: q(1000),
            max_notional_per_trade: q(300),
            daily_loss_limit: q(50),
            max_open_arbitrages: 2,
            leg_imbalance_notional: q(200),
            consecutive_hedge_failures: 3,
            resyncs_per_minute: 5,
        }
    }

    fn prop(notional: i128, qty: i128) -> Proposal<'static> {
        Proposal {
            base_asset: "BTC",
            qty,
            notional,
            buy: Venue::MEXC,
            sell: Venue::GATE,
        }
    }

    #[test]
    fn mul_acct_is_exact_for_realistic_amounts() {
        assert_eq!(mul_acct(q(1) / 2, q(500)), q(250));
        assert_eq!(mul_acct(q(123_456), q(98_765)), q(123_456 * 98_765));
        assert_eq!(mul_acct(-q(3), q(1) / 4), -q(3) / 4);
    }

    #[test]
    fn vetoes_each_limit() {
        let mut r = RiskState::new(limits(), 0);
        assert_eq!(r.check(&prop(q(100), q(1) / 10), 0), Ok(()));
        assert_eq!(
            r.check(&prop(q(301), q(1) / 10), 0),
            Err(Veto::NotionalPerTrade)
        );
        assert_eq!(
            r.check(&prop(q(100), q(2)), 0),
            Err(Veto::Position {
                asset: "BTC".into()
            })
        );
        r.opened(q(300));
        r.opened(q(300));
        assert_eq!(
            r.check(&prop(q(100), q(1) / 10), 0),
            Err(Veto::TooManyOpen { open: 2, max: 2 })
        );
        r.set_limits(RiskLimits {
            max_open_arbitrages: 5,
            ..limits()
        });
        r.opened(q(300));
        assert_eq!(r.check(&prop(q(200), q(1) / 10), 0), Err(Veto::Exposure));
        r.set_venue_healthy(Venue::GATE, false);
        assert_eq!(
            r.check(&prop(q(10), 1), 0),
            Err(Veto::VenueUnhealthy(Venue::GATE))
        );
    }

    #[test]
    fn daily_loss_halts_until_next_day() {
        let mut r = RiskState::new(limits(), 0);
        r.opened(q(100));
        assert_eq!(r.closed(q(100), "BTC", -q(30), 0, 0, 1000), None);
        r.opened(q(100));
        assert_eq!(
            r.closed(q(100), "BTC", -q(25), 0, 0, 2000),
            Some(KillReason::DailyLoss)
        );
        assert_eq!(
            r.check(&prop(q(10), 1), 3000),
            Err(Veto::Halted(KillReason::DailyLoss))
        );
        // Next UTC day: the loss counter and the daily-loss halt reset.
        assert_eq!(r.check(&prop(q(10), 1), 86_400_000 + 5), Ok(()));
        assert_eq!(r.daily_pnl(), 0);
    }

    #[test]
    fn a_held_residual_is_re_marked_when_its_asset_trades_again() {
        let mut r = RiskState::new(limits(), 0);
        r.opened(q(100));
        // 0.5 BTC held, worth 150 at 300 when its arbitrage ended (limit 200).
        assert_eq!(r.closed(q(100), "BTC", 0, q(1) / 2, q(300), 0), None);
        // A later BTC trade closes flat at a mark of 280: the held 0.5 lost 10.
        r.opened(q(100));
        assert_eq!(r.closed(q(100), "BTC", 0, 0, q(280), 10), None);
        assert_eq!(r.daily_pnl(), -q(10));
        // At 500 the held 0.5 is worth 250, above the leg-imbalance limit.
        r.opened(q(100));
        assert_eq!(
            r.closed(q(100), "BTC", 0, 0, q(500), 20),
            Some(KillReason::LegImbalance)
        );
        assert_eq!(r.daily_pnl(), q(100));
    }

    #[test]
    fn a_held_residual_is_re_marked_as_prices_move() {
        let mut r = RiskState::new(limits(), 0);
        // Nothing held: nothing to value.
        assert_eq!(r.mark("BTC", q(400), 0), None);
        assert_eq!(r.daily_pnl(), 0);
        r.opened(q(100));
        assert_eq!(r.closed(q(100), "BTC", 0, -q(1) / 4, q(400), 0), None);
        // Short 0.25 BTC: a fall to 360 gains 10, a rise to 580 loses 45 in all...
        assert_eq!(r.mark("BTC", q(360), 10), None);
        assert_eq!(r.daily_pnl(), q(10));
        assert_eq!(r.mark("BTC", q(0), 15), None); // no book: unchanged
        assert_eq!(r.mark("BTC", q(580), 20), None);
        assert_eq!(r.daily_pnl(), -q(45));
        // ...and at 804 the daily loss limit (50) is passed: halt.
        assert_eq!(r.mark("BTC", q(804), 30), Some(KillReason::DailyLoss));
        assert_eq!(r.daily_pnl(), -q(101));
    }

    #[test]
    fn imbalance_hedge_failures_and_resync_storm_halt() {
        let mut r = RiskState::new(limits(), 0);
        r.opened(q(100));
        // 0.5 BTC residual at 500 quote = 250 > 200.
        assert_eq!(
            r.closed(q(100), "BTC", 0, q(1) / 2, q(500), 0),
            Some(KillReason::LegImbalance)
        );
        assert_eq!(r.position("BTC"), q(1) / 2);
        r.set_halt(None);
        let mut r = RiskState::new(limits(), 0);
        assert_eq!(r.hedge_result(false), None);
        assert_eq!(r.hedge_result(false), None);
        assert_eq!(r.hedge_result(false), Some(KillReason::HedgeFailures));
        let mut r = RiskState::new(limits(), 0);
        for i in 0..5 {
            assert_eq!(r.resync(i * 1000), None);
        }
        assert_eq!(r.resync(6000), Some(KillReason::ResyncStorm));
        // Old resyncs fall out of the window.
        let mut r = RiskState::new(limits(), 0);
        for i in 0..10 {
            assert_eq!(r.resync(i * 20_000), None);
        }
    }
}
