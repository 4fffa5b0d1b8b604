//! arb-telemetry: see the crate description.
