//! The venues: one folder per venue with its adapter (signing, endpoints, parsers,
//! error classification, documented limits, client-id wire format, private stream,
//! capabilities), and the registry that picks one by [`Venue`].

use arb_core::{Venue, VenueKind};

use crate::venue_api::VenueApi;

pub mod gate;
pub mod mexc;

static MEXC: mexc::MexcApi = mexc::MexcApi;
static GATE: gate::GateApi = gate::GateApi;

/// The adapter of `venue`: the one place that chooses by venue.
pub fn adapter_for(venue: Venue) -> &'static dyn VenueApi {
    match venue.kind() {
        VenueKind::Mexc => &MEXC,
        VenueKind::Gate => &GATE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_venue_has_its_own_adapter() {
        let b = Venue::register("mexc_adapter_test", VenueKind::Mexc).unwrap();
        for v in [Venue::MEXC, Venue::GATE, b] {
            assert_eq!(adapter_for(v).kind(), v.kind());
        }
    }
}
