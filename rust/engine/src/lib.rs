//! arb-engine: see the crate description.
