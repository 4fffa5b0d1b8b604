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

/// An exact decimal `mantissa / 10^18`.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(i128);

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
    /// Empty text, a stray character, more than 18 significant decimals, overflow.
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
                            .ok_or_else(|| err("too large"))?;
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
            .ok_or_else(|| err("too large"))?;
        Ok(Amount(if neg { -m } else { m }))
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
