//! The one place that converts between book mantissas (integers at a symbol's price or
//! quantity scale), accounting amounts (`Amount`, or raw `i128` mantissas at 18 decimals)
//! and the market crate's decimals. Every rounding direction is stated, and chosen for
//! the safe side (minimums and fees up, what is held or affordable down).

use arb_exec::Amount;

use crate::journal::Dec;

/// An accounting amount (18 decimals) at `scale` decimals, rounded down.
#[inline]
pub fn acct_to_scale(m18: i128, scale: u32) -> i128 {
    if scale >= 18 {
        m18 * 10i128.pow(scale - 18)
    } else {
        m18 / 10i128.pow(18 - scale)
    }
}

/// A mantissa at `scale` decimals as an accounting amount (18 decimals), rounded down.
#[inline]
pub fn scale_to_acct(m: i128, scale: u32) -> i128 {
    if scale >= 18 {
        m / 10i128.pow(scale - 18)
    } else {
        m * 10i128.pow(18 - scale)
    }
}

/// A market-crate decimal at `scale` decimals, rounded up (minimums must be met).
pub(crate) fn parse_dec_at(d: arb_market::Decimal, scale: u32) -> Option<i128> {
    let m = d.mantissa as i128;
    Some(if d.scale <= scale {
        m * 10i128.pow(scale - d.scale)
    } else {
        let p = 10i128.pow(d.scale - scale);
        (m + p - 1) / p
    })
}

/// A market-crate decimal as an exact `Amount`.
pub(crate) fn dec_amount(d: arb_market::Decimal) -> Amount {
    Amount::from_scaled(d.mantissa, d.scale)
}

/// A fee fraction as parts per 10^8, rounded up (never underestimate a fee).
pub(crate) fn fee_ppb8(fee: Amount) -> u64 {
    let m = fee.mantissa().max(0);
    let p = 10i128.pow(10);
    ((m + p - 1) / p) as u64
}

/// An `Amount` (18 decimals) as a mantissa at `scale`, rounded down, as `u64`.
#[inline]
pub(crate) fn amount_at(a: Amount, scale: u32) -> u64 {
    acct_to_scale(a.mantissa(), scale).clamp(0, u64::MAX as i128) as u64
}

/// An `Amount` as the journal's exact decimal (all 18 decimals; the text drops trailing
/// zeros).
#[inline]
pub(crate) fn amount_dec(a: Amount) -> Dec {
    Dec::new(a.mantissa(), 18)
}
