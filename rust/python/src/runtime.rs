//! The one process-wide tokio runtime owned by the native module, and the gate every
//! Rust thread passes to enter Python.
//!
//! Every Rust task (feeds, order submission, the simulator) runs here. It lives in a
//! `OnceLock` because `pyo3-async-runtimes` needs a `&'static Runtime` to turn Rust
//! futures into awaitables, and because Python may call in from any thread: spawning
//! goes through the handle, never a bare `tokio::spawn` (which panics outside a runtime).
//!
//! Shutdown: `shutdown()` (registered with `atexit` by the Python package) closes the
//! gate, cancels the process-wide token that long-running tasks select on, and waits
//! (bounded, with the interpreter lock released) until every Rust thread already inside
//! Python has left. After it returns no Rust thread enters Python again: a thread that
//! attaches while the interpreter finalizes crashes the process (`PyGILState_Release ...
//! Python runtime state: finalizing`), which turns a clean exit code into -6/-11 and can
//! lose the last journal writes or alerts. A check of a flag followed by a plain
//! `Python::attach` is not enough, since finalization can start between the two; the
//! gate counts the threads between its check and their leaving Python, and `shutdown`
//! waits for that count. Idle worker threads do not keep the process alive.

use std::cell::OnceCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3_async_runtimes::generic::{ContextExt, Runtime as AsyncRuntime};
use pyo3_async_runtimes::TaskLocals;
use tokio::runtime::Runtime;
use tokio_util::sync::CancellationToken;

static RUNTIME: OnceLock<Runtime> = OnceLock::new();
static SHUTDOWN: OnceLock<CancellationToken> = OnceLock::new();
static SHUTTING_DOWN: AtomicBool = AtomicBool::new(false);
/// Rust threads between the gate's check and their leaving Python.
static INSIDE: AtomicUsize = AtomicUsize::new(0);

/// How long `shutdown` waits for Rust threads still inside Python. A callback that runs
/// longer is abandoned (said on stderr) rather than hanging the exit.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(2);

/// The runtime, created on first use with one worker per core.
pub fn runtime() -> &'static Runtime {
    RUNTIME.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("arbhybrid-rt")
            .build()
            .expect("failed to build the tokio runtime");
        rt
    })
}

/// Registers our runtime with pyo3-async-runtimes (for anything that asks it for the
/// runtime), and the panic hook that logs (scrubbed), counts and alerts every panic of
/// every task.
pub fn install() {
    arb_telemetry::panics::install_hook();
    let rt = runtime();
    // Fails only if already set, which is fine (module imported twice in one process).
    let _ = pyo3_async_runtimes::tokio::init_with_runtime(rt);
}

/// Cancelled when the process shuts down; long-running tasks select on it.
pub fn shutdown_token() -> CancellationToken {
    SHUTDOWN.get_or_init(CancellationToken::new).clone()
}

/// True once `shutdown()` ran: nothing may call into Python any more.
pub fn is_shutting_down() -> bool {
    SHUTTING_DOWN.load(Ordering::SeqCst)
}

/// The gate: runs `f` attached to the interpreter, or returns `None` once `shutdown`
/// closed the gate (or the interpreter cannot be attached to). Every entry into Python
/// from a thread Python did not start goes through here.
pub fn with_python<R>(f: impl for<'py> FnOnce(Python<'py>) -> R) -> Option<R> {
    let _inside = enter()?;
    Python::try_attach(f)
}

/// Passes the gate without attaching yet: while the returned guard lives, `shutdown`
/// waits, so the holder may attach (once or several times). `None` once shut down.
fn enter() -> Option<Inside> {
    // Count ourselves in before looking at the flag, and `shutdown` sets the flag before
    // reading the count (both SeqCst): either we see the flag, or it waits for us.
    INSIDE.fetch_add(1, Ordering::SeqCst);
    let inside = Inside;
    if SHUTTING_DOWN.load(Ordering::SeqCst) && !attached() {
        return None;
    }
    Some(inside)
}

/// True on a thread that has a Python thread state already (a Python thread calling
/// into us, or a Rust thread inside an attach): it is alive in Python by definition and
/// may go on even after shutdown.
fn attached() -> bool {
    // SAFETY: only reads the calling thread's own thread-state slot; no lock needed.
    unsafe { !pyo3::ffi::PyGILState_GetThisThreadState().is_null() }
}

/// A thread counted inside the gate; counted out on drop, also when it unwinds.
struct Inside;

impl Drop for Inside {
    fn drop(&mut self) {
        INSIDE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// [`with_python`] for work that returns a `PyResult`: a closed gate is an error.
pub fn attach<T>(f: impl for<'py> FnOnce(Python<'py>) -> PyResult<T>) -> PyResult<T> {
    with_python(f).unwrap_or_else(|| {
        Err(PyRuntimeError::new_err(
            "the process is shutting down: not calling into Python",
        ))
    })
}

/// Turns a Rust future into a Python awaitable run on our runtime. Like
/// `pyo3_async_runtimes::tokio::future_into_py`, except that the result is handed to
/// Python through the gate: after shutdown a pending future is never completed (the
/// loop that awaited it is going away with the interpreter).
pub fn future_into_py<F, T>(py: Python<'_>, fut: F) -> PyResult<Bound<'_, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'py> IntoPyObject<'py> + Send + 'static,
{
    pyo3_async_runtimes::generic::future_into_py::<Gated, F, T>(py, fut)
}

/// The pyo3-async-runtimes runtime behind [`future_into_py`]: our tokio runtime, with
/// the blocking closures (the ones that attach to set the Python future's result) run
/// through the gate.
struct Gated;

tokio::task_local! {
    static TASK_LOCALS: OnceCell<TaskLocals>;
}

impl AsyncRuntime for Gated {
    type JoinError = tokio::task::JoinError;
    type JoinHandle = tokio::task::JoinHandle<()>;

    fn spawn<F>(fut: F) -> Self::JoinHandle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        runtime().spawn(fut)
    }

    fn spawn_blocking<F>(f: F) -> Self::JoinHandle
    where
        F: FnOnce() + Send + 'static,
    {
        runtime().spawn_blocking(move || {
            // `f` attaches itself; the gate keeps the thread counted while it does.
            // A closed gate drops `f` (its Python references are released later by
            // pyo3's pool, which needs no interpreter now).
            if let Some(_inside) = enter() {
                f();
            }
        })
    }
}

impl ContextExt for Gated {
    fn scope<F, R>(locals: TaskLocals, fut: F) -> Pin<Box<dyn Future<Output = R> + Send>>
    where
        F: Future<Output = R> + Send + 'static,
    {
        let cell = OnceCell::new();
        let _ = cell.set(locals);
        Box::pin(TASK_LOCALS.scope(cell, fut))
    }

    fn get_task_locals() -> Option<TaskLocals> {
        TASK_LOCALS
            .try_with(|c| c.get().cloned())
            .unwrap_or_default()
    }
}

/// Closes the gate, stops every long-running task and waits (bounded, interpreter lock
/// released) for the Rust threads still inside Python. Idempotent.
pub fn shutdown(py: Python<'_>) {
    SHUTTING_DOWN.store(true, Ordering::SeqCst);
    shutdown_token().cancel();
    let left = py.detach(|| {
        let deadline = Instant::now() + SHUTDOWN_WAIT;
        loop {
            let n = INSIDE.load(Ordering::SeqCst);
            if n == 0 || Instant::now() >= deadline {
                return n;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    if left > 0 {
        eprintln!("arbhybrid: {left} native thread(s) still inside Python at exit");
    }
}
