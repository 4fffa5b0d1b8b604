//! Python bindings for arb-sim. Registered from `lib.rs`; owned by the sim work.

use pyo3::prelude::*;

pub fn register(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}
