//! The ring logger end to end: real writer thread, real files, every overflow policy.

use std::collections::HashSet;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

use arb_telemetry::backend::{Backend, Memory};
use arb_telemetry::logger::FileConfig;
use arb_telemetry::{Field, Level, LogConfig, Logger, Overflow, Record, Registry, Text};
use parking_lot::{Condvar, Mutex};

fn config(capacity: usize, overflow: Overflow) -> LogConfig {
    LogConfig {
        level: Level::Trace,
        ring_capacity: capacity,
        overflow,
        console: None,
        registry: Registry::new(),
        ..LogConfig::default()
    }
}

fn rec(producer: u64, i: u64) -> Record {
    Record::new(
        Level::Info,
        "test",
        "record",
        [Field::new("p", producer), Field::new("i", i)],
    )
}

fn parse(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

/// (p, i) of every data line, and the sum of the "N records dropped" reports.
fn read_lines(lines: impl Iterator<Item = String>) -> (Vec<(u64, u64)>, u64) {
    let mut data = Vec::new();
    let mut reported = 0;
    for line in lines {
        let v = parse(&line);
        if v["msg"].as_str().unwrap().ends_with("records dropped") {
            let n = v["fields"]["dropped"].as_u64().unwrap();
            assert_eq!(v["msg"], format!("{n} records dropped"));
            assert_eq!(v["level"], "WARNING");
            reported += n;
        } else {
            data.push((
                v["fields"]["p"].as_u64().unwrap(),
                v["fields"]["i"].as_u64().unwrap(),
            ));
        }
    }
    (data, reported)
}

#[test]
fn a_million_records_from_four_threads_with_a_large_enough_ring_lose_none() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("million.jsonl");
    let registry = Registry::new();
    let logger = Logger::start(LogConfig {
        file: Some(FileConfig {
            path: path.clone(),
            rotate_bytes: u64::MAX,
            backups: 0,
        }),
        registry: registry.clone(),
        ..config(1_000_000, Overflow::DropNewest)
    })
    .unwrap();
    let per = 250_000u64;
    thread::scope(|s| {
        for p in 0..4u64 {
            let core = logger.core().clone();
            s.spawn(move || {
                for i in 0..per {
                    core.log(rec(p, i));
                }
            });
        }
    });
    logger.shutdown();
    let stats = logger.stats();
    assert_eq!(stats.dropped, 0);
    assert_eq!(stats.written, 4 * per);
    let text = std::fs::read_to_string(&path).unwrap();
    let (data, reported) = read_lines(text.lines().map(str::to_string));
    assert_eq!(reported, 0);
    assert_eq!(data.len() as u64, 4 * per);
    let unique: HashSet<_> = data.iter().copied().collect();
    assert_eq!(unique.len() as u64, 4 * per);
    // Per-producer order survives the ring.
    let mut next = [0u64; 4];
    for (p, i) in data {
        assert_eq!(i, next[p as usize]);
        next[p as usize] += 1;
    }
    assert_eq!(
        registry
            .counter("log_records_total", &[("level", "INFO")])
            .get(),
        4 * per
    );
    assert_eq!(registry.counter("log_records_dropped_total", &[]).get(), 0);
}

#[test]
fn block_policy_is_lossless_through_a_small_ring() {
    let mem = Memory::new();
    let logger = Logger::start(LogConfig {
        extra: vec![Box::new(mem.clone())],
        ..config(64, Overflow::Block)
    })
    .unwrap();
    thread::scope(|s| {
        for p in 0..3u64 {
            let core = logger.core().clone();
            s.spawn(move || {
                for i in 0..20_000 {
                    core.log(rec(p, i));
                }
            });
        }
    });
    logger.flush();
    let (data, reported) = read_lines(mem.lines().into_iter());
    assert_eq!(logger.stats().dropped, 0);
    assert_eq!(reported, 0);
    assert_eq!(data.len(), 60_000);
}

/// A backend that holds the writer inside its first write until released: lets a test
/// fill the ring deterministically, with no sleeps.
#[derive(Clone)]
struct Gate {
    open: Arc<(Mutex<bool>, Condvar)>,
    entered: Arc<AtomicBool>,
    out: Memory,
}

impl Gate {
    fn new() -> Gate {
        Gate {
            open: Arc::new((Mutex::new(false), Condvar::new())),
            entered: Arc::new(AtomicBool::new(false)),
            out: Memory::new(),
        }
    }

    fn release(&self) {
        *self.open.0.lock() = true;
        self.open.1.notify_all();
    }

    fn wait_entered(&self) {
        while !self.entered.load(Ordering::Acquire) {
            thread::yield_now();
        }
    }
}

impl Backend for Gate {
    fn write(&mut self, rec: &Record, secrets: &[String]) -> io::Result<()> {
        self.entered.store(true, Ordering::Release);
        let mut open = self.open.0.lock();
        while !*open {
            self.open.1.wait(&mut open);
        }
        drop(open);
        self.out.write(rec, secrets)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Holds the writer, then logs `n` records into a ring of `cap`.
fn overflow_run(policy: Overflow, cap: usize, n: u64) -> (Logger, Gate) {
    let gate = Gate::new();
    let logger = Logger::start(LogConfig {
        extra: vec![Box::new(gate.clone())],
        ..config(cap, policy)
    })
    .unwrap();
    // The first record parks the writer inside the backend with the ring empty.
    logger.log(rec(9, 0));
    gate.wait_entered();
    for i in 1..=n {
        logger.log(rec(0, i));
    }
    (logger, gate)
}

#[test]
fn drop_newest_counts_every_drop_exactly_and_reports_it() {
    let (logger, gate) = overflow_run(Overflow::DropNewest, 100, 1_000);
    assert_eq!(logger.stats().dropped, 900);
    assert_eq!(logger.stats().queued, 100);
    gate.release();
    logger.flush();
    logger.shutdown();
    let (data, reported) = read_lines(gate.out.lines().into_iter());
    assert_eq!(reported, 900);
    // The first record plus the 100 oldest of the burst survive.
    let kept: Vec<u64> = data.iter().filter(|(p, _)| *p == 0).map(|x| x.1).collect();
    assert_eq!(kept, (1..=100).collect::<Vec<_>>());
    assert_eq!(logger.stats().written, 101);
}

#[test]
fn drop_oldest_keeps_the_newest_and_counts_exactly() {
    let (logger, gate) = overflow_run(Overflow::DropOldest, 100, 1_000);
    assert_eq!(logger.stats().dropped, 900);
    gate.release();
    logger.shutdown();
    let (data, reported) = read_lines(gate.out.lines().into_iter());
    assert_eq!(reported, 900);
    let kept: Vec<u64> = data.iter().filter(|(p, _)| *p == 0).map(|x| x.1).collect();
    assert_eq!(kept, (901..=1_000).collect::<Vec<_>>());
}

#[test]
fn drops_under_a_live_writer_add_up_exactly() {
    // A tiny ring and three fast producers: how many drop depends on scheduling, but
    // written + dropped must equal produced, and the reports must sum to the drops.
    let mem = Memory::new();
    let registry = Registry::new();
    let logger = Logger::start(LogConfig {
        extra: vec![Box::new(mem.clone())],
        drop_report_interval: std::time::Duration::ZERO,
        registry: registry.clone(),
        ..config(16, Overflow::DropNewest)
    })
    .unwrap();
    thread::scope(|s| {
        for p in 0..3u64 {
            let core = logger.core().clone();
            s.spawn(move || {
                for i in 0..50_000 {
                    core.log(rec(p, i));
                }
            });
        }
    });
    logger.shutdown();
    let st = logger.stats();
    let (data, reported) = read_lines(mem.lines().into_iter());
    assert_eq!(st.written + st.dropped, 150_000);
    assert_eq!(data.len() as u64, st.written);
    assert_eq!(reported, st.dropped);
    assert_eq!(
        registry.counter("log_records_dropped_total", &[]).get(),
        st.dropped
    );
}

#[test]
fn shutdown_writes_everything_still_in_the_ring() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shutdown.jsonl");
    let logger = Logger::start(LogConfig {
        file: Some(FileConfig {
            path: path.clone(),
            rotate_bytes: 1 << 30,
            backups: 1,
        }),
        // The writer would sleep a long time between passes: only shutdown drains.
        idle_wait: std::time::Duration::from_secs(3600),
        ..config(50_000, Overflow::DropNewest)
    })
    .unwrap();
    for i in 0..40_000 {
        logger.log(rec(0, i));
    }
    drop(logger);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 40_000);
}

#[test]
fn file_rotation_through_the_logger_keeps_n_backups() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rot.jsonl");
    let logger = Logger::start(LogConfig {
        file: Some(FileConfig {
            path: path.clone(),
            rotate_bytes: 4_096,
            backups: 4,
        }),
        ..config(100_000, Overflow::Block)
    })
    .unwrap();
    for i in 0..10_000 {
        logger.log(rec(0, i));
    }
    logger.shutdown();
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "rot.jsonl",
            "rot.jsonl.1",
            "rot.jsonl.2",
            "rot.jsonl.3",
            "rot.jsonl.4"
        ]
    );
    for n in &names {
        assert!(std::fs::metadata(dir.path().join(n)).unwrap().len() <= 4_096);
    }
    // The live file ends with the last record.
    let live = std::fs::read_to_string(&path).unwrap();
    let last = parse(live.lines().last().unwrap());
    assert_eq!(last["fields"]["i"], 9_999);
}

#[test]
fn registered_secrets_never_reach_any_backend() {
    let secret = "sk-live-7f3a9c2e51d84b06";
    arb_telemetry::register_secret(secret);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret.jsonl");
    let mem = Memory::new();
    let logger = Logger::start(LogConfig {
        file: Some(FileConfig {
            path: path.clone(),
            rotate_bytes: 1 << 20,
            backups: 1,
        }),
        extra: vec![Box::new(mem.clone())],
        ..config(1_000, Overflow::Block)
    })
    .unwrap();
    for level in Level::ALL {
        logger.log(Record::with_text(
            level,
            "test",
            Text::Owned(format!("config api_secret={secret}").into()),
            [Field::new(
                "raw",
                arb_telemetry::Value::Owned(secret.into()),
            )],
            1,
        ));
    }
    logger.shutdown();
    let file = std::fs::read_to_string(&path).unwrap();
    assert_eq!(file.lines().count(), 6);
    assert!(!file.contains(secret));
    assert!(file.contains("api_secret=**********"));
    assert!(mem.lines().iter().all(|l| !l.contains(secret)));
}

#[test]
fn records_below_the_level_are_not_built() {
    let mem = Memory::new();
    let logger = Logger::start(LogConfig {
        extra: vec![Box::new(mem.clone())],
        level: Level::Warn,
        ..config(100, Overflow::Block)
    })
    .unwrap();
    logger.set_level(Level::Warn);
    for level in Level::ALL {
        if logger.enabled(level) {
            logger.log(Record::new(level, "t", "m", []));
        }
    }
    logger.shutdown();
    let levels: Vec<String> = mem
        .lines()
        .iter()
        .map(|l| parse(l)["level"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(levels, ["WARNING", "ERROR", "CRITICAL"]);
}
