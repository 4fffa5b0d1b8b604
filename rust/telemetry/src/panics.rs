//! The process's panic hook: a panic in any thread or task is logged through the ring
//! logger (CRITICAL), counted in `panics_total{thread}` (the `task_panic` alert fires on
//! it) and repeated on stderr, every copy scrubbed of registered secrets.
//!
//! Rust's default hook prints the raw message to stderr only: in a tokio task the panic
//! is then caught by the runtime and nothing else learns of it, and a message built from
//! a request or a config can carry a key. What the panic held is released by whoever
//! awaits the task (see the engine's transaction watcher); this hook only makes it seen.

use std::panic::PanicHookInfo;
use std::sync::Once;

use crate::metrics::names::PANICS_TOTAL;
use crate::record::{Field, Level, Value};

/// Installs the hook (once per process; later calls do nothing).
pub fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| std::panic::set_hook(Box::new(hook)));
}

fn hook(info: &PanicHookInfo<'_>) {
    let current = std::thread::current();
    let thread = current.name().unwrap_or("unnamed");
    let message = crate::logger::scrub_secrets(&info.to_string());
    crate::metrics::counter(PANICS_TOTAL, &[("thread", thread)]).inc();
    crate::logger::log_text(
        Level::Critical,
        "arb::panic",
        format!("panic: {message}"),
        [Field::new("thread", Value::inline(thread))],
    );
    eprintln!("thread '{thread}' {message}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_counted_and_its_message_scrubbed() {
        install_hook();
        crate::logger::register_secret("hunter2-api-secret");
        let before = crate::metrics::counter(PANICS_TOTAL, &[("thread", "panicking-test")]).get();
        let r = std::thread::Builder::new()
            .name("panicking-test".into())
            .spawn(|| panic!("bad answer for key hunter2-api-secret"))
            .unwrap()
            .join();
        assert!(r.is_err());
        let after = crate::metrics::counter(PANICS_TOTAL, &[("thread", "panicking-test")]).get();
        assert_eq!(after, before + 1);
        assert_eq!(
            crate::logger::scrub_secrets("key hunter2-api-secret!"),
            "key **********!"
        );
    }
}
