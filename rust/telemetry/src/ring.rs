//! A bounded lock-free multi-producer multi-consumer array queue (Dmitry Vyukov's
//! design, with crossbeam's lap-stamped positions): the ring every log record passes
//! through.
//!
//! Each slot carries a stamp. Positions are stamps too: `lap | index`, where a lap is
//! the next power of two above the capacity, so moving to the next slot is `+1` and
//! wrapping is `lap + one_lap` with index 0. That keeps the capacity exact (10,000
//! means 10,000) with no division on the hot path.
//!
//! A producer claims tail stamp `t` by CAS only when its slot's stamp equals `t`
//! ("free for this lap"), writes the value, then publishes it with `stamp = t + 1`
//! (Release). A consumer claims head stamp `h` when the slot's stamp is `h + 1`, reads,
//! and frees the slot for the next lap with `stamp = h + one_lap`. No locks, no
//! allocation after construction; a full ring is seen in one load and reported to the
//! caller, which applies the overflow policy.
//!
//! Why MPMC and not MPSC: the drop-oldest policy lets a producer pop the oldest record
//! itself when the ring is full, so producers are consumers too.

use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Keeps the two hot counters on separate cache lines (128 bytes: adjacent-line
/// prefetch pairs lines on x86), so producers and the consumer do not false-share.
#[repr(align(128))]
struct Padded<T>(T);

struct Slot<T> {
    stamp: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
}

/// The ring. `T` is moved in and out; nothing is cloned.
pub struct Ring<T> {
    tail: Padded<AtomicUsize>,
    head: Padded<AtomicUsize>,
    slots: Box<[Slot<T>]>,
    cap: usize,
    one_lap: usize,
}

// SAFETY: a slot's value is touched only by the one thread that won the CAS for its
// position, and hand-over between threads goes through the slot's Release/Acquire
// stamp, so sharing the ring is sound whenever `T` may move between threads.
unsafe impl<T: Send> Send for Ring<T> {}
unsafe impl<T: Send> Sync for Ring<T> {}

impl<T> Ring<T> {
    /// A ring holding exactly `capacity` values (at least 1).
    pub fn new(capacity: usize) -> Ring<T> {
        let cap = capacity.max(1);
        let slots = (0..cap)
            .map(|i| Slot {
                stamp: AtomicUsize::new(i),
                value: UnsafeCell::new(MaybeUninit::uninit()),
            })
            .collect::<Vec<_>>()
            .into_boxed_slice();
        Ring {
            tail: Padded(AtomicUsize::new(0)),
            head: Padded(AtomicUsize::new(0)),
            slots,
            cap,
            one_lap: (cap + 1).next_power_of_two(),
        }
    }

    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// The stamp after `s`: next index, or index 0 of the next lap.
    #[inline(always)]
    fn next(&self, s: usize) -> usize {
        let index = s & (self.one_lap - 1);
        if index + 1 < self.cap {
            s + 1
        } else {
            (s & !(self.one_lap - 1)).wrapping_add(self.one_lap)
        }
    }

    /// Pushes `value`, or gives it back if the ring is full.
    #[inline]
    pub fn try_push(&self, value: T) -> Result<(), T> {
        let mut tail = self.tail.0.load(Ordering::Relaxed);
        loop {
            let slot = &self.slots[tail & (self.one_lap - 1)];
            let stamp = slot.stamp.load(Ordering::Acquire);
            if stamp == tail {
                match self.tail.0.compare_exchange_weak(
                    tail,
                    self.next(tail),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: winning the CAS for `tail` gives this thread sole access
                        // to the slot until it publishes `stamp = tail + 1`.
                        unsafe { (*slot.value.get()).write(value) };
                        slot.stamp.store(tail.wrapping_add(1), Ordering::Release);
                        return Ok(());
                    }
                    Err(current) => tail = current,
                }
            } else if stamp.wrapping_add(self.one_lap) == tail.wrapping_add(1) {
                // The slot still holds last lap's value: the ring is full.
                return Err(value);
            } else {
                tail = self.tail.0.load(Ordering::Relaxed);
            }
        }
    }

    /// Pops the oldest value, or `None` if the ring is empty.
    #[inline]
    pub fn try_pop(&self) -> Option<T> {
        let mut head = self.head.0.load(Ordering::Relaxed);
        loop {
            let slot = &self.slots[head & (self.one_lap - 1)];
            let stamp = slot.stamp.load(Ordering::Acquire);
            if stamp == head.wrapping_add(1) {
                match self.head.0.compare_exchange_weak(
                    head,
                    self.next(head),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: `stamp == head + 1` means a producer published a value
                        // here and winning the CAS makes this thread its only reader.
                        let value = unsafe { (*slot.value.get()).assume_init_read() };
                        slot.stamp
                            .store(head.wrapping_add(self.one_lap), Ordering::Release);
                        return Some(value);
                    }
                    Err(current) => head = current,
                }
            } else if stamp == head {
                // Not yet written in this lap: empty.
                return None;
            } else {
                head = self.head.0.load(Ordering::Relaxed);
            }
        }
    }

    /// Values currently queued (approximate while producers and consumers run).
    pub fn len(&self) -> usize {
        let tail = self.tail.0.load(Ordering::Relaxed);
        let head = self.head.0.load(Ordering::Relaxed);
        let (hi, ti) = (head & (self.one_lap - 1), tail & (self.one_lap - 1));
        if hi < ti {
            ti - hi
        } else if hi > ti {
            self.cap - hi + ti
        } else if tail == head {
            0
        } else {
            self.cap
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Drop for Ring<T> {
    fn drop(&mut self) {
        // Values still queued own memory (Python strings): drop them properly.
        while self.try_pop().is_some() {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn fifo_and_exact_capacity() {
        let r = Ring::new(3);
        assert!(r.try_push(1).is_ok());
        assert!(r.try_push(2).is_ok());
        assert!(r.try_push(3).is_ok());
        assert_eq!(r.try_push(4), Err(4));
        assert_eq!(r.try_pop(), Some(1));
        assert!(r.try_push(5).is_ok());
        assert_eq!(
            std::iter::from_fn(|| r.try_pop()).collect::<Vec<_>>(),
            vec![2, 3, 5]
        );
        assert_eq!(r.try_pop(), None);
    }

    #[test]
    fn len_counts_across_laps() {
        let r = Ring::new(5);
        for lap in 0..4 {
            assert_eq!(r.len(), 0, "lap {lap}");
            for i in 0..5 {
                r.try_push(i).unwrap();
                assert_eq!(r.len(), i + 1);
            }
            assert!(r.try_push(9).is_err());
            for i in 0..3 {
                r.try_pop().unwrap();
                assert_eq!(r.len(), 4 - i);
            }
            r.try_push(7).unwrap();
            assert_eq!(r.len(), 3);
            while r.try_pop().is_some() {}
        }
    }

    #[test]
    fn many_laps_with_a_non_power_of_two_capacity() {
        let r = Ring::new(7);
        for lap in 0..1000u64 {
            for i in 0..5 {
                r.try_push(lap * 10 + i).unwrap();
            }
            for i in 0..5 {
                assert_eq!(r.try_pop(), Some(lap * 10 + i));
            }
        }
    }

    #[test]
    fn concurrent_producers_and_consumer_lose_nothing() {
        let r = Arc::new(Ring::new(64));
        let producers = 4u64;
        let per = 50_000u64;
        let handles: Vec<_> = (0..producers)
            .map(|p| {
                let r = r.clone();
                std::thread::spawn(move || {
                    for i in 0..per {
                        let mut v = p * per + i;
                        while let Err(back) = r.try_push(v) {
                            v = back;
                            std::thread::yield_now();
                        }
                    }
                })
            })
            .collect();
        let mut seen = vec![false; (producers * per) as usize];
        let mut last = vec![None::<u64>; producers as usize];
        let mut got = 0;
        while got < producers * per {
            if let Some(v) = r.try_pop() {
                assert!(!seen[v as usize], "duplicate {v}");
                seen[v as usize] = true;
                // Per-producer order is preserved.
                let p = (v / per) as usize;
                assert!(last[p].is_none_or(|l| l < v));
                last[p] = Some(v);
                got += 1;
            } else {
                std::thread::yield_now();
            }
        }
        for h in handles {
            h.join().unwrap();
        }
        assert!(seen.iter().all(|s| *s));
        assert_eq!(r.try_pop(), None);
    }

    #[test]
    fn owned_values_left_in_the_ring_are_dropped() {
        let marker = Arc::new(());
        let r = Ring::new(4);
        r.try_push(marker.clone()).unwrap();
        r.try_push(marker.clone()).unwrap();
        assert_eq!(Arc::strong_count(&marker), 3);
        drop(r);
        assert_eq!(Arc::strong_count(&marker), 1);
    }
}
