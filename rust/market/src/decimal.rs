//! An exact decimal for trading rules (minimums, fees): a mantissa and its own scale,
//! parsed from the venue's text without floating point and kept at the precision the
//! venue wrote.

use std::fmt;

use arb_core::fixed::{self, pow10, FixedError};

/// `mantissa / 10^scale`, exact. Trailing fractional zeros are trimmed when parsed, so
/// `"0.10"` and `"0.1"` compare equal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Decimal {
    pub mantissa: u64,
    pub scale: u32,
}

impl Decimal {
    pub const ZERO: Decimal = Decimal {
        mantissa: 0,
        scale: 0,
    };

    /// Parses a non-negative decimal string at the precision it carries.
    ///
    /// # Errors
    /// As [`fixed::parse_scaled`]: empty, bad characters, negative, or too many digits.
    pub fn parse(s: &str) -> Result<Decimal, FixedError> {
        let s = s.trim();
        let frac = match s.find('.') {
            Some(dot) => s[dot + 1..].trim_end_matches('0').len() as u32,
            None => 0,
        };
        if frac > fixed::MAX_SCALE {
            return Err(FixedError::TooPrecise {
                scale: fixed::MAX_SCALE,
            });
        }
        let mantissa = fixed::parse_scaled(s, frac)?;
        Ok(Decimal {
            mantissa,
            scale: frac,
        })
    }

    /// The mantissa at `scale` if the value is exactly representable there.
    pub fn to_scale(self, scale: u32) -> Option<u64> {
        if scale >= self.scale {
            self.mantissa.checked_mul(pow10(scale - self.scale))
        } else {
            let p = pow10(self.scale - scale);
            (self.mantissa % p == 0).then_some(self.mantissa / p)
        }
    }

    /// Divides by 100 exactly (a percent into a fraction: Gate's fee `"0.2"` is 0.2%).
    pub fn percent_to_fraction(self) -> Decimal {
        Decimal {
            mantissa: self.mantissa,
            scale: self.scale + 2,
        }
    }

    pub fn is_zero(self) -> bool {
        self.mantissa == 0
    }

    /// Number of decimals needed to write this value (`0.001` -> 3, `10` -> 0).
    pub fn decimals(self) -> u32 {
        self.scale
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&fixed::format_scaled(self.mantissa as i128, self.scale))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_at_its_own_precision() {
        assert_eq!(
            Decimal::parse("0.0005").unwrap(),
            Decimal {
                mantissa: 5,
                scale: 4
            }
        );
        assert_eq!(
            Decimal::parse("0.10").unwrap(),
            Decimal::parse("0.1").unwrap()
        );
        assert_eq!(Decimal::parse("3").unwrap().to_scale(2), Some(300));
        assert_eq!(Decimal::parse("0.015").unwrap().to_scale(2), None);
        assert_eq!(
            Decimal::parse("0.2")
                .unwrap()
                .percent_to_fraction()
                .to_string(),
            "0.002"
        );
        assert!(Decimal::parse("-1").is_err());
        assert!(Decimal::parse("abc").is_err());
    }
}
