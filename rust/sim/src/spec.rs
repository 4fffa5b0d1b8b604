//! Per-venue trading rules of each simulated symbol: names, precision, minimums, fees,
//! and what the API may do with it ([`Restriction`]). The two venues deliberately
//! disagree (as the real ones do) so clients must read the rules from each venue's own
//! market metadata.

use arb_core::fixed::{parse_scaled, pow10};
use arb_core::{Side, Venue};

use crate::faults::OrderError;
use crate::SimError;

/// What a venue lets the API do with one symbol beyond precision and minimums
/// (`SimConfig::restricted`). Each adapter lists it in its own fields and refuses an
/// order it forbids with its own code ([`SymbolSpec::refusal`] says which).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Restriction {
    #[default]
    None,
    /// Not tradable through the API (MEXC `isSpotTradingAllowed: false`, 10007; Gate
    /// `trade_status: untradable`).
    NoApi,
    /// No API market orders (MEXC: `MARKET` missing from `orderTypes`, 30051). Gate has
    /// no such per-pair switch: a config error there.
    NoMarket,
    /// The API may only buy (MEXC `tradeSideType: 2`; Gate `buyable`).
    BuyOnly,
    /// The API may only sell (MEXC `tradeSideType: 3`; Gate `sellable`).
    SellOnly,
    /// Buying opens a day after the simulator starts (Gate `buy_start`). MEXC has no
    /// such time: a config error there.
    BuyLater,
}

/// One entry of `SimConfig::restricted`: `{symbol: KAS/USDT, venue: mexc, restriction:
/// no_market}`. `venue` is an instance name, or a kind name (`mexc`, `gateio`) for every
/// instance of that kind; an entry for a symbol the simulator does not list does nothing.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RestrictedSymbol {
    pub symbol: String,
    pub venue: String,
    pub restriction: Restriction,
}

/// The restriction `list` puts on `unified` at `venue` (the last entry that names it).
pub fn restriction_of(list: &[RestrictedSymbol], unified: &str, venue: Venue) -> Restriction {
    list.iter()
        .rev()
        .find(|r| {
            r.symbol.eq_ignore_ascii_case(unified)
                && (r.venue == venue.as_str() || r.venue == venue.kind().as_str())
        })
        .map_or(Restriction::None, |r| r.restriction)
}

/// Exact scale every balance is held at (a balance is `i128` mantissa / 10^18).
pub const BAL_SCALE: u32 = 18;

/// The fair price is held at this scale (1e-8 of a quote unit) before being rounded to
/// a venue's tick.
pub const FAIR_SCALE: u32 = 8;

/// One symbol as one venue lists it.
#[derive(Clone, Debug)]
pub struct SymbolSpec {
    pub venue: Venue,
    /// "BTC/USDT".
    pub unified: String,
    /// "BTCUSDT" (MEXC) or "BTC_USDT" (Gate).
    pub venue_symbol: String,
    pub base: String,
    pub quote: String,
    /// Decimals of the price tick.
    pub price_decimals: u32,
    /// Decimals of the quantity step.
    pub qty_decimals: u32,
    /// Minimum base quantity, at `qty_decimals`.
    pub min_qty: u64,
    /// Minimum order value in quote, at `price_decimals + qty_decimals` (the notional scale).
    pub min_notional: u128,
    /// Maximum order value in quote, at the notional scale.
    pub max_notional: u128,
    /// Fees in parts per million of the traded value (500 = 0.05 %).
    pub maker_ppm: u64,
    pub taker_ppm: u64,
    /// Starting fair price at [`FAIR_SCALE`].
    pub initial_fair: u64,
    pub restriction: Restriction,
    /// Unix seconds from which buying opens ([`Restriction::BuyLater`]); 0: open.
    pub buy_start_s: i64,
}

impl SymbolSpec {
    /// Puts `r` on this listing; `now_s` (unix seconds) places a [`Restriction::BuyLater`]
    /// opening a day later.
    pub fn restrict(&mut self, r: Restriction, now_s: i64) {
        self.restriction = r;
        self.buy_start_s = if r == Restriction::BuyLater {
            now_s + 86_400
        } else {
            0
        };
    }

    /// Why the venue refuses an order of `side` (a market order when `market`) at
    /// `now_s`, as far as the symbol's restriction goes.
    pub fn refusal(&self, side: Side, market: bool, now_s: i64) -> Option<OrderError> {
        match (self.restriction, side) {
            (Restriction::NoApi, _) => Some(OrderError::SymbolNotTradable),
            (Restriction::NoMarket, _) if market => Some(OrderError::MarketOrdersNotListed),
            (Restriction::BuyOnly, Side::Sell) | (Restriction::SellOnly, Side::Buy) => {
                Some(OrderError::SideNotOpen)
            }
            (Restriction::BuyLater, Side::Buy) if now_s < self.buy_start_s => {
                Some(OrderError::SideNotOpen)
            }
            _ => None,
        }
    }

    /// Scale of `price * qty`.
    pub fn notional_scale(&self) -> u32 {
        self.price_decimals + self.qty_decimals
    }
    pub fn fmt_price(&self, p: u64) -> String {
        arb_core::fixed::format_scaled(p as i128, self.price_decimals)
    }
    pub fn fmt_qty(&self, q: u64) -> String {
        arb_core::fixed::format_scaled(q as i128, self.qty_decimals)
    }
    pub fn fmt_notional(&self, n: u128) -> String {
        arb_core::fixed::format_scaled(n as i128, self.notional_scale())
    }
    /// Converts a notional-scale value to the balance scale.
    pub fn notional_to_bal(&self, n: u128) -> i128 {
        (n as i128) * pow10(BAL_SCALE - self.notional_scale()) as i128
    }
    pub fn qty_to_bal(&self, q: u64) -> i128 {
        (q as i128) * pow10(BAL_SCALE - self.qty_decimals) as i128
    }
    /// Fair price (at [`FAIR_SCALE`]) to this venue's tick, rounded down.
    pub fn fair_to_ticks(&self, fair: u64) -> u64 {
        if self.price_decimals >= FAIR_SCALE {
            fair * pow10(self.price_decimals - FAIR_SCALE)
        } else {
            fair / pow10(FAIR_SCALE - self.price_decimals)
        }
    }
}

/// One venue's rules of a symbol: (price decimals, qty decimals, min qty, min notional,
/// maker ppm, taker ppm).
pub type Rules = (u32, u32, &'static str, &'static str, u64, u64);

/// A symbol with hand-written rules; each adapter picks its column.
pub struct Known {
    pub base: &'static str,
    pub fair: &'static str,
    pub mexc: Rules,
    pub gate: Rules,
}

const KNOWN: &[Known] = &[
    Known {
        base: "BTC",
        fair: "60000",
        mexc: (2, 6, "0.000001", "1", 0, 500),
        gate: (1, 6, "0.00001", "3", 1000, 1000),
    },
    Known {
        base: "ETH",
        fair: "3000",
        mexc: (2, 5, "0.00001", "1", 0, 500),
        gate: (2, 4, "0.0001", "3", 1000, 1000),
    },
    Known {
        base: "SOL",
        fair: "150",
        mexc: (2, 3, "0.001", "1", 0, 500),
        gate: (3, 2, "0.01", "3", 1000, 1000),
    },
    Known {
        base: "XRP",
        fair: "0.5",
        mexc: (5, 2, "0.01", "1", 0, 500),
        gate: (4, 1, "1", "3", 1000, 1000),
    },
    // Listed with a restriction by default (`SimConfig::restricted`).
    Known {
        base: "KAS",
        fair: "0.15",
        mexc: (5, 2, "1", "1", 0, 500),
        gate: (5, 1, "10", "3", 1000, 1000),
    },
    Known {
        base: "PEPE",
        fair: "0.00001",
        mexc: (10, 0, "1000", "1", 0, 500),
        gate: (10, 0, "1000", "3", 1000, 1000),
    },
    Known {
        base: "TON",
        fair: "5",
        mexc: (4, 2, "0.01", "1", 0, 500),
        gate: (3, 2, "0.1", "3", 1000, 1000),
    },
];

/// Whether the simulator has hand-written rules for `unified` (it invents rules for any
/// other `BASE/QUOTE` unless told not to list unknown symbols).
pub fn is_known(unified: &str) -> bool {
    unified.split_once('/').is_some_and(|(b, q)| {
        q.eq_ignore_ascii_case("USDT") && KNOWN.iter().any(|k| k.base.eq_ignore_ascii_case(b))
    })
}

/// Builds one venue instance's spec for a unified symbol, with the rules its kind's
/// adapter gives.
/// `index` and `seed` make the rules of unknown symbols deterministic (the same fair
/// price and decimals on every venue).
///
/// # Errors
/// A symbol that is not `BASE/QUOTE` with alphanumeric parts.
pub fn specs_for(
    unified: &str,
    index: usize,
    seed: u64,
    venue: Venue,
) -> Result<SymbolSpec, SimError> {
    let adapter = crate::adapter::adapter(venue.kind());
    let (base, quote) = unified
        .split_once('/')
        .filter(|(b, q)| {
            !b.is_empty()
                && !q.is_empty()
                && b.chars().all(|c| c.is_ascii_alphanumeric())
                && q.chars().all(|c| c.is_ascii_alphanumeric())
        })
        .ok_or_else(|| SimError::Config(format!("symbol {unified:?} is not BASE/QUOTE")))?;
    let base = base.to_ascii_uppercase();
    let quote = quote.to_ascii_uppercase();
    let known = KNOWN.iter().find(|k| k.base == base);
    let (fair, rules) = match known {
        Some(k) => (
            parse_scaled(k.fair, FAIR_SCALE).expect("static fair price"),
            (adapter.known_rules)(k),
        ),
        None => {
            // A price between 0.01 and ~10,000, spread log-uniformly by a hash of the
            // seed and position, and precisions that give ~5 significant price digits.
            let h = splitmix(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let mag = (h % 7) as u32; // 10^(mag-2)
            let mantissa = 100 + (h >> 8) % 900; // 1.00 .. 9.99
            let fair = mantissa * pow10(FAIR_SCALE + mag) / 100 / 100;
            let pd = (6u32).saturating_sub(mag).max(1);
            let qd = mag.min(6);
            (fair.max(1), (adapter.generated_rules)(pd, qd))
        }
    };
    let (pd, qd, min_q, min_n, maker, taker) = rules;
    let min_qty = parse_scaled(min_q, qd)
        .map_err(|e| SimError::Config(format!("{unified}: min qty: {e}")))?
        .max(1);
    let ns = pd + qd;
    let min_notional = parse_scaled(min_n, ns)
        .map_err(|e| SimError::Config(format!("{unified}: min notional: {e}")))?
        as u128;
    Ok(SymbolSpec {
        venue,
        unified: format!("{base}/{quote}"),
        venue_symbol: (adapter.symbol)(&base, &quote),
        base,
        quote,
        price_decimals: pd,
        qty_decimals: qd,
        min_qty,
        min_notional,
        max_notional: 5_000_000u128 * pow10(ns) as u128,
        maker_ppm: maker,
        taker_ppm: taker,
        initial_fair: fair,
        restriction: Restriction::None,
        buy_start_s: 0,
    })
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Parses a non-negative decimal string at [`BAL_SCALE`] into an `i128` (balances can
/// exceed what a `u64` holds at 18 decimals).
///
/// # Errors
/// As [`arb_core::fixed::parse_scaled`].
pub fn parse_bal(s: &str) -> Result<i128, arb_core::FixedError> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let i = if int.is_empty() && !frac.is_empty() {
        0
    } else {
        parse_scaled(int, 0)?
    };
    let f = if frac.is_empty() {
        0
    } else {
        parse_scaled(&format!("0.{frac}"), BAL_SCALE)?
    };
    Ok(i as i128 * pow10(BAL_SCALE) as i128 + f as i128)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn venues_disagree_on_btc_rules() {
        let m = specs_for("BTC/USDT", 0, 7, Venue::MEXC).unwrap();
        let g = specs_for("BTC/USDT", 0, 7, Venue::GATE).unwrap();
        assert_eq!(m.venue_symbol, "BTCUSDT");
        assert_eq!(g.venue_symbol, "BTC_USDT");
        assert_eq!((m.price_decimals, m.qty_decimals), (2, 6));
        assert_eq!((g.price_decimals, g.qty_decimals), (1, 6));
        assert_eq!(g.fmt_notional(g.min_notional), "3");
        assert_eq!(m.fair_to_ticks(m.initial_fair), 6_000_000);
    }

    #[test]
    fn unknown_symbols_are_deterministic_and_valid() {
        for i in 0..200 {
            let a: Vec<SymbolSpec> = [Venue::MEXC, Venue::GATE]
                .iter()
                .map(|v| specs_for(&format!("C{i}/USDT"), i, 9, *v).unwrap())
                .collect();
            let b = specs_for(&format!("C{i}/USDT"), i, 9, Venue::MEXC).unwrap();
            assert_eq!(a[0].price_decimals, b.price_decimals);
            for s in &a {
                assert!(s.notional_scale() <= 12);
                assert!(s.fair_to_ticks(s.initial_fair) > 0, "{s:?}");
            }
        }
        assert!(specs_for("BTCUSDT", 0, 1, Venue::MEXC).is_err());
    }
}
