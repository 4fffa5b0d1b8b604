//! Exact fixed-point numbers.
//!
//! Prices and sizes are held as integers scaled by a power of ten chosen per symbol
//! (`value = mantissa / 10^scale`). Venues send decimal strings; [`parse_scaled`] turns
//! one into a mantissa without ever touching floating point, and [`format_scaled`]
//! writes it back. Trailing zeros past the scale are accepted ("0.10000000" at scale 2);
//! a non-zero digit past the scale is an error, because silently rounding a venue's
//! price would make the local book disagree with the venue's.

use std::fmt::Write as _;

/// Largest scale supported: 10^18 still fits in a `u64`.
pub const MAX_SCALE: u32 = 18;

const POW10: [u64; 20] = {
    let mut t = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// `10^exp` as a `u64`. `exp` must be at most 19.
#[inline]
pub const fn pow10(exp: u32) -> u64 {
    POW10[exp as usize]
}

/// Why a decimal string could not be turned into a fixed-point number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FixedError {
    #[error("empty number")]
    Empty,
    #[error("invalid character {ch:?} at byte {pos} in number")]
    InvalidChar { ch: char, pos: usize },
    #[error("number has non-zero digits beyond {scale} decimals")]
    TooPrecise { scale: u32 },
    #[error("number does not fit in 64 bits at {scale} decimals")]
    Overflow { scale: u32 },
    #[error("negative number where only non-negative is allowed")]
    Negative,
    #[error("scale {0} is above the supported maximum of 18")]
    ScaleTooLarge(u32),
}

/// Parses a non-negative decimal string (`"123"`, `"0.0105"`, `"5."`, `".5"`) into a
/// mantissa at `scale` decimals.
///
/// # Errors
/// Empty input, a character other than digits and one `.`, a sign, a non-zero digit
/// beyond `scale` decimals, or a value too large for `u64`.
#[inline]
pub fn parse_scaled(s: &str, scale: u32) -> Result<u64, FixedError> {
    parse_scaled_bytes(s.as_bytes(), scale)
}

/// [`parse_scaled`] on raw bytes (for parsers that have not built a `&str`).
///
/// # Errors
/// As [`parse_scaled`].
#[inline]
pub fn parse_scaled_bytes(b: &[u8], scale: u32) -> Result<u64, FixedError> {
    if scale > MAX_SCALE {
        return Err(FixedError::ScaleTooLarge(scale));
    }
    if b.is_empty() {
        return Err(FixedError::Empty);
    }
    if b[0] == b'-' {
        return Err(FixedError::Negative);
    }
    let mut acc: u64 = 0;
    let mut frac_digits: u32 = 0;
    let mut seen_dot = false;
    let mut seen_digit = false;
    for (pos, &c) in b.iter().enumerate() {
        match c {
            b'0'..=b'9' => {
                seen_digit = true;
                let d = (c - b'0') as u64;
                if seen_dot {
                    if frac_digits >= scale {
                        if d != 0 {
                            return Err(FixedError::TooPrecise { scale });
                        }
                        continue;
                    }
                    frac_digits += 1;
                }
                acc = acc
                    .checked_mul(10)
                    .and_then(|v| v.checked_add(d))
                    .ok_or(FixedError::Overflow { scale })?;
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => return Err(FixedError::InvalidChar { ch: c as char, pos }),
        }
    }
    if !seen_digit {
        return Err(FixedError::Empty);
    }
    acc.checked_mul(pow10(scale - frac_digits))
        .ok_or(FixedError::Overflow { scale })
}

/// Parses a possibly negative decimal string into a signed mantissa.
///
/// # Errors
/// As [`parse_scaled`], except that a leading `-` is accepted.
pub fn parse_scaled_signed(s: &str, scale: u32) -> Result<i64, FixedError> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let m = parse_scaled(digits, scale)?;
    let m = i64::try_from(m).map_err(|_| FixedError::Overflow { scale })?;
    Ok(if neg { -m } else { m })
}

/// Writes `mantissa / 10^scale` as a plain decimal, trimming trailing fractional zeros
/// (`12300` at scale 4 -> `"1.23"`; `5` at scale 0 -> `"5"`).
pub fn format_scaled(mantissa: i128, scale: u32) -> String {
    let mut s = String::with_capacity(24);
    write_scaled(&mut s, mantissa, scale, false);
    s
}

/// Writes `mantissa / 10^scale` with exactly `scale` decimals (`12300` at 4 -> `"1.2300"`).
/// Venues that check precision accept this form; it is what orders are sent with.
pub fn format_scaled_fixed(mantissa: i128, scale: u32) -> String {
    let mut s = String::with_capacity(24);
    write_scaled(&mut s, mantissa, scale, true);
    s
}

/// Appends the decimal form of `mantissa / 10^scale` to `out`.
pub fn write_scaled(out: &mut String, mantissa: i128, scale: u32, keep_zeros: bool) {
    if mantissa < 0 {
        out.push('-');
    }
    let m = mantissa.unsigned_abs();
    let p = 10u128.pow(scale);
    let int = m / p;
    let frac = m % p;
    let _ = write!(out, "{int}");
    if scale == 0 {
        return;
    }
    if frac == 0 && !keep_zeros {
        return;
    }
    let mut digits = format!("{frac:0width$}", width = scale as usize);
    if !keep_zeros {
        while digits.ends_with('0') {
            digits.pop();
        }
    }
    out.push('.');
    out.push_str(&digits);
}

/// How to round when a value is moved to a coarser scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Round {
    Down,
    Up,
}

/// Moves a mantissa from scale `from` to scale `to`, rounding as asked when `to < from`.
/// Returns `None` on overflow.
pub fn rescale(m: u64, from: u32, to: u32, round: Round) -> Option<u64> {
    if to >= from {
        m.checked_mul(pow10(to - from))
    } else {
        let p = pow10(from - to);
        let q = m / p;
        if round == Round::Up && m % p != 0 {
            q.checked_add(1)
        } else {
            Some(q)
        }
    }
}

/// Rounds a mantissa at `scale` down (or up) to a multiple of `10^(scale - decimals)`,
/// i.e. to `decimals` decimal places, staying at `scale`.
pub fn quantize(m: u64, scale: u32, decimals: u32, round: Round) -> Option<u64> {
    if decimals >= scale {
        return Some(m);
    }
    let p = pow10(scale - decimals);
    rescale(m, scale, decimals, round).and_then(|q| q.checked_mul(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_venue_forms() {
        assert_eq!(parse_scaled("19137.74", 2).unwrap(), 1_913_774);
        assert_eq!(parse_scaled("0.00010616", 8).unwrap(), 10_616);
        assert_eq!(parse_scaled("20.51071557", 8).unwrap(), 2_051_071_557);
        assert_eq!(parse_scaled("0.10000000", 2).unwrap(), 10);
        assert_eq!(parse_scaled("5", 3).unwrap(), 5_000);
        assert_eq!(parse_scaled("5.", 1).unwrap(), 50);
        assert_eq!(parse_scaled(".5", 1).unwrap(), 5);
        assert_eq!(parse_scaled("0", 8).unwrap(), 0);
    }

    #[test]
    fn rejects_bad_input_precisely() {
        assert_eq!(parse_scaled("", 2), Err(FixedError::Empty));
        assert_eq!(parse_scaled(".", 2), Err(FixedError::Empty));
        assert_eq!(
            parse_scaled("1.234", 2),
            Err(FixedError::TooPrecise { scale: 2 })
        );
        assert_eq!(
            parse_scaled("1e5", 2),
            Err(FixedError::InvalidChar { ch: 'e', pos: 1 })
        );
        assert_eq!(parse_scaled("-1", 2), Err(FixedError::Negative));
        assert_eq!(
            parse_scaled("1.2.3", 2),
            Err(FixedError::InvalidChar { ch: '.', pos: 3 })
        );
        assert_eq!(
            parse_scaled("99999999999999999999", 0),
            Err(FixedError::Overflow { scale: 0 })
        );
        assert_eq!(parse_scaled("1", 19), Err(FixedError::ScaleTooLarge(19)));
    }

    #[test]
    fn formats() {
        assert_eq!(format_scaled(1_913_774, 2), "19137.74");
        assert_eq!(format_scaled(12_300, 4), "1.23");
        assert_eq!(format_scaled(5, 0), "5");
        assert_eq!(format_scaled(-1_500, 3), "-1.5");
        assert_eq!(format_scaled(7, 3), "0.007");
        assert_eq!(format_scaled_fixed(12_300, 4), "1.2300");
        assert_eq!(format_scaled_fixed(0, 2), "0.00");
    }

    #[test]
    fn signed_and_rounding() {
        assert_eq!(parse_scaled_signed("-0.25", 2).unwrap(), -25);
        assert_eq!(parse_scaled_signed("+3", 1).unwrap(), 30);
        assert_eq!(rescale(1_234_567, 6, 2, Round::Down), Some(123));
        assert_eq!(rescale(1_234_567, 6, 2, Round::Up), Some(124));
        assert_eq!(rescale(1_230_000, 6, 2, Round::Up), Some(123));
        assert_eq!(rescale(5, 0, 3, Round::Down), Some(5_000));
        assert_eq!(quantize(1_234_567, 6, 2, Round::Down), Some(1_230_000));
        assert_eq!(quantize(1_234_567, 6, 2, Round::Up), Some(1_240_000));
    }

    proptest! {
        #[test]
        fn format_then_parse_is_identity(m in 0u64..u64::MAX / 10, scale in 0u32..=12) {
            let s = format_scaled(m as i128, scale);
            prop_assert_eq!(parse_scaled(&s, scale).unwrap(), m);
            let f = format_scaled_fixed(m as i128, scale);
            prop_assert_eq!(parse_scaled(&f, scale).unwrap(), m);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,24}", scale in 0u32..=20) {
            let _ = parse_scaled(&s, scale);
            let _ = parse_scaled_signed(&s, scale);
        }
    }
}
