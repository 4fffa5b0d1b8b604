//! The ring logger's cost: one Rust log call (criterion mean, plus a per-call p50/p99
//! from TSC timestamps), single- and multi-producer throughput into the ring, the
//! sustained rate through the default 10,000-record ring, and end to end into a file.
//!
//! Run: `cargo bench -p arb-benches --bench logging`.

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use arb_telemetry::backend::Discard;
use arb_telemetry::logger::FileConfig;
use arb_telemetry::{
    arb_debug, arb_info, Field, Level, LogConfig, Logger, Overflow, Record, Registry, Value,
};
use criterion::{Criterion, Throughput};

const N: u64 = 100_000;

fn discard_config(capacity: usize, overflow: Overflow) -> LogConfig {
    LogConfig {
        level: Level::Info,
        ring_capacity: capacity,
        overflow,
        console: None,
        extra: vec![Box::new(Discard)],
        registry: Registry::new(),
        ..LogConfig::default()
    }
}

#[inline(always)]
fn sample_record(i: u64) -> Record {
    Record::new(
        Level::Info,
        "arb_market::mexc",
        "book update applied",
        [
            Field::new("venue", "mexc"),
            Field::new("update_id", i),
            Field::new("best_bid", 6_512_345_000_000i64),
            Field::new("spread_bps", 1.25f64),
        ],
    )
}

/// Runs `call` `iters` times in bursts of at most `N`, flushing (untimed) before each
/// burst: the ring is never full, so this measures the push and never the drop path.
fn bursts(iters: u64, mut call: impl FnMut(u64)) -> Duration {
    let mut total = Duration::ZERO;
    let mut done = 0;
    while done < iters {
        let n = (iters - done).min(N);
        arb_telemetry::global().flush();
        let t = Instant::now();
        for i in done..done + n {
            call(i);
        }
        total += t.elapsed();
        done += n;
    }
    total
}

/// One `arb_info!` call through the process-wide logger (what every crate uses).
fn log_call(c: &mut Criterion) {
    arb_telemetry::install(discard_config(2 * N as usize, Overflow::DropNewest)).unwrap();
    let mut g = c.benchmark_group("log_call");
    g.throughput(Throughput::Elements(1));
    g.bench_function("arb_info_4_fields", |b| {
        b.iter_custom(|iters| {
            bursts(iters, |i| {
                arb_info!(
                    "arb_market::mexc",
                    "book update applied",
                    venue = "mexc",
                    update_id = black_box(i),
                    best_bid = 6_512_345_000_000i64,
                    spread_bps = 1.25
                )
            })
        })
    });
    g.bench_function("arb_info_no_fields", |b| {
        b.iter_custom(|iters| bursts(iters, |_| arb_info!("arb_market::mexc", "heartbeat")))
    });
    g.bench_function("arb_info_inline_string", |b| {
        let sym = String::from("BTC_USDT");
        b.iter_custom(|iters| {
            bursts(iters, |_| {
                arb_info!("t", "resolved", symbol = Value::inline(black_box(&sym)))
            })
        })
    });
    g.bench_function("arb_debug_filtered_out", |b| {
        b.iter(|| arb_debug!("t", "not kept", x = black_box(1u64)))
    });
    g.finish();
    let st = arb_telemetry::global().stats();
    println!(
        "log_call: records written {} dropped {}",
        st.written, st.dropped
    );

    // Saturated: a producer logging flat out through the default 10,000 ring with
    // drop_newest while the writer drains; shows what an overloaded logger costs the
    // producer (drops are counted, printed below).
    arb_telemetry::install(discard_config(10_000, Overflow::DropNewest)).unwrap();
    let mut g = c.benchmark_group("log_call_saturated");
    g.throughput(Throughput::Elements(1));
    g.bench_function("arb_info_4_fields_10k_ring_drop_newest", |b| {
        let mut i = 0u64;
        b.iter(|| {
            i += 1;
            arb_info!(
                "arb_market::mexc",
                "book update applied",
                venue = "mexc",
                update_id = black_box(i),
                best_bid = 6_512_345_000_000i64,
                spread_bps = 1.25
            )
        })
    });
    g.finish();
    let st = arb_telemetry::global().stats();
    println!(
        "log_call_saturated: records written {} dropped {} ({:.1} % dropped)",
        st.written,
        st.dropped,
        st.dropped as f64 * 100.0 / (st.written + st.dropped).max(1) as f64
    );
}

/// `n` pushes from one thread into a fresh ring large enough for all of them.
fn into_ring(c: &mut Criterion) {
    let mut g = c.benchmark_group("ring_throughput");
    g.throughput(Throughput::Elements(N));
    g.sample_size(30);
    let logger = Logger::start(discard_config(N as usize, Overflow::DropNewest)).unwrap();
    g.bench_function("single_producer_100k", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                logger.flush(); // empty ring before the timed burst
                let t = Instant::now();
                for i in 0..N {
                    logger.log(sample_record(i));
                }
                total += t.elapsed();
            }
            total
        })
    });
    for producers in [2u64, 4] {
        g.bench_function(format!("{producers}_producers_100k_total"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    logger.flush();
                    let start = Barrier::new(producers as usize + 1);
                    let t = std::thread::scope(|s| {
                        for _ in 0..producers {
                            s.spawn(|| {
                                start.wait();
                                for i in 0..N / producers {
                                    logger.log(sample_record(i));
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
    }
    g.finish();
    println!("ring_throughput: dropped {}", logger.stats().dropped);

    // Sustained: producer and writer together through the default 10,000 ring, with
    // `block` so nothing is dropped and the rate is what the writer can absorb.
    let mut g = c.benchmark_group("sustained_10k_ring");
    g.throughput(Throughput::Elements(N));
    g.sample_size(20);
    let logger = Logger::start(discard_config(10_000, Overflow::Block)).unwrap();
    g.bench_function("block_discard_backend", |b| {
        b.iter_custom(|iters| {
            let t = Instant::now();
            for _ in 0..iters {
                for i in 0..N {
                    logger.log(sample_record(i));
                }
                logger.flush();
            }
            t.elapsed()
        })
    });
    g.finish();
}

/// Records in, JSON lines on disk, flushed: the whole path.
fn to_file(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("arb-bench-log-{}", std::process::id()));
    let path = dir.join("bench.jsonl");
    let mut g = c.benchmark_group("end_to_end_file");
    g.throughput(Throughput::Elements(N));
    g.sample_size(10);
    let logger = Logger::start(LogConfig {
        level: Level::Info,
        ring_capacity: 10_000,
        overflow: Overflow::Block,
        console: None,
        file: Some(FileConfig {
            path: path.clone(),
            rotate_bytes: 256 * 1024 * 1024,
            backups: 1,
        }),
        registry: Registry::new(),
        ..LogConfig::default()
    })
    .unwrap();
    g.bench_function("jsonl_10k_ring_block", |b| {
        b.iter_custom(|iters| {
            let t = Instant::now();
            for _ in 0..iters {
                for i in 0..N {
                    logger.log(sample_record(i));
                }
                logger.flush();
            }
            t.elapsed()
        })
    });
    g.finish();
    drop(logger);
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(target_arch = "x86_64")]
fn tsc() -> u64 {
    // lfence orders rdtsc against the instructions around it (no reordering of the
    // measured call outside the two stamps).
    unsafe {
        std::arch::x86_64::_mm_lfence();
        let t = std::arch::x86_64::_rdtsc();
        std::arch::x86_64::_mm_lfence();
        t
    }
}

/// Per-call latency distribution of `arb_info!`: each call between two TSC stamps,
/// minus the median cost of two back-to-back stamps. Printed, not asserted.
#[cfg(target_arch = "x86_64")]
fn per_call_percentiles() {
    let calibrate = Instant::now();
    let t0 = tsc();
    std::thread::sleep(Duration::from_millis(200));
    let ns_per_tick = calibrate.elapsed().as_nanos() as f64 / (tsc() - t0) as f64;

    let samples = 1_000_000usize;
    let mut empty = Vec::with_capacity(samples);
    for _ in 0..samples {
        let a = tsc();
        let b = tsc();
        empty.push(b - a);
    }
    empty.sort_unstable();
    let overhead = empty[samples / 2];

    arb_telemetry::install(discard_config(1 << 21, Overflow::DropNewest)).unwrap();
    let mut lat = Vec::with_capacity(samples);
    for i in 0..samples as u64 {
        let a = tsc();
        arb_info!(
            "arb_market::mexc",
            "book update applied",
            venue = "mexc",
            update_id = black_box(i),
            best_bid = 6_512_345_000_000i64,
            spread_bps = 1.25
        );
        let b = tsc();
        lat.push((b - a).saturating_sub(overhead));
    }
    lat.sort_unstable();
    let q = |p: f64| lat[((samples as f64 * p) as usize).min(samples - 1)] as f64 * ns_per_tick;
    let st = arb_telemetry::global().stats();
    println!(
        "per-call arb_info! (4 fields), {samples} calls, TSC {:.3} ns/tick, stamp overhead {:.1} ns subtracted: \
         p50 {:.1} ns, p90 {:.1} ns, p99 {:.1} ns, p99.9 {:.1} ns, max {:.0} ns (dropped {})",
        ns_per_tick,
        overhead as f64 * ns_per_tick,
        q(0.5),
        q(0.9),
        q(0.99),
        q(0.999),
        q(1.0),
        st.dropped
    );
    println!(
        "size_of::<Record>() = {} bytes",
        std::mem::size_of::<Record>()
    );
}

#[cfg(not(target_arch = "x86_64"))]
fn per_call_percentiles() {
    println!("per-call percentiles need the x86_64 TSC; skipped");
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    log_call(&mut c);
    into_ring(&mut c);
    to_file(&mut c);
    c.final_summary();
    per_call_percentiles();
}
