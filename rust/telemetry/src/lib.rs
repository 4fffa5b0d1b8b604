//! arb-telemetry: the lock-free ring logger every arbhybrid crate logs through, the
//! metrics registry (counters, gauges, latency histograms) served at `/metrics` in the
//! Prometheus text format, and the alert rules evaluated over those metrics.
//!
//! Logging from any crate:
//! ```
//! use arb_telemetry::arb_info;
//! arb_info!("arb_market::mexc", "book resynced", symbol = "BTC_USDT", depth = 20u32);
//! ```
//! Metrics: `let c = arb_telemetry::metrics::counter("book_updates_total", &[("venue", "mexc")]);`
//! once, then `c.inc()` on the hot path.

pub mod alerts;
pub mod backend;
pub mod clock;
pub mod format;
pub mod histogram;
pub mod logger;
pub mod metrics;
pub mod metrics_server;
pub mod panics;
pub mod process;
pub mod record;
pub mod ring;

pub use clock::Stopwatch;
pub use logger::{
    global, install, log_text, register_secret, scrub_secrets, shutdown_global, LogConfig, Logger,
    Overflow,
};
pub use metrics::{Counter, Gauge, Histogram, Registry, VenueMetrics};
pub use record::{Field, InlineStr, Level, Record, Text, Value};

/// Logs through the process-wide logger at `$level`:
/// `arb_log!(Level::Info, "target", "static message", key = value, ...)`.
/// At most [`record::MAX_FIELDS`] fields (a compile error otherwise). Values are
/// anything `Into<Value>`: integers, floats, bools, `&'static str`, `Value::inline(&s)`
/// for a short dynamic string, `Venue`, `ErrorClass`, `Duration`.
#[macro_export]
macro_rules! arb_log {
    ($level:expr, $target:expr, $msg:expr $(, $key:ident = $value:expr)* $(,)?) => {{
        let level: $crate::Level = $level;
        let core = $crate::logger::global();
        if core.enabled(level) {
            core.log($crate::Record::new(
                level,
                $target,
                $msg,
                [$($crate::Field::new(stringify!($key), $value)),*],
            ));
        }
    }};
}

/// `arb_log!` at TRACE.
#[macro_export]
macro_rules! arb_trace {
    ($($t:tt)*) => { $crate::arb_log!($crate::Level::Trace, $($t)*) };
}

/// `arb_log!` at DEBUG.
#[macro_export]
macro_rules! arb_debug {
    ($($t:tt)*) => { $crate::arb_log!($crate::Level::Debug, $($t)*) };
}

/// `arb_log!` at INFO.
#[macro_export]
macro_rules! arb_info {
    ($($t:tt)*) => { $crate::arb_log!($crate::Level::Info, $($t)*) };
}

/// `arb_log!` at WARNING.
#[macro_export]
macro_rules! arb_warn {
    ($($t:tt)*) => { $crate::arb_log!($crate::Level::Warn, $($t)*) };
}

/// `arb_log!` at ERROR.
#[macro_export]
macro_rules! arb_error {
    ($($t:tt)*) => { $crate::arb_log!($crate::Level::Error, $($t)*) };
}

/// `arb_log!` at CRITICAL.
#[macro_export]
macro_rules! arb_critical {
    ($($t:tt)*) => { $crate::arb_log!($crate::Level::Critical, $($t)*) };
}
