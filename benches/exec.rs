//! Execution hot path: request signing over real payloads (MEXC HMAC-SHA256 over the
//! place-order query string, Gate HMAC-SHA512 over the order body and the WebSocket
//! API payload), order preparation and serialization, the concurrent two-venue
//! submission on loopback (call -> both requests received by the servers, p50/p99),
//! the Gate order path over REST versus the WebSocket trading API (against the
//! simulator), and the connection reuse ratio over a 1,000-order run.
//!
//! Run: `cargo bench -p arb-benches --bench exec`.

use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arb_core::{Venue, VenueKind};
use arb_exec::order::{
    ClientOrderId, Leg, OrderKind, OrderRequest, PreparedOrder, Side, SymbolRules, TimeInForce,
};
use arb_exec::{Amount, OrderPath, Secret, VenueClient, VenueConfig};
use arb_sim::{SimConfig, Simulator};
use criterion::{criterion_group, Criterion, Throughput};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn amt(s: &str) -> Amount {
    Amount::parse(s).unwrap()
}

fn rules(venue: Venue) -> Arc<SymbolRules> {
    Arc::new(match venue.kind() {
        VenueKind::Mexc => SymbolRules::new(venue, "BTCUSDT", 2, 6, amt("0.000001"), amt("1")),
        VenueKind::Gate => SymbolRules::new(venue, "BTC_USDT", 1, 6, amt("0.00001"), amt("3")),
    })
}

fn order(venue: Venue, txn: u64, price: Amount, tif: TimeInForce) -> OrderRequest {
    OrderRequest {
        rules: rules(venue),
        side: Side::Buy,
        kind: OrderKind::Limit {
            price,
            qty: amt("0.0123"),
            tif,
        },
        client_id: ClientOrderId::for_leg(
            "bn",
            txn,
            if venue == Venue::MEXC { Leg::A } else { Leg::B },
        )
        .unwrap(),
    }
}

const SECRET: &str = "45d0b3c26f2644f19bfb98b07741b2f5";

fn signing(c: &mut Criterion) {
    let p = order(Venue::MEXC, 123_456_789, amt("65000.12"), TimeInForce::Ioc)
        .prepare()
        .unwrap();
    let mut q = String::new();
    for (k, v) in arb_exec::mexc::place_params(&p) {
        arb_exec::mexc::push_param(&mut q, k, &v);
    }
    q.push_str("&timestamp=1644489390087&recvWindow=5000");
    let gp = order(Venue::GATE, 123_456_789, amt("65000.1"), TimeInForce::Ioc)
        .prepare()
        .unwrap();
    let body = arb_exec::gate::place_body(&gp).to_string();
    let mut g = c.benchmark_group("sign");
    g.throughput(Throughput::Bytes(q.len() as u64));
    g.bench_function("mexc_hmac_sha256_place_query", |b| {
        b.iter(|| arb_exec::mexc::sign::mexc_sign(black_box(SECRET), black_box(&q)))
    });
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("gate_hmac_sha512_place_body", |b| {
        b.iter(|| {
            arb_exec::gate::sign::gate_rest_sign(
                black_box(SECRET),
                "POST",
                "/api/v4/spot/orders",
                "",
                black_box(body.as_bytes()),
                "1541993715",
            )
        })
    });
    g.bench_function("gate_ws_api_sign_order_place", |b| {
        b.iter(|| {
            arb_exec::gate::sign::gate_ws_api_sign(
                black_box(SECRET),
                "spot.order_place",
                black_box(&body),
                "1541993715",
            )
        })
    });
    g.finish();
    eprintln!(
        "payloads: MEXC query {} bytes, Gate body {} bytes",
        q.len(),
        body.len()
    );
}

fn serialization(c: &mut Criterion) {
    let mreq = order(Venue::MEXC, 987_654_321, amt("65000.129"), TimeInForce::Ioc);
    let greq = order(Venue::GATE, 987_654_321, amt("65000.19"), TimeInForce::Ioc);
    let mp = mreq.prepare().unwrap();
    let gp = greq.prepare().unwrap();
    let mut g = c.benchmark_group("order");
    g.bench_function("prepare_quantize_check", |b| {
        b.iter(|| black_box(&mreq).prepare().unwrap())
    });
    g.bench_function("mexc_signed_query", |b| {
        b.iter(|| {
            arb_exec::mexc::signed_query(
                &arb_exec::mexc::place_params(black_box(&mp)),
                1_644_489_390_087,
                5000,
                SECRET,
            )
        })
    });
    g.bench_function("gate_body_json", |b| {
        b.iter(|| arb_exec::gate::place_body(black_box(&gp)).to_string())
    });
    g.finish();
}

/// A loopback HTTP/1.1 keep-alive server answering every request with `answer` and
/// recording when each request had fully arrived.
async fn stamping_server(answer: &'static str) -> (String, Arc<Mutex<Option<Instant>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let last = Arc::new(Mutex::new(None));
    let l2 = last.clone();
    tokio::spawn(async move {
        loop {
            let (mut sock, _) = listener.accept().await.unwrap();
            sock.set_nodelay(true).unwrap();
            let last = l2.clone();
            tokio::spawn(async move {
                let mut buf = Vec::with_capacity(4096);
                let mut tmp = [0u8; 4096];
                loop {
                    // Read one request: headers, then Content-Length bytes of body.
                    let (head_end, clen) = loop {
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = std::str::from_utf8(&buf[..i]).unwrap().to_ascii_lowercase();
                            let clen = head
                                .lines()
                                .find_map(|l| {
                                    l.strip_prefix("content-length:")
                                        .map(|v| v.trim().parse::<usize>().unwrap())
                                })
                                .unwrap_or(0);
                            break (i + 4, clen);
                        }
                        match sock.read(&mut tmp).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&tmp[..n]),
                        }
                    };
                    while buf.len() < head_end + clen {
                        match sock.read(&mut tmp).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&tmp[..n]),
                        }
                    }
                    *last.lock().unwrap() = Some(Instant::now());
                    buf.drain(..head_end + clen);
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
                        answer.len()
                    );
                    if sock.write_all(resp.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (format!("http://{addr}"), last)
}

/// A loopback Gate WebSocket trading endpoint with TCP_NODELAY: answers `spot.login`
/// with a result and `spot.order_place` with an ack frame then a result frame, as Gate
/// does, so the client's WebSocket order path can be timed without a server's Nagle
/// delay on the second frame.
async fn ws_order_server() -> String {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (sock, _) = listener.accept().await.unwrap();
            sock.set_nodelay(true).unwrap();
            tokio::spawn(async move {
                let mut ws = tokio_tungstenite::accept_async(sock).await.unwrap();
                while let Some(Ok(m)) = ws.next().await {
                    let Message::Text(t) = m else { continue };
                    let v: serde_json::Value = serde_json::from_str(t.as_str()).unwrap();
                    let ch = v["channel"].as_str().unwrap_or("").to_string();
                    let id = v["payload"]["req_id"].clone();
                    if id.is_null() {
                        continue;
                    }
                    let header = serde_json::json!({"status": "200", "channel": ch});
                    if ch == "spot.order_place" {
                        let ack = serde_json::json!({"request_id": id, "ack": true, "header": header, "data": {"result": {"req_id": id}}});
                        ws.send(Message::text(ack.to_string())).await.unwrap();
                        let order = serde_json::json!({"id": "1", "text": v["payload"]["req_param"]["text"], "status": "open",
                            "currency_pair": "BTC_USDT", "type": "limit", "side": "buy", "amount": "0.0123",
                            "price": "65000.1", "left": "0.0123", "finish_as": "open"});
                        let res = serde_json::json!({"request_id": id, "ack": false, "header": header, "data": {"result": order}});
                        ws.send(Message::text(res.to_string())).await.unwrap();
                    } else {
                        let res = serde_json::json!({"request_id": id, "header": header, "data": {"result": {}}});
                        ws.send(Message::text(res.to_string())).await.unwrap();
                    }
                }
            });
        }
    });
    format!("ws://{addr}/ws/v4/")
}

fn gate_order_paths_loopback(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (rest_url, _) = rt.block_on(stamping_server(
        r#"{"id":"1","text":"t-bn_1_b","status":"open","currency_pair":"BTC_USDT","type":"limit","side":"buy","amount":"0.0123","price":"65000.1","left":"0.0123","finish_as":"open"}"#,
    ));
    let ws_url = rt.block_on(ws_order_server());
    let mut g = c.benchmark_group("gate_order_path_loopback");
    for (name, path) in [("rest_place", OrderPath::Rest), ("ws_place", OrderPath::Ws)] {
        let mut cfg = VenueConfig::new(
            Venue::GATE,
            format!("{rest_url}/api/v4"),
            ws_url.clone(),
            "k",
            Secret::new(SECRET),
        );
        cfg.rate_limit = false;
        cfg.order_path = path;
        let client = VenueClient::new(cfg).unwrap();
        let samples = Arc::new(Mutex::new(Vec::new()));
        let mut txn = 5_000_000u64;
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    txn += 1;
                    let p = order(Venue::GATE, txn, amt("65000.1"), TimeInForce::Ioc)
                        .prepare()
                        .unwrap();
                    let start = Instant::now();
                    rt.block_on(client.place_prepared(&p)).unwrap();
                    let d = start.elapsed();
                    samples.lock().unwrap().push(d);
                    total += d;
                }
                total
            })
        });
        report(
            &format!("gate {name} round trip (loopback, nodelay server)"),
            std::mem::take(&mut *samples.lock().unwrap()),
        );
    }
    g.finish();
}

fn bench_client(venue: Venue, rest: String, ws: String, key: &str, secret: &str) -> VenueClient {
    let mut cfg = VenueConfig::new(venue, rest, ws, key, Secret::new(secret));
    // Benches measure latency, not limits: the limiter would space a long run out.
    cfg.rate_limit = false;
    VenueClient::new(cfg).unwrap()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(name: &str, mut v: Vec<Duration>) {
    // Empty when a filter on the command line skipped the bench.
    if v.is_empty() {
        return;
    }
    v.sort();
    eprintln!(
        "{name}: n={} p50={:.1} us p99={:.1} us",
        v.len(),
        percentile(&v, 0.5).as_secs_f64() * 1e6,
        percentile(&v, 0.99).as_secs_f64() * 1e6
    );
}

fn pair_submission(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (mexc_url, mexc_last) = rt.block_on(stamping_server(
        r#"{"symbol":"BTCUSDT","orderId":"1","price":"65000.12","origQty":"0.0123","type":"IMMEDIATE_OR_CANCEL","side":"BUY","transactTime":1}"#,
    ));
    let (gate_url, gate_last) = rt.block_on(stamping_server(
        r#"{"id":"1","text":"t-bn_1_b","status":"open","currency_pair":"BTC_USDT","type":"limit","side":"buy","amount":"0.0123","price":"65000.1","left":"0.0123","finish_as":"open"}"#,
    ));
    let mexc = bench_client(
        Venue::MEXC,
        mexc_url,
        "ws://127.0.0.1:1/ws".into(),
        "k",
        SECRET,
    );
    let gate = bench_client(
        Venue::GATE,
        format!("{gate_url}/api/v4"),
        "ws://127.0.0.1:1/ws/v4/".into(),
        "k",
        SECRET,
    );
    let samples = Arc::new(Mutex::new(Vec::new()));
    let mut txn = 0u64;
    let mut g = c.benchmark_group("submit_pair_loopback");
    g.bench_function("call_to_both_requests_received", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                txn += 1;
                let a = order(Venue::MEXC, txn, amt("65000.12"), TimeInForce::Ioc)
                    .prepare()
                    .unwrap();
                let bb = order(Venue::GATE, txn, amt("65000.1"), TimeInForce::Ioc)
                    .prepare()
                    .unwrap();
                let start = Instant::now();
                let (ra, rb) = rt.block_on(arb_exec::submit_pair_prepared(&mexc, &a, &gate, &bb));
                ra.unwrap();
                rb.unwrap();
                let ta = mexc_last.lock().unwrap().unwrap();
                let tb = gate_last.lock().unwrap().unwrap();
                let d = ta.max(tb) - start;
                samples.lock().unwrap().push(d);
                total += d;
            }
            total
        })
    });
    g.finish();
    report(
        "submit_pair call -> both requests received",
        std::mem::take(&mut *samples.lock().unwrap()),
    );
    let (mr, gr) = (mexc.conn_stats(), gate.conn_stats());
    eprintln!("submit_pair loopback connections: mexc {mr:?}, gate {gr:?}");
}

fn sim_runtime_and_clients(
    order_path: OrderPath,
) -> (tokio::runtime::Runtime, Simulator, VenueClient, VenueClient) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let cfg = SimConfig {
        market_paused: true,
        rate_limits: false,
        ..SimConfig::default()
    };
    let sim = rt.block_on(Simulator::start(cfg)).unwrap();
    let e = sim.endpoints().clone();
    let (m, g) = (
        sim.trader(Venue::MEXC).clone(),
        sim.trader(Venue::GATE).clone(),
    );
    let mexc = bench_client(
        Venue::MEXC,
        e.mexc_rest.clone(),
        e.mexc_ws.clone(),
        &m.api_key,
        &m.api_secret,
    );
    let mut gcfg = VenueConfig::new(
        Venue::GATE,
        e.gate_rest.clone(),
        e.gate_ws.clone(),
        g.api_key.clone(),
        Secret::new(g.api_secret.clone()),
    );
    gcfg.rate_limit = false;
    gcfg.order_path = order_path;
    let gate = VenueClient::new(gcfg).unwrap();
    (rt, sim, mexc, gate)
}

/// A buy far under the market as IOC: it expires at once, so a long run leaves no open
/// orders behind (MEXC caps them at 500).
fn unfillable(sim: &Simulator, venue: Venue, txn: u64) -> PreparedOrder {
    let sym = if venue == Venue::MEXC {
        "BTCUSDT"
    } else {
        "BTC_USDT"
    };
    let bid = amt(&sim.truth_book(venue, sym, 1).unwrap().bids[0].0);
    order(
        venue,
        txn,
        bid.checked_mul(amt("0.7")).unwrap(),
        TimeInForce::Ioc,
    )
    .prepare()
    .unwrap()
}

fn gate_order_paths(c: &mut Criterion) {
    let mut g = c.benchmark_group("gate_order_path_sim");
    for (name, path) in [
        ("rest_place_ioc", OrderPath::Rest),
        ("ws_place_ioc", OrderPath::Ws),
    ] {
        let (rt, sim, _mexc, gate) = sim_runtime_and_clients(path);
        let samples = Arc::new(Mutex::new(Vec::new()));
        let mut txn = 1_000_000u64;
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    txn += 1;
                    let p = unfillable(&sim, Venue::GATE, txn);
                    let start = Instant::now();
                    rt.block_on(gate.place_prepared(&p)).unwrap();
                    let d = start.elapsed();
                    samples.lock().unwrap().push(d);
                    total += d;
                }
                total
            })
        });
        report(
            &format!("gate {name} round trip"),
            std::mem::take(&mut *samples.lock().unwrap()),
        );
        rt.block_on(sim.shutdown());
    }
    g.finish();
}

fn sim_pair_round_trip(c: &mut Criterion) {
    let (rt, sim, mexc, gate) = sim_runtime_and_clients(OrderPath::Rest);
    let samples = Arc::new(Mutex::new(Vec::new()));
    let mut txn = 2_000_000u64;
    let mut g = c.benchmark_group("submit_pair_sim");
    g.bench_function("round_trip_both_acknowledged", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                txn += 1;
                let a = unfillable(&sim, Venue::MEXC, txn);
                let bb = unfillable(&sim, Venue::GATE, txn);
                let start = Instant::now();
                let (ra, rb) = rt.block_on(arb_exec::submit_pair_prepared(&mexc, &a, &gate, &bb));
                let d = start.elapsed();
                ra.unwrap();
                rb.unwrap();
                samples.lock().unwrap().push(d);
                total += d;
            }
            total
        })
    });
    g.finish();
    report(
        "submit_pair against the simulator, both acknowledged",
        std::mem::take(&mut *samples.lock().unwrap()),
    );
    rt.block_on(sim.shutdown());
}

/// 1,000 orders per venue, 8 in flight at a time per venue, against the simulator:
/// the share of requests that went out on an already open connection.
fn connection_reuse() {
    let (rt, sim, mexc, gate) = sim_runtime_and_clients(OrderPath::Rest);
    let sim = Arc::new(sim);
    for (venue, client) in [(Venue::MEXC, &mexc), (Venue::GATE, &gate)] {
        rt.block_on(async {
            let mut next = 0u64;
            let mut set = tokio::task::JoinSet::new();
            while next < 1000 || !set.is_empty() {
                while next < 1000 && set.len() < 8 {
                    next += 1;
                    let (c, p) = (client.clone(), unfillable(&sim, venue, 3_000_000 + next));
                    set.spawn(async move { c.place_prepared(&p).await.map(|_| ()) });
                }
                set.join_next().await.unwrap().unwrap().unwrap();
            }
        });
        let s = client.conn_stats();
        eprintln!(
            "connection reuse over 1,000 {venue} orders (8 in flight): requests={} new_connections={} reuse={:.2}%",
            s.requests,
            s.new_connections,
            s.reuse_ratio() * 100.0
        );
    }
    drop(mexc);
    drop(gate);
    if let Ok(sim) = Arc::try_unwrap(sim) {
        rt.block_on(sim.shutdown());
    }
}

criterion_group!(
    benches,
    signing,
    serialization,
    pair_submission,
    sim_pair_round_trip,
    gate_order_paths,
    gate_order_paths_loopback
);

fn main() {
    connection_reuse();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
