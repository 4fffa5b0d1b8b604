//! Fixed-window request counters, the way both venues document their limits ("N requests
//! per window per key/IP per endpoint group"): a request is refused once its bucket is
//! full until the window rolls over.

use std::collections::HashMap;
use std::time::Instant;

use parking_lot::Mutex;

/// The result of counting one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Milliseconds until the window resets.
    pub reset_in_ms: u64,
}

pub struct RateLimiter {
    start: Instant,
    buckets: Mutex<HashMap<String, (u64, u32)>>,
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self::new()
    }
}

impl RateLimiter {
    pub fn new() -> Self {
        RateLimiter {
            start: Instant::now(),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request in bucket `key` allowing `limit` per `window_ms`.
    pub fn check(&self, key: &str, limit: u32, window_ms: u64) -> Verdict {
        let now = self.start.elapsed().as_millis() as u64;
        let window = now / window_ms.max(1);
        let mut b = self.buckets.lock();
        let e = b.entry(key.to_string()).or_insert((window, 0));
        if e.0 != window {
            *e = (window, 0);
        }
        let reset_in_ms = (window + 1) * window_ms - now;
        if e.1 >= limit {
            return Verdict {
                allowed: false,
                limit,
                remaining: 0,
                reset_in_ms,
            };
        }
        e.1 += 1;
        Verdict {
            allowed: true,
            limit,
            remaining: limit - e.1,
            reset_in_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_past_the_limit_within_a_window() {
        let r = RateLimiter::new();
        // A one-hour window cannot roll over during the test.
        for i in 0..3 {
            let v = r.check("k", 3, 3_600_000);
            assert!(v.allowed);
            assert_eq!(v.remaining, 2 - i);
        }
        assert!(!r.check("k", 3, 3_600_000).allowed);
        assert!(r.check("other", 3, 3_600_000).allowed);
    }
}
