//! The venues' market-data adapters, one folder each ([`mexc`], [`gate`]), and the
//! registry: the one place that maps a [`Venue`] to its adapters. Everything outside this
//! folder reaches a venue through [`FeedProtocol`] and [`SymbolFormat`]; a new venue kind
//! is a new folder (with its [`MarketAdapter`]) plus an arm in [`adapter`], and any number
//! of instances of a kind run side by side.

use std::sync::Arc;

use arb_core::{Venue, VenueKind};

use crate::feed::{FeedConfig, FeedVenue};
use crate::protocol::{FeedProtocol, SymbolFormat};
use crate::symbols::{SymbolError, SymbolTable};

pub mod gate;
pub mod mexc;

/// Everything the market layer asks of one venue kind, defined in the kind's folder.
pub struct MarketAdapter {
    /// The feed protocol of an instance, reading its kind's knobs from the config.
    pub feed: fn(&FeedVenue, &Arc<FeedConfig>) -> Arc<dyn FeedProtocol>,
    /// The symbol list format and spelling.
    pub symbols: &'static dyn SymbolFormat,
    /// The production (REST base, public WebSocket) endpoints.
    pub public_endpoints: (&'static str, &'static str),
}

/// The adapter of `kind`: the one place in this crate that chooses by kind.
pub fn adapter(kind: VenueKind) -> &'static MarketAdapter {
    match kind {
        VenueKind::Mexc => &mexc::ADAPTER,
        VenueKind::Gate => &gate::ADAPTER,
    }
}

/// The feed protocol of the instance `at`, reading its kind's knobs from `cfg`.
pub fn feed_protocol(at: &FeedVenue, cfg: &Arc<FeedConfig>) -> Arc<dyn FeedProtocol> {
    (adapter(at.venue.kind()).feed)(at, cfg)
}

/// The production (REST, WebSocket) endpoints of `kind`.
pub fn public_endpoints(kind: VenueKind) -> (&'static str, &'static str) {
    adapter(kind).public_endpoints
}

/// The symbol list format of `venue`.
pub fn symbol_format(venue: Venue) -> &'static dyn SymbolFormat {
    adapter(venue.kind()).symbols
}

impl SymbolTable {
    /// Builds the table from MEXC `GET /api/v3/exchangeInfo` and Gate
    /// `GET /spot/currency_pairs` bodies (either may be absent): the two-venue form of
    /// [`SymbolTable::from_bodies`], kept for its callers.
    ///
    /// # Errors
    /// Invalid JSON, or a field that is present but unreadable (named in the error).
    pub fn from_json(
        mexc_exchange_info: Option<&str>,
        gate_pairs: Option<&str>,
    ) -> Result<Self, SymbolError> {
        let bodies = [(Venue::MEXC, mexc_exchange_info), (Venue::GATE, gate_pairs)];
        Self::from_bodies(bodies.into_iter().filter_map(|(v, b)| Some((v, b?))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_venue_has_its_adapters() {
        let cfg = Arc::new(FeedConfig::default());
        let b = Venue::register("mexc_venues_test", VenueKind::Mexc).unwrap();
        for v in [Venue::MEXC, Venue::GATE, b] {
            assert_eq!(feed_protocol(&FeedVenue::public(v), &cfg).venue(), v);
            assert_eq!(symbol_format(v).kind(), v.kind());
        }
    }
}
