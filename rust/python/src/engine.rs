//! Python bindings for arb-engine. Registered from `lib.rs`; owned by the engine work.

use pyo3::prelude::*;

pub fn register(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}
