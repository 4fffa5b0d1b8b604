//! The Rust -> Python event bridge, designed once for every event source.
//!
//! A [`Dispatcher`] belongs to one asyncio loop and one Python callback. Rust tasks
//! `push` events from any thread; the first push into an empty queue schedules one
//! `loop.call_soon_threadsafe(drain)`, and every event pushed before the drain runs
//! rides along in the same batch. So the interpreter is entered once per loop wake-up,
//! not once per event, and the callback receives a `list` of events, on the loop
//! thread. A callback that raises is logged (logger `arbhybrid.bridge`) and counted;
//! the dispatcher and the runtime carry on.
//!
//! Why a `parking_lot::Mutex<Vec<_>>` and not a channel: the drain takes the whole
//! batch with one `mem::take`, and the lock is held only for a push or a swap.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::runtime;

/// Turns one queued event into a Python object; runs on the loop thread.
pub type Convert<E> = fn(Python<'_>, E) -> PyResult<Py<PyAny>>;

struct Shared<E> {
    queue: Mutex<Vec<E>>,
    scheduled: AtomicBool,
    closed: AtomicBool,
    event_loop: Py<PyAny>,
    callback: Py<PyAny>,
    convert: Convert<E>,
    delivered: AtomicU64,
    batches: AtomicU64,
    callback_errors: AtomicU64,
}

/// Counters a dispatcher keeps; exposed to Python by the sources that own one.
#[derive(Clone, Copy, Debug, Default)]
pub struct DispatchStats {
    pub delivered: u64,
    pub batches: u64,
    pub callback_errors: u64,
}

/// Delivers events of type `E` to a Python callback on an asyncio loop, batched.
pub struct Dispatcher<E: Send + 'static> {
    shared: Arc<Shared<E>>,
    drain: Arc<Py<PyAny>>,
}

// Cloning needs no interpreter (an `Arc` each), so a dispatcher can be cloned on any
// thread, also while the process shuts down.
impl<E: Send + 'static> Clone for Dispatcher<E> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
            drain: self.drain.clone(),
        }
    }
}

/// Type-erased drain so one `#[pyclass]` serves every event type.
trait Drainer: Send + Sync {
    fn drain(&self, py: Python<'_>);
}

impl<E: Send + 'static> Drainer for Shared<E> {
    fn drain(&self, py: Python<'_>) {
        // Clear the flag before taking the batch: a push that lands after the take
        // schedules a new drain instead of being stranded.
        self.scheduled.store(false, Ordering::Release);
        let batch = std::mem::take(&mut *self.queue.lock());
        if batch.is_empty() {
            return;
        }
        let n = batch.len() as u64;
        let result = (|| -> PyResult<()> {
            let items = batch
                .into_iter()
                .map(|e| (self.convert)(py, e))
                .collect::<PyResult<Vec<_>>>()?;
            let list = PyList::new(py, items)?;
            self.callback.call1(py, (list,))?;
            Ok(())
        })();
        self.delivered.fetch_add(n, Ordering::Relaxed);
        self.batches.fetch_add(1, Ordering::Relaxed);
        if let Err(err) = result {
            self.callback_errors.fetch_add(1, Ordering::Relaxed);
            log_callback_error(py, &err);
        }
    }
}

/// Logs a callback's exception through Python's `logging` (so it reaches every handler,
/// including the ring logger's), falling back to stderr if even that fails.
pub fn log_callback_error(py: Python<'_>, err: &PyErr) {
    let logged = (|| -> PyResult<()> {
        let logger = py
            .import("logging")?
            .call_method1("getLogger", ("arbhybrid.bridge",))?;
        let kwargs = pyo3::types::PyDict::new(py);
        kwargs.set_item("exc_info", err.value(py))?;
        logger.call_method(
            "error",
            ("event callback raised; event batch dropped by the callback, bridge continues",),
            Some(&kwargs),
        )?;
        Ok(())
    })();
    if logged.is_err() {
        err.print(py);
    }
}

#[pyclass(frozen, name = "_Drain", module = "arbhybrid._native")]
struct Drain {
    inner: Arc<dyn Drainer>,
}

#[pymethods]
impl Drain {
    fn __call__(&self, py: Python<'_>) {
        self.inner.drain(py);
    }
}

impl<E: Send + 'static> Dispatcher<E> {
    /// Creates a dispatcher for `callback` on `event_loop`.
    pub fn new(
        py: Python<'_>,
        event_loop: Py<PyAny>,
        callback: Py<PyAny>,
        convert: Convert<E>,
    ) -> PyResult<Self> {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Vec::with_capacity(256)),
            scheduled: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            event_loop,
            callback,
            convert,
            delivered: AtomicU64::new(0),
            batches: AtomicU64::new(0),
            callback_errors: AtomicU64::new(0),
        });
        let drain = Py::new(
            py,
            Drain {
                inner: shared.clone() as Arc<dyn Drainer>,
            },
        )?
        .into_any();
        Ok(Self {
            shared,
            drain: Arc::new(drain),
        })
    }

    /// Queues an event; returns `false` once the dispatcher is closed (loop closed,
    /// dispatcher stopped or process shutting down), so the source can stop producing.
    pub fn push(&self, event: E) -> bool {
        let s = &self.shared;
        if s.closed.load(Ordering::Acquire) || runtime::is_shutting_down() {
            return false;
        }
        s.queue.lock().push(event);
        if !s.scheduled.swap(true, Ordering::AcqRel) {
            // Through the gate: `None` once the process shuts down.
            let ok = runtime::with_python(|py| {
                s.event_loop
                    .call_method1(py, "call_soon_threadsafe", (self.drain.clone_ref(py),))
                    .is_ok()
            });
            if ok != Some(true) {
                // The loop is closed (or the process shuts down): nobody will ever
                // drain. Stop quietly but keep the fact visible to whoever reads the stats.
                s.closed.store(true, Ordering::Release);
                return false;
            }
        }
        true
    }

    /// Stops delivery; queued events not yet drained are discarded.
    pub fn close(&self) {
        self.shared.closed.store(true, Ordering::Release);
    }

    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }

    pub fn stats(&self) -> DispatchStats {
        let s = &self.shared;
        DispatchStats {
            delivered: s.delivered.load(Ordering::Relaxed),
            batches: s.batches.load(Ordering::Relaxed),
            callback_errors: s.callback_errors.load(Ordering::Relaxed),
        }
    }
}

/// The running asyncio loop of the calling thread (a clear error if there is none).
pub fn running_loop(py: Python<'_>) -> PyResult<Py<PyAny>> {
    Ok(py
        .import("asyncio")?
        .call_method0("get_running_loop")?
        .unbind())
}

// ---------------------------------------------------------------------------------
// A small real event source proving the bridge: a timer stream on the runtime.

/// A timer event: sequence number and the wall-clock nanoseconds it was produced at.
struct Tick {
    seq: u64,
    t_ns: i64,
}

fn tick_to_py(py: Python<'_>, t: Tick) -> PyResult<Py<PyAny>> {
    Ok((t.seq, t.t_ns).into_pyobject(py)?.into_any().unbind())
}

/// A running timer stream; `stop()` ends it. Created by `start_ticker`.
#[pyclass(frozen, module = "arbhybrid._native")]
pub struct Ticker {
    dispatcher: Dispatcher<Tick>,
    stop: tokio_util::sync::CancellationToken,
    done: Arc<AtomicBool>,
}

#[pymethods]
impl Ticker {
    /// Stops producing events. Idempotent.
    fn stop(&self) {
        self.stop.cancel();
    }

    /// True once the stream produced its last event or was stopped.
    #[getter]
    fn done(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }

    /// `{"delivered", "batches", "callback_errors"}`.
    fn stats(&self) -> (u64, u64, u64) {
        let s = self.dispatcher.stats();
        (s.delivered, s.batches, s.callback_errors)
    }
}

/// Starts a timer stream on the runtime that calls `callback([(seq, t_ns), ...])` on the
/// running asyncio loop. `interval_us = 0` produces events as fast as possible (for
/// measuring the bridge); `count` events in all.
#[pyfunction]
#[pyo3(signature = (callback, interval_us, count))]
fn start_ticker(
    py: Python<'_>,
    callback: Py<PyAny>,
    interval_us: u64,
    count: u64,
) -> PyResult<Ticker> {
    let event_loop = running_loop(py)?;
    let dispatcher = Dispatcher::new(py, event_loop, callback, tick_to_py as Convert<Tick>)?;
    let stop = runtime::shutdown_token().child_token();
    let done = Arc::new(AtomicBool::new(false));
    let (d, s, dn) = (dispatcher.clone(), stop.clone(), done.clone());
    runtime::runtime().spawn(async move {
        let mut interval = (interval_us > 0).then(|| {
            let mut i = tokio::time::interval(Duration::from_micros(interval_us));
            i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            i
        });
        for seq in 0..count {
            if let Some(i) = interval.as_mut() {
                tokio::select! {
                    _ = s.cancelled() => break,
                    _ = i.tick() => {}
                }
            } else if s.is_cancelled() {
                break;
            }
            if !d.push(Tick {
                seq,
                t_ns: arb_core::time::now_ns(),
            }) {
                break;
            }
            if interval.is_none() && seq % 64 == 63 {
                tokio::task::yield_now().await;
            }
        }
        dn.store(true, Ordering::Release);
    });
    Ok(Ticker {
        dispatcher,
        stop,
        done,
    })
}

/// An awaitable Rust call: returns `value` after one hop through the runtime. Used to
/// measure the cost of awaiting a Rust future from Python.
#[pyfunction]
fn echo<'py>(py: Python<'py>, value: Py<PyAny>) -> PyResult<Bound<'py, PyAny>> {
    runtime::future_into_py(py, async move { Ok(value) })
}

/// An awaitable that sleeps on the runtime's timer (proves futures really run there).
#[pyfunction]
fn sleep_ms<'py>(py: Python<'py>, ms: u64) -> PyResult<Bound<'py, PyAny>> {
    runtime::future_into_py(py, async move {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        Ok(ms)
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Ticker>()?;
    m.add_function(wrap_pyfunction!(start_ticker, m)?)?;
    m.add_function(wrap_pyfunction!(echo, m)?)?;
    m.add_function(wrap_pyfunction!(sleep_ms, m)?)?;
    Ok(())
}
