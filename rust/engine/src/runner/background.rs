//! Background tasks, each supervised (started again after a panic): venue health, the
//! balance listener, the residual marker and the spread sampler; and the one-off REST
//! balance refresh.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arb_core::time::now_ms;
use arb_core::Venue;
use arb_exec::lifecycle::ExecEvent;
use arb_telemetry::metrics;

use super::{Inner, PANIC_NEXT_HEALTH};
use crate::config::BalanceMode;
use crate::journal::{self, Dec, JournalRecord};

/// Order connections dialled off the hot thread and kept ready per venue: one per leg.
const SPARE_ORDER_CONNECTIONS: usize = 2;

impl Inner {
    /// Re-reads one venue's balances over REST into the streamed view (in the
    /// background: called from the execution path).
    pub(super) fn refresh_balances(&self, venue: Venue) {
        let client = self.clients[venue].clone();
        let balances = self.balances.clone();
        self.handle.spawn(async move {
            let asked_ms = client.venue_now_ms();
            if let Ok(bals) = client.balances().await {
                let listed = bals.into_iter().map(|x| (x.asset, x.free));
                balances.lock().snapshot(venue, listed, asked_ms, now_ms());
            }
        });
    }

    /// Runs a background task and starts it again whenever it panics: a dead health
    /// check or balance listener would leave trading on state nobody updates any more.
    /// The panic itself was logged (scrubbed), counted and alerted by the process's
    /// panic hook; here it is journaled, and `on_panic` withdraws what the dead task was
    /// vouching for until it runs again.
    pub(super) fn supervise<F, Fut>(
        self: &Arc<Self>,
        name: &'static str,
        on_panic: fn(&Inner),
        make: F,
    ) where
        F: Fn(Arc<Self>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let me = self.clone();
        self.handle.spawn(async move {
            loop {
                match me.handle.spawn(make(me.clone())).await {
                    Err(e) if e.is_panic() => {
                        on_panic(&me);
                        me.journal.send(JournalRecord::Event {
                            t_ms: now_ms(),
                            kind: "task_panic",
                            detail: format!("the {name} task panicked; started again in 1 s"),
                        });
                        tokio::select! {
                            _ = me.cancel.cancelled() => return,
                            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        }
                    }
                    _ => return,
                }
            }
        });
    }

    /// Keeps the streamed balances current (stream mode) from balance pushes. A restart
    /// after a panic subscribes again; the health task's REST refresh covers the gap.
    pub(super) fn spawn_balance_listener(self: Arc<Self>, venue: Venue) {
        self.supervise(
            "balance listener",
            |_| {},
            move |me| me.balance_listener(venue),
        );
    }

    pub(super) async fn balance_listener(self: Arc<Self>, venue: Venue) {
        let mut rx = self.clients[venue].tracker().subscribe_events();
        let cancel = self.cancel.clone();
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                ev = rx.recv() => match ev {
                    Ok(ExecEvent::Balance { venue, balance, time_ms }) => {
                        // The venue's time orders it; an update without one is as of
                        // its arrival.
                        let t = if time_ms > 0 {
                            time_ms
                        } else {
                            self.clients[venue].venue_now_ms()
                        };
                        self.balances.lock().push(venue, &balance.asset, balance.free, t, now_ms());
                    }
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(_) => return,
                }
            }
        }
    }

    /// Health checks: REST round trip and clock offset per venue, feed freshness,
    /// breaker state; an unhealthy venue pauses trading. In stream mode, also the
    /// periodic REST reconciliation of balances.
    pub(super) fn spawn_health(self: Arc<Self>) {
        // A dead health check vouches for nothing: every venue is unhealthy (no trading)
        // until it runs again.
        let unhealthy: fn(&Inner) = |me| {
            for &v in &me.venues {
                me.healthy[v].store(false, Ordering::Relaxed);
                me.risk.lock().set_venue_healthy(v, false);
            }
        };
        self.supervise("health", unhealthy, |me| me.health());
    }

    pub(super) async fn health(self: Arc<Self>) {
        let cancel = self.cancel.clone();
        let every = Duration::from_millis(self.cfg.health_interval_ms.max(100));
        let mut next_health = Instant::now();
        loop {
            let stream_mode = self.params().balance_mode == BalanceMode::Stream;
            let tick = if stream_mode {
                Duration::from_millis(500)
            } else {
                every
            };
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(tick) => {}
            }
            if stream_mode {
                for &v in &self.venues {
                    let c = &self.clients[v];
                    let asked_ms = c.venue_now_ms();
                    if let Ok(bals) = c.balances().await {
                        let listed = bals.into_iter().map(|x| (x.asset, x.free));
                        self.balances.lock().snapshot(v, listed, asked_ms, now_ms());
                    }
                }
            }
            if Instant::now() < next_health {
                continue;
            }
            next_health = Instant::now() + every;
            for &v in &self.venues {
                let c = &self.clients[v];
                let t = Instant::now();
                let ok = c.server_time().await.is_ok();
                metrics::histogram("engine_health_rtt_seconds", &[("venue", v.as_str())])
                    .record(t.elapsed());
                metrics::gauge("engine_clock_offset_ms", &[("venue", v.as_str())])
                    .set(c.clock_offset_ms() as f64);
                let breaker_ok = c.breaker_state() != arb_exec::BreakerState::Open;
                let healthy = ok && breaker_ok;
                self.healthy[v].store(healthy, Ordering::Relaxed);
                self.risk.lock().set_venue_healthy(v, healthy);
                metrics::gauge("engine_venue_healthy", &[("venue", v.as_str())]).set(if healthy {
                    1.0
                } else {
                    0.0
                });
            }
            if PANIC_NEXT_HEALTH.swap(false, Ordering::AcqRel) {
                panic!("test hook: the health task panicked");
            }
        }
    }

    /// Re-values held residuals (`hold`, dust) at the current mid a few times a second,
    /// for the daily PnL and the leg-imbalance kill switch (off the hot path).
    pub(super) fn spawn_marker(self: Arc<Self>) {
        self.supervise("marker", |_| {}, |me| me.marker());
    }

    pub(super) async fn marker(self: Arc<Self>) {
        let cancel = self.cancel.clone();
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            }
            for sym in self.syms.iter().flatten() {
                if self.risk.lock().position(&sym.base) == 0 {
                    continue;
                }
                let Some(m) = self.mark_price(sym) else {
                    continue;
                };
                let kill = self.risk.lock().mark(&sym.base, m.mantissa(), now_ms());
                if let Some(k) = kill {
                    self.halted(k);
                }
            }
        }
    }

    /// Keeps the order connections warm: uses them (a public server-time call each)
    /// every `engine.hot.rewarm_ms`, on the hot runtime where they were opened, so
    /// neither side's idle timeout closes them and a closed one is reopened here rather
    /// than by the next order. Spare connections (one per leg) are dialled on this, the
    /// background, runtime: one that the venue closed, or that idled past
    /// `order_idle_ms`, is then replaced on the hot thread without a dial there.
    pub(super) fn spawn_rewarm(self: Arc<Self>) {
        let every = Duration::from_millis(self.cfg.hot.rewarm_ms.max(1_000));
        let n = self.cfg.hot.warm_connections;
        if n == 0 {
            return;
        }
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                for &v in &me.venues {
                    me.clients[v].prefill_orders(SPARE_ORDER_CONNECTIONS).await;
                }
                tokio::select! {
                    _ = me.cancel.cancelled() => return,
                    _ = tokio::time::sleep(every) => {}
                }
            }
        });
        let hot = self.hot.clone();
        hot.spawn(async move {
            loop {
                tokio::select! {
                    _ = self.cancel.cancelled() => return,
                    _ = tokio::time::sleep(every) => {}
                }
                for &v in &self.venues {
                    self.clients[v].warm_orders(n).await;
                }
            }
        });
    }

    /// Samples every venue's top per symbol into the journal for the report.
    pub(super) fn spawn_spread_sampler(self: Arc<Self>) {
        if self.cfg.spread_sample_ms == 0 {
            return;
        }
        self.supervise("spread sampler", |_| {}, |me| me.spread_sampler());
    }

    pub(super) async fn spread_sampler(self: Arc<Self>) {
        let cancel = self.cancel.clone();
        let every = Duration::from_millis(self.cfg.spread_sample_ms);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
            for sym in self.syms.iter().flatten() {
                let quotes: Vec<journal::SpreadQuote> = sym
                    .venues
                    .iter()
                    .filter_map(|&v| {
                        let t = self.store.top(v, sym.id).filter(|t| t.valid)?;
                        Some(journal::SpreadQuote {
                            venue: v.as_str(),
                            bid: Dec::new(t.bid?.price as i128, sym.scales.price),
                            ask: Dec::new(t.ask?.price as i128, sym.scales.price),
                        })
                    })
                    .collect();
                if quotes.is_empty() {
                    continue; // no valid book anywhere: nothing to sample
                }
                self.journal
                    .send(JournalRecord::Spread(Box::new(journal::SpreadSample {
                        t_ms: now_ms(),
                        symbol: sym.unified.clone(),
                        quotes,
                    })));
            }
        }
    }
}
