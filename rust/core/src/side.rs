//! The side of an order or a fill: the one `Side` every crate uses (a book's side is
//! `arb_market::BookSide`, bid or ask).

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    pub const fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        }
    }

    pub const fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }

    /// Parses `buy`/`BUY`/`sell`/`SELL` and MEXC's numeric trade type (1 buy, 2 sell).
    pub fn parse(s: &str) -> Option<Side> {
        match s {
            "buy" | "BUY" | "Buy" | "1" => Some(Side::Buy),
            "sell" | "SELL" | "Sell" | "2" => Some(Side::Sell),
            _ => None,
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_venues_spellings_and_round_trips() {
        for s in [Side::Buy, Side::Sell] {
            assert_eq!(Side::parse(s.as_str()), Some(s));
            assert_eq!(s.opposite().opposite(), s);
        }
        assert_eq!(Side::parse("2"), Some(Side::Sell));
        assert_eq!(Side::parse("BUY"), Some(Side::Buy));
        assert_eq!(Side::parse("short"), None);
    }
}
