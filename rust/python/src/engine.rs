//! Python bindings for arb-engine: start the engine (awaitable), receive its events on
//! the asyncio loop (batched, through the bridge), approve trades in `veto` mode (a
//! direct call into Python on the engine's thread), read
//! its state, change parameters while it runs, halt/resume and shut it down.

use std::sync::Arc;
use std::time::Duration;

use arb_engine::config::{EngineConfig, RiskConfig, StrategyConfig};
use arb_engine::runner::{Engine, EngineEvent, EventSink, VetoFn, VetoRequest};
use arb_market::feed::{LogLevel, LogRecord, LogSink};
use arb_telemetry::{Level, Value};
use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use tokio::sync::oneshot;

use crate::bridge::{log_callback_error, running_loop, Convert, Dispatcher};
use crate::errors::{startup_error, value_error};
use crate::runtime;

/// JSON text -> Python object (through the stdlib `json`, which is exact for our
/// decimal strings and ints).
pub fn json_to_py(py: Python<'_>, v: &serde_json::Value) -> PyResult<Py<PyAny>> {
    let text = serde_json::to_string(v).map_err(|e| value_error(e.to_string()))?;
    Ok(py.import("json")?.call_method1("loads", (text,))?.unbind())
}

fn event_to_py(py: Python<'_>, ev: EngineEvent) -> PyResult<Py<PyAny>> {
    json_to_py(py, &serde_json::to_value(ev).unwrap_or_default())
}

/// Answers one veto request: call it with `True` to approve, `False` to refuse.
#[pyclass(frozen, module = "arbhybrid._native")]
struct VetoResponder {
    tx: Mutex<Option<oneshot::Sender<bool>>>,
}

#[pymethods]
impl VetoResponder {
    fn __call__(&self, approve: bool) {
        if let Some(tx) = self.tx.lock().take() {
            let _ = tx.send(approve);
        }
    }
}

/// A veto request as a dict, its string fields set directly: through `json.loads`, as
/// the events go, it cost ~140 us a trade on a thread that enters Python afresh for it.
fn veto_request_to_py(py: Python<'_>, req: VetoRequest) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    if let serde_json::Value::Object(fields) = serde_json::to_value(req).unwrap_or_default() {
        for (k, v) in fields {
            match v {
                serde_json::Value::String(s) => d.set_item(k, s)?,
                other => d.set_item(k, json_to_py(py, &other)?)?,
            }
        }
    }
    Ok(d)
}

/// Asks the Python veto callback about one trade, on the calling thread: builds
/// `[(request_dict, respond)]` and calls `callback` with it. A callback that raises is
/// logged; its trade is refused (the responder is dropped unanswered).
fn ask_python(py: Python<'_>, callback: &Py<PyAny>, req: VetoRequest, tx: oneshot::Sender<bool>) {
    let asked = (|| -> PyResult<()> {
        let d = veto_request_to_py(py, req)?;
        let respond = Py::new(
            py,
            VetoResponder {
                tx: Mutex::new(Some(tx)),
            },
        )?;
        let batch = PyList::new(py, [(d, respond).into_pyobject(py)?])?;
        callback.call1(py, (batch,))?;
        Ok(())
    })();
    if let Err(err) = asked {
        log_callback_error(py, &err);
    }
}

/// Feed log records go into the ring logger (never into Python on the hot path).
fn ring_log_sink() -> LogSink {
    Arc::new(|r: &LogRecord<'_>| {
        let level = match r.level {
            LogLevel::Info => Level::Info,
            LogLevel::Warn => Level::Warn,
            LogLevel::Error => Level::Error,
        };
        arb_telemetry::arb_log!(
            level,
            "arb_market::feed",
            "feed event",
            venue = r.venue,
            event = r.event,
            detail = Value::inline(r.detail)
        );
    })
}

/// A running engine. Created by `await start_engine(config_json, on_event)`.
#[pyclass(frozen, name = "Engine", module = "arbhybrid._native")]
pub struct PyEngine {
    engine: Arc<Engine>,
    events: Option<Dispatcher<EngineEvent>>,
}

#[pymethods]
impl PyEngine {
    /// Everything an operator watches, as a dict.
    fn snapshot(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let v = py.detach(|| self.engine.snapshot());
        json_to_py(py, &v)
    }

    /// Applies new strategy and risk settings (JSON objects of the `strategy:` and
    /// `risk:` sections) while running. Raises ValueError naming the bad key.
    fn update(&self, strategy_json: &str, risk_json: &str) -> PyResult<()> {
        let s: StrategyConfig = serde_json::from_str(strategy_json)
            .map_err(|e| value_error(format!("strategy: {e}")))?;
        let r: RiskConfig =
            serde_json::from_str(risk_json).map_err(|e| value_error(format!("risk: {e}")))?;
        self.engine
            .update(s, r)
            .map_err(|e| value_error(e.to_string()))
    }

    /// Stops new arbitrages (operator halt); running ones finish.
    fn halt(&self) {
        self.engine.set_halt(true);
    }

    /// Clears a halt (operator or kill switch).
    fn resume(&self) {
        self.engine.set_halt(false);
    }

    /// Test hook: the next transaction task (of any engine) panics.
    #[staticmethod]
    fn _panic_next_transaction() {
        Engine::panic_next_transaction();
    }

    /// Test hook: the health task (of any engine) panics at its next round.
    #[staticmethod]
    fn _panic_next_health_check() {
        Engine::panic_next_health_check();
    }

    /// Installs (or removes with None) the veto callback used in `veto` mode:
    /// `callback([(request_dict, respond)])`; call `respond(bool)`. It is called on the
    /// engine's own thread, holding the interpreter lock, not on the asyncio loop: a trip
    /// through the loop cost two thread wake-ups per trade (p50 ~400 us, and a tail of
    /// tens of ms whenever the loop thread was not scheduled at once on a loaded
    /// machine), where a direct call costs the lock and the rule (BENCHMARKS.md,
    /// "Tick-to-trade"). An answer after the engine's timeout refuses the trade.
    fn set_veto(&self, callback: Option<Py<PyAny>>) {
        let f: Option<VetoFn> = callback.map(|cb| -> VetoFn {
            Arc::new(move |req: VetoRequest| {
                let (tx, rx) = oneshot::channel();
                // Through the gate: after shutdown `tx` is dropped, which refuses.
                runtime::with_python(|py| ask_python(py, &cb, req, tx));
                rx
            })
        });
        self.engine.set_veto(f);
    }

    /// Halts, waits for running transactions (up to `timeout_s`), stops feeds and
    /// streams, flushes the journal. Awaitable.
    #[pyo3(signature = (timeout_s = 10.0))]
    fn shutdown<'py>(&self, py: Python<'py>, timeout_s: f64) -> PyResult<Bound<'py, PyAny>> {
        let engine = self.engine.clone();
        let events = self.events.clone();
        runtime::future_into_py(py, async move {
            engine
                .shutdown(Duration::from_secs_f64(timeout_s.max(0.0)))
                .await;
            // The callback is not called after shutdown returns.
            if let Some(d) = events {
                d.close();
            }
            Ok(())
        })
    }
}

/// Starts the engine with `config_json` (see `arbhybrid.engine.engine_config`);
/// `on_event(list_of_event_dicts)` runs on the current asyncio loop. Awaitable; raises
/// RuntimeError naming the venue when a venue rejects the credentials.
#[pyfunction]
#[pyo3(signature = (config_json, on_event = None))]
fn start_engine<'py>(
    py: Python<'py>,
    config_json: &str,
    on_event: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let cfg: EngineConfig = serde_json::from_str(config_json)
        .map_err(|e| value_error(format!("engine configuration: {e}")))?;
    for v in &cfg.venues {
        arb_telemetry::register_secret(v.api_secret.expose());
    }
    let events = match on_event {
        Some(cb) => Some(Dispatcher::new(
            py,
            running_loop(py)?,
            cb,
            event_to_py as Convert<EngineEvent>,
        )?),
        None => None,
    };
    // The engine's hot path only sends into a channel; a forwarder task on the runtime
    // hands events to the bridge (which may take the interpreter lock to wake the
    // loop), so a busy interpreter can never delay an order.
    let sink: Option<EventSink> = events.clone().map(|d| {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<EngineEvent>();
        runtime::runtime().spawn(async move {
            while let Some(ev) = rx.recv().await {
                if !d.push(ev) {
                    break;
                }
            }
        });
        let f: EventSink = Arc::new(move |ev| {
            let _ = tx.send(ev);
        });
        f
    });
    let _guard = runtime::runtime().enter();
    runtime::future_into_py(py, async move {
        let engine = Engine::start(cfg, ring_log_sink())
            .await
            .map_err(|e| startup_error(e.to_string()))?;
        engine.set_event_sink(sink);
        runtime::attach(|py| {
            Py::new(
                py,
                PyEngine {
                    engine: Arc::new(engine),
                    events,
                },
            )
        })
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyEngine>()?;
    m.add_class::<VetoResponder>()?;
    m.add_function(wrap_pyfunction!(start_engine, m)?)?;
    Ok(())
}
