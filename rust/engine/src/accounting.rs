//! Accounting: what the engine's trades did to each balance, exactly.
//!
//! Every fill moves three balances on its venue: base (+qty on a buy, -qty on a sell),
//! quote (-/+ its quote amount) and the fee asset (-fee). Summing those per
//! (venue, asset) gives the engine's own view of the balance changes, which must equal
//! the venue's (the simulator's ground truth, or a live account's statement) to the
//! venue's precision. Realized PnL in quote is the quote change plus the base change
//! valued at a mark price, fees included wherever they were charged.
//!
//! All amounts are `arb_exec::Amount` (exact, 18 decimals).

use std::collections::BTreeMap;

use arb_core::Venue;
use arb_exec::lifecycle::Fill;
use arb_exec::{Amount, Side};

/// Balance changes per (venue, asset).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
    deltas: BTreeMap<(Venue, String), Amount>,
    fees_quote: Amount,
}

impl Ledger {
    pub fn new() -> Self {
        Self::default()
    }

    fn add(&mut self, venue: Venue, asset: &str, amount: Amount) {
        *self
            .deltas
            .entry((venue, asset.to_string()))
            .or_insert(Amount::ZERO) += amount;
    }

    /// Books one fill of `base`/`quote` on its venue.
    pub fn record(&mut self, fill: &Fill, base: &str, quote: &str) {
        let (b, q) = match fill.side {
            Side::Buy => (fill.qty, Amount::ZERO - fill.quote_qty),
            Side::Sell => (Amount::ZERO - fill.qty, fill.quote_qty),
        };
        self.add(fill.venue, base, b);
        self.add(fill.venue, quote, q);
        if !fill.fee.is_zero() {
            self.add(fill.venue, &fill.fee_currency, Amount::ZERO - fill.fee);
            // Fee valued in quote: as is when charged in quote, at the fill price when
            // charged in base. A valuation that does not fit (absurd venue values) is
            // left out, like a fee in a third currency; the fee itself is booked exactly
            // above in its own currency.
            self.fees_quote += if fill.fee_currency == quote {
                fill.fee
            } else if fill.fee_currency == base {
                fill.fee.checked_mul(fill.price).unwrap_or(Amount::ZERO)
            } else {
                Amount::ZERO
            };
        }
    }

    /// Adds another ledger's changes and fees to this one.
    pub fn merge(&mut self, other: &Ledger) {
        for (k, d) in &other.deltas {
            *self.deltas.entry(k.clone()).or_insert(Amount::ZERO) += *d;
        }
        self.fees_quote += other.fees_quote;
    }

    /// Change of one asset on one venue.
    pub fn delta(&self, venue: Venue, asset: &str) -> Amount {
        self.deltas
            .get(&(venue, asset.to_string()))
            .copied()
            .unwrap_or(Amount::ZERO)
    }

    /// Every (venue, asset) change.
    pub fn deltas(&self) -> impl Iterator<Item = (Venue, &str, Amount)> {
        self.deltas.iter().map(|((v, a), d)| (*v, a.as_str(), *d))
    }

    /// Fees paid, valued in quote.
    pub fn fees_quote(&self) -> Amount {
        self.fees_quote
    }

    /// Realized PnL in `quote`: the quote change on both venues plus each other asset's
    /// change valued at `mark(asset)` (quote per unit).
    pub fn pnl(&self, quote: &str, mark: impl Fn(&str) -> Option<Amount>) -> Amount {
        let mut per_asset: BTreeMap<&str, Amount> = BTreeMap::new();
        for ((_, asset), d) in &self.deltas {
            *per_asset.entry(asset.as_str()).or_insert(Amount::ZERO) += *d;
        }
        per_asset
            .into_iter()
            .map(|(asset, d)| {
                if asset == quote {
                    d
                } else {
                    // Unvalued without a mark, or when the value does not fit.
                    mark(asset)
                        .and_then(|p| d.checked_mul(p))
                        .unwrap_or(Amount::ZERO)
                }
            })
            .fold(Amount::ZERO, |a, b| a + b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arb_exec::lifecycle::Source;

    fn amt(s: &str) -> Amount {
        Amount::parse(s).unwrap()
    }

    fn fill(venue: Venue, side: Side, px: &str, qty: &str, fee: &str, fee_ccy: &str) -> Fill {
        Fill {
            venue,
            trade_id: format!("{venue}-{px}-{qty}"),
            order_id: "1".into(),
            client_id: None,
            symbol: "BTCUSDT".into(),
            side,
            price: amt(px),
            qty: amt(qty),
            quote_qty: amt(px).checked_mul(amt(qty)).unwrap(),
            fee: amt(fee),
            fee_currency: fee_ccy.into(),
            is_maker: false,
            time_ms: 0,
            source: Source::Stream,
        }
    }

    #[test]
    fn balanced_arbitrage_pnl_is_the_spread_minus_fees() {
        let mut l = Ledger::new();
        // Buy 0.5 BTC at 100 on MEXC, fee 0.05% in quote; sell 0.5 at 101 on Gate,
        // fee 0.1% in quote.
        l.record(
            &fill(Venue::Mexc, Side::Buy, "100", "0.5", "0.025", "USDT"),
            "BTC",
            "USDT",
        );
        l.record(
            &fill(Venue::Gate, Side::Sell, "101", "0.5", "0.0505", "USDT"),
            "BTC",
            "USDT",
        );
        assert_eq!(l.delta(Venue::Mexc, "BTC"), amt("0.5"));
        assert_eq!(l.delta(Venue::Mexc, "USDT"), amt("-50.025"));
        assert_eq!(l.delta(Venue::Gate, "BTC"), amt("-0.5"));
        assert_eq!(l.delta(Venue::Gate, "USDT"), amt("50.4495"));
        assert_eq!(l.fees_quote(), amt("0.0755"));
        assert_eq!(l.pnl("USDT", |_| Some(amt("100.5"))), amt("0.4245"));
    }

    /// A venue value whose product does not fit (a fee of 10^19 BTC valued at a price of
    /// 10^19) used to reach `Amount::mul`'s `expect`: a panic in the transaction task.
    #[test]
    fn products_of_absurd_venue_values_do_not_panic() {
        let mut l = Ledger::new();
        let mut f = fill(Venue::Mexc, Side::Buy, "100", "0.5", "0", "BTC");
        f.fee = amt("10000000000000000000");
        f.price = amt("10000000000000000000");
        l.record(&f, "BTC", "USDT");
        // The fee is booked exactly in its own currency; only its quote valuation is lost.
        assert_eq!(l.delta(Venue::Mexc, "BTC"), amt("-9999999999999999999.5"));
        assert_eq!(l.fees_quote(), Amount::ZERO);
        let _ = l.pnl("USDT", |_| Some(amt("10000000000000000000")));
    }

    #[test]
    fn large_notionals_do_not_overflow() {
        let mul = |a: &str, b: &str| amt(a).checked_mul(amt(b)).unwrap();
        assert_eq!(mul("65000.5", "12.25"), amt("796256.125"));
        assert_eq!(mul("-3", "0.25"), amt("-0.75"));
    }

    #[test]
    fn base_fees_are_valued_at_the_fill_price() {
        let mut l = Ledger::new();
        l.record(
            &fill(Venue::Gate, Side::Buy, "100", "1", "0.001", "BTC"),
            "BTC",
            "USDT",
        );
        assert_eq!(l.delta(Venue::Gate, "BTC"), amt("0.999"));
        assert_eq!(l.fees_quote(), amt("0.1"));
        // Net 0.999 BTC marked at 100 against 100 USDT spent: -0.1.
        assert_eq!(l.pnl("USDT", |_| Some(amt("100"))), amt("-0.1"));
    }
}
