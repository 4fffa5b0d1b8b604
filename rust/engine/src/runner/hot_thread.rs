//! The hot thread: one OS thread running a current-thread tokio runtime that owns the
//! feed connections, book apply, detection, risk, order building and signing, and the
//! order connections (their pool is opened and kept warm from here). A frame read, the
//! transaction it starts, and the two order writes all run on this thread: no wake-up of
//! another thread between the frame and the writes (each costs ~30-100 us on a shared
//! 2-core machine). Everything else — journal writer, telemetry, Python, health, private
//! streams, recovery — runs on the caller's runtime and talks to this one through
//! channels and locks that never wait on it.
//!
//! Optional: pinned to one core (`core`), and busy-polling (`busy_poll`: the runtime
//! never parks; a task yields in a loop so the I/O driver is polled on every scheduler
//! tick — that core runs at 100 %).

use std::time::Duration;

use serde::Deserialize;
use tokio::runtime::Handle;
use tokio::sync::oneshot;

/// `engine.hot` of the configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HotConfig {
    /// Run the hot path on a thread of its own (off: on the caller's runtime, as before).
    pub thread: bool,
    /// Pin the hot thread to this CPU core.
    pub core: Option<usize>,
    /// Spin instead of sleeping while idle (burns the core; lowest latency).
    pub busy_poll: bool,
    /// Order connections opened per venue at start and kept warm.
    pub warm_connections: usize,
    /// How often the warm connections are used (so neither side's idle timeout closes
    /// them: the venues close idle keep-alive connections after about a minute).
    pub rewarm_ms: u64,
}

impl Default for HotConfig {
    fn default() -> Self {
        HotConfig {
            thread: true,
            core: None,
            busy_poll: false,
            warm_connections: 2,
            rewarm_ms: 20_000,
        }
    }
}

/// The running hot thread; dropping it stops the runtime (its tasks are dropped).
pub(crate) struct HotThread {
    handle: Handle,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HotThread {
    /// Starts the thread and its runtime.
    ///
    /// # Errors
    /// The runtime or the thread cannot be created, or the core cannot be pinned
    /// (named, with the OS error).
    pub(crate) fn start(cfg: &HotConfig) -> Result<HotThread, String> {
        let (tx, rx) = std::sync::mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let (core, busy) = (cfg.core, cfg.busy_poll);
        let thread = std::thread::Builder::new()
            .name("arb-hot".into())
            .spawn(move || {
                if let Some(c) = core {
                    if let Err(e) = pin_to_core(c) {
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
                let mut b = tokio::runtime::Builder::new_current_thread();
                b.enable_all();
                if busy {
                    // With a task always ready the scheduler would poll the I/O driver
                    // every 61 ticks; every tick instead, so a frame is seen at once.
                    b.event_interval(1);
                }
                let rt = match b.build() {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = tx.send(Err(format!("hot thread runtime: {e}")));
                        return;
                    }
                };
                let _ = tx.send(Ok(rt.handle().clone()));
                rt.block_on(async move {
                    if busy {
                        tokio::spawn(async {
                            loop {
                                tokio::task::yield_now().await;
                            }
                        });
                    }
                    let _ = stopped.await;
                });
            })
            .map_err(|e| format!("hot thread: {e}"))?;
        let handle = rx
            .recv()
            .map_err(|_| "hot thread exited before its runtime started".to_string())??;
        Ok(HotThread {
            handle,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    pub(crate) fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Stops the runtime and waits (at most `timeout`) for the thread to end.
    pub(crate) fn stop(&mut self, timeout: Duration) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let deadline = std::time::Instant::now() + timeout;
            while !t.is_finished() && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
            if t.is_finished() {
                let _ = t.join();
            }
        }
    }
}

impl Drop for HotThread {
    fn drop(&mut self) {
        // Never blocks a dropping runtime thread for long: the runtime ends at its next
        // poll once told.
        self.stop(Duration::from_millis(200));
    }
}

/// Pins the calling thread to CPU `core`.
fn pin_to_core(core: usize) -> Result<(), String> {
    // SAFETY: a zeroed cpu_set_t is the empty set; CPU_SET writes inside it for a core
    // below CPU_SETSIZE (checked), and sched_setaffinity(0, ...) reads it for this thread.
    unsafe {
        if core >= libc::CPU_SETSIZE as usize {
            return Err(format!("engine.hot.core {core}: beyond the CPU set size"));
        }
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(core, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(format!(
                "engine.hot.core {core}: cannot pin the hot thread: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runtime_runs_tasks_on_its_own_pinned_thread_and_stops() {
        // The first core this process may run on (a container may not allow core 0).
        // SAFETY: sched_getaffinity fills the zeroed set for this thread.
        let first = unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            assert_eq!(
                libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set),
                0
            );
            (0..libc::CPU_SETSIZE as usize)
                .find(|&c| libc::CPU_ISSET(c, &set))
                .unwrap()
        };
        let mut hot = HotThread::start(&HotConfig {
            core: Some(first),
            ..HotConfig::default()
        })
        .unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        hot.handle().spawn(async move {
            let name = std::thread::current().name().map(str::to_string);
            // SAFETY: sched_getcpu has no preconditions.
            let cpu = unsafe { libc::sched_getcpu() };
            let _ = tx.send((name, cpu));
        });
        let (name, cpu) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(name.as_deref(), Some("arb-hot"));
        assert_eq!(cpu as usize, first);
        hot.stop(Duration::from_secs(5));
        assert!(hot.thread.is_none(), "the thread ended");
    }

    #[test]
    fn busy_polling_still_serves_io_and_a_bad_core_is_named() {
        let hot = HotThread::start(&HotConfig {
            busy_poll: true,
            ..HotConfig::default()
        })
        .unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        hot.handle().spawn(async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            let _ = tx.send(());
        });
        rx.recv_timeout(Duration::from_secs(5)).unwrap();
        let e = HotThread::start(&HotConfig {
            core: Some(100_000),
            ..HotConfig::default()
        })
        .err()
        .unwrap();
        assert!(e.contains("engine.hot.core 100000"), "{e}");
    }
}
