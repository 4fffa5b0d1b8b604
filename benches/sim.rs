//! Simulator throughput: book-update frames per second delivered to ONE WebSocket
//! subscriber, end to end (matching engine -> event fan-out -> frame encoding -> socket ->
//! a tokio-tungstenite client), for MEXC protobuf aggre.depth and Gate JSON spot.obu.
//!
//! The background market is paused; the bench drives the venue with the market's own
//! maker/taker actions (`Market::step_on`) on this thread while the client counts frames on
//! the runtime, keeping at most `IN_FLIGHT` frames outstanding so the subscriber is never
//! dropped as a slow consumer. Target: >= 50,000 frames/s on the 2-core machine.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arb_core::Venue;
use arb_sim::market::Market;
use arb_sim::{SimConfig, Simulator};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

const FRAMES: u64 = 20_000;
const IN_FLIGHT: u64 = 4_096;

/// Connects one subscriber and counts the book frames it receives.
fn subscriber(
    rt: &tokio::runtime::Runtime,
    url: String,
    request: String,
    binary: bool,
) -> Arc<AtomicU64> {
    let received = Arc::new(AtomicU64::new(0));
    let r = received.clone();
    rt.spawn(async move {
        let (mut ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("connect");
        ws.send(Message::Text(request.into()))
            .await
            .expect("subscribe");
        while let Some(Ok(m)) = ws.next().await {
            let is_frame = match &m {
                Message::Binary(_) => binary,
                // Gate: every update on the obu channel (acks carry "subscribe").
                Message::Text(t) => !binary && t.contains("\"event\":\"update\""),
                _ => false,
            };
            if is_frame {
                r.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    received
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let cfg = SimConfig {
        symbols: vec!["BTC/USDT".into()],
        market_paused: true,
        rate_limits: false,
        ..SimConfig::default()
    };
    let sim = rt.block_on(Simulator::start(cfg)).expect("simulator");
    let shared = sim.shared().clone();
    let ep = sim.endpoints().clone();
    let mut market = Market::new(&shared);

    let mut g = c.benchmark_group("sim");
    g.throughput(Throughput::Elements(FRAMES));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(10));
    for (venue, url, request, binary, name) in [
        (
            Venue::MEXC,
            ep.mexc_ws.clone(),
            r#"{"method":"SUBSCRIPTION","params":["spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT"]}"#
                .to_string(),
            true,
            "mexc_protobuf_depth_frames_to_one_ws_subscriber",
        ),
        (
            Venue::GATE,
            ep.gate_ws.clone(),
            r#"{"time":0,"channel":"spot.obu","event":"subscribe","payload":["ob.BTC_USDT.50"]}"#
                .to_string(),
            false,
            "gate_json_obu_frames_to_one_ws_subscriber",
        ),
    ] {
        let received = subscriber(&rt, url, request, binary);
        let counters = &shared.venue(venue).counters;
        let subs_before = counters.ws_subscriptions.load(Ordering::Relaxed);
        while counters.ws_subscriptions.load(Ordering::Relaxed) == subs_before {
            std::thread::sleep(Duration::from_millis(5));
        }
        // Gate's full first push counts as a frame; start from what arrived so far.
        std::thread::sleep(Duration::from_millis(50));
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    let base_rx = received.load(Ordering::Relaxed);
                    let base_tx = counters.book_events.load(Ordering::Relaxed);
                    let target = base_rx + FRAMES;
                    while received.load(Ordering::Relaxed) < target {
                        let sent = counters.book_events.load(Ordering::Relaxed) - base_tx;
                        let got = received.load(Ordering::Relaxed) - base_rx;
                        if sent < FRAMES && sent - got.min(sent) < IN_FLIGHT {
                            market.step_on(&shared, venue);
                        } else {
                            std::thread::yield_now();
                        }
                    }
                }
                start.elapsed()
            })
        });
        let lagged = counters.ws_lagged_disconnects.load(Ordering::Relaxed);
        assert_eq!(lagged, 0, "the subscriber was dropped as a slow consumer");
    }
    g.finish();
    rt.block_on(sim.shutdown());
}

criterion_group!(benches, bench);
criterion_main!(benches);
