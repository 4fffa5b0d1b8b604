//! Python bindings for arb-telemetry: Python log records into the same ring as Rust's,
//! a direct logger object for hot Python code, metrics access, the `/metrics` server,
//! and alerts delivered to a Python callback through the event bridge.
//!
//! Every function that may wait (flush, shutdown, alert evaluation) releases the
//! interpreter first: the alert thread calls listeners that enter Python, so holding
//! the interpreter while waiting on the alert engine's lock could deadlock.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arb_telemetry::alerts::{AlertEngine, AlertEvent, AlertRunner, Thresholds};
use arb_telemetry::logger::{self, LogSettings};
use arb_telemetry::metrics_server::MetricsServer;
use arb_telemetry::record::{InlineStr, INLINE_CAP, MAX_FIELDS};
use arb_telemetry::{Field, Level, Record, Registry, Text, Value};
use parking_lot::{Mutex, RwLock};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyString};

use crate::bridge::{self, Convert, Dispatcher};
use crate::errors::{resource_error, value_error};

// ---------------------------------------------------------------------------------
// Interning: records carry `&'static str` targets and field keys. Python logger names
// and keyword names are few and long-lived (like `logging.getLogger`'s own cache), so
// each distinct one is leaked once. A cap keeps a misbehaving caller (a new name per
// call) from growing memory without bound: past it, names are shared as "python.other"
// and the overflow is counted.

const INTERN_CAP: usize = 4096;

/// FNV-1a: names are short, so SipHash's per-call setup would dominate the lookup.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type Interned = HashSet<&'static str, BuildHasherDefault<Fnv>>;
static INTERNED: RwLock<Option<Interned>> = RwLock::new(None);
static INTERN_OVERFLOW: AtomicU64 = AtomicU64::new(0);

fn intern(s: &str) -> &'static str {
    if let Some(found) = INTERNED.read().as_ref().and_then(|set| set.get(s).copied()) {
        return found;
    }
    let mut guard = INTERNED.write();
    let set = guard.get_or_insert_with(Interned::default);
    if let Some(found) = set.get(s) {
        return found;
    }
    if set.len() >= INTERN_CAP {
        INTERN_OVERFLOW.fetch_add(1, Ordering::Relaxed);
        return "python.other";
    }
    let leaked: &'static str = Box::leak(s.to_owned().into_boxed_str());
    set.insert(leaked);
    leaked
}

/// A Python value as a field value: exact types first (bool before int: `bool` is an
/// `int` subclass), anything else by `str()`, which is masked for `SecretStr`.
fn to_value(v: &Bound<'_, PyAny>) -> PyResult<Value> {
    if v.is_instance_of::<PyBool>() {
        return Ok(Value::Bool(v.extract()?));
    }
    if v.is_instance_of::<PyInt>() {
        if let Ok(i) = v.extract::<i64>() {
            return Ok(Value::I64(i));
        }
        if let Ok(u) = v.extract::<u64>() {
            return Ok(Value::U64(u));
        }
    }
    if v.is_instance_of::<PyFloat>() {
        return Ok(Value::F64(v.extract()?));
    }
    let text = |s: &str| {
        if s.len() <= INLINE_CAP {
            Value::Inline(InlineStr::new(s))
        } else {
            Value::Owned(s.into())
        }
    };
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(text(s.to_str()?));
    }
    Ok(text(v.str()?.to_str()?))
}

fn value_text(v: &Value) -> String {
    match v {
        Value::I64(x) => x.to_string(),
        Value::U64(x) => x.to_string(),
        Value::F64(x) => x.to_string(),
        Value::Bool(x) => x.to_string(),
        Value::Str(s) => (*s).to_string(),
        Value::Inline(s) => s.as_str().to_string(),
        Value::Owned(s) => s.to_string(),
    }
}

/// Builds a record from Python data. Fields beyond the record's capacity are appended
/// to the message as ` key=value` rather than dropped.
fn python_record(
    level: Level,
    target: &'static str,
    message: &str,
    fields: Option<&Bound<'_, PyDict>>,
    ts_ns: Option<i64>,
) -> PyResult<Record> {
    let mut rec = match ts_ns {
        Some(ts) => Record::with_text(level, target, Text::Static(""), [], ts),
        None => Record::now_with_text(level, target, Text::Static("")),
    };
    let mut msg = String::with_capacity(message.len());
    msg.push_str(message);
    if let Some(f) = fields {
        for (k, v) in f.iter() {
            // `**fields` keys are always `str`; other mappings get `str(key)`.
            let owned;
            let key = match k.cast::<PyString>() {
                Ok(s) => s.to_str()?,
                Err(_) => {
                    owned = k.str()?;
                    owned.to_str()?
                }
            };
            let value = to_value(&v)?;
            if rec.fields().len() < MAX_FIELDS {
                rec.push_field(Field {
                    key: intern(key),
                    value,
                });
            } else {
                msg.push(' ');
                msg.push_str(key);
                msg.push('=');
                msg.push_str(&value_text(&value));
            }
        }
    }
    rec.message = Text::Owned(msg.into_boxed_str());
    Ok(rec)
}

/// Installs the process-wide logger from the `logging:` settings as JSON
/// (`level`, `ring_capacity`, `overflow`, `console`, `file`, `rotate_bytes`, `backups`).
#[pyfunction]
fn configure_logging(py: Python<'_>, settings_json: &str) -> PyResult<()> {
    let settings = LogSettings::from_json(settings_json).map_err(|e| value_error(e.to_string()))?;
    let config = settings
        .to_config()
        .map_err(|e| value_error(e.to_string()))?;
    let file = settings.file.clone();
    py.detach(|| logger::install(config)).map_err(|e| {
        resource_error(format!(
            "logging.file: cannot open {:?}: {e}",
            file.unwrap_or_default()
        ))
    })
}

/// One Python `logging` record into the ring (the handler's call). `created` is the
/// record's Unix time in seconds; `fields` become typed key-value fields.
#[pyfunction]
#[pyo3(signature = (levelno, name, message, created = None, fields = None))]
fn log(
    levelno: i64,
    name: &str,
    message: &str,
    created: Option<f64>,
    fields: Option<&Bound<'_, PyDict>>,
) -> PyResult<()> {
    let level = Level::from_python(levelno);
    let core = logger::global();
    if !core.enabled(level) {
        return Ok(());
    }
    let ts = created.map(|c| (c * 1e9) as i64);
    core.log(python_record(level, intern(name), message, fields, ts)?);
    Ok(())
}

/// A logger for hot Python code: `RingLogger("arbhybrid.strategy").info("msg", qty=3)`.
/// The target is interned once at construction, so a call is a level check, one copy
/// of the message and a push into the ring.
#[pyclass(frozen, module = "arbhybrid._native")]
struct RingLogger {
    target: &'static str,
}

impl RingLogger {
    #[inline]
    fn emit(
        &self,
        level: Level,
        message: &Bound<'_, PyString>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let core = logger::global();
        if !core.enabled(level) {
            return Ok(());
        }
        let msg = message.to_str()?;
        let rec = match fields {
            Some(f) if !f.is_empty() => python_record(level, self.target, msg, Some(f), None)?,
            _ => Record::now_with_text(level, self.target, Text::Owned(msg.into())),
        };
        core.log(rec);
        Ok(())
    }
}

#[pymethods]
impl RingLogger {
    #[new]
    fn new(target: &str) -> Self {
        RingLogger {
            target: intern(target),
        }
    }

    #[getter]
    fn target(&self) -> &'static str {
        self.target
    }

    /// True if a record at Python level `levelno` would be kept.
    fn enabled(&self, levelno: i64) -> bool {
        logger::global().enabled(Level::from_python(levelno))
    }

    #[pyo3(signature = (levelno, message, **fields))]
    fn log(
        &self,
        levelno: i64,
        message: &Bound<'_, PyString>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        self.emit(Level::from_python(levelno), message, fields)
    }

    #[pyo3(signature = (message, **fields))]
    fn debug(
        &self,
        message: &Bound<'_, PyString>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        self.emit(Level::Debug, message, fields)
    }

    #[pyo3(signature = (message, **fields))]
    fn info(
        &self,
        message: &Bound<'_, PyString>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        self.emit(Level::Info, message, fields)
    }

    #[pyo3(signature = (message, **fields))]
    fn warning(
        &self,
        message: &Bound<'_, PyString>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        self.emit(Level::Warn, message, fields)
    }

    #[pyo3(signature = (message, **fields))]
    fn error(
        &self,
        message: &Bound<'_, PyString>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        self.emit(Level::Error, message, fields)
    }

    #[pyo3(signature = (message, **fields))]
    fn critical(
        &self,
        message: &Bound<'_, PyString>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        self.emit(Level::Critical, message, fields)
    }

    fn __repr__(&self) -> String {
        format!("RingLogger({:?})", self.target)
    }
}

/// Sets the process-wide logger's minimum level (Python numeric level).
#[pyfunction]
fn set_log_level(levelno: i64) {
    logger::global().set_level(Level::from_python(levelno));
}

/// Blocks until everything logged so far is written and flushed.
#[pyfunction]
fn flush_logging(py: Python<'_>) {
    py.detach(|| logger::global().flush());
}

/// `{"written", "dropped", "queued", "capacity", "policy", "interned_overflow"}`.
#[pyfunction]
fn logging_stats(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let core = logger::global();
    let s = core.stats();
    let d = PyDict::new(py);
    d.set_item("written", s.written)?;
    d.set_item("dropped", s.dropped)?;
    d.set_item("queued", s.queued)?;
    d.set_item("capacity", s.capacity)?;
    d.set_item("policy", core.overflow_policy().as_str())?;
    d.set_item("interned_overflow", INTERN_OVERFLOW.load(Ordering::Relaxed))?;
    Ok(d)
}

/// Registers a secret value no log output may contain (scrubbed by every backend).
#[pyfunction]
fn register_secret(value: &str) {
    logger::register_secret(value);
}

/// `text` with every registered secret masked: for what reaches the operator without
/// the logger (stderr messages, exception texts).
#[pyfunction]
fn scrub_secrets(text: &str) -> String {
    logger::scrub_secrets(text)
}

// ---------------------------------------------------------------------------------
// Metrics

fn labels_of(labels: Option<&Bound<'_, PyDict>>) -> PyResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    if let Some(d) = labels {
        for (k, v) in d.iter() {
            out.push((k.str()?.to_str()?.to_owned(), v.str()?.to_str()?.to_owned()));
        }
    }
    Ok(out)
}

fn refs(l: &[(String, String)]) -> Vec<(&str, &str)> {
    l.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// The Prometheus text exposition of the global registry.
#[pyfunction]
fn metrics_text(py: Python<'_>) -> String {
    py.detach(|| Registry::global().render())
}

/// Adds `n` to counter `name{labels}`.
#[pyfunction]
#[pyo3(signature = (name, labels = None, n = 1))]
fn counter_add(name: &str, labels: Option<&Bound<'_, PyDict>>, n: u64) -> PyResult<()> {
    let l = labels_of(labels)?;
    Registry::global().counter(name, &refs(&l)).add(n);
    Ok(())
}

/// Sets gauge `name{labels}`.
#[pyfunction]
#[pyo3(signature = (name, value, labels = None))]
fn gauge_set(name: &str, value: f64, labels: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
    let l = labels_of(labels)?;
    Registry::global().gauge(name, &refs(&l)).set(value);
    Ok(())
}

/// Records `ns` nanoseconds into histogram `name{labels}`.
#[pyfunction]
#[pyo3(signature = (name, ns, labels = None))]
fn observe_ns(name: &str, ns: u64, labels: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
    let l = labels_of(labels)?;
    Registry::global().histogram(name, &refs(&l)).record_ns(ns);
    Ok(())
}

/// `{"count", "sum_ns", "p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns"}` of histogram
/// `name{labels}` since start (quantiles are bucket upper bounds, within 6.25 %; `None`
/// when empty).
#[pyfunction]
#[pyo3(signature = (name, labels = None))]
fn histogram_summary<'py>(
    py: Python<'py>,
    name: &str,
    labels: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let l = labels_of(labels)?;
    let s = Registry::global().histogram(name, &refs(&l)).snapshot();
    let d = PyDict::new(py);
    d.set_item("count", s.count())?;
    d.set_item("sum_ns", s.sum())?;
    for (k, q) in [
        ("p50_ns", 0.5),
        ("p90_ns", 0.9),
        ("p99_ns", 0.99),
        ("p999_ns", 0.999),
    ] {
        d.set_item(k, s.quantile(q))?;
    }
    d.set_item("max_ns", s.max())?;
    Ok(d)
}

static METRICS_SERVER: Mutex<Option<MetricsServer>> = Mutex::new(None);

/// Serves the global registry at `http://127.0.0.1:<port>/metrics` (0 = OS picks);
/// returns the port. Replaces a server already running.
#[pyfunction]
fn start_metrics_server(py: Python<'_>, port: u16) -> PyResult<u16> {
    let server = py
        .detach(|| MetricsServer::start(port, Registry::global().clone()))
        .map_err(|e| resource_error(format!("metrics.port: cannot bind 127.0.0.1:{port}: {e}")))?;
    let bound = server.local_addr().port();
    let old = METRICS_SERVER.lock().replace(server);
    py.detach(|| drop(old));
    Ok(bound)
}

/// Stops the `/metrics` server if one runs.
#[pyfunction]
fn stop_metrics_server(py: Python<'_>) {
    let old = METRICS_SERVER.lock().take();
    py.detach(|| drop(old));
}

// ---------------------------------------------------------------------------------
// Alerts

static ALERTS: Mutex<Option<AlertRunner>> = Mutex::new(None);

fn alert_to_py(py: Python<'_>, e: AlertEvent) -> PyResult<Py<PyAny>> {
    let d = PyDict::new(py);
    d.set_item("name", e.name)?;
    d.set_item("severity", e.severity.as_str())?;
    d.set_item("firing", e.firing)?;
    d.set_item("value", e.value)?;
    d.set_item("threshold", e.threshold)?;
    let labels = PyDict::new(py);
    for (k, v) in e.labels {
        labels.set_item(k, v)?;
    }
    d.set_item("labels", labels)?;
    d.set_item("message", e.message)?;
    Ok(d.into_any().unbind())
}

/// Starts alert evaluation every `interval_s` seconds over the global registry.
/// `thresholds_json` overrides defaults by name; an unknown name is a `ValueError`. If
/// the evaluator already runs, only its thresholds change (interval and listeners stay;
/// `stop_alerts()` first to change the interval).
#[pyfunction]
#[pyo3(signature = (thresholds_json = "{}", interval_s = 1.0))]
fn start_alerts(py: Python<'_>, thresholds_json: &str, interval_s: f64) -> PyResult<()> {
    let t = Thresholds::from_json(thresholds_json)
        .map_err(|e| value_error(format!("metrics.alerts: {e}")))?;
    if !(interval_s > 0.0 && interval_s.is_finite()) {
        return Err(value_error("alert interval_s must be > 0"));
    }
    py.detach(|| -> PyResult<()> {
        let mut slot = ALERTS.lock();
        if let Some(runner) = slot.as_ref() {
            runner.engine().lock().set_thresholds(t);
            return Ok(());
        }
        let runner = AlertRunner::start(
            AlertEngine::new(Registry::global().clone(), t),
            Duration::from_secs_f64(interval_s),
        )
        .map_err(|e| resource_error(format!("cannot start the alert thread: {e}")))?;
        *slot = Some(runner);
        Ok(())
    })
}

/// Stops alert evaluation.
#[pyfunction]
fn stop_alerts(py: Python<'_>) {
    let old = ALERTS.lock().take();
    py.detach(|| drop(old));
}

/// Evaluates the alert rules now; returns the state changes as dicts. Starts the
/// evaluator with default thresholds if none runs.
#[pyfunction]
fn evaluate_alerts(py: Python<'_>) -> PyResult<Vec<Py<PyAny>>> {
    if ALERTS.lock().is_none() {
        start_alerts(py, "{}", 1.0)?;
    }
    let events = py.detach(|| {
        ALERTS
            .lock()
            .as_ref()
            .map(|r| r.evaluate_now())
            .unwrap_or_default()
    });
    events.into_iter().map(|e| alert_to_py(py, e)).collect()
}

/// Currently firing alerts as `(name, {labels})`.
#[pyfunction]
fn active_alerts(py: Python<'_>) -> PyResult<Vec<(String, Bound<'_, PyDict>)>> {
    let active = py.detach(|| {
        ALERTS
            .lock()
            .as_ref()
            .map(|r| r.engine().lock().active())
            .unwrap_or_default()
    });
    active
        .into_iter()
        .map(|(n, labels)| {
            let d = PyDict::new(py);
            for (k, v) in labels {
                d.set_item(k, v)?;
            }
            Ok((n.to_string(), d))
        })
        .collect()
}

/// A live alert subscription; `close()` stops delivery.
#[pyclass(frozen, module = "arbhybrid._native")]
struct AlertSubscription {
    dispatcher: Dispatcher<AlertEvent>,
}

#[pymethods]
impl AlertSubscription {
    fn close(&self) {
        self.dispatcher.close();
    }

    #[getter]
    fn closed(&self) -> bool {
        self.dispatcher.is_closed()
    }
}

/// Calls `callback([alert_dict, ...])` on the running asyncio loop for every alert
/// change (batched per loop wake-up). Starts the evaluator with defaults if needed.
#[pyfunction]
fn on_alert(py: Python<'_>, callback: Py<PyAny>) -> PyResult<AlertSubscription> {
    let event_loop = bridge::running_loop(py)?;
    let dispatcher = Dispatcher::new(py, event_loop, callback, alert_to_py as Convert<AlertEvent>)?;
    if ALERTS.lock().is_none() {
        start_alerts(py, "{}", 1.0)?;
    }
    let d = dispatcher.clone();
    py.detach(move || {
        if let Some(r) = ALERTS.lock().as_ref() {
            r.engine()
                .lock()
                .add_listener(Arc::new(move |e: &AlertEvent| {
                    if !d.is_closed() {
                        d.push(e.clone());
                    }
                }));
        }
    });
    Ok(AlertSubscription { dispatcher })
}

/// Stops alerts and the metrics server, then drains and stops the logger. Called by
/// the Python package at exit; idempotent.
#[pyfunction]
fn telemetry_shutdown(py: Python<'_>) {
    let alerts = ALERTS.lock().take();
    let server = METRICS_SERVER.lock().take();
    py.detach(move || {
        drop(alerts);
        drop(server);
        logger::shutdown_global();
    });
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<RingLogger>()?;
    m.add_class::<AlertSubscription>()?;
    m.add_function(wrap_pyfunction!(configure_logging, m)?)?;
    m.add_function(wrap_pyfunction!(log, m)?)?;
    m.add_function(wrap_pyfunction!(set_log_level, m)?)?;
    m.add_function(wrap_pyfunction!(flush_logging, m)?)?;
    m.add_function(wrap_pyfunction!(logging_stats, m)?)?;
    m.add_function(wrap_pyfunction!(register_secret, m)?)?;
    m.add_function(wrap_pyfunction!(scrub_secrets, m)?)?;
    m.add_function(wrap_pyfunction!(metrics_text, m)?)?;
    m.add_function(wrap_pyfunction!(counter_add, m)?)?;
    m.add_function(wrap_pyfunction!(gauge_set, m)?)?;
    m.add_function(wrap_pyfunction!(observe_ns, m)?)?;
    m.add_function(wrap_pyfunction!(histogram_summary, m)?)?;
    m.add_function(wrap_pyfunction!(start_metrics_server, m)?)?;
    m.add_function(wrap_pyfunction!(stop_metrics_server, m)?)?;
    m.add_function(wrap_pyfunction!(start_alerts, m)?)?;
    m.add_function(wrap_pyfunction!(stop_alerts, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate_alerts, m)?)?;
    m.add_function(wrap_pyfunction!(active_alerts, m)?)?;
    m.add_function(wrap_pyfunction!(on_alert, m)?)?;
    m.add_function(wrap_pyfunction!(telemetry_shutdown, m)?)?;
    Ok(())
}
