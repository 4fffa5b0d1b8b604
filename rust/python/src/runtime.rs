//! The one process-wide tokio runtime owned by the native module.
//!
//! Every Rust task (feeds, order submission, the simulator) runs here. It lives in a
//! `OnceLock` because `pyo3-async-runtimes` needs a `&'static Runtime` to turn Rust
//! futures into awaitables, and because Python may call in from any thread: spawning
//! goes through the handle, never a bare `tokio::spawn` (which panics outside a runtime).
//!
//! Shutdown: `shutdown()` (registered with `atexit` by the Python package) cancels the
//! process-wide token that long-running tasks select on and raises a flag the event
//! bridge checks before it touches the interpreter, so no worker thread tries to call
//! into a finalizing interpreter. Idle worker threads do not keep the process alive.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use tokio::runtime::Runtime;
use tokio_util::sync::CancellationToken;

static RUNTIME: OnceLock<Runtime> = OnceLock::new();
static SHUTDOWN: OnceLock<CancellationToken> = OnceLock::new();
static SHUTTING_DOWN: AtomicBool = AtomicBool::new(false);

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

/// Registers our runtime with pyo3-async-runtimes so `future_into_py` uses it, and the
/// panic hook that logs (scrubbed), counts and alerts every panic of every task.
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
    SHUTTING_DOWN.load(Ordering::Acquire)
}

/// Stops every long-running task. Idempotent.
pub fn shutdown() {
    SHUTTING_DOWN.store(true, Ordering::Release);
    shutdown_token().cancel();
}
