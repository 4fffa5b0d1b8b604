//! The two venues arbhybrid trades on.

use std::fmt;
use std::str::FromStr;

/// A trading venue. `repr(u8)` so it can index small per-venue arrays on the hot path.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
#[repr(u8)]
pub enum Venue {
    Mexc = 0,
    #[serde(rename = "gateio", alias = "gate")]
    Gate = 1,
}

impl Venue {
    pub const ALL: [Venue; 2] = [Venue::Mexc, Venue::Gate];

    /// The configuration / display name (`mexc`, `gateio`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Venue::Mexc => "mexc",
            Venue::Gate => "gateio",
        }
    }

    pub const fn index(self) -> usize {
        self as usize
    }

    /// The other venue of the pair.
    pub const fn other(self) -> Venue {
        match self {
            Venue::Mexc => Venue::Gate,
            Venue::Gate => Venue::Mexc,
        }
    }
}

impl fmt::Display for Venue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for an unknown venue name; carries the name that was given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown venue {0:?} (expected \"mexc\" or \"gateio\")")]
pub struct UnknownVenue(pub String);

impl FromStr for Venue {
    type Err = UnknownVenue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "mexc" => Ok(Venue::Mexc),
            "gateio" | "gate" | "gate.io" => Ok(Venue::Gate),
            _ => Err(UnknownVenue(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for v in Venue::ALL {
            assert_eq!(v.as_str().parse::<Venue>().unwrap(), v);
            assert_eq!(v.other().other(), v);
        }
        assert_eq!("gate".parse::<Venue>().unwrap(), Venue::Gate);
        assert!("binance".parse::<Venue>().is_err());
    }
}
