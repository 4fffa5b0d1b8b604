//! The background market: a shared fair price per symbol doing a seeded random walk,
//! per-venue maker bots quoting a ladder around their own lagging, noisy view of it,
//! random takers, now and then a cross-venue gap that pays after fees, and optionally a
//! persistent-premium regime (one venue priced off the others for a long stretch).
//!
//! Venues are the simulator's list, by position; the first venue's turn also moves the
//! fair price.
//!
//! Determinism: every random draw comes from one ChaCha8 stream in a fixed order of
//! actions (round-robin over symbols and venues); wall-clock time only decides how many
//! actions run per tick, never which. Same seed and no client orders: same events.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arb_core::fixed::pow10;
use arb_core::Venue;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio_util::sync::CancellationToken;

use crate::config::SimConfig;
use crate::matching::{Exchange, NewOrder, OrderKind, Side, Size, Tif};
use crate::spec::SymbolSpec;
use crate::state::{Shared, VenueState};

/// A temporary price offset on one venue's view of one symbol.
#[derive(Clone, Copy, Debug)]
struct Gap {
    /// The venue's position in the simulator's list.
    venue: usize,
    /// Signed offset in basis points.
    bps: i64,
    actions_left: u32,
}

/// The market's state; owned by the market task.
pub struct Market {
    rng: ChaCha8Rng,
    /// Fair price per symbol at `FAIR_SCALE`.
    fair: Vec<u64>,
    /// Each venue's view of the fair price, per symbol (by venue position).
    view: Vec<Vec<u64>>,
    gaps: Vec<Option<Gap>>,
    cursor: usize,
    /// Actions taken so far.
    pub actions: u64,
    /// Gaps opened so far.
    pub gaps_opened: u64,
    /// The action at which a first gap opens if none has by then
    /// (`first_gap_after_s`), and the draws that place it: a stream of its own, so the
    /// rest of the market is the same with or without it.
    first_gap: Option<(u64, ChaCha8Rng)>,
    /// The premium regime: (venue position, bps, first action, end action or
    /// `u64::MAX`). It draws nothing random itself; the market stays seeded.
    premium: Option<(usize, i64, u64, u64)>,
}

impl Market {
    pub fn new(shared: &Shared) -> Self {
        // Every venue lists the same symbols in the same order, at the same fair price.
        let specs = &shared.venues()[0].specs;
        let fair: Vec<u64> = specs.iter().map(|s| s.initial_fair).collect();
        let cfg = &shared.cfg;
        let venues = shared.venues().len();
        let first_gap_at =
            cfg.first_gap_after_s * cfg.update_rate_hz * venues as f64 * fair.len() as f64;
        let first_gap = (first_gap_at.is_finite() && first_gap_at >= 1.0).then(|| {
            (
                first_gap_at as u64,
                ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x6669_7273_745f_6761),
            )
        });
        let actions_per_s = cfg.update_rate_hz * venues as f64 * fair.len() as f64;
        let premium = cfg.premium.as_ref().and_then(|p| {
            let venue = shared.venues().iter().position(|v| v.name == p.venue)?;
            let start = (p.after_s * actions_per_s) as u64;
            let end = if p.for_s > 0.0 {
                start.saturating_add((p.for_s * actions_per_s) as u64)
            } else {
                u64::MAX
            };
            Some((venue, p.bps as i64, start, end))
        });
        Market {
            premium,
            rng: ChaCha8Rng::seed_from_u64(shared.cfg.seed),
            view: vec![fair.clone(); venues],
            gaps: vec![None; fair.len()],
            fair,
            cursor: 0,
            actions: 0,
            gaps_opened: 0,
            first_gap,
        }
    }

    /// Fills every book with the makers' initial ladder (runs even when paused, so a
    /// quiet market still has liquidity to trade against).
    pub fn seed_books(&mut self, shared: &Shared) {
        for vs in shared.venues() {
            let mut ex = vs.exchange.lock();
            for sym in 0..self.fair.len() {
                self.requote(vs, &mut ex, sym, true);
                vs.flush(&mut ex, sym, arb_core::time::now_ms());
            }
            vs.publish(&mut ex);
        }
    }

    /// One background action on `venue` (its next symbol in turn), for drivers that load
    /// one venue only (the delivery bench).
    pub fn step_on(&mut self, shared: &Shared, venue: Venue) {
        let venues = shared.venues().len();
        let target = shared.venue(venue).index;
        let n = self.fair.len();
        while (self.cursor % (venues * n)) % venues != target {
            self.cursor = self.cursor.wrapping_add(1);
        }
        self.step(shared);
    }

    /// One background action on the next (symbol, venue) in round-robin order.
    pub fn step(&mut self, shared: &Shared) {
        let n = self.fair.len();
        let venues = shared.venues().len();
        let i = self.cursor % (venues * n);
        self.cursor = self.cursor.wrapping_add(1);
        self.actions += 1;
        let sym = i / venues;
        let venue = i % venues;
        let cfg = &shared.cfg;
        if venue == 0 {
            // Random walk of the fair price.
            let step = cfg.fair_step_bps as i64;
            let d = self.rng.random_range(-step..=step);
            let f = self.fair[sym] as i128;
            self.fair[sym] = (f + f * d as i128 / 10_000).max(1) as u64;
            // Now and then, open a gap.
            let actions_per_min = cfg.update_rate_hz * venues as f64 * n as f64 * 60.0;
            if actions_per_min > 0.0 {
                let p = cfg.opportunity_rate_per_min / actions_per_min;
                if self.rng.random::<f64>() < p {
                    open_gap(&mut self.rng, &mut self.gaps, venues, cfg);
                    self.gaps_opened += 1;
                }
            }
            // A short session still sees one: the first gap opens early if none has.
            if self.gaps_opened > 0 {
                self.first_gap = None;
            } else if let Some((at, rng)) = &mut self.first_gap {
                if self.actions >= *at {
                    open_gap(rng, &mut self.gaps, venues, cfg);
                    self.gaps_opened += 1;
                    self.first_gap = None;
                }
            }
        }
        // This venue's view lags the fair price (each instance by its own amount: Gate
        // more than MEXC, a second MEXC more than the first) with noise.
        let vs = shared.venue_at(venue);
        let fair = self.fair[sym] as i128;
        let view = self.view[venue][sym] as i128;
        let lag = vs.view_lag;
        let noise = fair * self.rng.random_range(-1i128..=1) / 20_000;
        self.view[venue][sym] = (view + (fair - view) / lag + noise).max(1) as u64;

        let taker = self.rng.random_range(0..10) < 2;
        if vs.is_halted() {
            // A halted venue's book is frozen.
            return;
        }
        let now = arb_core::time::now_ms();
        let mut ex = vs.exchange.lock();
        if taker {
            self.take(vs, &mut ex, sym, now);
        } else {
            self.requote(vs, &mut ex, sym, false);
        }
        vs.flush(&mut ex, sym, now);
        vs.publish(&mut ex);
        drop(ex);
        if let Some(g) = &mut self.gaps[sym] {
            if g.venue == venue {
                g.actions_left -= 1;
                if g.actions_left == 0 {
                    self.gaps[sym] = None;
                }
            }
        }
    }

    /// The price (in venue ticks) the makers of venue `venue` (its position) centre on.
    fn center(&self, spec: &SymbolSpec, sym: usize, venue: usize) -> u64 {
        let mut v = self.view[venue][sym] as i128;
        if let Some(g) = self.gaps[sym] {
            if g.venue == venue {
                v += v * g.bps as i128 / 10_000;
            }
        }
        if let Some((pv, bps, start, end)) = self.premium {
            if pv == venue && (start..end).contains(&self.actions) {
                v += v * bps as i128 / 10_000;
            }
        }
        spec.fair_to_ticks(v.max(1) as u64).max(1)
    }

    /// Maker action: keep a ladder of `maker_levels` per side around the centre; drop
    /// levels that left the ladder and resize one or two random rungs.
    fn requote(&mut self, vs: &VenueState, ex: &mut Exchange, sym: usize, full: bool) {
        let spec = &vs.specs[sym];
        let levels = vs.cfg.maker_levels.max(1) as u64;
        let c = self.center(spec, sym, vs.index);
        // Tick step of ~1 bp and half-spread of ~1 bp, at least one tick each.
        let step = (c / 10_000).max(1);
        let half = (c / 10_000).max(1);
        // The ladder sits on a grid of `step`, so a small move of the centre changes a
        // rung or two instead of re-pricing every level (as real makers behave).
        let bid0 = (c.saturating_sub(half) / step * step).max(step);
        let ask0 = (c + half).div_ceil(step) * step;
        let bid_low = bid0.saturating_sub(step * (levels - 1)).max(1);
        let ask_high = ask0 + step * (levels - 1);
        let now = arb_core::time::now_ms();
        let maker = vs.maker_account;
        ex.cancel_where(
            maker,
            sym,
            Side::Buy,
            |p| p >= bid_low && p <= bid0 && (bid0 - p) % step == 0,
            now,
        );
        ex.cancel_where(
            maker,
            sym,
            Side::Sell,
            |p| p >= ask0 && p <= ask_high && (p - ask0) % step == 0,
            now,
        );
        let rungs = if full { levels as usize * 2 } else { 2 };
        for r in 0..rungs {
            let (side, k) = if full {
                (
                    if r % 2 == 0 { Side::Buy } else { Side::Sell },
                    (r / 2) as u64,
                )
            } else {
                (
                    if self.rng.random::<bool>() {
                        Side::Buy
                    } else {
                        Side::Sell
                    },
                    self.rng.random_range(0..levels),
                )
            };
            let price = match side {
                Side::Buy => bid0.saturating_sub(step * k),
                Side::Sell => ask0 + step * k,
            };
            if price == 0 {
                continue;
            }
            let qty = self.random_qty(spec, price);
            let (_, ids) = ex.own_qty_at(maker, sym, side, price);
            for id in ids {
                let _ = ex.cancel(maker, id, now);
            }
            self.place(ex, maker, sym, side, OrderKind::Limit, price, qty, now);
        }
        // Fill rungs left empty by takers.
        for k in 0..levels {
            for side in [Side::Buy, Side::Sell] {
                let price = match side {
                    Side::Buy => bid0.saturating_sub(step * k),
                    Side::Sell => ask0 + step * k,
                };
                if price == 0 || ex.own_qty_at(maker, sym, side, price).0 > 0 {
                    continue;
                }
                let qty = self.random_qty(spec, price);
                self.place(ex, maker, sym, side, OrderKind::Limit, price, qty, now);
            }
        }
    }

    /// Taker action: a market order eating part of the best level.
    fn take(&mut self, vs: &VenueState, ex: &mut Exchange, sym: usize, now: i64) {
        let spec = &vs.specs[sym];
        let side = if self.rng.random::<bool>() {
            Side::Buy
        } else {
            Side::Sell
        };
        let best = match side {
            Side::Buy => ex.books[sym].best_ask(),
            Side::Sell => ex.books[sym].best_bid(),
        };
        let Some((_, q)) = best else { return };
        let pct = self.rng.random_range(10..=120u64);
        let qty = (q * pct / 100).max(spec.min_qty);
        self.place(
            ex,
            vs.taker_account,
            sym,
            side,
            OrderKind::Market,
            0,
            qty,
            now,
        );
    }

    /// A quantity worth 200..5000 quote units at `price`, on the symbol's step.
    fn random_qty(&mut self, spec: &SymbolSpec, price: u64) -> u64 {
        let notional = self.rng.random_range(200u128..=5000);
        let q = notional * pow10(spec.notional_scale()) as u128 / price.max(1) as u128;
        (q as u64).max(spec.min_qty)
    }

    #[allow(clippy::too_many_arguments)]
    fn place(
        &mut self,
        ex: &mut Exchange,
        account: u32,
        sym: usize,
        side: Side,
        kind: OrderKind,
        price: u64,
        qty: u64,
        now: i64,
    ) {
        let req = NewOrder {
            symbol: sym,
            side,
            kind,
            tif: if kind == OrderKind::Market {
                Tif::Ioc
            } else {
                Tif::Gtc
            },
            price,
            size: Size::Base(qty),
            client_id: String::new(),
            max_fill_pct: None,
        };
        // Background accounts are unlimited; a refusal (below minimum on a tiny price)
        // just means no quote at that rung.
        let _ = ex.place(account, &req, now);
    }
}

/// A random venue position out of `venues`. Two venues take one coin flip (the first
/// on heads), the draw seeded runs have always made, so the same seed opens the same
/// gaps as before the venues became a list. With more, a uniform draw: a gap lifts (or
/// lowers) the drawn venue against every other, so each draw opens the ordered pairs
/// into (or out of) it, and over the draws every ordered pair of venues.
fn pick_venue(rng: &mut ChaCha8Rng, venues: usize) -> usize {
    if venues == 2 {
        usize::from(!rng.random::<bool>())
    } else {
        rng.random_range(0..venues.max(1))
    }
}

/// Opens a gap on a random symbol and venue, in a random direction, with `rng`'s draws:
/// a positive gap makes that venue the one to sell on (buy on any other), a negative one
/// the one to buy on.
fn open_gap(rng: &mut ChaCha8Rng, gaps: &mut [Option<Gap>], venues: usize, cfg: &SimConfig) {
    let g = rng.random_range(0..gaps.len());
    let venue = pick_venue(rng, venues);
    let sign = if rng.random::<bool>() { 1 } else { -1 };
    // Beyond both taker fees (MEXC 5 bp + Gate 10 bp) and the spreads.
    let bps = sign * (cfg.opportunity_gap_bps as i64 + 15 + 4);
    gaps[g] = Some(Gap {
        venue,
        bps,
        actions_left: cfg.opportunity_duration_actions.max(1),
    });
}

/// The market task: runs `update_rate_hz` actions per symbol per venue per second until
/// cancelled; while paused it runs none and does not accumulate a backlog.
pub async fn run(shared: Arc<Shared>, mut market: Market, cancel: CancellationToken) {
    let n = shared.venues()[0].specs.len();
    let rate = shared.cfg.update_rate_hz * shared.venues().len() as f64 * n as f64;
    if rate <= 0.0 {
        cancel.cancelled().await;
        return;
    }
    let mut tick = tokio::time::interval(Duration::from_millis(2));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut base = Instant::now();
    let mut done: u64 = 0;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        if shared.is_paused() {
            base = Instant::now();
            done = 0;
            continue;
        }
        let due = (base.elapsed().as_secs_f64() * rate) as u64;
        // Never more than ~50 ms of work per tick, so shutdown and other tasks stay
        // responsive; a market that cannot keep up drops the backlog instead of bursting.
        let budget = ((rate * 0.05) as u64).max(1);
        let todo = due.saturating_sub(done).min(budget);
        for _ in 0..todo {
            market.step(&shared);
        }
        done += todo;
        if due > done + budget {
            done = due;
        }
        tokio::task::yield_now().await;
    }
}

/// Probe mode (the latency referee): quiet books; at seeded random moments one venue's
/// price jumps by a gap that pays after fees, its opening push tagged for the referee;
/// after `probe_hold_ms` the price returns.
pub async fn run_probe(shared: Arc<Shared>, mut market: Market, cancel: CancellationToken) {
    let cfg = shared.cfg.clone();
    let n = market.fair.len();
    loop {
        let lo = cfg.probe_min_interval_ms;
        let hi = cfg.probe_max_interval_ms.max(lo);
        let wait = market.rng.random_range(lo..=hi);
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_millis(wait)) => {}
        }
        let sym = market.rng.random_range(0..n);
        let venue = pick_venue(&mut market.rng, shared.venues().len());
        let sign = if market.rng.random::<bool>() { 1 } else { -1 };
        market.gaps[sym] = Some(Gap {
            venue,
            bps: sign * (cfg.probe_gap_bps as i64 + 15 + 4),
            actions_left: u32::MAX,
        });
        let vs = shared.venue_at(venue);
        {
            let mut ex = vs.exchange.lock();
            let id = shared.referee.start_probe(sym, venue);
            ex.books[sym].probe = Some(id);
            market.requote(vs, &mut ex, sym, true);
            vs.flush(&mut ex, sym, arb_core::time::now_ms());
            vs.publish(&mut ex);
        }
        market.gaps_opened += 1;
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_millis(cfg.probe_hold_ms)) => {}
        }
        market.gaps[sym] = None;
        for vs in shared.venues() {
            let mut ex = vs.exchange.lock();
            market.requote(vs, &mut ex, sym, true);
            vs.flush(&mut ex, sym, arb_core::time::now_ms());
            vs.publish(&mut ex);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The project's `simulator:` settings (config.yaml): three symbols at 50 Hz, six
    /// gaps a minute, seed 7.
    fn project(first_gap_after_s: f64) -> Shared {
        Shared::new(SimConfig {
            symbols: vec!["BTC/USDT".into(), "ETH/USDT".into(), "SOL/USDT".into()],
            update_rate_hz: 50.0,
            opportunity_rate_per_min: 6.0,
            first_gap_after_s,
            ..SimConfig::default()
        })
        .expect("simulator state")
    }

    /// Gaps opened in the first `secs` seconds of activity (counted in actions).
    fn gaps_within(shared: &Shared, secs: f64) -> u64 {
        let mut m = Market::new(shared);
        m.seed_books(shared);
        let actions = (secs * shared.cfg.update_rate_hz * 2.0 * 3.0) as u64;
        for _ in 0..actions {
            m.step(shared);
        }
        m.gaps_opened
    }

    #[test]
    fn a_short_session_sees_a_gap_early() {
        // Without the first gap, the default seed opens none in the first 8 s.
        assert_eq!(gaps_within(&project(0.0), 8.0), 0);
        assert_eq!(gaps_within(&project(3.0), 2.9), 0);
        assert_eq!(gaps_within(&project(3.0), 3.1), 1);
    }

    /// A venue's mid price of its first symbol (a float: only compared in bps here).
    fn mid(shared: &Shared, venue: usize) -> f64 {
        let vs = shared.venue_at(venue);
        let b = vs.truth_book(&vs.specs[0].venue_symbol, 1).unwrap();
        let p = |s: &str| s.parse::<f64>().unwrap();
        (p(&b.bids[0].0) + p(&b.asks[0].0)) / 2.0
    }

    #[test]
    fn a_premium_regime_keeps_one_venue_dear_for_its_stretch_only() {
        let with = |premium: Option<crate::config::PremiumRegime>| {
            Shared::new(SimConfig {
                symbols: vec!["BTC/USDT".into()],
                opportunity_rate_per_min: 0.0,
                premium,
                ..SimConfig::default()
            })
            .unwrap()
        };
        let regime = crate::config::PremiumRegime {
            venue: "gateio".into(),
            bps: 80,
            after_s: 1.0,
            for_s: 20.0,
        };
        let dear = with(Some(regime));
        let mut b = Market::new(&dear);
        b.seed_books(&dear);
        // 20 Hz x 2 venues x 1 symbol = 40 actions a second.
        let mut premium_bps = Vec::new();
        for action in 1..=1_000u64 {
            b.step(&dear);
            if action % 100 == 0 {
                let (m, g) = (mid(&dear, 0), mid(&dear, 1));
                premium_bps.push(((g - m) * 10_000.0 / m).round() as i64);
            }
        }
        // Until 1 s (40 actions) no premium; through 21 s (840) gateio ~80 bps dearer.
        assert!(
            premium_bps[1..8].iter().all(|p| (60..=100).contains(p)),
            "{premium_bps:?}"
        );
        assert!(
            premium_bps[9].abs() < 30,
            "over after its stretch: {premium_bps:?}"
        );
        let bad = Shared::new(SimConfig {
            premium: Some(crate::config::PremiumRegime {
                venue: "kraken".into(),
                bps: 10,
                after_s: 0.0,
                for_s: 0.0,
            }),
            ..SimConfig::default()
        });
        assert!(bad.is_err());
    }
}
