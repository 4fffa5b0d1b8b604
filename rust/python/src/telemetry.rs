//! Python bindings for arb-telemetry. Registered from `lib.rs`; owned by the telemetry work.

use pyo3::prelude::*;

pub fn register(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}
