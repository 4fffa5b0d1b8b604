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

/// Why the ledger refused a fill: a balance change or the fees would not fit (venue
/// values beyond any real account). Nothing of the fill was booked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{venue} fill {trade_id} not booked: the {asset} change would not fit")]
pub struct BookingOverflow {
    pub venue: Venue,
    pub trade_id: String,
    /// The asset whose change would not fit ("fees" for the fees valued in quote).
    pub asset: String,
}

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

    /// Books one fill of `base`/`quote` on its venue, whole or not at all.
    ///
    /// # Errors
    /// A balance change summed with the booked ones (or a negated venue value) does not
    /// fit: the ledger is left as it was.
    pub fn record(&mut self, fill: &Fill, base: &str, quote: &str) -> Result<(), BookingOverflow> {
        let refuse = |asset: &str| BookingOverflow {
            venue: fill.venue,
            trade_id: fill.trade_id.clone(),
            asset: asset.to_string(),
        };
        let neg = |a: Amount, asset: &str| a.checked_neg().ok_or_else(|| refuse(asset));
        let (b, q) = match fill.side {
            Side::Buy => (fill.qty, neg(fill.quote_qty, quote)?),
            Side::Sell => (neg(fill.qty, base)?, fill.quote_qty),
        };
        let mut moves = vec![(base, b), (quote, q)];
        let mut fees_quote = self.fees_quote;
        if !fill.fee.is_zero() {
            moves.push((&fill.fee_currency, neg(fill.fee, &fill.fee_currency)?));
            // Fee valued in quote: as is when charged in quote, at the fill price when
            // charged in base. A valuation that does not fit (absurd venue values) is
            // left out, like a fee in a third currency; the fee itself is booked exactly
            // in its own currency.
            let valued = if fill.fee_currency == quote {
                fill.fee
            } else if fill.fee_currency == base {
                fill.fee.checked_mul(fill.price).unwrap_or(Amount::ZERO)
            } else {
                Amount::ZERO
            };
            fees_quote = fees_quote
                .checked_add(valued)
                .ok_or_else(|| refuse("fees"))?;
        }
        // Every new balance is computed before any is written (two moves may hit one
        // asset: a fee in base or quote).
        let mut next: BTreeMap<(Venue, String), Amount> = BTreeMap::new();
        for (asset, amount) in moves {
            let key = (fill.venue, asset.to_string());
            let held = next.get(&key).or(self.deltas.get(&key)).copied();
            let sum = held.unwrap_or(Amount::ZERO).checked_add(amount);
            next.insert(key, sum.ok_or_else(|| refuse(asset))?);
        }
        self.deltas.extend(next);
        self.fees_quote = fees_quote;
        Ok(())
    }

    /// Adds another ledger's changes and fees to this one, whole or not at all.
    ///
    /// # Errors
    /// A summed change does not fit: this ledger is left as it was.
    pub fn merge(&mut self, other: &Ledger) -> Result<(), BookingOverflow> {
        let mut sum = self.clone();
        for (k, d) in &other.deltas {
            let e = sum.deltas.entry(k.clone()).or_insert(Amount::ZERO);
            *e = e.checked_add(*d).ok_or_else(|| BookingOverflow {
                venue: k.0,
                trade_id: "(merged ledger)".into(),
                asset: k.1.clone(),
            })?;
        }
        sum.fees_quote = sum
            .fees_quote
            .checked_add(other.fees_quote)
            .ok_or_else(|| BookingOverflow {
                venue: Venue::MEXC,
                trade_id: "(merged ledger)".into(),
                asset: "fees".into(),
            })?;
        *self = sum;
        Ok(())
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
    /// change valued at `mark(asset)` (quote per unit), or `None` when the sum does not
    /// fit (venue values beyond any real account).
    pub fn pnl(&self, quote: &str, mark: impl Fn(&str) -> Option<Amount>) -> Option<Amount> {
        let mut per_asset: BTreeMap<&str, Amount> = BTreeMap::new();
        for ((_, asset), d) in &self.deltas {
            let e = per_asset.entry(asset.as_str()).or_insert(Amount::ZERO);
            *e = e.checked_add(*d)?;
        }
        per_asset
            .into_iter()
            .try_fold(Amount::ZERO, |total, (asset, d)| {
                let value = if asset == quote {
                    d
                } else {
                    // Unvalued without a mark, or when the value does not fit.
                    mark(asset)
                        .and_then(|p| d.checked_mul(p))
                        .unwrap_or(Amount::ZERO)
                };
                total.checked_add(value)
            })
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
            &fill(Venue::MEXC, Side::Buy, "100", "0.5", "0.025", "USDT"),
            "BTC",
            "USDT",
        )
        .unwrap();
        l.record(
            &fill(Venue::GATE, Side::Sell, "101", "0.5", "0.0505", "USDT"),
            "BTC",
            "USDT",
        )
        .unwrap();
        assert_eq!(l.delta(Venue::MEXC, "BTC"), amt("0.5"));
        assert_eq!(l.delta(Venue::MEXC, "USDT"), amt("-50.025"));
        assert_eq!(l.delta(Venue::GATE, "BTC"), amt("-0.5"));
        assert_eq!(l.delta(Venue::GATE, "USDT"), amt("50.4495"));
        assert_eq!(l.fees_quote(), amt("0.0755"));
        assert_eq!(l.pnl("USDT", |_| Some(amt("100.5"))), Some(amt("0.4245")));
    }

    /// A venue value whose product does not fit (a fee of 10^18 BTC valued at a price of
    /// 10^18, both at the parse bound) used to reach `Amount::mul`'s `expect`: a panic in
    /// the transaction task.
    #[test]
    fn products_of_absurd_venue_values_do_not_panic() {
        let mut l = Ledger::new();
        let mut f = fill(Venue::MEXC, Side::Buy, "100", "0.5", "0", "BTC");
        f.fee = amt("1000000000000000000");
        f.price = amt("1000000000000000000");
        l.record(&f, "BTC", "USDT").unwrap();
        // The fee is booked exactly in its own currency; only its quote valuation is lost.
        assert_eq!(l.delta(Venue::MEXC, "BTC"), amt("-999999999999999999.5"));
        assert_eq!(l.fees_quote(), Amount::ZERO);
        let _ = l.pnl("USDT", |_| Some(amt("1000000000000000000")));
    }

    /// Bookings whose sums do not fit (two fills of more than half of `i128`'s range)
    /// used to overflow in `Ledger::add`: a panic under `ci`, a wrapped balance in release.
    #[test]
    fn a_booking_whose_sum_does_not_fit_is_refused_whole() {
        let mut l = Ledger::new();
        let half = Amount::from_mantissa(i128::MAX / 2 + 1);
        let mut f = fill(Venue::GATE, Side::Buy, "1", "1", "0", "BTC");
        f.qty = half;
        l.record(&f, "BTC", "USDT").unwrap();
        let before = l.clone();
        f.trade_id = "second".into();
        assert_eq!(
            l.record(&f, "BTC", "USDT").unwrap_err().to_string(),
            "gateio fill second not booked: the BTC change would not fit"
        );
        // Whole or not at all: the quote side (which fits) was not booked either.
        assert_eq!(l, before);
        // A merge that does not fit leaves the ledger as it was too.
        let mut total = before.clone();
        assert!(total.merge(&before).is_err());
        assert_eq!(total, before);
        // A PnL whose sum does not fit is none, not a wrapped number.
        let mut g = Ledger::new();
        let mut sell = fill(Venue::GATE, Side::Sell, "1", "1", "0", "BTC");
        sell.quote_qty = half;
        g.record(&sell, "BTC", "USDT").unwrap();
        sell.venue = Venue::MEXC;
        g.record(&sell, "BTC", "USDT").unwrap();
        assert_eq!(g.pnl("USDT", |_| None), None);
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
            &fill(Venue::GATE, Side::Buy, "100", "1", "0.001", "BTC"),
            "BTC",
            "USDT",
        )
        .unwrap();
        assert_eq!(l.delta(Venue::GATE, "BTC"), amt("0.999"));
        assert_eq!(l.fees_quote(), amt("0.1"));
        // Net 0.999 BTC marked at 100 against 100 USDT spent: -0.1.
        assert_eq!(l.pnl("USDT", |_| Some(amt("100"))), Some(amt("-0.1")));
    }
}
