//! The `arbhybrid._native` extension module: thin `Py*` wrappers over the pure-Rust
//! crates (`arb-core`, `arb-market`, `arb-exec`, `arb-sim`, `arb-telemetry`,
//! `arb-engine`), the process-wide runtime and the event bridge. Each area registers
//! its own classes from its own file.

use pyo3::prelude::*;

pub mod bridge;
pub mod engine;
pub mod errors;
pub mod exec;
pub mod market;
pub mod runtime;
pub mod sim;
pub mod telemetry;
pub mod wallet;

/// Stops every long-running Rust task; called by the package's `atexit` hook.
#[pyfunction]
fn shutdown(py: Python<'_>) {
    runtime::shutdown(py);
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    runtime::install();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(shutdown, m)?)?;
    errors::register(m)?;
    bridge::register(m)?;
    telemetry::register(m)?;
    market::register(m)?;
    exec::register(m)?;
    wallet::register(m)?;
    sim::register(m)?;
    engine::register(m)?;
    Ok(())
}
