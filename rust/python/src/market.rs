//! Python bindings for arb-market. Registered from `lib.rs`; owned by the market work.

use pyo3::prelude::*;

pub fn register(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}
