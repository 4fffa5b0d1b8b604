//! Counters, gauges and latency histograms in one registry, rendered in the Prometheus
//! text format.
//!
//! Registration (`Registry::counter(name, labels)`) takes a lock and may allocate; it
//! returns a handle (an `Arc` to the atomic cell) that callers keep. The hot path is then
//! one relaxed atomic on the handle: `counter.inc()`, `gauge.set(x)`, `hist.record_ns(n)`.
//! Asking again for the same name and labels returns a handle to the same cell, so
//! independent parts of the program can share a series without passing handles around.
//!
//! [`Registry::global`] is the process-wide registry served at `/metrics`; tests build
//! their own `Registry::new()` so they do not see each other's numbers.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::histogram::{HistogramCore, Snapshot};

/// Well-known metric names, shared by the crates that record them and the alert rules
/// that read them. Latency histograms record nanoseconds and are exposed in seconds.
pub mod names {
    pub const SYMBOL_RESOLUTION_SECONDS: &str = "symbol_resolution_seconds";
    pub const SYMBOL_FORMAT_SECONDS: &str = "symbol_format_seconds";
    pub const LOG_CALL_SECONDS: &str = "log_call_seconds";
    pub const LOG_RECORDS_TOTAL: &str = "log_records_total";
    pub const LOG_RECORDS_DROPPED_TOTAL: &str = "log_records_dropped_total";
    pub const LOG_RING_CAPACITY: &str = "log_ring_capacity";
    pub const LOG_RING_USED: &str = "log_ring_used";
    pub const BOOK_UPDATES_TOTAL: &str = "book_updates_total";
    pub const HTTP_REQUESTS_TOTAL: &str = "http_requests_total";
    pub const HTTP_REQUEST_FAILURES_TOTAL: &str = "http_request_failures_total";
    pub const HTTP_REQUEST_SECONDS: &str = "http_request_seconds";
    pub const HTTP_CONNECTIONS_OPENED_TOTAL: &str = "http_connections_opened_total";
    pub const HTTP_CONNECTIONS_REUSED_TOTAL: &str = "http_connections_reused_total";
    pub const WS_CONNECTED: &str = "ws_connected";
    pub const WS_CONNECTED_SINCE: &str = "ws_connected_since_unix_seconds";
    pub const WS_UPTIME_SECONDS: &str = "ws_uptime_seconds";
    pub const WS_RECONNECTS_TOTAL: &str = "ws_reconnects_total";
    pub const WS_LAST_MESSAGE: &str = "ws_last_message_unix_seconds";
    pub const WS_STALENESS_SECONDS: &str = "ws_data_staleness_seconds";
    pub const ERRORS_TOTAL: &str = "errors_total";
    pub const ARBITRAGE_CYCLE_SECONDS: &str = "arbitrage_cycle_seconds";
    /// Recorded by arb-engine's runner; read by the arbitrage-cycle alert too.
    pub const ENGINE_TICK_TO_TRADE_SECONDS: &str = "engine_tick_to_trade_seconds";
    pub const PROCESS_RSS_BYTES: &str = "process_resident_memory_bytes";
    pub const PROCESS_MEMORY_GROWTH: &str = "process_memory_growth_bytes_per_hour";
    pub const ALERT_ACTIVE: &str = "alert_active";
    /// Panics anywhere in the process, by thread name (see `panics::install_hook`).
    pub const PANICS_TOTAL: &str = "panics_total";
}

fn help_for(name: &str) -> &'static str {
    use names::*;
    match name {
        SYMBOL_RESOLUTION_SECONDS => "Time to resolve a symbol to its venue form.",
        SYMBOL_FORMAT_SECONDS => "Time to format a symbol for a venue.",
        LOG_CALL_SECONDS => "Producer-side cost of a log call (sampled 1 in 64).",
        LOG_RECORDS_TOTAL => "Log records written by the writer thread, by level.",
        LOG_RECORDS_DROPPED_TOTAL => "Log records dropped by the ring's overflow policy.",
        LOG_RING_CAPACITY => "Capacity of the log ring in records.",
        LOG_RING_USED => "Records waiting in the log ring at the writer's last pass.",
        BOOK_UPDATES_TOTAL => "Order-book updates applied, by venue.",
        HTTP_REQUESTS_TOTAL => "REST requests completed, by venue.",
        HTTP_REQUEST_FAILURES_TOTAL => "REST requests that failed, by venue.",
        HTTP_REQUEST_SECONDS => "REST response time, by venue.",
        HTTP_CONNECTIONS_OPENED_TOTAL => "REST requests that had to open a new connection.",
        HTTP_CONNECTIONS_REUSED_TOTAL => "REST requests sent on a reused connection.",
        WS_CONNECTED => "1 while the venue's WebSocket is connected, else 0.",
        WS_CONNECTED_SINCE => "Unix time the current WebSocket connection was established.",
        WS_UPTIME_SECONDS => "Seconds the current WebSocket connection has been up.",
        WS_RECONNECTS_TOTAL => "WebSocket reconnections, by venue.",
        WS_LAST_MESSAGE => "Unix time of the last WebSocket message received.",
        WS_STALENESS_SECONDS => "Seconds since the last WebSocket message.",
        ERRORS_TOTAL => "Errors by venue and error class.",
        ARBITRAGE_CYCLE_SECONDS => "Tick-to-trade: market data in to orders sent.",
        PROCESS_RSS_BYTES => "Resident set size of this process.",
        PROCESS_MEMORY_GROWTH => "Resident memory growth rate over the alert window.",
        ALERT_ACTIVE => "1 while the named alert is firing, else 0.",
        _ => "arbhybrid metric.",
    }
}

/// What a family holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// A monotonically increasing count.
#[derive(Clone, Default)]
pub struct Counter(Arc<AtomicU64>);

impl Counter {
    #[inline(always)]
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    #[inline(always)]
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down (an `f64` stored as bits in an atomic).
#[derive(Clone)]
pub struct Gauge(Arc<AtomicU64>);

impl Default for Gauge {
    fn default() -> Self {
        Gauge(Arc::new(AtomicU64::new(0f64.to_bits())))
    }
}

impl Gauge {
    #[inline(always)]
    pub fn set(&self, v: f64) {
        self.0.store(v.to_bits(), Ordering::Relaxed);
    }

    /// Adds `d` (a CAS loop: concurrent adds never lose an update).
    pub fn add(&self, d: f64) {
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| {
                Some((f64::from_bits(b) + d).to_bits())
            });
    }

    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
}

/// A latency histogram in nanoseconds (see [`crate::histogram`]).
#[derive(Clone, Default)]
pub struct Histogram(Arc<HistogramCore>);

impl Histogram {
    #[inline(always)]
    pub fn record_ns(&self, ns: u64) {
        self.0.record(ns);
    }

    #[inline(always)]
    pub fn record(&self, d: Duration) {
        self.0.record(d.as_nanos().min(u64::MAX as u128) as u64);
    }

    /// Records the time elapsed since `start`.
    #[inline(always)]
    pub fn record_since(&self, start: Instant) {
        self.record(start.elapsed());
    }

    /// Records the time elapsed on `sw` (the cheap clock: prefer this on hot paths).
    #[inline(always)]
    pub fn record_stopwatch(&self, sw: crate::clock::Stopwatch) {
        self.0.record(sw.elapsed_ns());
    }

    pub fn snapshot(&self) -> Snapshot {
        self.0.snapshot()
    }
}

/// Sorted `(name, value)` label pairs identifying one series of a family.
pub type Labels = Vec<(String, String)>;

enum Series {
    Counter(Counter),
    Gauge(Gauge),
    Histogram(Histogram),
}

struct Family {
    kind: Kind,
    help: &'static str,
    series: BTreeMap<Labels, Series>,
}

#[derive(Default)]
struct RegistryInner {
    families: Mutex<BTreeMap<String, Family>>,
}

/// A set of metric families. Cloning shares the same registry.
#[derive(Clone, Default)]
pub struct Registry {
    inner: Arc<RegistryInner>,
}

/// Prometheus metric and label names: `[a-zA-Z_:][a-zA-Z0-9_:]*` (labels without `:`).
/// Anything else is replaced by `_` so a bad name can never break the exposition.
fn sanitize(name: &str, allow_colon: bool) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || (allow_colon && c == ':') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

fn make_labels(labels: &[(&str, &str)]) -> Labels {
    let mut v: Labels = labels
        .iter()
        .map(|(k, v)| (sanitize(k, false), v.to_string()))
        .collect();
    v.sort();
    v
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// The process-wide registry (the one `/metrics` serves by default).
    pub fn global() -> &'static Registry {
        static GLOBAL: OnceLock<Registry> = OnceLock::new();
        GLOBAL.get_or_init(Registry::new)
    }

    fn get_or_create<T>(
        &self,
        name: &str,
        labels: &[(&str, &str)],
        kind: Kind,
        make: impl FnOnce() -> (Series, T),
        pick: impl Fn(&Series) -> Option<T>,
    ) -> T {
        let name = sanitize(name, true);
        let labels = make_labels(labels);
        let mut families = self.inner.families.lock();
        let family = families.entry(name.clone()).or_insert_with(|| Family {
            kind,
            help: help_for(&name),
            series: BTreeMap::new(),
        });
        if family.kind != kind {
            // A programming error (same name, two kinds). Never panic in production:
            // hand back a working handle that is not exported, and say so loudly.
            drop(families);
            crate::arb_error!(
                "arb_telemetry::metrics",
                "metric registered twice with different kinds; second registration not exported",
                name = crate::Value::inline(&name)
            );
            return make().1;
        }
        if let Some(existing) = family.series.get(&labels).and_then(&pick) {
            return existing;
        }
        let (series, handle) = make();
        family.series.insert(labels, series);
        handle
    }

    /// The counter `name{labels}`, created at zero on first use.
    pub fn counter(&self, name: &str, labels: &[(&str, &str)]) -> Counter {
        self.get_or_create(
            name,
            labels,
            Kind::Counter,
            || {
                let c = Counter::default();
                (Series::Counter(c.clone()), c)
            },
            |s| match s {
                Series::Counter(c) => Some(c.clone()),
                _ => None,
            },
        )
    }

    /// The gauge `name{labels}`, created at zero on first use.
    pub fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> Gauge {
        self.get_or_create(
            name,
            labels,
            Kind::Gauge,
            || {
                let g = Gauge::default();
                (Series::Gauge(g.clone()), g)
            },
            |s| match s {
                Series::Gauge(g) => Some(g.clone()),
                _ => None,
            },
        )
    }

    /// The latency histogram `name{labels}` (nanoseconds in, seconds out).
    pub fn histogram(&self, name: &str, labels: &[(&str, &str)]) -> Histogram {
        self.get_or_create(
            name,
            labels,
            Kind::Histogram,
            || {
                let h = Histogram::default();
                (Series::Histogram(h.clone()), h)
            },
            |s| match s {
                Series::Histogram(h) => Some(h.clone()),
                _ => None,
            },
        )
    }

    /// Every series of counter family `name` with its labels.
    pub fn counters(&self, name: &str) -> Vec<(Labels, Counter)> {
        self.collect(name, |s| match s {
            Series::Counter(c) => Some(c.clone()),
            _ => None,
        })
    }

    pub fn gauges(&self, name: &str) -> Vec<(Labels, Gauge)> {
        self.collect(name, |s| match s {
            Series::Gauge(g) => Some(g.clone()),
            _ => None,
        })
    }

    pub fn histograms(&self, name: &str) -> Vec<(Labels, Histogram)> {
        self.collect(name, |s| match s {
            Series::Histogram(h) => Some(h.clone()),
            _ => None,
        })
    }

    fn collect<T>(&self, name: &str, pick: impl Fn(&Series) -> Option<T>) -> Vec<(Labels, T)> {
        let families = self.inner.families.lock();
        families
            .get(name)
            .map(|f| {
                f.series
                    .iter()
                    .filter_map(|(l, s)| pick(s).map(|t| (l.clone(), t)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The Prometheus text exposition (format 0.0.4) of every family.
    pub fn render(&self) -> String {
        let families = self.inner.families.lock();
        let mut out = String::with_capacity(8 * 1024);
        for (name, family) in families.iter() {
            let _ = writeln!(out, "# HELP {name} {}", family.help);
            let _ = writeln!(out, "# TYPE {name} {}", family.kind.as_str());
            for (labels, series) in &family.series {
                match series {
                    Series::Counter(c) => {
                        sample(&mut out, name, labels, None, c.get() as f64);
                    }
                    Series::Gauge(g) => sample(&mut out, name, labels, None, g.get()),
                    Series::Histogram(h) => render_histogram(&mut out, name, labels, h),
                }
            }
        }
        out
    }
}

/// `le` boundaries of exported histograms: 1-2-5 steps from 100 ns to 100 s.
const LE_NS: [u64; 28] = [
    100,
    200,
    500,
    1_000,
    2_000,
    5_000,
    10_000,
    20_000,
    50_000,
    100_000,
    200_000,
    500_000,
    1_000_000,
    2_000_000,
    5_000_000,
    10_000_000,
    20_000_000,
    50_000_000,
    100_000_000,
    200_000_000,
    500_000_000,
    1_000_000_000,
    2_000_000_000,
    5_000_000_000,
    10_000_000_000,
    20_000_000_000,
    50_000_000_000,
    100_000_000_000,
];

fn render_histogram(out: &mut String, name: &str, labels: &Labels, h: &Histogram) {
    let s = h.snapshot();
    let bucket = format!("{name}_bucket");
    for le in LE_NS {
        let le_s = format_float(le as f64 / 1e9);
        sample(out, &bucket, labels, Some(&le_s), s.count_le(le) as f64);
    }
    let count = s.count();
    sample(out, &bucket, labels, Some("+Inf"), count as f64);
    sample(
        out,
        &format!("{name}_sum"),
        labels,
        None,
        s.sum() as f64 / 1e9,
    );
    sample(out, &format!("{name}_count"), labels, None, count as f64);
}

fn format_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v}")
    }
}

fn sample(out: &mut String, name: &str, labels: &Labels, le: Option<&str>, v: f64) {
    out.push_str(name);
    if !labels.is_empty() || le.is_some() {
        out.push('{');
        let mut first = true;
        for (k, val) in labels {
            if !first {
                out.push(',');
            }
            first = false;
            let _ = write!(out, "{k}=\"");
            for c in val.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '"' => out.push_str("\\\""),
                    '\n' => out.push_str("\\n"),
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        if let Some(le) = le {
            if !first {
                out.push(',');
            }
            let _ = write!(out, "le=\"{le}\"");
        }
        out.push('}');
    }
    out.push(' ');
    out.push_str(&format_float(v));
    out.push('\n');
}

/// `Registry::global().counter(name, labels)`.
pub fn counter(name: &str, labels: &[(&str, &str)]) -> Counter {
    Registry::global().counter(name, labels)
}

/// `Registry::global().gauge(name, labels)`.
pub fn gauge(name: &str, labels: &[(&str, &str)]) -> Gauge {
    Registry::global().gauge(name, labels)
}

/// `Registry::global().histogram(name, labels)`.
pub fn histogram(name: &str, labels: &[(&str, &str)]) -> Histogram {
    Registry::global().histogram(name, labels)
}

/// Every per-venue handle a feed or REST client records into, created once per venue
/// (cache it in the client; each call below is one relaxed atomic).
#[derive(Clone)]
pub struct VenueMetrics {
    pub book_updates: Counter,
    pub http_requests: Counter,
    pub http_failures: Counter,
    pub http_latency: Histogram,
    pub connections_opened: Counter,
    pub connections_reused: Counter,
    pub ws_connected: Gauge,
    pub ws_connected_since: Gauge,
    pub ws_reconnects: Counter,
    pub ws_last_message: Gauge,
    errors: Vec<Counter>,
}

impl VenueMetrics {
    pub fn new(registry: &Registry, venue: arb_core::Venue) -> VenueMetrics {
        let v = [("venue", venue.as_str())];
        use names::*;
        VenueMetrics {
            book_updates: registry.counter(BOOK_UPDATES_TOTAL, &v),
            http_requests: registry.counter(HTTP_REQUESTS_TOTAL, &v),
            http_failures: registry.counter(HTTP_REQUEST_FAILURES_TOTAL, &v),
            http_latency: registry.histogram(HTTP_REQUEST_SECONDS, &v),
            connections_opened: registry.counter(HTTP_CONNECTIONS_OPENED_TOTAL, &v),
            connections_reused: registry.counter(HTTP_CONNECTIONS_REUSED_TOTAL, &v),
            ws_connected: registry.gauge(WS_CONNECTED, &v),
            ws_connected_since: registry.gauge(WS_CONNECTED_SINCE, &v),
            ws_reconnects: registry.counter(WS_RECONNECTS_TOTAL, &v),
            ws_last_message: registry.gauge(WS_LAST_MESSAGE, &v),
            errors: arb_core::ErrorClass::ALL
                .iter()
                .map(|c| {
                    registry.counter(
                        ERRORS_TOTAL,
                        &[("venue", venue.as_str()), ("class", c.as_str())],
                    )
                })
                .collect(),
        }
    }

    /// The handles in the global registry.
    pub fn global(venue: arb_core::Venue) -> VenueMetrics {
        VenueMetrics::new(Registry::global(), venue)
    }

    /// One finished REST request: latency, outcome, and whether its connection was reused.
    pub fn http_request(&self, latency: Duration, ok: bool, reused_connection: bool) {
        self.http_requests.inc();
        self.http_latency.record(latency);
        if !ok {
            self.http_failures.inc();
        }
        if reused_connection {
            self.connections_reused.inc();
        } else {
            self.connections_opened.inc();
        }
    }

    /// Counts an error of `class`.
    #[inline]
    pub fn error(&self, class: arb_core::ErrorClass) {
        // ErrorClass::ALL order is the index order.
        if let Some(i) = arb_core::ErrorClass::ALL.iter().position(|c| *c == class) {
            self.errors[i].inc();
        }
    }

    /// The WebSocket connected (`now_s`: Unix seconds).
    pub fn ws_up(&self, now_s: f64, reconnect: bool) {
        self.ws_connected.set(1.0);
        self.ws_connected_since.set(now_s);
        if reconnect {
            self.ws_reconnects.inc();
        }
    }

    pub fn ws_down(&self) {
        self.ws_connected.set(0.0);
    }

    /// A WebSocket message arrived at `now_s` (Unix seconds).
    #[inline(always)]
    pub fn ws_message(&self, now_s: f64) {
        self.ws_last_message.set(now_s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_name_and_labels_share_one_cell() {
        let r = Registry::new();
        let a = r.counter("x_total", &[("venue", "mexc"), ("class", "network")]);
        let b = r.counter("x_total", &[("class", "network"), ("venue", "mexc")]);
        a.inc();
        b.add(2);
        assert_eq!(a.get(), 3);
        assert_eq!(r.counter("x_total", &[("venue", "gateio")]).get(), 0);
        assert_eq!(r.counters("x_total").len(), 2);
    }

    #[test]
    fn kind_conflicts_do_not_panic_or_export() {
        let r = Registry::new();
        r.counter("dup", &[]).inc();
        let g = r.gauge("dup", &[]);
        g.set(5.0);
        assert!(r.render().contains("dup 1\n"));
        assert!(!r.render().contains("dup 5"));
    }

    #[test]
    fn render_escapes_and_sanitizes() {
        let r = Registry::new();
        r.gauge("bad name!", &[("l", "a\"b\\c\nd")]).set(1.5);
        let text = r.render();
        assert!(
            text.contains("bad_name_{l=\"a\\\"b\\\\c\\nd\"} 1.5"),
            "{text}"
        );
    }

    #[test]
    fn gauge_add_is_atomic_across_threads() {
        let g = Gauge::default();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..10_000 {
                        g.add(1.0);
                    }
                });
            }
        });
        assert_eq!(g.get(), 40_000.0);
    }
}
