//! arb-sim: see the crate description.
