//! A bounded lock-free multi-producer multi-consumer array queue (Dmitry Vyukov's
//! design): the ring every log record passes through.
//!
//! Each slot carries a sequence number. A producer claims position `p` by CAS on the
//! enqueue counter only when slot `p % cap` says "free for lap `p`" (`seq == p`), writes
//! the value, then publishes it with `seq = p + 1` (Release). A consumer claims `p` when
//! `seq == p + 1`, reads, and frees the slot for the next lap with `seq = p + cap`. No
//! locks, no allocation after construction; a full ring is detected in one load and
//! reported to the caller, which applies the overflow policy.
//!
//! Why MPMC and not MPSC: the drop-oldest policy lets a producer pop the oldest record
//! itself when the ring is full, so producers are consumers too. The capacity is exact
//! (10,000 means 10,000), so the slot index is `pos % cap`, not a mask.

use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Keeps the two hot counters on separate cache lines (128 bytes: adjacent-line
/// prefetch pairs lines on x86), so producers and the consumer do not false-share.
#[repr(align(128))]
struct Padded<T>(T);

struct Slot<T> {
    seq: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
}

/// The ring. `T` is moved in and out; nothing is cloned.
pub struct Ring<T> {
    enqueue: Padded<AtomicUsize>,
    dequeue: Padded<AtomicUsize>,
    slots: Box<[Slot<T>]>,
    cap: usize,
}

// SAFETY: a slot's value is touched only by the one thread that won the CAS for its
// position, and hand-over between threads goes through the slot's Release/Acquire
// sequence number, so sharing the ring is sound whenever `T` may move between threads.
unsafe impl<T: Send> Send for Ring<T> {}
unsafe impl<T: Send> Sync for Ring<T> {}

impl<T> Ring<T> {
    /// A ring holding exactly `capacity` values (at least 1).
    pub fn new(capacity: usize) -> Ring<T> {
        let cap = capacity.max(1);
        let slots = (0..cap)
            .map(|i| Slot {
                seq: AtomicUsize::new(i),
                value: UnsafeCell::new(MaybeUninit::uninit()),
            })
            .collect::<Vec<_>>()
            .into_boxed_slice();
        Ring {
            enqueue: Padded(AtomicUsize::new(0)),
            dequeue: Padded(AtomicUsize::new(0)),
            slots,
            cap,
        }
    }

    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// Pushes `value`, or gives it back if the ring is full.
    #[inline]
    pub fn try_push(&self, value: T) -> Result<(), T> {
        let mut pos = self.enqueue.0.load(Ordering::Relaxed);
        loop {
            let slot = &self.slots[pos % self.cap];
            let seq = slot.seq.load(Ordering::Acquire);
            let diff = seq.wrapping_sub(pos) as isize;
            if diff == 0 {
                match self.enqueue.0.compare_exchange_weak(
                    pos,
                    pos.wrapping_add(1),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: winning the CAS for `pos` gives this thread sole access
                        // to the slot until it publishes `seq = pos + 1`.
                        unsafe { (*slot.value.get()).write(value) };
                        slot.seq.store(pos.wrapping_add(1), Ordering::Release);
                        return Ok(());
                    }
                    Err(current) => pos = current,
                }
            } else if diff < 0 {
                // The slot still holds last lap's value: the ring is full.
                return Err(value);
            } else {
                pos = self.enqueue.0.load(Ordering::Relaxed);
            }
        }
    }

    /// Pops the oldest value, or `None` if the ring is empty.
    #[inline]
    pub fn try_pop(&self) -> Option<T> {
        let mut pos = self.dequeue.0.load(Ordering::Relaxed);
        loop {
            let slot = &self.slots[pos % self.cap];
            let seq = slot.seq.load(Ordering::Acquire);
            let diff = seq.wrapping_sub(pos.wrapping_add(1)) as isize;
            if diff == 0 {
                match self.dequeue.0.compare_exchange_weak(
                    pos,
                    pos.wrapping_add(1),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: `seq == pos + 1` means a producer published a value here
                        // and winning the CAS makes this thread its only reader.
                        let value = unsafe { (*slot.value.get()).assume_init_read() };
                        slot.seq
                            .store(pos.wrapping_add(self.cap), Ordering::Release);
                        return Some(value);
                    }
                    Err(current) => pos = current,
                }
            } else if diff < 0 {
                return None;
            } else {
                pos = self.dequeue.0.load(Ordering::Relaxed);
            }
        }
    }

    /// Values currently queued (approximate while producers and consumers run).
    pub fn len(&self) -> usize {
        let head = self.enqueue.0.load(Ordering::Relaxed);
        let tail = self.dequeue.0.load(Ordering::Relaxed);
        head.wrapping_sub(tail).min(self.cap)
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
