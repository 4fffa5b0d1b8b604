//! Fixed-window request counters, the way both venues document their limits ("N requests
//! per window per key/IP per endpoint group"): a request is refused once its bucket is
//! full until the window rolls over. A bucket counts weights (MEXC: each endpoint weighs
//! what its documentation says); a plain request count is a weight of 1.

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
        self.charge(key, 1, limit, window_ms)
    }

    /// Counts a request of `weight` in bucket `key` allowing a total weight of `limit`
    /// per `window_ms`; refused (and not counted) when it does not fit.
    pub fn charge(&self, key: &str, weight: u32, limit: u32, window_ms: u64) -> Verdict {
        let now = self.start.elapsed().as_millis() as u64;
        let window = now / window_ms.max(1);
        let mut b = self.buckets.lock();
        let e = b.entry(key.to_string()).or_insert((window, 0));
        if e.0 != window {
            *e = (window, 0);
        }
        let reset_in_ms = (window + 1) * window_ms - now;
        if e.1.saturating_add(weight) > limit {
            return Verdict {
                allowed: false,
                limit,
                remaining: 0,
                reset_in_ms,
            };
        }
        e.1 += weight;
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

    #[test]
    fn weights_add_up_to_the_limit() {
        let r = RateLimiter::new();
        assert_eq!(r.charge("k", 10, 25, 3_600_000).remaining, 15);
        assert_eq!(r.charge("k", 10, 25, 3_600_000).remaining, 5);
        // 10 more do not fit; 5 do.
        assert!(!r.charge("k", 10, 25, 3_600_000).allowed);
        assert_eq!(r.charge("k", 5, 25, 3_600_000).remaining, 0);
    }
}
