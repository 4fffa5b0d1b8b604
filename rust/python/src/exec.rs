//! Python bindings for arb-exec. Registered from `lib.rs`; owned by the exec work.

use pyo3::prelude::*;

pub fn register(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}
