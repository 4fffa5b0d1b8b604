//! arb-market: see the crate description.
