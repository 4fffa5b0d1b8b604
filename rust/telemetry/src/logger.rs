//! The ring logger: producers on any thread copy a [`Record`] into a lock-free ring;
//! one writer thread drains it in batches to the backends.
//!
//! Hot path (`Core::log`): one push into the ring (a CAS and two stores), plus, on one
//! call in 64 per thread, a second clock read to feed the `log_call_seconds` histogram.
//! No lock, no allocation, no system call. The writer is a plain OS thread (not a tokio
//! task) because backends block on file I/O and because Rust code without a runtime
//! must be able to log too.
//!
//! When the ring is full the configured [`Overflow`] policy applies: drop the new
//! record, drop the oldest one, or block the producer until the writer makes room.
//! Every drop is counted; the writer turns the count into a metric
//! (`log_records_dropped_total`) and, at most once per `drop_report_interval`, into a
//! WARNING record "N records dropped" written straight to the backends (not through the
//! ring, which may be the thing that is full). Nothing is lost silently.
//!
//! Wake-ups: producers never wake the writer on the normal path (that would cost a
//! futex call per record); the writer drains, and when the ring is empty parks for
//! `idle_wait`. A producer that finds the ring full unparks it. `flush()` and
//! `shutdown()` wake it explicitly and wait for it, and shutdown drains every record
//! still in the ring before the writer exits.

use std::cell::Cell;
use std::io;
use std::path::PathBuf;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Once, OnceLock};
use std::thread::{self, JoinHandle, Thread};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, RwLock};
use serde::Deserialize;

use crate::backend::{Backend, Console, ConsoleStream, RotatingFile};
use crate::metrics::{names, Counter, Gauge, Histogram, Registry};
use crate::record::{now_ns, Field, Level, Record, Text};

/// What a producer does when the ring is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    /// Discard the record being logged (the producer never waits). The default.
    DropNewest,
    /// Discard the oldest queued record to make room (keeps the most recent history).
    DropOldest,
    /// Wait until the writer makes room. Lossless, but a slow disk stalls producers.
    Block,
}

impl Overflow {
    pub const fn as_str(self) -> &'static str {
        match self {
            Overflow::DropNewest => "drop_newest",
            Overflow::DropOldest => "drop_oldest",
            Overflow::Block => "block",
        }
    }

    pub fn parse(s: &str) -> Option<Overflow> {
        Some(match s {
            "drop_newest" => Overflow::DropNewest,
            "drop_oldest" => Overflow::DropOldest,
            "block" => Overflow::Block,
            _ => return None,
        })
    }
}

/// The JSON-lines file backend's settings.
#[derive(Clone, Debug)]
pub struct FileConfig {
    pub path: PathBuf,
    pub rotate_bytes: u64,
    pub backups: u32,
}

/// Everything a logger is built from.
pub struct LogConfig {
    pub level: Level,
    pub ring_capacity: usize,
    pub overflow: Overflow,
    pub console: Option<ConsoleStream>,
    pub file: Option<FileConfig>,
    /// More backends (an in-memory capture, a discard backend for benches).
    pub extra: Vec<Box<dyn Backend>>,
    /// Records the writer pops before writing them out as one batch.
    pub batch: usize,
    /// How long the writer sleeps when the ring is empty.
    pub idle_wait: Duration,
    /// Minimum interval between two "N records dropped" reports.
    pub drop_report_interval: Duration,
    /// Where the logger's own metrics go.
    pub registry: Registry,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: Level::Info,
            ring_capacity: 10_000,
            overflow: Overflow::DropNewest,
            console: Some(ConsoleStream::Stderr),
            file: None,
            extra: Vec::new(),
            batch: 256,
            idle_wait: Duration::from_millis(2),
            drop_report_interval: Duration::from_secs(1),
            registry: Registry::global().clone(),
        }
    }
}

/// The `logging:` section of the configuration, as the Python side passes it (JSON).
/// Unknown keys are rejected so a typo is an error, not a silently ignored setting.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    pub level: String,
    pub ring_capacity: usize,
    pub overflow: String,
    pub console: bool,
    pub file: Option<String>,
    pub rotate_bytes: u64,
    pub backups: u32,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            level: "INFO".into(),
            ring_capacity: 10_000,
            overflow: "drop_newest".into(),
            console: true,
            file: None,
            rotate_bytes: 10 * 1024 * 1024,
            backups: 5,
        }
    }
}

/// A setting that cannot be used; names the key.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("logging settings: {0}")]
    Parse(#[from] serde_json::Error),
    #[error("logging.{key}: {msg}")]
    Invalid { key: &'static str, msg: String },
}

impl LogSettings {
    /// Parses the JSON object of the `logging:` section.
    ///
    /// # Errors
    /// Malformed JSON, an unknown key or a value of the wrong type.
    pub fn from_json(json: &str) -> Result<LogSettings, SettingsError> {
        Ok(serde_json::from_str(json)?)
    }

    /// The logger configuration these settings describe.
    ///
    /// # Errors
    /// An unknown level or overflow policy, a zero capacity or rotation size.
    pub fn to_config(&self) -> Result<LogConfig, SettingsError> {
        let level = Level::parse(&self.level).ok_or_else(|| SettingsError::Invalid {
            key: "level",
            msg: format!("unknown level {:?}", self.level),
        })?;
        let overflow = Overflow::parse(&self.overflow).ok_or_else(|| SettingsError::Invalid {
            key: "overflow",
            msg: format!(
                "unknown policy {:?} (drop_newest, drop_oldest or block)",
                self.overflow
            ),
        })?;
        if self.ring_capacity == 0 {
            return Err(SettingsError::Invalid {
                key: "ring_capacity",
                msg: "must be at least 1".into(),
            });
        }
        if self.rotate_bytes == 0 {
            return Err(SettingsError::Invalid {
                key: "rotate_bytes",
                msg: "must be at least 1".into(),
            });
        }
        Ok(LogConfig {
            level,
            ring_capacity: self.ring_capacity,
            overflow,
            console: self.console.then_some(ConsoleStream::Stderr),
            file: self.file.as_ref().map(|p| FileConfig {
                path: PathBuf::from(p),
                rotate_bytes: self.rotate_bytes,
                backups: self.backups,
            }),
            ..LogConfig::default()
        })
    }
}

/// Secrets scrubbed from every line any backend writes (see [`register_secret`]).
static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Registers a secret value (an API key or secret) that no log output may contain.
/// Values shorter than 6 characters are ignored: masking them would mangle ordinary
/// text and they are not real credentials anyway.
pub fn register_secret(secret: &str) {
    if secret.len() >= 6 {
        let mut s = SECRETS.write();
        if !s.iter().any(|x| x == secret) {
            s.push(secret.to_string());
        }
    }
}

/// `text` with every registered secret masked, as every backend masks a line: for text
/// that leaves the process another way (stderr, an exception shown to the operator).
pub fn scrub_secrets(text: &str) -> String {
    let mut out = text.to_string();
    crate::format::scrub(&mut out, &SECRETS.read());
    out
}

/// Counts of what a logger did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogStats {
    /// Records written to the backends (drop reports not included).
    pub written: u64,
    /// Records dropped by the overflow policy.
    pub dropped: u64,
    /// Records waiting in the ring now.
    pub queued: u64,
    pub capacity: u64,
}

/// The part of a logger producers touch. Shared by the handle and the writer thread.
pub struct Core {
    ring: crate::ring::Ring<Record>,
    min_level: AtomicU8,
    overflow: Overflow,
    dropped: AtomicU64,
    written: AtomicU64,
    shutdown: AtomicBool,
    writer_done: AtomicBool,
    /// True while the writer sleeps: producers that find the ring full only pay for an
    /// unpark (a futex call) when there is someone to wake.
    writer_parked: AtomicBool,
    writer: OnceLock<Thread>,
    flush_req: AtomicU64,
    flush_done: Mutex<u64>,
    flush_cv: Condvar,
    call_latency: Histogram,
}

thread_local! {
    /// Per-thread call counter for latency sampling (no shared cache line).
    static SAMPLE: Cell<u32> = const { Cell::new(0) };
}

impl Core {
    fn new(capacity: usize, level: Level, overflow: Overflow, registry: &Registry) -> Core {
        Core {
            ring: crate::ring::Ring::new(capacity),
            min_level: AtomicU8::new(level as u8),
            overflow,
            dropped: AtomicU64::new(0),
            written: AtomicU64::new(0),
            shutdown: AtomicBool::new(false),
            writer_done: AtomicBool::new(false),
            writer_parked: AtomicBool::new(false),
            writer: OnceLock::new(),
            flush_req: AtomicU64::new(0),
            flush_done: Mutex::new(0),
            flush_cv: Condvar::new(),
            call_latency: registry.histogram(names::LOG_CALL_SECONDS, &[]),
        }
    }

    /// True if a record at `level` would be kept (the macros check before building one).
    #[inline(always)]
    pub fn enabled(&self, level: Level) -> bool {
        level as u8 >= self.min_level.load(Ordering::Relaxed)
    }

    pub fn set_level(&self, level: Level) {
        self.min_level.store(level as u8, Ordering::Relaxed);
    }

    pub fn level(&self) -> Level {
        Level::from_u8(self.min_level.load(Ordering::Relaxed))
    }

    /// Queues a record (the hot path). Never blocks unless the policy is `Block`.
    #[inline]
    pub fn log(&self, rec: Record) {
        let (ts, ticks) = (rec.ts_ns, rec.time_is_ticks());
        if let Err(rec) = self.ring.try_push(rec) {
            self.overflow(rec);
        }
        let n = SAMPLE.with(|c| {
            let n = c.get().wrapping_add(1);
            c.set(n);
            n
        });
        if n % 64 == 0 {
            self.call_latency
                .record_ns(crate::clock::elapsed_ns(ts, ticks));
        }
    }

    #[cold]
    #[inline(never)]
    fn overflow(&self, mut rec: Record) {
        if self.writer_parked.load(Ordering::Relaxed) {
            self.wake_writer();
        }
        match self.overflow {
            Overflow::DropNewest => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
            Overflow::DropOldest => loop {
                if self.ring.try_pop().is_some() {
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                }
                match self.ring.try_push(rec) {
                    Ok(()) => return,
                    Err(back) => rec = back,
                }
            },
            Overflow::Block => {
                let mut spins = 0u32;
                loop {
                    match self.ring.try_push(rec) {
                        Ok(()) => return,
                        Err(back) => rec = back,
                    }
                    // With no writer left nobody will ever make room: count the drop
                    // instead of hanging the producer forever.
                    if self.writer_done.load(Ordering::Acquire) {
                        self.dropped.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                    spins += 1;
                    if spins < 64 {
                        std::hint::spin_loop();
                    } else {
                        self.wake_writer();
                        thread::yield_now();
                    }
                }
            }
        }
    }

    fn wake_writer(&self) {
        if let Some(t) = self.writer.get() {
            t.unpark();
        }
    }

    /// Blocks until every record queued before this call is written and the backends
    /// are flushed (returns at once if the writer has stopped).
    pub fn flush(&self) {
        let ticket = self.flush_req.fetch_add(1, Ordering::AcqRel) + 1;
        self.wake_writer();
        let mut done = self.flush_done.lock();
        while *done < ticket && !self.writer_done.load(Ordering::Acquire) {
            self.flush_cv.wait_for(&mut done, Duration::from_millis(50));
            if *done < ticket {
                self.wake_writer();
            }
        }
    }

    pub fn stats(&self) -> LogStats {
        LogStats {
            written: self.written.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            queued: self.ring.len() as u64,
            capacity: self.ring.capacity() as u64,
        }
    }

    pub fn overflow_policy(&self) -> Overflow {
        self.overflow
    }
}

/// A running logger: the shared core plus its writer thread. Dropping it shuts it down
/// (draining the ring).
pub struct Logger {
    core: Arc<Core>,
    join: Mutex<Option<JoinHandle<()>>>,
}

impl std::ops::Deref for Logger {
    type Target = Core;
    fn deref(&self) -> &Core {
        &self.core
    }
}

impl Logger {
    /// Opens the backends and starts the writer thread.
    ///
    /// # Errors
    /// The log file cannot be opened or the thread cannot be spawned.
    pub fn start(config: LogConfig) -> io::Result<Logger> {
        crate::clock::calibrate();
        let mut backends: Vec<Box<dyn Backend>> = Vec::new();
        if let Some(stream) = config.console {
            backends.push(Box::new(Console::new(stream)));
        }
        if let Some(f) = &config.file {
            backends.push(Box::new(RotatingFile::open(
                &f.path,
                f.rotate_bytes,
                f.backups,
            )?));
        }
        backends.extend(config.extra);
        let registry = config.registry;
        let core = Arc::new(Core::new(
            config.ring_capacity,
            config.level,
            config.overflow,
            &registry,
        ));
        let writer = Writer {
            core: core.clone(),
            backends,
            batch: Vec::with_capacity(config.batch.max(1)),
            batch_size: config.batch.max(1),
            idle_wait: config.idle_wait,
            drop_report_interval: config.drop_report_interval,
            reported_drops: 0,
            by_level: Level::ALL
                .map(|l| registry.counter(names::LOG_RECORDS_TOTAL, &[("level", l.as_str())])),
            dropped_total: registry.counter(names::LOG_RECORDS_DROPPED_TOTAL, &[]),
            backend_errors: registry.counter("log_backend_errors_total", &[]),
            ring_used: registry.gauge(names::LOG_RING_USED, &[]),
            error_reported: false,
        };
        registry
            .gauge(names::LOG_RING_CAPACITY, &[])
            .set(config.ring_capacity as f64);
        let handle = thread::Builder::new()
            .name("arb-log-writer".into())
            .spawn(move || writer.run())?;
        let _ = core.writer.set(handle.thread().clone());
        Ok(Logger {
            core,
            join: Mutex::new(Some(handle)),
        })
    }

    /// The shared core (cheap to clone, usable from any thread).
    pub fn core(&self) -> &Arc<Core> {
        &self.core
    }

    /// Stops the writer after it has written every record in the ring. Idempotent.
    pub fn shutdown(&self) {
        self.core.shutdown.store(true, Ordering::Release);
        self.core.wake_writer();
        if let Some(h) = self.join.lock().take() {
            let _ = h.join();
        }
    }
}

impl Drop for Logger {
    fn drop(&mut self) {
        self.shutdown();
    }
}

struct Writer {
    core: Arc<Core>,
    backends: Vec<Box<dyn Backend>>,
    batch: Vec<Record>,
    batch_size: usize,
    idle_wait: Duration,
    drop_report_interval: Duration,
    reported_drops: u64,
    by_level: [Counter; 6],
    dropped_total: Counter,
    backend_errors: Counter,
    ring_used: Gauge,
    error_reported: bool,
}

impl Writer {
    fn run(mut self) {
        let mut last_report = Instant::now();
        loop {
            // Read the flush ticket and the stop flag before draining: everything queued
            // before either was raised is then guaranteed to be in this drain.
            let ticket = self.core.flush_req.load(Ordering::Acquire);
            let stopping = self.core.shutdown.load(Ordering::Acquire);
            let emptied = self.drain();
            // A flush request also forces the report: after `flush()` returns, the
            // output accounts for every record logged before it, written or dropped.
            let flushing = ticket > *self.core.flush_done.lock();
            if stopping || flushing || last_report.elapsed() >= self.drop_report_interval {
                self.report_drops();
                last_report = Instant::now();
            }
            if emptied {
                self.flush_backends();
                {
                    let mut done = self.core.flush_done.lock();
                    if ticket > *done {
                        *done = ticket;
                        self.core.flush_cv.notify_all();
                    }
                }
                if stopping {
                    break;
                }
                // The flag may be seen late by a producer; the timeout bounds that.
                self.core.writer_parked.store(true, Ordering::Relaxed);
                thread::park_timeout(self.idle_wait);
                self.core.writer_parked.store(false, Ordering::Relaxed);
            }
        }
        self.report_drops();
        self.flush_backends();
        self.core.writer_done.store(true, Ordering::Release);
        let _guard = self.core.flush_done.lock();
        self.core.flush_cv.notify_all();
    }

    /// Writes up to one ring's worth of records (so drop reports and flush requests are
    /// still served under sustained load); true if the ring was seen empty.
    fn drain(&mut self) -> bool {
        let mut budget = self.core.ring.capacity().max(self.batch_size);
        loop {
            self.batch.clear();
            let mut emptied = false;
            while self.batch.len() < self.batch_size {
                match self.core.ring.try_pop() {
                    Some(r) => self.batch.push(r),
                    None => {
                        emptied = true;
                        break;
                    }
                }
            }
            if !self.batch.is_empty() {
                self.ring_used.set(self.core.ring.len() as f64);
                let mut batch = std::mem::take(&mut self.batch);
                let conv = crate::clock::Converter::current();
                for r in batch.iter_mut() {
                    r.resolve_time(&conv);
                }
                self.write_all(&batch);
                self.core
                    .written
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                budget = budget.saturating_sub(batch.len());
                self.batch = batch;
            }
            if emptied {
                self.batch.clear();
                return true;
            }
            if budget == 0 {
                self.batch.clear();
                return false;
            }
        }
    }

    fn write_all(&mut self, records: &[Record]) {
        let secrets = SECRETS.read();
        for rec in records {
            self.by_level[rec.level as usize].inc();
            for b in self.backends.iter_mut() {
                if let Err(e) = b.write(rec, &secrets) {
                    self.backend_errors.inc();
                    if !self.error_reported {
                        // The logger cannot log its own failure through itself; stderr is
                        // the one place left. Once, then only the counter moves.
                        eprintln!("arb-telemetry: log backend write failed: {e}");
                        self.error_reported = true;
                    }
                }
            }
        }
    }

    fn report_drops(&mut self) {
        let total = self.core.dropped.load(Ordering::Relaxed);
        let delta = total - self.reported_drops;
        if delta == 0 {
            return;
        }
        self.reported_drops = total;
        self.dropped_total.add(delta);
        let rec = Record::with_text(
            Level::Warn,
            "arb_telemetry",
            Text::Owned(format!("{delta} records dropped").into_boxed_str()),
            [
                Field::new("dropped", delta),
                Field::new("dropped_total", total),
                Field::new("policy", self.core.overflow.as_str()),
                Field::new("capacity", self.core.ring.capacity()),
            ],
            now_ns(),
        );
        self.write_all(std::slice::from_ref(&rec));
    }

    fn flush_backends(&mut self) {
        for b in self.backends.iter_mut() {
            if b.flush().is_err() {
                self.backend_errors.inc();
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// The process-wide logger the macros write to.

/// Raw pointer to the installed core; the `Arc` reference it came from is never
/// released, so a core stays valid for the whole process even after a reinstall
/// (a reinstall leaks the old ring, a few MB at most, once per reconfiguration).
static GLOBAL: AtomicPtr<Core> = AtomicPtr::new(ptr::null_mut());
/// Owns the writer thread of the installed logger.
static GLOBAL_OWNER: Mutex<Option<Logger>> = Mutex::new(None);
static DEFAULT_INIT: Once = Once::new();

/// Installs `config` as the process-wide logger. The previous one (if any) is drained
/// and stopped after producers have been switched to the new one.
///
/// # Errors
/// The log file cannot be opened or the writer thread cannot be spawned.
pub fn install(config: LogConfig) -> io::Result<()> {
    let logger = Logger::start(config)?;
    let raw = Arc::into_raw(logger.core.clone()) as *mut Core;
    GLOBAL.store(raw, Ordering::Release);
    let old = GLOBAL_OWNER.lock().replace(logger);
    if let Some(old) = old {
        old.shutdown();
    }
    Ok(())
}

/// The process-wide logger's core. Before any `install`, a default logger (INFO and up
/// to stderr) is installed on first use, so early records are not lost.
#[inline(always)]
pub fn global() -> &'static Core {
    let p = GLOBAL.load(Ordering::Acquire);
    if p.is_null() {
        return global_slow();
    }
    // SAFETY: `p` came from `Arc::into_raw` and that reference is never released.
    unsafe { &*p }
}

#[cold]
fn global_slow() -> &'static Core {
    DEFAULT_INIT.call_once(|| {
        if GLOBAL.load(Ordering::Acquire).is_null() {
            if let Err(e) = install(LogConfig::default()) {
                eprintln!("arb-telemetry: cannot start the default logger: {e}");
            }
        }
    });
    let p = GLOBAL.load(Ordering::Acquire);
    if p.is_null() {
        // Only if even the default logger could not start (no thread could be
        // spawned): a core with no writer, whose producers fill it and then count
        // drops, instead of crashing the caller.
        static DEAD: OnceLock<Core> = OnceLock::new();
        return DEAD.get_or_init(|| {
            let core = Core::new(1, Level::Trace, Overflow::DropNewest, Registry::global());
            core.writer_done.store(true, Ordering::Release);
            core
        });
    }
    // SAFETY: as in `global`.
    unsafe { &*p }
}

/// Logs a record with a message built at run time through the process-wide logger:
/// for rare events (a reconnect, an error with its detail) where an allocation is fine,
/// and for adapters from other crates' log hooks, e.g. arb-market's `LogSink`:
/// `log_text(Level::Warn, "arb_market", detail, [Field::new("event", r.event), Field::new("venue", r.venue)])`.
pub fn log_text<const N: usize>(
    level: Level,
    target: &'static str,
    message: impl Into<Box<str>>,
    fields: [Field; N],
) {
    let core = global();
    if core.enabled(level) {
        let mut rec = Record::now_with_text(level, target, Text::Owned(message.into()));
        for f in fields {
            rec.push_field(f);
        }
        core.log(rec);
    }
}

/// Drains and stops the process-wide logger's writer (call at exit). Records logged
/// afterwards stay in the ring unwritten (and, once it is full, are counted as dropped);
/// a later `install` starts a fresh logger.
pub fn shutdown_global() {
    if let Some(l) = GLOBAL_OWNER.lock().as_ref() {
        l.shutdown();
    }
}
