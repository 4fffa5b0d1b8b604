//! Concurrent two-venue submission: one call that sends two orders to two venues at
//! once and returns both outcomes.
//!
//! Both placements are polled by one `join!`: each future signs its request and hands
//! it to its own connection task (hyper writes on a per-connection task) before
//! yielding, so neither leg waits for the other's round trip, and no task spawn or
//! channel hop is added on the hot path.

use crate::client::VenueClient;
use crate::error::ExecError;
use crate::lifecycle::OrderState;
use crate::order::{OrderRequest, PreparedOrder};

/// The outcomes of both legs, in the order given.
pub type PairOutcome = (Result<OrderState, ExecError>, Result<OrderState, ExecError>);

/// Places `a` on `venue_a` and `b` on `venue_b` concurrently.
pub async fn submit_pair(
    venue_a: &VenueClient,
    a: &OrderRequest,
    venue_b: &VenueClient,
    b: &OrderRequest,
) -> PairOutcome {
    tokio::join!(venue_a.place(a), venue_b.place(b))
}

/// [`submit_pair`] for orders prepared in advance (quantized and checked off the
/// critical path).
pub async fn submit_pair_prepared(
    venue_a: &VenueClient,
    a: &PreparedOrder,
    venue_b: &VenueClient,
    b: &PreparedOrder,
) -> PairOutcome {
    tokio::join!(venue_a.place_prepared(a), venue_b.place_prepared(b))
}
