//! Python bindings for arb-sim: `arbhybrid._native.Simulator`, a thin wrapper that
//! starts the simulator on the process-wide runtime and hands ground truth back as plain
//! Python dicts/lists (built from JSON, so the shapes match the admin HTTP API).

use arb_sim::state::VenueState;
use arb_sim::{SimConfig, Simulator};
use parking_lot::Mutex;
use pyo3::prelude::*;

use crate::errors::{startup_error, value_error};
use crate::runtime::runtime;

/// A simulator configured from JSON (the fields of `arb_sim::SimConfig`; all optional).
#[pyclass(name = "Simulator", module = "arbhybrid._native")]
pub struct PySimulator {
    config: SimConfig,
    inner: Mutex<Option<Simulator>>,
}

fn to_py(py: Python<'_>, v: &serde_json::Value) -> PyResult<Py<PyAny>> {
    let s = serde_json::to_string(v).map_err(|e| startup_error(e.to_string()))?;
    Ok(py.import("json")?.call_method1("loads", (s,))?.unbind())
}

impl PySimulator {
    fn with<T>(&self, f: impl FnOnce(&Simulator) -> T) -> PyResult<T> {
        let g = self.inner.lock();
        let sim = g
            .as_ref()
            .ok_or_else(|| startup_error("simulator is not running (call start())"))?;
        Ok(f(sim))
    }

    /// `f` on the running simulator's instance called `name` (a ValueError naming the
    /// configured instances for an unknown one).
    fn on_venue<T>(&self, name: &str, f: impl FnOnce(&VenueState) -> T) -> PyResult<T> {
        self.with(|s| {
            s.shared()
                .lookup(name)
                .map(f)
                .map_err(|e| value_error(e.to_string()))
        })?
    }
}

#[pymethods]
impl PySimulator {
    #[new]
    #[pyo3(signature = (config_json = "{}"))]
    fn new(config_json: &str) -> PyResult<Self> {
        let config: SimConfig = serde_json::from_str(config_json)
            .map_err(|e| value_error(format!("simulator config: {e}")))?;
        Ok(PySimulator {
            config,
            inner: Mutex::new(None),
        })
    }

    /// Starts the simulator; returns its endpoints and the test accounts:
    /// `{mexc_rest, mexc_ws, gate_rest, gate_ws, admin, venues: [{name, kind, rest, ws},
    /// ...], accounts: {mexc: {api_key, api_secret}, gateio: {...}, ...}}` (every
    /// instance, `venues` in config order, `accounts` by instance name).
    fn start(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        if self.inner.lock().is_some() {
            return Err(startup_error("simulator already started"));
        }
        let cfg = self.config.clone();
        let sim = py
            .detach(|| runtime().block_on(Simulator::start(cfg)))
            .map_err(|e| startup_error(e.to_string()))?;
        let mut v =
            serde_json::to_value(sim.endpoints()).map_err(|e| startup_error(e.to_string()))?;
        v["accounts"] = sim.shared().accounts_json();
        *self.inner.lock() = Some(sim);
        to_py(py, &v)
    }

    /// `{version, bids: [[price, qty]...], asks: [...]}` best first, or None.
    fn truth_book(
        &self,
        py: Python<'_>,
        venue_name: &str,
        venue_symbol: &str,
        depth: usize,
    ) -> PyResult<Py<PyAny>> {
        let book = self.on_venue(venue_name, |v| v.truth_book(venue_symbol, depth))?;
        to_py(py, &serde_json::to_value(book).unwrap_or_default())
    }

    /// `{asset: [free, locked]}`.
    fn balances(&self, py: Python<'_>, venue_name: &str, api_key: &str) -> PyResult<Py<PyAny>> {
        let b = self.on_venue(venue_name, |v| v.truth_balances(api_key))?;
        to_py(py, &serde_json::to_value(b).unwrap_or_default())
    }

    fn orders(&self, py: Python<'_>, venue_name: &str, api_key: &str) -> PyResult<Py<PyAny>> {
        let o = self.on_venue(venue_name, |v| v.truth_orders(api_key))?;
        to_py(py, &serde_json::to_value(o).unwrap_or_default())
    }

    fn fills(&self, py: Python<'_>, venue_name: &str, api_key: &str) -> PyResult<Py<PyAny>> {
        let f = self.on_venue(venue_name, |v| v.truth_fills(api_key))?;
        to_py(py, &serde_json::to_value(f).unwrap_or_default())
    }

    fn set_market_paused(&self, paused: bool) -> PyResult<()> {
        self.with(|s| s.set_market_paused(paused))
    }

    fn inject_gap(&self, venue_name: &str, venue_symbol: &str) -> PyResult<()> {
        self.on_venue(venue_name, |v| v.inject_gap(venue_symbol))
    }

    /// Injects a fault from its JSON spec (see `arb_sim::FaultSpec`); returns its id.
    fn inject_fault(&self, spec_json: &str) -> PyResult<u64> {
        let spec: arb_sim::FaultSpec =
            serde_json::from_str(spec_json).map_err(|e| value_error(format!("fault spec: {e}")))?;
        self.with(|s| s.inject_fault(spec))?
            .map_err(|e| value_error(e.to_string()))
    }

    /// Every fault injected, with how often each fired.
    fn faults(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let f = self.with(|s| s.faults())?;
        to_py(py, &f)
    }

    /// Probe-mode tick-to-trade report (microseconds).
    fn referee(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let r = self.with(|s| s.referee())?;
        to_py(py, &r)
    }

    /// Ends every active fault.
    fn clear_faults(&self) -> PyResult<()> {
        self.with(|s| s.clear_faults())
    }

    fn counters(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let c = self.with(|s| s.counters())?;
        to_py(py, &c)
    }

    /// Stops the servers; idempotent.
    fn stop(&self, py: Python<'_>) {
        let sim = self.inner.lock().take();
        if let Some(sim) = sim {
            py.detach(|| runtime().block_on(sim.shutdown()));
        }
    }

    fn __repr__(&self) -> String {
        let running = self.inner.lock().is_some();
        format!(
            "Simulator(seed={}, symbols={:?}, running={running})",
            self.config.seed, self.config.symbols
        )
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySimulator>()?;
    Ok(())
}
