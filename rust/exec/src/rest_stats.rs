//! What one venue's REST answers were, counted by class for the engine's snapshot: the
//! venue's rate-limit refusals (429 and its kin), server errors (5xx), the attempts the
//! retry policy sent again, and placements whose unknown outcome was resolved or not.
//! These are the events the client handles by itself, which no error count shows.

use std::sync::atomic::{AtomicU64, Ordering};

use arb_core::ErrorClass;

use crate::error::ExecError;

/// The counters of one venue client (shared by its clones).
#[derive(Default)]
pub struct RestCounters {
    rate_limited: AtomicU64,
    server_errors: AtomicU64,
    retries: AtomicU64,
    unknown_resolved: AtomicU64,
    unknown_unresolved: AtomicU64,
}

/// A copy of [`RestCounters`] (counts since start).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RestOutcomes {
    /// Answers refusing for the rate (HTTP 429, MEXC's 418 ban and 403 WAF block).
    pub rate_limited: u64,
    /// HTTP 5xx answers.
    pub server_errors: u64,
    /// Attempts sent again by the retry policy.
    pub retries: u64,
    /// Unknown placement outcomes resolved (found, or proven absent).
    pub unknown_resolved: u64,
    /// Unknown placement outcomes a source could not be read for: still unknown.
    pub unknown_unresolved: u64,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

impl RestCounters {
    /// Counts a failed attempt by what the venue answered (nothing for errors raised
    /// before anything was sent or without an HTTP answer).
    pub fn on_error(&self, e: &ExecError) {
        match e.http_status {
            Some(s) if s >= 500 => bump(&self.server_errors),
            Some(_) if e.class == ErrorClass::RateLimit => bump(&self.rate_limited),
            _ => {}
        }
    }

    pub fn on_retry(&self) {
        bump(&self.retries);
    }

    /// Counts the end of an unknown outcome's resolution.
    pub fn on_resolution<T>(&self, r: &Result<T, ExecError>) {
        bump(if r.is_ok() {
            &self.unknown_resolved
        } else {
            &self.unknown_unresolved
        });
    }

    pub fn snapshot(&self) -> RestOutcomes {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        RestOutcomes {
            rate_limited: g(&self.rate_limited),
            server_errors: g(&self.server_errors),
            retries: g(&self.retries),
            unknown_resolved: g(&self.unknown_resolved),
            unknown_unresolved: g(&self.unknown_unresolved),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arb_core::Venue;

    #[test]
    fn counts_by_class() {
        let c = RestCounters::default();
        let e = |class, status: Option<u16>| {
            let e = ExecError::new(Venue::MEXC, "query", class, "x");
            match status {
                Some(s) => e.with_status(s),
                None => e,
            }
        };
        c.on_error(&e(ErrorClass::RateLimit, Some(429)));
        c.on_error(&e(ErrorClass::RateLimit, None)); // our own limiter: not the venue
        c.on_error(&e(ErrorClass::Venue, Some(503)));
        c.on_error(&e(ErrorClass::Timeout, None));
        c.on_retry();
        c.on_resolution(&Ok::<(), ExecError>(()));
        c.on_resolution(&Err::<(), _>(e(ErrorClass::Network, None)));
        assert_eq!(
            c.snapshot(),
            RestOutcomes {
                rate_limited: 1,
                server_errors: 1,
                retries: 1,
                unknown_resolved: 1,
                unknown_unresolved: 1,
            }
        );
    }
}
