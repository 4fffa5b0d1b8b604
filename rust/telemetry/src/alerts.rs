//! Alert rules over the metrics registry, with the workflow's default thresholds.
//!
//! An evaluation looks at what happened since the previous one (histogram and counter
//! deltas) plus the current gauges, decides for every rule and label set whether the
//! threshold is crossed, and emits an [`AlertEvent`] on every change: `firing = true`
//! when a rule starts crossing, `firing = false` when it stops. Each change is a log
//! record (WARNING/CRITICAL when fired, INFO when cleared), the gauge
//! `alert_active{name=...}` (1/0), and a call to every listener (the Python bindings
//! forward those to a Python callback through the event bridge).
//!
//! Rules (threshold key = default):
//! - `symbol_resolution_latency_us` = 2 (WARNING): quantile of `symbol_resolution_seconds`.
//! - `arbitrage_cycle_ms` = 50 (CRITICAL): quantile of `arbitrage_cycle_seconds` and
//!   the engine's `engine_tick_to_trade_seconds`, merged.
//! - `logging_latency_us` = 10 (WARNING): quantile of `log_call_seconds`.
//! - `api_response_ms` = 100 (WARNING): quantile of `http_request_seconds{venue}`.
//! - `symbol_resolution_min_ops_per_s` = 500,000 and `logging_min_msgs_per_s` = 400,000
//!   (WARNING): capacity, i.e. operations per second of time spent in the operation
//!   (`count / sum` of the interval's histogram). The offered rate says nothing about
//!   health (a quiet market logs little); the capacity does.
//! - `api_failure_pct` = 1 (CRITICAL): failed / all REST requests in the interval, by venue.
//! - `exchange_disconnected_s` = 0 (CRITICAL): `ws_connected{venue}` has been 0 for
//!   at least this long, for a venue that has connected at least once.
//! - `ws_stale_s` = 10 (WARNING): now - `ws_last_message_unix_seconds{venue}`.
//! - `memory_growth_mb_per_h` = 10 (WARNING): RSS slope over the last `memory_window_s`
//!   (needs at least `memory_min_span_s` of samples). MB here is MiB (2^20 bytes).
//! - `connection_reuse_min_pct` = 90 (WARNING): reused / all REST requests in the interval.
//!
//! The quantile the latency rules compare is `latency_quantile` (default 0.99). An
//! interval with no samples crosses nothing, so an alert clears when activity stops.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use parking_lot::Mutex;
use serde::Deserialize;

use crate::histogram::Snapshot;
use crate::metrics::{names, Labels, Registry};
use crate::record::{Level, Value};

/// How bad an alert is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Warning,
    Critical,
}

impl Severity {
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "WARNING",
            Severity::Critical => "CRITICAL",
        }
    }
}

/// Alert thresholds; unknown keys are an error naming the key.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    pub symbol_resolution_latency_us: f64,
    pub arbitrage_cycle_ms: f64,
    pub logging_latency_us: f64,
    pub api_response_ms: f64,
    pub symbol_resolution_min_ops_per_s: f64,
    pub logging_min_msgs_per_s: f64,
    pub api_failure_pct: f64,
    pub exchange_disconnected_s: f64,
    pub ws_stale_s: f64,
    pub memory_growth_mb_per_h: f64,
    pub connection_reuse_min_pct: f64,
    pub latency_quantile: f64,
    pub memory_window_s: f64,
    pub memory_min_span_s: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            symbol_resolution_latency_us: 2.0,
            arbitrage_cycle_ms: 50.0,
            logging_latency_us: 10.0,
            api_response_ms: 100.0,
            symbol_resolution_min_ops_per_s: 500_000.0,
            logging_min_msgs_per_s: 400_000.0,
            api_failure_pct: 1.0,
            exchange_disconnected_s: 0.0,
            ws_stale_s: 10.0,
            memory_growth_mb_per_h: 10.0,
            connection_reuse_min_pct: 90.0,
            latency_quantile: 0.99,
            memory_window_s: 600.0,
            memory_min_span_s: 60.0,
        }
    }
}

impl Thresholds {
    /// Parses overrides from a JSON object (`{"api_response_ms": 250, ...}`); keys not
    /// given keep their defaults.
    ///
    /// # Errors
    /// Malformed JSON, an unknown key, or a non-numeric value.
    pub fn from_json(json: &str) -> Result<Thresholds, serde_json::Error> {
        serde_json::from_str(json)
    }
}

/// One alert state change.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertEvent {
    /// Rule name (`api_response`, `ws_stale`, ...), the `name` label of `alert_active`.
    pub name: &'static str,
    pub severity: Severity,
    /// True when the alert starts firing, false when it clears.
    pub firing: bool,
    /// The measured value, in the threshold's unit.
    pub value: f64,
    pub threshold: f64,
    /// The series' labels (`venue`), empty for process-wide rules.
    pub labels: Labels,
    /// One human sentence.
    pub message: String,
}

/// Receives alert events (on the evaluating thread).
pub type Listener = Arc<dyn Fn(&AlertEvent) + Send + Sync>;

/// One rule's verdict for one label set.
struct Verdict {
    name: &'static str,
    severity: Severity,
    labels: Labels,
    crossed: bool,
    value: f64,
    threshold: f64,
    what: &'static str,
}

/// Evaluates the rules against a registry and tracks which alerts are active.
pub struct AlertEngine {
    registry: Registry,
    thresholds: Thresholds,
    prev_hist: HashMap<(&'static str, Labels), Snapshot>,
    prev_counter: HashMap<(&'static str, Labels), u64>,
    active: HashMap<(&'static str, Labels), f64>,
    disconnected_since: HashMap<Labels, f64>,
    rss: VecDeque<(f64, u64)>,
    listeners: Vec<Listener>,
}

impl AlertEngine {
    pub fn new(registry: Registry, thresholds: Thresholds) -> AlertEngine {
        AlertEngine {
            registry,
            thresholds,
            prev_hist: HashMap::new(),
            prev_counter: HashMap::new(),
            active: HashMap::new(),
            disconnected_since: HashMap::new(),
            rss: VecDeque::new(),
            listeners: Vec::new(),
        }
    }

    pub fn thresholds(&self) -> &Thresholds {
        &self.thresholds
    }

    /// Replaces the thresholds (live reconfiguration); active alerts re-evaluate next time.
    pub fn set_thresholds(&mut self, t: Thresholds) {
        self.thresholds = t;
    }

    pub fn add_listener(&mut self, listener: Listener) {
        self.listeners.push(listener);
    }

    /// Currently firing alerts: `(name, labels)`.
    pub fn active(&self) -> Vec<(&'static str, Labels)> {
        let mut v: Vec<_> = self.active.keys().cloned().collect();
        v.sort();
        v
    }

    /// Runs every rule once. `now_s` is Unix time in seconds (for staleness, disconnection
    /// time and the memory slope); `rss_bytes` is the current resident set size if known.
    /// Returns the state changes (also logged, exported and sent to listeners).
    pub fn evaluate(&mut self, now_s: f64, rss_bytes: Option<u64>) -> Vec<AlertEvent> {
        let t = self.thresholds.clone();
        let q = t.latency_quantile;
        let mut verdicts = Vec::new();

        for (metrics, name, sev, limit_ns, tp) in [
            (
                &[names::SYMBOL_RESOLUTION_SECONDS][..],
                "symbol_resolution_latency",
                Severity::Warning,
                t.symbol_resolution_latency_us * 1e3,
                Some((
                    "symbol_resolution_throughput",
                    t.symbol_resolution_min_ops_per_s,
                )),
            ),
            (
                // The engine records its own tick-to-trade histogram; both count.
                &[
                    names::ARBITRAGE_CYCLE_SECONDS,
                    names::ENGINE_TICK_TO_TRADE_SECONDS,
                ][..],
                "arbitrage_cycle",
                Severity::Critical,
                t.arbitrage_cycle_ms * 1e6,
                None,
            ),
            (
                &[names::LOG_CALL_SECONDS][..],
                "logging_latency",
                Severity::Warning,
                t.logging_latency_us * 1e3,
                Some(("logging_throughput", t.logging_min_msgs_per_s)),
            ),
            (
                &[names::HTTP_REQUEST_SECONDS][..],
                "api_response",
                Severity::Warning,
                t.api_response_ms * 1e6,
                None,
            ),
        ] {
            // Report in the threshold's own unit (us or ms).
            let unit_ns = if name == "arbitrage_cycle" || name == "api_response" {
                1e6
            } else {
                1e3
            };
            let mut merged: BTreeMap<Labels, Snapshot> = BTreeMap::new();
            for metric in metrics {
                for (labels, d) in self.hist_deltas(metric) {
                    match merged.get_mut(&labels) {
                        Some(m) => m.merge(&d),
                        None => {
                            merged.insert(labels, d);
                        }
                    }
                }
            }
            for (labels, d) in merged {
                let qv = d.quantile(q).map(|v| v as f64);
                verdicts.push(Verdict {
                    name,
                    severity: sev,
                    labels: labels.clone(),
                    crossed: qv.is_some_and(|v| v > limit_ns),
                    value: qv.unwrap_or(0.0) / unit_ns,
                    threshold: limit_ns / unit_ns,
                    what: "latency quantile",
                });
                if let Some((tp_name, min_rate)) = tp {
                    let n = d.count();
                    let rate = (n > 0 && d.sum() > 0).then(|| n as f64 / (d.sum() as f64 / 1e9));
                    verdicts.push(Verdict {
                        name: tp_name,
                        severity: Severity::Warning,
                        labels,
                        crossed: rate.is_some_and(|r| r < min_rate),
                        value: rate.unwrap_or(0.0),
                        threshold: min_rate,
                        what: "operations per second of busy time",
                    });
                }
            }
        }

        let requests = self.counter_deltas(names::HTTP_REQUESTS_TOTAL);
        let failures = self.counter_deltas(names::HTTP_REQUEST_FAILURES_TOTAL);
        for (labels, n) in &requests {
            let failed = failures.get(labels).copied().unwrap_or(0);
            let pct = if *n > 0 {
                failed as f64 / *n as f64 * 100.0
            } else {
                0.0
            };
            verdicts.push(Verdict {
                name: "api_failures",
                severity: Severity::Critical,
                labels: labels.clone(),
                crossed: *n > 0 && pct > t.api_failure_pct,
                value: pct,
                threshold: t.api_failure_pct,
                what: "percent of REST requests failed",
            });
        }

        let reused = self.counter_deltas(names::HTTP_CONNECTIONS_REUSED_TOTAL);
        let opened = self.counter_deltas(names::HTTP_CONNECTIONS_OPENED_TOTAL);
        let mut reuse_labels: Vec<&Labels> = reused.keys().chain(opened.keys()).collect();
        reuse_labels.sort();
        reuse_labels.dedup();
        for labels in reuse_labels {
            let r = reused.get(labels).copied().unwrap_or(0);
            let total = r + opened.get(labels).copied().unwrap_or(0);
            let pct = if total > 0 {
                r as f64 / total as f64 * 100.0
            } else {
                100.0
            };
            verdicts.push(Verdict {
                name: "connection_reuse",
                severity: Severity::Warning,
                labels: labels.clone(),
                crossed: total > 0 && pct < t.connection_reuse_min_pct,
                value: pct,
                threshold: t.connection_reuse_min_pct,
                what: "percent of REST requests on a reused connection",
            });
        }

        let since: HashMap<Labels, f64> = self
            .registry
            .gauges(names::WS_CONNECTED_SINCE)
            .into_iter()
            .map(|(l, g)| (l, g.get()))
            .collect();
        for (labels, g) in self.registry.gauges(names::WS_CONNECTED) {
            let connected = g.get() >= 1.0;
            let ever = since.get(&labels).is_some_and(|s| *s > 0.0);
            let uptime = self
                .registry
                .gauge(names::WS_UPTIME_SECONDS, &as_refs(&labels));
            if connected {
                self.disconnected_since.remove(&labels);
                uptime.set((now_s - since.get(&labels).copied().unwrap_or(now_s)).max(0.0));
            } else {
                uptime.set(0.0);
            }
            let down_for = if !connected && ever {
                let start = *self
                    .disconnected_since
                    .entry(labels.clone())
                    .or_insert(now_s);
                Some(now_s - start)
            } else {
                None
            };
            verdicts.push(Verdict {
                name: "exchange_disconnected",
                severity: Severity::Critical,
                labels,
                crossed: down_for.is_some_and(|d| d >= t.exchange_disconnected_s),
                value: down_for.unwrap_or(0.0),
                threshold: t.exchange_disconnected_s,
                what: "seconds disconnected",
            });
        }

        // A panic is never normal: critical from the first one, until the process ends
        // (what it held was released, but the cause is still in the code).
        for (labels, c) in self.registry.counters(names::PANICS_TOTAL) {
            let n = c.get();
            verdicts.push(Verdict {
                name: "task_panic",
                severity: Severity::Critical,
                labels,
                crossed: n > 0,
                value: n as f64,
                threshold: 0.0,
                what: "panics",
            });
        }

        for (labels, g) in self.registry.gauges(names::WS_LAST_MESSAGE) {
            let last = g.get();
            if last <= 0.0 {
                continue;
            }
            let stale = (now_s - last).max(0.0);
            self.registry
                .gauge(names::WS_STALENESS_SECONDS, &as_refs(&labels))
                .set(stale);
            verdicts.push(Verdict {
                name: "ws_stale",
                severity: Severity::Warning,
                labels,
                crossed: stale > t.ws_stale_s,
                value: stale,
                threshold: t.ws_stale_s,
                what: "seconds since the last WebSocket message",
            });
        }

        if let Some(rss) = rss_bytes {
            self.registry
                .gauge(names::PROCESS_RSS_BYTES, &[])
                .set(rss as f64);
            self.rss.push_back((now_s, rss));
            while self
                .rss
                .front()
                .is_some_and(|(ts, _)| now_s - ts > t.memory_window_s)
            {
                self.rss.pop_front();
            }
            let (t0, r0) = self.rss.front().copied().unwrap_or((now_s, rss));
            let span = now_s - t0;
            let slope = (span >= t.memory_min_span_s && span > 0.0)
                .then(|| (rss as f64 - r0 as f64) / span * 3600.0);
            if let Some(s) = slope {
                self.registry
                    .gauge(names::PROCESS_MEMORY_GROWTH, &[])
                    .set(s);
            }
            let mib_h = slope.map(|s| s / 1_048_576.0);
            verdicts.push(Verdict {
                name: "memory_growth",
                severity: Severity::Warning,
                labels: Vec::new(),
                crossed: mib_h.is_some_and(|m| m > t.memory_growth_mb_per_h),
                value: mib_h.unwrap_or(0.0),
                threshold: t.memory_growth_mb_per_h,
                what: "MiB per hour of resident memory growth",
            });
        }

        self.apply(verdicts)
    }

    fn hist_deltas(&mut self, metric: &'static str) -> Vec<(Labels, Snapshot)> {
        self.registry
            .histograms(metric)
            .into_iter()
            .map(|(labels, h)| {
                let now = h.snapshot();
                let prev = self
                    .prev_hist
                    .insert((metric, labels.clone()), now.clone())
                    .unwrap_or_default();
                (labels, now.delta(&prev))
            })
            .collect()
    }

    fn counter_deltas(&mut self, metric: &'static str) -> HashMap<Labels, u64> {
        self.registry
            .counters(metric)
            .into_iter()
            .map(|(labels, c)| {
                let now = c.get();
                let prev = self
                    .prev_counter
                    .insert((metric, labels.clone()), now)
                    .unwrap_or(0);
                (labels, now.saturating_sub(prev))
            })
            .collect()
    }

    fn apply(&mut self, verdicts: Vec<Verdict>) -> Vec<AlertEvent> {
        let mut events = Vec::new();
        for v in verdicts {
            let key = (v.name, v.labels.clone());
            let was = self.active.contains_key(&key);
            if v.crossed == was {
                continue;
            }
            if v.crossed {
                self.active.insert(key, v.value);
            } else {
                self.active.remove(&key);
            }
            let label_text = v
                .labels
                .iter()
                .map(|(k, val)| format!("{k}={val}"))
                .collect::<Vec<_>>()
                .join(",");
            let message = format!(
                "{} {}{}{}: {} {:.3} (threshold {})",
                v.severity.as_str(),
                v.name,
                if label_text.is_empty() { "" } else { " " },
                label_text,
                v.what,
                v.value,
                v.threshold
            ) + if v.crossed { "" } else { " - cleared" };
            let mut gauge_labels = vec![("name", v.name)];
            gauge_labels.extend(v.labels.iter().map(|(k, val)| (k.as_str(), val.as_str())));
            self.registry
                .gauge(names::ALERT_ACTIVE, &gauge_labels)
                .set(if v.crossed { 1.0 } else { 0.0 });
            let level = match (v.crossed, v.severity) {
                (false, _) => Level::Info,
                (true, Severity::Warning) => Level::Warn,
                (true, Severity::Critical) => Level::Critical,
            };
            crate::arb_log!(
                level,
                "arb_telemetry::alerts",
                if v.crossed {
                    "alert fired"
                } else {
                    "alert cleared"
                },
                alert = v.name,
                severity = v.severity.as_str(),
                labels = Value::inline(&label_text),
                value = v.value,
                threshold = v.threshold
            );
            events.push(AlertEvent {
                name: v.name,
                severity: v.severity,
                firing: v.crossed,
                value: v.value,
                threshold: v.threshold,
                labels: v.labels,
                message,
            });
        }
        for e in &events {
            for l in &self.listeners {
                l(e);
            }
        }
        events
    }
}

fn as_refs(labels: &Labels) -> Vec<(&str, &str)> {
    labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// An [`AlertEngine`] evaluated every `interval` on its own thread with the wall clock
/// and this process's RSS. Stopped (and joined) on drop.
pub struct AlertRunner {
    engine: Arc<Mutex<AlertEngine>>,
    stop: Arc<AtomicBool>,
    join: Option<JoinHandle<()>>,
}

impl AlertRunner {
    /// Starts the evaluation thread.
    ///
    /// # Errors
    /// The thread cannot be spawned.
    pub fn start(engine: AlertEngine, interval: Duration) -> std::io::Result<AlertRunner> {
        let engine = Arc::new(Mutex::new(engine));
        let stop = Arc::new(AtomicBool::new(false));
        let (e, s) = (engine.clone(), stop.clone());
        let join = thread::Builder::new()
            .name("arb-alerts".into())
            .spawn(move || {
                while !s.load(Ordering::Acquire) {
                    thread::park_timeout(interval);
                    if s.load(Ordering::Acquire) {
                        break;
                    }
                    e.lock().evaluate(
                        crate::record::now_ns() as f64 / 1e9,
                        crate::process::rss_bytes(),
                    );
                }
            })?;
        Ok(AlertRunner {
            engine,
            stop,
            join: Some(join),
        })
    }

    /// The engine (to add listeners, change thresholds, or evaluate now).
    pub fn engine(&self) -> &Arc<Mutex<AlertEngine>> {
        &self.engine
    }

    /// Evaluates immediately with the wall clock and RSS.
    pub fn evaluate_now(&self) -> Vec<AlertEvent> {
        self.engine.lock().evaluate(
            crate::record::now_ns() as f64 / 1e9,
            crate::process::rss_bytes(),
        )
    }

    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(j) = self.join.take() {
            j.thread().unpark();
            let _ = j.join();
        }
    }
}

impl Drop for AlertRunner {
    fn drop(&mut self) {
        self.stop();
    }
}
