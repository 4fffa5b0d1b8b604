//! arb-exec: see the crate description.
