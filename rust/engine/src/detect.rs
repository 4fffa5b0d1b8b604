//! Opportunity detection: the executable cross-venue edge at a tradable size, in exact
//! integer arithmetic.
//!
//! Buying on the cheap venue walks its asks; selling on the dear venue walks its bids. The
//! two walks are merged into segments on which both marginal prices are constant. A unit
//! is worth taking when its *marginal* edge pays both taker fees and the threshold
//! (minimum edge + slippage buffer):
//!
//! ```text
//! bid * (1 - fee_sell) - ask * (1 + fee_buy) >= ask * threshold
//! ```
//!
//! so every unit taken pays at least the threshold and the average edge does too. The
//! size is then capped by the notional cap and balances, quantized down to the coarser
//! amount precision of the two venues (both legs trade the same base amount), and checked
//! against each venue's minimum quantity and notional (the sell's at its limit price, as
//! the venue checks it). The cost and proceeds of the final size are recomputed exactly
//! from the levels.
//!
//! Units: prices and quantities are mantissas at the symbol's shared `price_scale` /
//! `qty_scale`; notionals are at `price_scale + qty_scale`; fees and thresholds are parts
//! per 10^8 (`0.05%` = 50_000).

/// Parts-per-10^8 denominator for fees and thresholds.
pub const PPB8: i128 = 100_000_000;

/// One venue's side of the trade: precision, minimums and fee.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LegRules {
    /// Decimals the venue accepts for a price.
    pub price_decimals: u32,
    /// Decimals the venue accepts for an amount.
    pub amount_decimals: u32,
    /// Minimum order quantity (qty mantissa), 0 if none.
    pub min_qty: u64,
    /// Minimum order notional (notional mantissa), 0 if none.
    pub min_notional: u128,
    /// Taker fee in parts per 10^8.
    pub taker_fee: u64,
}

/// What the strategy asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DetectParams {
    /// Minimum edge plus slippage buffer, in parts per 10^8 of the buy cost.
    pub threshold: u64,
    /// Largest buy cost per trade (notional mantissa): the smaller of the target notional
    /// and the risk cap.
    pub max_cost: u128,
}

/// Balances available for this trade.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caps {
    /// Quote available on the buy venue (notional mantissa); must also cover the fee.
    pub buy_quote: u128,
    /// Base available on the sell venue (qty mantissa).
    pub sell_base: u64,
}

impl Caps {
    pub const UNLIMITED: Caps = Caps {
        buy_quote: u128::MAX,
        sell_base: u64::MAX,
    };
}

/// The shared scales of a symbol's books (the one `Scales`, from the book).
pub use arb_market::Scales;

/// A priced opportunity for one direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Opportunity {
    /// Base quantity for both legs (qty mantissa), quantized to both venues' precision.
    pub qty: u64,
    /// Quote spent on the buy venue before fees (notional mantissa).
    pub buy_cost: u128,
    /// Quote received on the sell venue before fees (notional mantissa).
    pub sell_proceeds: u128,
    /// Worst ask touched: the limit price of an IOC buy.
    pub buy_limit: u64,
    /// Worst bid touched: the limit price of the sell that still pays.
    pub sell_limit: u64,
    /// Best ask and best bid when detected (for slippage accounting).
    pub best_ask: u64,
    pub best_bid: u64,
    /// Expected profit after both taker fees (notional mantissa at scale `price + qty + 8`,
    /// i.e. multiplied by 10^8 to keep fee arithmetic exact).
    pub profit_e8: i128,
    /// Expected net edge in parts per 10^8 of the buy cost (after fees, before slippage buffer).
    pub edge: i64,
}

impl Opportunity {
    /// Expected net edge in basis points (for display).
    pub fn edge_bps(&self) -> f64 {
        self.edge as f64 / 10_000.0
    }
}

/// Why no opportunity was returned (for counters; detection is silent otherwise).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoTrade {
    /// Empty side or the best prices do not cross after fees and threshold.
    NoEdge,
    /// An edge exists but the size after caps and precision is zero.
    NoSize,
    /// The size is below a venue's minimum quantity or notional.
    BelowMinimum,
}

/// Step (qty mantissa) for `decimals` amount decimals at `qty_scale`; 1 if the venue is
/// finer than the book scale.
fn step(qty_scale: u32, decimals: u32) -> u64 {
    if decimals >= qty_scale {
        1
    } else {
        arb_core::fixed::pow10(qty_scale - decimals)
    }
}

/// Cost (or proceeds) of taking `qty` from `levels`, and the worst price touched.
/// Returns `None` if the levels do not hold `qty`.
pub fn walk_cost(levels: &[(u64, u64)], qty: u64) -> Option<(u128, u64)> {
    let mut left = qty;
    let mut cost: u128 = 0;
    let mut worst = 0;
    for &(px, q) in levels {
        if left == 0 {
            break;
        }
        let take = left.min(q);
        cost += px as u128 * take as u128;
        worst = px;
        left -= take;
    }
    (left == 0).then_some((cost, worst))
}

/// Finds the best trade buying at `asks` (best first) and selling at `bids` (best first).
///
/// # Errors
/// [`NoTrade`] says why there is nothing to do.
pub fn detect(
    asks: &[(u64, u64)],
    bids: &[(u64, u64)],
    scales: Scales,
    buy: &LegRules,
    sell: &LegRules,
    params: &DetectParams,
    caps: &Caps,
) -> Result<Opportunity, NoTrade> {
    let (Some(&(best_ask, _)), Some(&(best_bid, _))) = (asks.first(), bids.first()) else {
        return Err(NoTrade::NoEdge);
    };
    let fb = buy.taker_fee as i128;
    let fs = sell.taker_fee as i128;
    let t = params.threshold as i128;
    // Marginal value of one unit at (ask, bid), scaled by 10^8.
    let marginal = |ask: u64, bid: u64| -> i128 {
        bid as i128 * (PPB8 - fs) - ask as i128 * (PPB8 + fb) - ask as i128 * t
    };
    if marginal(best_ask, best_bid) < 0 {
        return Err(NoTrade::NoEdge);
    }

    // Cost cap: notional cap, and quote balance including the buy fee.
    let quote_cap = caps.buy_quote.saturating_mul(PPB8 as u128) / (PPB8 + fb) as u128;
    let max_cost = params.max_cost.min(quote_cap);
    let max_qty = caps.sell_base;

    // Merged segment walk.
    let (mut i, mut j) = (0usize, 0usize);
    let (mut ask_left, mut bid_left) = (asks[0].1, bids[0].1);
    let mut qty: u64 = 0;
    let mut cost: u128 = 0;
    while i < asks.len() && j < bids.len() {
        let (ask, bid) = (asks[i].0, bids[j].0);
        if marginal(ask, bid) < 0 {
            break;
        }
        let mut seg = ask_left.min(bid_left).min(max_qty - qty);
        // Notional cap inside the segment.
        let cost_room = max_cost.saturating_sub(cost);
        let by_cost = (cost_room / ask.max(1) as u128).min(u64::MAX as u128) as u64;
        let capped = by_cost < seg;
        seg = seg.min(by_cost);
        qty += seg;
        cost += ask as u128 * seg as u128;
        if capped || qty >= max_qty {
            break;
        }
        ask_left -= seg;
        bid_left -= seg;
        if ask_left == 0 {
            i += 1;
            if let Some(l) = asks.get(i) {
                ask_left = l.1;
            }
        }
        if bid_left == 0 {
            j += 1;
            if let Some(l) = bids.get(j) {
                bid_left = l.1;
            }
        }
    }

    // Both legs trade the same base amount: quantize to the coarser precision.
    let st = step(scales.qty, buy.amount_decimals).max(step(scales.qty, sell.amount_decimals));
    let qty = qty / st * st;
    if qty == 0 {
        return Err(NoTrade::NoSize);
    }
    // Exact cost and proceeds at the final size (these walks cannot fail: qty <= depth).
    let (buy_cost, buy_limit) = walk_cost(asks, qty).ok_or(NoTrade::NoSize)?;
    let (sell_proceeds, sell_limit) = walk_cost(bids, qty).ok_or(NoTrade::NoSize)?;
    // The venue checks an order's notional at the price it carries: the sell's limit is
    // the worst bid touched, below the average its proceeds are at.
    if qty < buy.min_qty
        || qty < sell.min_qty
        || buy_cost < buy.min_notional
        || (sell_limit as u128 * qty as u128) < sell.min_notional
    {
        return Err(NoTrade::BelowMinimum);
    }
    let profit_e8 = sell_proceeds as i128 * (PPB8 - fs) - buy_cost as i128 * (PPB8 + fb);
    let edge = (profit_e8 / buy_cost.max(1) as i128) as i64;
    Ok(Opportunity {
        qty,
        buy_cost,
        sell_proceeds,
        buy_limit,
        sell_limit,
        best_ask,
        best_bid,
        profit_e8,
        edge,
    })
}

/// What one venue takes of a hedge: the base quantity (0: none) and the limit price the
/// order is sent at (`None`: a market order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HedgeQuote {
    pub qty: u64,
    pub limit: Option<u64>,
}

/// The limit price of a hedge: through the touch by the slippage buffer (at least 10 bps
/// and one unit of the book's scale) so it fills, at the venue's price precision rounded
/// as `OrderRequest::prepare` rounds it (a buy down, a sell up): the price the venue sees.
pub fn hedge_limit_price(
    touch: u64,
    buy: bool,
    slippage: u64,
    scales: Scales,
    leg: &LegRules,
) -> u64 {
    let slip = (touch as u128 * slippage.max(100_000) as u128 / PPB8 as u128) as u64;
    let tick = step(scales.price, leg.price_decimals);
    if buy {
        (touch + slip.max(1)) / tick * tick
    } else {
        touch.saturating_sub(slip.max(1)).div_ceil(tick) * tick
    }
}

/// The limit of the IOC that stands in for a market order where the venue takes none:
/// `worst`, the price that walks the book to the size (`OrderBook::sweep`), moved
/// through the book by `tolerance` (parts per 10^8) and onto the venue's tick on the
/// side that still fills (a buy up, a sell down).
pub fn walked_limit_price(
    worst: u64,
    buy: bool,
    tolerance: u64,
    scales: Scales,
    leg: &LegRules,
) -> u64 {
    let t = (worst as u128 * tolerance as u128 / PPB8 as u128) as u64;
    let tick = step(scales.price, leg.price_decimals);
    if buy {
        (worst + t).div_ceil(tick) * tick
    } else {
        worst.saturating_sub(t) / tick * tick
    }
}

/// The largest part of `qty` a venue takes at `price`: a multiple of its amount step, at
/// least its minimum quantity and its minimum notional at that price; 0 if none.
pub fn tradable_at(qty: u64, price: u64, scales: Scales, leg: &LegRules) -> u64 {
    let st = step(scales.qty, leg.amount_decimals);
    let q = qty / st * st;
    let notional = price as u128 * q as u128;
    if q == 0 || q < leg.min_qty || notional < leg.min_notional {
        0
    } else {
        q
    }
}

/// What a venue whose best price on the hedge's side is `touch` takes of a residual of
/// `qty`, as an IOC limit through the touch (`limit`) or a market order (which fills at
/// the book: checked at the touch).
pub fn hedge_quote(
    qty: u64,
    touch: Option<u64>,
    buy: bool,
    limit: bool,
    slippage: u64,
    scales: Scales,
    leg: &LegRules,
) -> HedgeQuote {
    match (limit, touch) {
        (true, None) => HedgeQuote {
            qty: 0,
            limit: None,
        },
        (true, Some(t)) => {
            // The minimum notional is the venue's check of the order as sent, so it is
            // checked at the limit price (a chase sell is below the bid it was seen at).
            let px = hedge_limit_price(t, buy, slippage, scales, leg);
            HedgeQuote {
                qty: tradable_at(qty, px, scales, leg),
                limit: Some(px),
            }
        }
        (false, t) => HedgeQuote {
            qty: tradable_at(qty, t.unwrap_or(0), scales, leg),
            limit: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arb_core::fixed::parse_scaled;

    const SC: Scales = Scales { price: 2, qty: 8 };

    fn lv(levels: &[(&str, &str)]) -> Vec<(u64, u64)> {
        levels
            .iter()
            .map(|(p, q)| {
                (
                    parse_scaled(p, SC.price).unwrap(),
                    parse_scaled(q, SC.qty).unwrap(),
                )
            })
            .collect()
    }

    fn rules(fee_ppb8: u64, amount_decimals: u32) -> LegRules {
        LegRules {
            price_decimals: 2,
            amount_decimals,
            min_qty: 0,
            min_notional: 0,
            taker_fee: fee_ppb8,
        }
    }

    const MEXC: u64 = 50_000; // 0.05 %
    const GATE: u64 = 100_000; // 0.1 %

    fn params(bps: u64, max_cost_quote: u64) -> DetectParams {
        DetectParams {
            threshold: bps * 10_000,
            max_cost: max_cost_quote as u128 * 10u128.pow(SC.price + SC.qty),
        }
    }

    #[test]
    fn walked_limit_goes_through_the_book_by_the_tolerance_onto_the_tick() {
        // Worst ask 100.00 at book scale 2 on a venue with 1 price decimal: +10 bps is
        // 100.10, up to the tick 100.10 -> 100.1 (10010 at scale 2).
        let leg = LegRules {
            price_decimals: 1,
            ..rules(0, 6)
        };
        assert_eq!(walked_limit_price(10_000, true, 100_000, SC, &leg), 10_010);
        assert_eq!(walked_limit_price(10_005, true, 0, SC, &leg), 10_010);
        // A sell goes down: 100.00 - 10 bps = 99.90.
        assert_eq!(walked_limit_price(10_000, false, 100_000, SC, &leg), 9_990);
        assert_eq!(walked_limit_price(10_005, false, 0, SC, &leg), 10_000);
    }

    #[test]
    fn no_edge_when_fees_eat_the_gap() {
        // 0.1% gap < 0.15% fees.
        let asks = lv(&[("100.00", "1")]);
        let bids = lv(&[("100.10", "1")]);
        let r = detect(
            &asks,
            &bids,
            SC,
            &rules(MEXC, 6),
            &rules(GATE, 6),
            &params(0, 1000),
            &Caps::UNLIMITED,
        );
        assert_eq!(r, Err(NoTrade::NoEdge));
    }

    #[test]
    fn takes_units_while_marginal_edge_pays() {
        // Buy MEXC asks 100.00 x1, 100.20 x1; sell Gate bids 100.50 x0.5, 100.30 x2.
        let asks = lv(&[("100.00", "1"), ("100.20", "1")]);
        let bids = lv(&[("100.50", "0.5"), ("100.30", "2")]);
        // Threshold 15 bps:
        // segment (100.00, 100.50) x0.5: 100.5*0.999 - 100*1.0005 - 100*0.0015 = 0.1995 >= 0;
        // segment (100.00, 100.30) x0.5: 100.1997 - 100.05 - 0.15 = -0.0003 < 0 -> stop.
        let p = params(15, 1_000_000);
        let o = detect(
            &asks,
            &bids,
            SC,
            &rules(MEXC, 6),
            &rules(GATE, 6),
            &p,
            &Caps::UNLIMITED,
        )
        .unwrap();
        assert_eq!(o.qty, 50_000_000); // 0.5
        assert_eq!(o.buy_limit, 10_000);
        assert_eq!(o.sell_limit, 10_050);
        assert_eq!(o.buy_cost, 10_000 * 50_000_000);
        assert_eq!(o.sell_proceeds, 10_050 * 50_000_000);
        // (100.5 * 0.999 - 100 * 1.0005) / 100 = 34.95 bps.
        assert_eq!(o.edge, 349_500);
        // Without threshold the second segment (marginal +0.0997) is taken too, and the
        // third (100.20, 100.30: 100.1997 - 100.2501 < 0) is not.
        let o2 = detect(
            &asks,
            &bids,
            SC,
            &rules(MEXC, 6),
            &rules(GATE, 6),
            &params(0, 1_000_000),
            &Caps::UNLIMITED,
        )
        .unwrap();
        assert_eq!(o2.qty, 100_000_000);
    }

    #[test]
    fn caps_by_notional_balance_and_precision() {
        let asks = lv(&[("100.00", "10")]);
        let bids = lv(&[("101.00", "10")]);
        let buy = rules(MEXC, 6);
        let sell = rules(GATE, 3);
        // Notional cap 250 quote -> 2.5 base.
        let o = detect(
            &asks,
            &bids,
            SC,
            &buy,
            &sell,
            &params(5, 250),
            &Caps::UNLIMITED,
        )
        .unwrap();
        assert_eq!(o.qty, 250_000_000);
        // Sell-side base balance 1.23456 -> quantized to 3 decimals = 1.234.
        let caps = Caps {
            buy_quote: u128::MAX,
            sell_base: 123_456_000,
        };
        let o = detect(&asks, &bids, SC, &buy, &sell, &params(5, 1000), &caps).unwrap();
        assert_eq!(o.qty, 123_400_000);
        // Quote balance 50.0 must also pay the 0.05% fee: 50 / 1.0005 / 100 = 0.49975 -> 0.499.
        let caps = Caps {
            buy_quote: 50 * 10u128.pow(10),
            sell_base: u64::MAX,
        };
        let o = detect(&asks, &bids, SC, &buy, &sell, &params(5, 1000), &caps).unwrap();
        assert_eq!(o.qty, 49_900_000);
        assert!(o.buy_cost * (PPB8 as u128 + MEXC as u128) / PPB8 as u128 <= caps.buy_quote);
    }

    #[test]
    fn minimums_are_enforced() {
        let asks = lv(&[("100.00", "10")]);
        let bids = lv(&[("101.00", "10")]);
        let mut sell = rules(GATE, 6);
        sell.min_notional = 3 * 10u128.pow(10); // 3 quote
        let p = params(5, 2); // 2 quote max
        assert_eq!(
            detect(
                &asks,
                &bids,
                SC,
                &rules(MEXC, 6),
                &sell,
                &p,
                &Caps::UNLIMITED
            ),
            Err(NoTrade::BelowMinimum)
        );
        let mut buy = rules(MEXC, 6);
        buy.min_qty = 5 * 10u64.pow(8);
        assert_eq!(
            detect(
                &asks,
                &bids,
                SC,
                &buy,
                &rules(GATE, 6),
                &params(5, 100),
                &Caps::UNLIMITED
            ),
            Err(NoTrade::BelowMinimum)
        );
        assert_eq!(
            detect(
                &asks,
                &bids,
                SC,
                &rules(MEXC, 0),
                &rules(GATE, 6),
                &params(5, 50),
                &Caps::UNLIMITED
            ),
            Err(NoTrade::NoSize)
        );
    }

    #[test]
    fn a_hedge_is_checked_against_the_minimum_at_the_price_it_is_sent_at() {
        // Minimum notional 5 quote. 0.05 base is 5.00 at the bid of 100.00, but a chase
        // sells 10 bps through it, at 99.90: 4.995, which the venue refuses.
        let mut leg = rules(GATE, 4);
        leg.min_notional = 5 * 10u128.pow(SC.price + SC.qty);
        let qty = 5_000_000;
        assert_eq!(
            hedge_quote(qty, Some(10_000), false, true, 0, SC, &leg),
            HedgeQuote {
                qty: 0,
                limit: Some(9_990)
            }
        );
        // A market sell fills at the book: checked at the touch.
        assert_eq!(
            hedge_quote(qty, Some(10_000), false, false, 0, SC, &leg),
            HedgeQuote { qty, limit: None }
        );
        // A buy goes through the ask, above it.
        assert_eq!(
            hedge_quote(qty, Some(10_000), true, true, 0, SC, &leg),
            HedgeQuote {
                qty,
                limit: Some(10_010)
            }
        );
        // The price is the one the order carries: at the venue's precision (1 decimal),
        // a sell rounded up (99.95 -> 100.0), which makes 5.00 again.
        leg.price_decimals = 1;
        assert_eq!(
            hedge_quote(qty, Some(10_005), false, true, 0, SC, &leg),
            HedgeQuote {
                qty,
                limit: Some(10_000)
            }
        );
    }

    #[test]
    fn the_sell_minimum_is_checked_at_the_sell_limit_sent() {
        // 0.04 at 101.00 + 0.01 at 99.00: proceeds 5.03 pass a 5.02 minimum, but the sell
        // goes out as 0.05 at its limit 99.00, 4.95: the venue would refuse it.
        let asks = lv(&[("90.00", "1")]);
        let bids = lv(&[("101.00", "0.04"), ("99.00", "1")]);
        let mut sell = rules(GATE, 2);
        sell.min_notional = 502 * 10u128.pow(SC.price + SC.qty - 2);
        let p = params(5, 5); // 5 quote at 90.00: 0.05 base (2 decimals)
        assert_eq!(
            detect(
                &asks,
                &bids,
                SC,
                &rules(MEXC, 2),
                &sell,
                &p,
                &Caps::UNLIMITED
            ),
            Err(NoTrade::BelowMinimum)
        );
    }

    #[test]
    fn profit_is_exact() {
        let asks = lv(&[("100.00", "1")]);
        let bids = lv(&[("101.00", "1")]);
        let o = detect(
            &asks,
            &bids,
            SC,
            &rules(MEXC, 8),
            &rules(GATE, 8),
            &params(0, 1000),
            &Caps::UNLIMITED,
        )
        .unwrap();
        // 101 * 0.999 - 100 * 1.0005 = 100.899 - 100.05 = 0.849 quote.
        let expect = 849 * 10i128.pow(SC.price + SC.qty + 8 - 3);
        assert_eq!(o.profit_e8, expect);
    }

    #[test]
    fn empty_books() {
        let r = detect(
            &[],
            &lv(&[("1", "1")]),
            SC,
            &rules(0, 6),
            &rules(0, 6),
            &params(0, 10),
            &Caps::UNLIMITED,
        );
        assert_eq!(r, Err(NoTrade::NoEdge));
    }
}
