//! Metric recording costs on the hot path (one relaxed atomic per call), handle lookup
//! in the registry, contended counters, and rendering `/metrics`.
//!
//! Run: `cargo bench -p arb-benches --bench metrics`.

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use arb_core::Venue;
use arb_telemetry::alerts::{AlertEngine, Thresholds};
use arb_telemetry::{Registry, VenueMetrics};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn record(c: &mut Criterion) {
    let r = Registry::new();
    let counter = r.counter("book_updates_total", &[("venue", "mexc")]);
    let gauge = r.gauge("ws_last_message_unix_seconds", &[("venue", "mexc")]);
    let hist = r.histogram("symbol_resolution_seconds", &[]);
    let mut g = c.benchmark_group("metric_record");
    g.throughput(Throughput::Elements(1));
    g.bench_function("counter_inc", |b| b.iter(|| black_box(&counter).inc()));
    g.bench_function("gauge_set", |b| {
        let mut x = 0.0;
        b.iter(|| {
            x += 1.0;
            black_box(&gauge).set(x)
        })
    });
    let mut v = 1u64;
    g.bench_function("histogram_record_ns", |b| {
        b.iter(|| {
            v = v
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            black_box(&hist).record_ns(v >> 44)
        })
    });
    g.bench_function("histogram_record_since_instant", |b| {
        b.iter(|| {
            let t = Instant::now();
            black_box(&hist).record_since(t)
        })
    });
    g.bench_function("histogram_record_stopwatch", |b| {
        b.iter(|| {
            let sw = arb_telemetry::Stopwatch::start();
            black_box(&hist).record_stopwatch(sw)
        })
    });
    g.bench_function("registry_lookup_existing", |b| {
        b.iter(|| r.counter(black_box("book_updates_total"), &[("venue", "mexc")]))
    });
    g.finish();

    let mut g = c.benchmark_group("metric_contended");
    let n = 1_000_000u64;
    g.throughput(Throughput::Elements(n));
    g.sample_size(20);
    g.bench_function("counter_inc_2_threads_1m_total", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Barrier::new(3);
                let t = std::thread::scope(|s| {
                    for _ in 0..2 {
                        s.spawn(|| {
                            start.wait();
                            for _ in 0..n / 2 {
                                counter.inc();
                            }
                        });
                    }
                    start.wait();
                    Instant::now()
                });
                total += t.elapsed();
            }
            total
        })
    });
    g.finish();
}

fn render_and_alerts(c: &mut Criterion) {
    let r = Registry::new();
    for venue in [Venue::MEXC, Venue::GATE] {
        let m = VenueMetrics::new(&r, venue);
        for i in 0..1000u64 {
            m.book_updates.inc();
            m.http_request(
                Duration::from_micros(500 + i * 97),
                i % 50 != 0,
                i % 10 != 0,
            );
        }
        m.ws_up(1.7e9, false);
        m.ws_message(1.7e9);
    }
    r.histogram("symbol_resolution_seconds", &[]).record_ns(900);
    let mut g = c.benchmark_group("metrics_scrape");
    g.bench_function("render_full_registry", |b| b.iter(|| black_box(r.render())));
    let mut engine = AlertEngine::new(r.clone(), Thresholds::default());
    let mut now = 1.7e9;
    g.bench_function("alert_evaluation", |b| {
        b.iter(|| {
            now += 1.0;
            black_box(engine.evaluate(now, Some(100 << 20)))
        })
    });
    g.finish();
    println!("/metrics body: {} bytes", r.render().len());
}

criterion_group!(benches, record, render_and_alerts);
criterion_main!(benches);
