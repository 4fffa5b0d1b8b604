//! `Amount`: an exact signed decimal at 18 places, for everything the execution layer
//! reads back from a venue (filled quantities, quote amounts, fees, balances, fee rates).
//!
//! Venues report these with different and sometimes surprising precision (a BTC fee
//! with 8 decimals on a 6-decimal pair, a USDT quote total with 10), so a fixed scale of
//! 18 holds all of them without rounding; `i128` leaves room for any realistic total.
//! Orders themselves are quantized to each symbol's own decimals before they are sent.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

use arb_core::fixed::Round;

/// Decimal places held by [`Amount`].
pub const AMOUNT_SCALE: u32 = 18;
const ONE: i128 = 1_000_000_000_000_000_000;

/// The largest magnitude [`Amount::parse`] accepts: 10^18 whole units. A venue value
/// beyond it (a price, quantity, quote amount, fee or balance) is corrupt or hostile:
/// even a huge-supply token's whole supply (10^15 to 10^18 units) fits. The bound keeps
/// sums far from `i128`: `i128::MAX` is about 1.7 x 10^38 at 18 decimals, 170 times the
/// bound, so any 170 parsed values add up without overflow (an order's fills, one
/// trade's bookings). Longer sums (a whole run's ledger) are checked where they are
/// taken; products are always checked ([`Amount::checked_mul`]).
pub const MAX_PARSED: Amount = Amount(ONE * ONE);

/// An exact decimal `mantissa / 10^18`.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(i128);

/// The parse error's reason for a value beyond [`MAX_PARSED`].
const BEYOND: &str = "magnitude beyond the bound of 10^18 units";

/// Why a decimal string is not an [`Amount`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid decimal {text:?}: {why}")]
pub struct AmountError {
    pub text: String,
    pub why: &'static str,
}

impl Amount {
    pub const ZERO: Amount = Amount(0);

    /// The raw mantissa at scale 18.
    pub const fn mantissa(self) -> i128 {
        self.0
    }

    pub const fn from_mantissa(m: i128) -> Self {
        Amount(m)
    }

    /// From an arb-core fixed-point mantissa at `scale` decimals (`scale <= 18`).
    pub fn from_scaled(m: u64, scale: u32) -> Self {
        let scale = scale.min(AMOUNT_SCALE);
        Amount(m as i128 * 10i128.pow(AMOUNT_SCALE - scale))
    }

    pub fn from_int(v: i64) -> Self {
        Amount(v as i128 * ONE)
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// Parses `"123"`, `"-0.5"`, `"1.2300"`, `".5"`. Scientific notation is refused:
    /// no venue sends it for amounts, and accepting it would hide a broken field.
    ///
    /// # Errors
    /// Empty text, a stray character, more than 18 significant decimals, a magnitude
    /// beyond [`MAX_PARSED`].
    pub fn parse(text: &str) -> Result<Self, AmountError> {
        let err = |why| AmountError {
            text: text.to_string(),
            why,
        };
        let (neg, digits) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let mut int: i128 = 0;
        let mut frac: i128 = 0;
        let mut frac_digits = 0u32;
        let mut seen_dot = false;
        let mut seen_digit = false;
        for c in digits.bytes() {
            match c {
                b'0'..=b'9' => {
                    seen_digit = true;
                    let d = (c - b'0') as i128;
                    if seen_dot {
                        if frac_digits == AMOUNT_SCALE {
                            if d != 0 {
                                return Err(err("more than 18 decimals"));
                            }
                            continue;
                        }
                        frac = frac * 10 + d;
                        frac_digits += 1;
                    } else {
                        int = int
                            .checked_mul(10)
                            .and_then(|v| v.checked_add(d))
                            .ok_or_else(|| err(BEYOND))?;
                    }
                }
                b'.' if !seen_dot => seen_dot = true,
                _ => return Err(err("not a plain decimal")),
            }
        }
        if !seen_digit {
            return Err(err("no digits"));
        }
        let m = int
            .checked_mul(ONE)
            .and_then(|v| v.checked_add(frac * 10i128.pow(AMOUNT_SCALE - frac_digits)))
            .filter(|m| *m <= MAX_PARSED.0)
            .ok_or_else(|| err(BEYOND))?;
        Ok(Amount(if neg { -m } else { m }))
    }

    /// `self + other`, or `None` when the sum does not fit in an `i128` mantissa.
    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        self.0.checked_add(other.0).map(Amount)
    }

    /// `self - other`, or `None` when the difference does not fit.
    pub fn checked_sub(self, other: Amount) -> Option<Amount> {
        self.0.checked_sub(other.0).map(Amount)
    }

    /// `-self`, or `None` for the one mantissa whose negation does not fit.
    pub fn checked_neg(self) -> Option<Amount> {
        self.0.checked_neg().map(Amount)
    }

    /// Rounds to `decimals` places in the given direction (towards -inf for `Down`,
    /// towards +inf for `Up`).
    pub fn round_to(self, decimals: u32, round: Round) -> Amount {
        if decimals >= AMOUNT_SCALE {
            return self;
        }
        let p = 10i128.pow(AMOUNT_SCALE - decimals);
        let q = self.0.div_euclid(p);
        let r = self.0.rem_euclid(p);
        let q = if round == Round::Up && r != 0 {
            q + 1
        } else {
            q
        };
        Amount(q * p)
    }

    /// True if the value has no digits beyond `decimals`.
    pub fn fits(self, decimals: u32) -> bool {
        self.round_to(decimals, Round::Down) == self
    }

    /// Writes the value with exactly `decimals` places (what orders are sent with).
    /// Digits beyond `decimals` are cut: callers quantize first.
    pub fn to_fixed_string(self, decimals: u32) -> String {
        let decimals = decimals.min(AMOUNT_SCALE);
        let v = self.round_to(decimals, Round::Down).0 / 10i128.pow(AMOUNT_SCALE - decimals);
        arb_core::fixed::format_scaled_fixed(v, decimals)
    }

    /// `self * other` (price x quantity), truncated toward zero at 18 decimals, or `None`
    /// when the product does not fit (beyond ~1.7 x 10^20 units: only absurd venue values
    /// get there, and they must be an error, not a panic, so there is no unchecked form).
    /// The left mantissa is split at 10^9 so each partial product stays far below
    /// `i128::MAX` (a plain `a * b / 10^18` overflows once the product passes ~170 units
    /// squared).
    // An inherent method rather than `ops::Mul`: multiplying two amounts truncates, and
    // a named call keeps that visible where it happens.
    pub fn checked_mul(self, other: Amount) -> Option<Amount> {
        const HALF: i128 = 1_000_000_000;
        let (hi, lo) = (self.0 / HALF, self.0 % HALF);
        let a = hi.checked_mul(other.0)? / HALF;
        let b = lo.checked_mul(other.0)? / ONE;
        a.checked_add(b).map(Amount)
    }
}

impl fmt::Display for Amount {
    /// Shortest exact form: trailing zeros trimmed (`1.5`, `0`, `-0.001`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&arb_core::fixed::format_scaled(self.0, AMOUNT_SCALE))
    }
}

impl fmt::Debug for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Amount({self})")
    }
}

impl std::str::FromStr for Amount {
    type Err = AmountError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Amount::parse(s)
    }
}

// The operators are for amounts that are ours and bounded (a quantized order's
// quantity, a reservation, a test's literal). Sums of venue values (fills, ledger
// bookings, balances) use `checked_add`/`checked_sub`: the `ci` profile panics on
// overflow, a release build would wrap silently.
impl Add for Amount {
    type Output = Amount;
    fn add(self, rhs: Amount) -> Amount {
        Amount(self.0 + rhs.0)
    }
}

impl AddAssign for Amount {
    fn add_assign(&mut self, rhs: Amount) {
        self.0 += rhs.0;
    }
}

impl Sub for Amount {
    type Output = Amount;
    fn sub(self, rhs: Amount) -> Amount {
        Amount(self.0 - rhs.0)
    }
}

impl serde::Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_exactly() {
        assert_eq!(Amount::parse("1.2300").unwrap().to_string(), "1.23");
        assert_eq!(Amount::parse("-0.001").unwrap().to_string(), "-0.001");
        assert_eq!(Amount::parse(".5").unwrap().to_string(), "0.5");
        assert_eq!(Amount::parse("0").unwrap(), Amount::ZERO);
        assert_eq!(
            Amount::parse("0.00000022").unwrap() + Amount::parse("0.00000078").unwrap(),
            Amount::parse("0.000001").unwrap()
        );
        assert!(Amount::parse("1e5").is_err());
        assert!(Amount::parse("").is_err());
        assert!(Amount::parse("-").is_err());
        assert!(Amount::parse("1.0000000000000000001").is_err());
        assert_eq!(Amount::from_scaled(1_913_774, 2).to_string(), "19137.74");
    }

    /// A value beyond 10^18 units used to parse (up to ~1.7 x 10^20): two of them
    /// summed overflowed `i128`.
    #[test]
    fn values_beyond_the_bound_are_refused_with_the_text() {
        let max = "1000000000000000000";
        assert_eq!(Amount::parse(max).unwrap(), MAX_PARSED);
        assert_eq!(
            Amount::parse(&format!("-{max}")).unwrap().checked_neg(),
            Some(MAX_PARSED)
        );
        for text in [
            "1000000000000000000.000000000000000001",
            "-1000000000000000001",
            "170141183460469231731",
            "99999999999999999999999999999999999999999999",
        ] {
            assert_eq!(
                Amount::parse(text),
                Err(AmountError {
                    text: text.to_string(),
                    why: BEYOND
                })
            );
        }
        let e = Amount::parse("170141183460469231731")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "invalid decimal \"170141183460469231731\": magnitude beyond the bound of 10^18 units"
        );
    }

    #[test]
    fn checked_sums_refuse_what_does_not_fit() {
        let top = Amount::from_mantissa(i128::MAX);
        assert_eq!(top.checked_add(Amount::from_mantissa(1)), None);
        assert_eq!(
            Amount::from_mantissa(i128::MIN).checked_sub(Amount::from_mantissa(1)),
            None
        );
        assert_eq!(Amount::from_mantissa(i128::MIN).checked_neg(), None);
        assert_eq!(
            MAX_PARSED.checked_add(MAX_PARSED),
            Some(Amount(2 * ONE * ONE))
        );
        assert_eq!(
            Amount::from_int(1).checked_sub(Amount::from_int(3)),
            Some(Amount::from_int(-2))
        );
    }

    #[test]
    fn rounds_in_the_asked_direction() {
        let a = Amount::parse("1.23456").unwrap();
        assert_eq!(a.round_to(2, Round::Down).to_string(), "1.23");
        assert_eq!(a.round_to(2, Round::Up).to_string(), "1.24");
        assert_eq!(a.to_fixed_string(3), "1.234");
        assert_eq!(Amount::parse("5").unwrap().to_fixed_string(2), "5.00");
        assert!(Amount::parse("1.20").unwrap().fits(1));
        assert!(!a.fits(4));
        assert_eq!(
            Amount::parse("65000.1")
                .unwrap()
                .checked_mul(Amount::parse("0.001").unwrap())
                .unwrap()
                .to_string(),
            "65.0001"
        );
    }
}
