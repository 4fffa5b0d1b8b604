//! Every alert rule fires when its default threshold is crossed and clears when it is
//! not, with the state visible as the `alert_active` gauge and delivered to listeners.

use std::sync::Arc;
use std::time::Duration;

use arb_core::{ErrorClass, Venue};
use arb_telemetry::alerts::{AlertEngine, AlertEvent, Severity, Thresholds};
use arb_telemetry::metrics::names;
use arb_telemetry::{Registry, VenueMetrics};
use parking_lot::Mutex;

struct Bench {
    registry: Registry,
    engine: AlertEngine,
    heard: Arc<Mutex<Vec<AlertEvent>>>,
    now: f64,
}

impl Bench {
    fn new() -> Bench {
        let registry = Registry::new();
        let mut engine = AlertEngine::new(registry.clone(), Thresholds::default());
        let heard = Arc::new(Mutex::new(Vec::new()));
        let h = heard.clone();
        engine.add_listener(Arc::new(move |e: &AlertEvent| h.lock().push(e.clone())));
        Bench {
            registry,
            engine,
            heard,
            now: 1_700_000_000.0,
        }
    }

    /// Advances the clock by `dt` seconds and evaluates.
    fn tick(&mut self, dt: f64, rss: Option<u64>) -> Vec<AlertEvent> {
        self.now += dt;
        self.engine.evaluate(self.now, rss)
    }

    fn active_gauge(&self, name: &str, venue: Option<&str>) -> f64 {
        let mut labels = vec![("name", name)];
        if let Some(v) = venue {
            labels.push(("venue", v));
        }
        self.registry.gauge(names::ALERT_ACTIVE, &labels).get()
    }
}

fn only(events: &[AlertEvent], name: &str) -> AlertEvent {
    let matching: Vec<_> = events.iter().filter(|e| e.name == name).collect();
    assert_eq!(matching.len(), 1, "{name}: {events:?}");
    matching[0].clone()
}

fn assert_fires_then_clears(
    b: &mut Bench,
    name: &str,
    venue: Option<&str>,
    severity: Severity,
    cross: impl Fn(&Registry),
    calm: impl Fn(&Registry),
) {
    calm(&b.registry);
    let ev = b.tick(1.0, None);
    assert!(
        ev.iter().all(|e| e.name != name),
        "{name} fired while calm: {ev:?}"
    );

    cross(&b.registry);
    let ev = b.tick(1.0, None);
    let fired = only(&ev, name);
    assert!(fired.firing);
    assert_eq!(fired.severity, severity);
    if let Some(v) = venue {
        assert_eq!(fired.labels, vec![("venue".to_string(), v.to_string())]);
    }
    assert_eq!(b.active_gauge(name, venue), 1.0);
    assert!(b.heard.lock().iter().any(|e| e.name == name && e.firing));

    // Still crossed: no repeated event.
    cross(&b.registry);
    assert!(b.tick(1.0, None).iter().all(|e| e.name != name));

    calm(&b.registry);
    let ev = b.tick(1.0, None);
    let cleared = only(&ev, name);
    assert!(!cleared.firing);
    assert_eq!(b.active_gauge(name, venue), 0.0);
    assert!(b.engine.active().iter().all(|(n, _)| *n != name));
}

#[test]
fn symbol_resolution_latency_over_2us() {
    let mut b = Bench::new();
    assert_fires_then_clears(
        &mut b,
        "symbol_resolution_latency",
        None,
        Severity::Warning,
        |r| {
            let h = r.histogram(names::SYMBOL_RESOLUTION_SECONDS, &[]);
            for _ in 0..100 {
                h.record_ns(2_500);
            }
        },
        |r| {
            let h = r.histogram(names::SYMBOL_RESOLUTION_SECONDS, &[]);
            for _ in 0..100 {
                h.record_ns(1_800);
            }
        },
    );
}

#[test]
fn arbitrage_cycle_over_50ms_is_critical() {
    let mut b = Bench::new();
    assert_fires_then_clears(
        &mut b,
        "arbitrage_cycle",
        None,
        Severity::Critical,
        |r| {
            r.histogram(names::ARBITRAGE_CYCLE_SECONDS, &[])
                .record(Duration::from_millis(60))
        },
        |r| {
            r.histogram(names::ARBITRAGE_CYCLE_SECONDS, &[])
                .record(Duration::from_millis(40))
        },
    );
}

#[test]
fn the_engines_tick_to_trade_histogram_feeds_the_cycle_alert() {
    let mut b = Bench::new();
    assert_fires_then_clears(
        &mut b,
        "arbitrage_cycle",
        None,
        Severity::Critical,
        |r| {
            r.histogram(names::ENGINE_TICK_TO_TRADE_SECONDS, &[])
                .record(Duration::from_millis(80))
        },
        |r| {
            // Both series in one interval: merged, the p99 is under 50 ms.
            for _ in 0..200 {
                r.histogram(names::ENGINE_TICK_TO_TRADE_SECONDS, &[])
                    .record(Duration::from_millis(3));
            }
            r.histogram(names::ARBITRAGE_CYCLE_SECONDS, &[])
                .record(Duration::from_millis(4));
        },
    );
}

#[test]
fn logging_latency_over_10us() {
    let mut b = Bench::new();
    assert_fires_then_clears(
        &mut b,
        "logging_latency",
        None,
        Severity::Warning,
        |r| r.histogram(names::LOG_CALL_SECONDS, &[]).record_ns(12_000),
        |r| r.histogram(names::LOG_CALL_SECONDS, &[]).record_ns(1_000),
    );
}

#[test]
fn api_response_over_100ms_per_venue() {
    let mut b = Bench::new();
    let mexc = VenueMetrics::new(&b.registry, Venue::MEXC);
    let m2 = mexc.clone();
    assert_fires_then_clears(
        &mut b,
        "api_response",
        Some("mexc"),
        Severity::Warning,
        move |_| mexc.http_request(Duration::from_millis(150), true, true),
        move |_| m2.http_request(Duration::from_millis(30), true, true),
    );
}

#[test]
fn symbol_resolution_throughput_under_500k_ops() {
    let mut b = Bench::new();
    // Crossing: 2.1 us per resolution is 476K ops/s of busy time (< 500K); calm: 1 us.
    assert_fires_then_clears(
        &mut b,
        "symbol_resolution_throughput",
        None,
        Severity::Warning,
        |r| {
            let h = r.histogram(names::SYMBOL_RESOLUTION_SECONDS, &[]);
            for _ in 0..1000 {
                h.record_ns(2_100);
            }
        },
        |r| {
            let h = r.histogram(names::SYMBOL_RESOLUTION_SECONDS, &[]);
            for _ in 0..1000 {
                h.record_ns(1_000);
            }
        },
    );
}

#[test]
fn logging_throughput_under_400k_msgs() {
    let mut b = Bench::new();
    assert_fires_then_clears(
        &mut b,
        "logging_throughput",
        None,
        Severity::Warning,
        // 3 us per call: 333K msgs/s, under 400K, while under the 10 us latency limit.
        |r| r.histogram(names::LOG_CALL_SECONDS, &[]).record_ns(3_000),
        |r| r.histogram(names::LOG_CALL_SECONDS, &[]).record_ns(100),
    );
}

#[test]
fn api_failures_over_1_percent_are_critical() {
    let mut b = Bench::new();
    let g = VenueMetrics::new(&b.registry, Venue::GATE);
    let g2 = g.clone();
    assert_fires_then_clears(
        &mut b,
        "api_failures",
        Some("gateio"),
        Severity::Critical,
        move |_| {
            // 2 failures in 100: 2 %.
            for i in 0..100 {
                g.http_request(Duration::from_millis(5), i >= 2, true);
            }
        },
        move |_| {
            // 1 failure in 200: 0.5 %.
            for i in 0..200 {
                g2.http_request(Duration::from_millis(5), i != 0, true);
            }
        },
    );
}

#[test]
fn exchange_disconnection_is_critical() {
    let mut b = Bench::new();
    let m = VenueMetrics::new(&b.registry, Venue::MEXC);
    let m2 = m.clone();
    let now = b.now;
    assert_fires_then_clears(
        &mut b,
        "exchange_disconnected",
        Some("mexc"),
        Severity::Critical,
        move |_| m.ws_down(),
        move |_| m2.ws_up(now, true),
    );
    assert_eq!(
        b.registry
            .counter(names::WS_RECONNECTS_TOTAL, &[("venue", "mexc")])
            .get(),
        2
    );
}

#[test]
fn a_venue_that_never_connected_does_not_raise_disconnection() {
    let mut b = Bench::new();
    let _m = VenueMetrics::new(&b.registry, Venue::MEXC);
    assert!(b.tick(1.0, None).is_empty());
}

#[test]
fn websocket_data_stale_over_10s() {
    let mut b = Bench::new();
    let m = VenueMetrics::new(&b.registry, Venue::GATE);
    m.ws_message(b.now);
    // 1 s later: fresh.
    assert!(b.tick(1.0, None).iter().all(|e| e.name != "ws_stale"));
    // 11 s after the last message: stale.
    let ev = b.tick(10.0, None);
    let fired = only(&ev, "ws_stale");
    assert!(fired.firing && fired.value > 10.0);
    assert_eq!(
        b.registry
            .gauge(names::WS_STALENESS_SECONDS, &[("venue", "gateio")])
            .get(),
        11.0
    );
    m.ws_message(b.now);
    let cleared = only(&b.tick(0.5, None), "ws_stale");
    assert!(!cleared.firing);
}

#[test]
fn memory_growth_over_10mb_per_hour() {
    let mut b = Bench::new();
    let mb = 1_048_576u64;
    let base = 200 * mb;
    // The slope is taken over a 600 s window once it spans at least 60 s.
    b.tick(0.0, Some(base));
    let ev = b.tick(360.0, Some(base + mb / 2)); // 0.5 MiB in 6 min = 5 MiB/h
    assert!(ev.iter().all(|e| e.name != "memory_growth"), "{ev:?}");
    let ev = b.tick(120.0, Some(base + 3 * mb)); // 3 MiB in 8 min = 22.5 MiB/h
    let fired = only(&ev, "memory_growth");
    assert!(fired.firing && fired.value > 10.0, "{fired:?}");
    // Flat for a full window: slope back to ~0.
    let mut events = Vec::new();
    for _ in 0..11 {
        events.extend(b.tick(60.0, Some(base + 3 * mb)));
    }
    let cleared = only(&events, "memory_growth");
    assert!(!cleared.firing);
}

#[test]
fn connection_reuse_under_90_percent() {
    let mut b = Bench::new();
    let m = VenueMetrics::new(&b.registry, Venue::MEXC);
    let m2 = m.clone();
    assert_fires_then_clears(
        &mut b,
        "connection_reuse",
        Some("mexc"),
        Severity::Warning,
        move |_| {
            for i in 0..10 {
                m.http_request(Duration::from_millis(5), true, i >= 2); // 80 %
            }
        },
        move |_| {
            for i in 0..100 {
                m2.http_request(Duration::from_millis(5), true, i >= 5); // 95 %
            }
        },
    );
}

#[test]
fn error_counters_by_class_are_exported() {
    let r = Registry::new();
    let m = VenueMetrics::new(&r, Venue::MEXC);
    m.error(ErrorClass::RateLimit);
    m.error(ErrorClass::RateLimit);
    assert_eq!(
        r.counter(
            names::ERRORS_TOTAL,
            &[("venue", "mexc"), ("class", "rate_limit")]
        )
        .get(),
        2
    );
}

#[test]
fn thresholds_are_configurable_and_unknown_keys_rejected() {
    let t = Thresholds::from_json(r#"{"api_response_ms": 250, "ws_stale_s": 3}"#).unwrap();
    assert_eq!(t.api_response_ms, 250.0);
    assert_eq!(t.ws_stale_s, 3.0);
    assert_eq!(t.arbitrage_cycle_ms, 50.0);
    let err = Thresholds::from_json(r#"{"api_respons_ms": 1}"#).unwrap_err();
    assert!(err.to_string().contains("api_respons_ms"), "{err}");

    // A raised threshold stops a latency that would fire by default.
    let r = Registry::new();
    let mut e = AlertEngine::new(r.clone(), t);
    VenueMetrics::new(&r, Venue::MEXC).http_request(Duration::from_millis(150), true, true);
    assert!(e
        .evaluate(0.0, None)
        .iter()
        .all(|x| x.name != "api_response"));
}

#[test]
fn a_panic_fires_task_panic_and_it_stays() {
    let mut b = Bench::new();
    assert!(b.tick(1.0, None).iter().all(|e| e.name != "task_panic"));
    b.registry
        .counter(names::PANICS_TOTAL, &[("thread", "arbhybrid-rt")])
        .inc();
    let e = only(&b.tick(1.0, None), "task_panic");
    assert!(e.firing && e.severity == Severity::Critical, "{e:?}");
    assert!(b.tick(60.0, None).iter().all(|e| e.name != "task_panic"));
}
