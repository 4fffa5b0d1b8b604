//! The latency referee: in probe mode the books are quiet and, at seeded random moments,
//! one venue's price jumps to open a cross-venue gap. For each probe the referee records
//! the instant the simulator wrote the frame that opened the gap (the first WebSocket
//! write of that push to any subscriber) and the instant each venue received its first
//! order for that symbol afterwards, and reports tick-to-trade for the first leg (the
//! earlier venue) and for both legs (the later one). It measures any client the same
//! way: our engine, a ccxt script, anything that trades.

use std::time::Instant;

use parking_lot::Mutex;
use serde_json::{json, Value};

struct Probe {
    id: u64,
    symbol: usize,
    /// Which venue's price jumped (its position in the simulator's list).
    venue: usize,
    opened_ms: i64,
    /// First WebSocket write of the opening push.
    frame_written: Option<Instant>,
    /// First order per venue (by position) after the frame was written.
    first_order: Vec<Option<Instant>>,
}

#[derive(Default)]
struct State {
    probes: Vec<Probe>,
    next_id: u64,
}

/// Probe bookkeeping, shared by the market task, the WebSocket writers and the order
/// handlers.
pub struct Referee {
    /// The venues' names, in list order (the report's `<name>_us` fields).
    venues: Vec<String>,
    state: Mutex<State>,
}

impl Referee {
    /// A referee for these venues (names in the simulator's list order).
    pub fn new(venues: Vec<String>) -> Self {
        Referee {
            venues,
            state: Mutex::new(State::default()),
        }
    }

    /// A new probe on `symbol` (its opening push is about to be published); returns its id.
    pub fn start_probe(&self, symbol: usize, venue: usize) -> u64 {
        let mut st = self.state.lock();
        st.next_id += 1;
        let id = st.next_id;
        st.probes.push(Probe {
            id,
            symbol,
            venue,
            opened_ms: arb_core::time::now_ms(),
            frame_written: None,
            first_order: vec![None; self.venues.len()],
        });
        id
    }

    /// A WebSocket writer flushed the opening push of probe `id`.
    pub fn frame_written(&self, id: u64, at: Instant) {
        let mut st = self.state.lock();
        if let Some(p) = st.probes.iter_mut().rev().find(|p| p.id == id) {
            if p.frame_written.is_none_or(|t| at < t) {
                p.frame_written = Some(at);
            }
        }
    }

    /// An order for `symbol` arrived at venue `venue` (its position) at `at`: it counts
    /// for the latest probe on that symbol whose frame was already written, if it is that
    /// venue's first.
    pub fn order_received(&self, venue: usize, symbol: usize, at: Instant) {
        let mut st = self.state.lock();
        if st.probes.is_empty() {
            return;
        }
        if let Some(p) = st.probes.iter_mut().rev().find(|p| p.symbol == symbol) {
            if let Some(first @ None) = p.first_order.get_mut(venue) {
                if p.frame_written.is_some_and(|t| t <= at) {
                    *first = Some(at);
                }
            }
        }
    }

    /// Counts and percentiles (microseconds) of tick-to-trade for the first leg and for
    /// both legs, plus every probe.
    pub fn report(&self) -> Value {
        let st = self.state.lock();
        let mut first = Vec::new();
        let mut both = Vec::new();
        let mut probes = Vec::new();
        for p in &st.probes {
            let us = |o: Option<Instant>| -> Option<u64> {
                Some(o?.duration_since(p.frame_written?).as_micros() as u64)
            };
            let mut legs: Vec<u64> = p.first_order.iter().filter_map(|o| us(*o)).collect();
            legs.sort_unstable();
            // The first leg is the earliest venue's order, both legs the second venue's.
            if let Some(m) = legs.first() {
                first.push(*m);
            }
            if let Some(m) = legs.get(1) {
                both.push(*m);
            }
            let mut probe = json!({
                "id": p.id, "symbol_index": p.symbol,
                "jumped": self.venues.get(p.venue).map_or("", String::as_str),
                "opened_ms": p.opened_ms, "frame_written": p.frame_written.is_some(),
            });
            for (name, o) in self.venues.iter().zip(&p.first_order) {
                probe[format!("{name}_us")] = json!(us(*o));
            }
            probes.push(probe);
        }
        json!({
            "probes": st.probes.len(),
            "first_leg_us": stats(&mut first),
            "both_legs_us": stats(&mut both),
            "detail": probes,
        })
    }
}

/// count, p50, p90, p99, p99.9, max of a sample (nearest-rank percentiles).
pub fn stats(v: &mut [u64]) -> Value {
    if v.is_empty() {
        return json!({"count": 0});
    }
    v.sort_unstable();
    let pick = |q: f64| v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
    json!({
        "count": v.len(),
        "p50": pick(0.50), "p90": pick(0.90), "p99": pick(0.99), "p99_9": pick(0.999),
        "max": v[v.len() - 1],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut v: Vec<u64> = (1..=1000).rev().collect();
        let s = stats(&mut v);
        assert_eq!(s["count"], 1000);
        assert_eq!(
            (s["p50"].as_u64(), s["p90"].as_u64()),
            (Some(500), Some(900))
        );
        assert_eq!(
            (s["p99"].as_u64(), s["p99_9"].as_u64()),
            (Some(990), Some(999))
        );
        assert_eq!(s["max"], 1000);
        assert_eq!(stats(&mut [])["count"], 0);
    }

    #[test]
    fn legs_count_from_the_frame_write() {
        let r = Referee::new(vec!["mexc".into(), "gateio".into()]);
        let (mexc, gate) = (0, 1);
        let t0 = Instant::now();
        let id = r.start_probe(0, gate);
        // An order before the frame was written does not count.
        r.order_received(mexc, 0, t0);
        r.frame_written(id, t0 + Duration::from_micros(10));
        r.order_received(mexc, 1, t0 + Duration::from_micros(20));
        r.order_received(mexc, 0, t0 + Duration::from_micros(110));
        r.order_received(mexc, 0, t0 + Duration::from_micros(500));
        let rep = r.report();
        assert_eq!(rep["first_leg_us"]["p50"], 100);
        assert_eq!(rep["both_legs_us"]["count"], 0);
        r.order_received(gate, 0, t0 + Duration::from_micros(310));
        let rep = r.report();
        assert_eq!(rep["both_legs_us"]["max"], 300);
        assert_eq!(rep["detail"][0]["jumped"], "gateio");
        assert_eq!(rep["detail"][0]["mexc_us"], 100);
        assert_eq!(rep["detail"][0]["gateio_us"], 300);
    }
}
