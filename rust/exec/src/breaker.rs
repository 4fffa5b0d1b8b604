//! A circuit breaker per venue: after `threshold` consecutive failures that say the
//! venue is unhealthy (network, timeout, 5xx, unknown outcome) it opens and refuses
//! requests for `cooldown`; then one probe request is let through (half-open); the
//! probe's success closes it, its failure opens it again. Rejections that are about
//! the request (invalid order, insufficient funds) say nothing about the venue's
//! health and do not count.

use std::time::Duration;

use arb_core::ErrorClass;
use parking_lot::Mutex;
use tokio::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    pub const fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

/// Whether an error class counts against the venue's health.
pub fn is_health_failure(class: ErrorClass) -> bool {
    matches!(
        class,
        ErrorClass::Network | ErrorClass::Timeout | ErrorClass::Venue | ErrorClass::UnknownOutcome
    )
}

struct Inner {
    state: BreakerState,
    consecutive_failures: u32,
    opened_at: Instant,
    probe_in_flight: bool,
    opens: u64,
}

pub struct Breaker {
    threshold: u32,
    cooldown: Duration,
    inner: Mutex<Inner>,
}

/// Returned by [`Breaker::admit`]: whether this request is the half-open probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Admission {
    pub probe: bool,
}

impl Breaker {
    pub fn new(threshold: u32, cooldown: Duration) -> Self {
        Breaker {
            threshold: threshold.max(1),
            cooldown,
            inner: Mutex::new(Inner {
                state: BreakerState::Closed,
                consecutive_failures: 0,
                opened_at: Instant::now(),
                probe_in_flight: false,
                opens: 0,
            }),
        }
    }

    /// May a request go now? `Err(remaining)` while open (or while a probe is out).
    pub fn admit(&self) -> Result<Admission, Duration> {
        let mut s = self.inner.lock();
        match s.state {
            BreakerState::Closed => Ok(Admission { probe: false }),
            BreakerState::Open => {
                let since = s.opened_at.elapsed();
                if since >= self.cooldown {
                    s.state = BreakerState::HalfOpen;
                    s.probe_in_flight = true;
                    Ok(Admission { probe: true })
                } else {
                    Err(self.cooldown - since)
                }
            }
            BreakerState::HalfOpen => {
                if s.probe_in_flight {
                    Err(Duration::ZERO)
                } else {
                    s.probe_in_flight = true;
                    Ok(Admission { probe: true })
                }
            }
        }
    }

    /// Records the outcome of an admitted request.
    pub fn record(&self, outcome: Result<(), ErrorClass>) {
        let mut s = self.inner.lock();
        s.probe_in_flight = false;
        match outcome {
            Err(class) if is_health_failure(class) => {
                s.consecutive_failures += 1;
                if s.state == BreakerState::HalfOpen || s.consecutive_failures >= self.threshold {
                    if s.state != BreakerState::Open {
                        s.opens += 1;
                    }
                    s.state = BreakerState::Open;
                    s.opened_at = Instant::now();
                }
            }
            _ => {
                s.consecutive_failures = 0;
                s.state = BreakerState::Closed;
            }
        }
    }

    /// The state as a reader should see it: an open breaker whose cooldown has run out
    /// reports half-open (the next request will be the probe).
    pub fn state(&self) -> BreakerState {
        let s = self.inner.lock();
        if s.state == BreakerState::Open && s.opened_at.elapsed() >= self.cooldown {
            BreakerState::HalfOpen
        } else {
            s.state
        }
    }

    /// How many times it opened.
    pub fn opens(&self) -> u64 {
        self.inner.lock().opens
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn opens_probes_and_closes() {
        let b = Breaker::new(3, Duration::from_secs(5));
        for _ in 0..2 {
            b.admit().unwrap();
            b.record(Err(ErrorClass::Timeout));
        }
        // Request-side errors do not count and reset the streak.
        b.record(Err(ErrorClass::InvalidOrder));
        assert_eq!(b.state(), BreakerState::Closed);
        for _ in 0..3 {
            b.admit().unwrap();
            b.record(Err(ErrorClass::Network));
        }
        assert_eq!(b.state(), BreakerState::Open);
        assert!(b.admit().is_err());
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert_eq!(b.admit().unwrap(), Admission { probe: true });
        // Only one probe at a time.
        assert!(b.admit().is_err());
        b.record(Err(ErrorClass::Venue));
        assert_eq!(b.state(), BreakerState::Open);
        tokio::time::advance(Duration::from_secs(5)).await;
        assert!(b.admit().unwrap().probe);
        b.record(Ok(()));
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(b.opens(), 2);
    }
}
