//! Lock-free latency histogram with HDR-style log-linear buckets over `u64` nanoseconds.
//!
//! Every power of two is split into 16 linear sub-buckets, so any recorded value is
//! known to within 1/16 (6.25 %) of itself, from 1 ns up to `u64::MAX` ns, in 976 fixed
//! buckets (7.8 KB). Recording is two relaxed atomic adds (bucket, sum): no lock, no
//! allocation, safe from any thread. Percentiles are read from a [`Snapshot`]; the
//! difference of two snapshots is the distribution over the interval between them,
//! which is what the alert evaluator uses.

use std::sync::atomic::{AtomicU64, Ordering};

const SUB_BITS: u32 = 4;
const SUB: usize = 1 << SUB_BITS;
/// Number of buckets: indices for values < 16 plus 60 groups of 16.
pub const BUCKETS: usize = (64 - SUB_BITS as usize + 1) * SUB;

/// The bucket a value falls into.
#[inline(always)]
pub fn bucket_index(v: u64) -> usize {
    if v < SUB as u64 {
        v as usize
    } else {
        let e = 63 - v.leading_zeros();
        let group = (e - SUB_BITS + 1) as usize;
        let sub = ((v >> (e - SUB_BITS)) as usize) & (SUB - 1);
        group * SUB + sub
    }
}

/// Smallest and largest value of bucket `i` (inclusive).
pub fn bucket_bounds(i: usize) -> (u64, u64) {
    if i < SUB {
        (i as u64, i as u64)
    } else {
        let group = (i / SUB) as u32;
        let sub = (i % SUB) as u64;
        let e = group + SUB_BITS - 1;
        let shift = e - SUB_BITS;
        let low = (SUB as u64 + sub) << shift;
        (low, low + ((1u64 << shift) - 1))
    }
}

/// The shared recording side.
pub struct HistogramCore {
    buckets: Box<[AtomicU64]>,
    sum: AtomicU64,
}

impl Default for HistogramCore {
    fn default() -> Self {
        HistogramCore {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0),
        }
    }
}

impl HistogramCore {
    #[inline(always)]
    pub fn record(&self, v: u64) {
        self.buckets[bucket_index(v)].fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(v, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            counts: self
                .buckets
                .iter()
                .map(|b| b.load(Ordering::Relaxed))
                .collect(),
            sum: self.sum.load(Ordering::Relaxed),
        }
    }
}

/// A copy of the bucket counts at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    counts: Vec<u64>,
    sum: u64,
}

impl Default for Snapshot {
    fn default() -> Self {
        Snapshot {
            counts: vec![0; BUCKETS],
            sum: 0,
        }
    }
}

impl Snapshot {
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Sum of all recorded values (wrapping only after 584 years of nanoseconds).
    pub fn sum(&self) -> u64 {
        self.sum
    }

    pub fn mean(&self) -> Option<f64> {
        let n = self.count();
        (n > 0).then(|| self.sum as f64 / n as f64)
    }

    /// The value at quantile `q` (0..=1): the highest value of the bucket holding the
    /// `ceil(q * count)`-th smallest sample, so it never understates. `None` if empty.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * n as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Some(bucket_bounds(i).1);
            }
        }
        None
    }

    /// Largest recorded value's bucket upper bound.
    pub fn max(&self) -> Option<u64> {
        self.counts
            .iter()
            .rposition(|c| *c > 0)
            .map(|i| bucket_bounds(i).1)
    }

    /// Samples whose bucket lies entirely at or below `le` (a Prometheus `le` bucket;
    /// a bucket straddling `le` counts toward the next boundary, an error of at most
    /// one bucket width, 6.25 %).
    pub fn count_le(&self, le: u64) -> u64 {
        self.counts
            .iter()
            .enumerate()
            .take_while(|(i, _)| bucket_bounds(*i).1 <= le)
            .map(|(_, c)| c)
            .sum()
    }

    /// Adds `other`'s samples (two series of the same quantity).
    pub fn merge(&mut self, other: &Snapshot) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.sum = self.sum.wrapping_add(other.sum);
    }

    /// `self - earlier`: the samples recorded between the two snapshots.
    pub fn delta(&self, earlier: &Snapshot) -> Snapshot {
        Snapshot {
            counts: self
                .counts
                .iter()
                .zip(&earlier.counts)
                .map(|(a, b)| a.saturating_sub(*b))
                .collect(),
            sum: self.sum.wrapping_sub(earlier.sum),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_lands_in_a_bucket_that_contains_it() {
        let mut vals: Vec<u64> = (0..5000).collect();
        for e in 0..64 {
            let p = 1u64 << e;
            vals.extend([p - 1, p, p + 1, p.saturating_mul(3) / 2]);
        }
        vals.push(u64::MAX);
        for v in vals {
            let i = bucket_index(v);
            assert!(i < BUCKETS, "{v}");
            let (lo, hi) = bucket_bounds(i);
            assert!(lo <= v && v <= hi, "{v} not in [{lo}, {hi}] (bucket {i})");
            // Relative width at most 1/16.
            assert!(
                (hi - lo) as f64 <= lo as f64 / 16.0 + 1.0,
                "{v}: [{lo}, {hi}]"
            );
        }
    }

    #[test]
    fn quantiles_are_within_one_bucket() {
        let h = HistogramCore::default();
        for v in 1..=10_000u64 {
            h.record(v);
        }
        let s = h.snapshot();
        assert_eq!(s.count(), 10_000);
        assert_eq!(s.sum(), 10_000 * 10_001 / 2);
        for (q, exact) in [(0.5, 5_000u64), (0.9, 9_000), (0.99, 9_900), (1.0, 10_000)] {
            let got = s.quantile(q).unwrap();
            assert!(got >= exact, "q{q}: {got} < {exact}");
            assert!(got as f64 <= exact as f64 * 1.0625 + 1.0, "q{q}: {got}");
        }
        assert_eq!(s.count_le(u64::MAX), 10_000);
        assert!(s.count_le(1_000) <= 1_000);
    }

    #[test]
    fn delta_is_the_interval_distribution() {
        let h = HistogramCore::default();
        for _ in 0..100 {
            h.record(1_000);
        }
        let a = h.snapshot();
        for _ in 0..10 {
            h.record(1_000_000);
        }
        let d = h.snapshot().delta(&a);
        assert_eq!(d.count(), 10);
        assert!(d.quantile(0.5).unwrap() >= 1_000_000);
        assert_eq!(HistogramCore::default().snapshot().quantile(0.5), None);
    }
}
