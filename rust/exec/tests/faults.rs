//! Faults between the client and the simulator, injected by a small proxy of our own
//! on loopback (it forwards every request to the simulator and, for chosen order
//! placements, applies the order and then never answers, answers 5xx before or after
//! applying it, or answers 429 with Retry-After). Afterwards every intended order
//! exists exactly once in the simulator's own order list.

mod common;

use std::sync::Arc;
use std::time::Duration;

use arb_core::{ErrorClass, Venue, VenueKind};
use arb_exec::order::ClientOrderId;
use arb_exec::{
    Leg, OrderKind, OrderRef, OrderRequest, OrderStatus, Secret, Side, TimeInForce, VenueClient,
};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use common::*;
use parking_lot::Mutex;
use tokio::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    None,
    /// Forward the placement, then hold the answer past the client's timeout.
    ApplyThenHang,
    /// Answer 503 without forwarding.
    Fail503BeforeApply,
    /// Forward the placement, then answer 502 instead of the venue's answer.
    ApplyThen502,
    /// Answer 429 with `Retry-After: <s>` without forwarding.
    TooMany(u64),
}

#[derive(Clone)]
struct Proxy {
    upstream: String,
    http: reqwest::Client,
    /// Faults for the next placements, consumed in order.
    faults: Arc<Mutex<Vec<Fault>>>,
    /// While set, every request (placement or not) gets 503.
    down: Arc<Mutex<bool>>,
    /// (arrival, method, path) of every request.
    log: Arc<Mutex<Vec<(Instant, Method, String)>>>,
}

impl Proxy {
    fn placements(&self) -> Vec<Instant> {
        self.log
            .lock()
            .iter()
            .filter(|(_, m, p)| *m == Method::POST && is_place_path(p))
            .map(|(t, _, _)| *t)
            .collect()
    }
}

fn is_place_path(p: &str) -> bool {
    let path = p.split('?').next().unwrap_or("");
    path == "/api/v3/order" || path == "/api/v4/spot/orders"
}

async fn handle(State(p): State<Proxy>, req: Request) -> Response {
    let method = req.method().clone();
    let pq = req
        .uri()
        .path_and_query()
        .map(|x| x.to_string())
        .unwrap_or_default();
    let headers = req.headers().clone();
    let body = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .unwrap();
    p.log
        .lock()
        .push((Instant::now(), method.clone(), pq.clone()));
    if *p.down.lock() {
        return (StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
    }
    let fault = if method == Method::POST && is_place_path(&pq) {
        let mut f = p.faults.lock();
        if f.is_empty() {
            Fault::None
        } else {
            f.remove(0)
        }
    } else {
        Fault::None
    };
    match fault {
        Fault::Fail503BeforeApply => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                r#"{"label":"TOO_BUSY","message":"busy"}"#,
            )
                .into_response();
        }
        Fault::TooMany(s) => {
            return Response::builder()
                .status(StatusCode::TOO_MANY_REQUESTS)
                .header("Retry-After", s.to_string())
                .body(Body::from(r#"{"code":429,"msg":"Too many requests"}"#))
                .unwrap();
        }
        _ => {}
    }
    let mut rb = p.http.request(method, format!("{}{}", p.upstream, pq));
    for (k, v) in headers.iter() {
        if k != "host" && k != "content-length" {
            rb = rb.header(k, v);
        }
    }
    let up = rb.body(body).send().await.unwrap();
    let status = up.status();
    let up_headers = up.headers().clone();
    let up_body = up.bytes().await.unwrap();
    match fault {
        Fault::ApplyThenHang => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            (StatusCode::GATEWAY_TIMEOUT, "late").into_response()
        }
        Fault::ApplyThen502 => {
            (StatusCode::BAD_GATEWAY, "<html>bad gateway</html>").into_response()
        }
        _ => {
            let mut r = Response::builder().status(status.as_u16());
            for (k, v) in up_headers.iter() {
                if k != "content-length" && k != "transfer-encoding" && k != "connection" {
                    r = r.header(k, v);
                }
            }
            r.body(Body::from(up_body)).unwrap()
        }
    }
}

/// Starts a proxy in front of `venue`; returns it and a client pointed at it.
async fn proxied(
    sim: &arb_sim::Simulator,
    venue: Venue,
    secret: Option<&str>,
) -> (Proxy, VenueClient) {
    let e = sim.endpoints();
    let (upstream, prefix) = match venue.kind() {
        VenueKind::Mexc => (e.mexc_rest.clone(), ""),
        VenueKind::Gate => (
            e.gate_rest.trim_end_matches("/api/v4").to_string(),
            "/api/v4",
        ),
    };
    let p = Proxy {
        upstream,
        http: reqwest::Client::new(),
        faults: Arc::new(Mutex::new(Vec::new())),
        down: Arc::new(Mutex::new(false)),
        log: Arc::new(Mutex::new(Vec::new())),
    };
    let app = axum::Router::new().fallback(handle).with_state(p.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut cfg = config(sim, venue);
    cfg.rest_url = format!("http://{addr}{prefix}");
    if let Some(s) = secret {
        cfg.api_secret = Secret::new(s);
    }
    (p, VenueClient::new(cfg).unwrap())
}

async fn resting_buy(sim: &arb_sim::Simulator, venue: Venue, txn: u64) -> OrderRequest {
    let (bid, _) = best(sim, venue);
    OrderRequest {
        rules: rules(sim, venue).await,
        side: Side::Buy,
        kind: OrderKind::Limit {
            price: bid.checked_mul(amt("0.9")).unwrap(),
            qty: amt("0.01"),
            tif: TimeInForce::Gtc,
        },
        client_id: ClientOrderId::for_leg("ft", txn, Leg::A).unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_intended_order_exists_exactly_once_after_faults() {
    let sim = quiet_sim().await;
    let mut txn = 0;
    for venue in [Venue::MEXC, Venue::GATE] {
        for (fault, posts) in [
            (Fault::ApplyThenHang, 1),
            (Fault::ApplyThen502, 1),
            // Proven absent (two "not found" answers), then placed again with the same id.
            (Fault::Fail503BeforeApply, 2),
        ] {
            txn += 1;
            let (proxy, c) = proxied(&sim, venue, None).await;
            proxy.faults.lock().push(fault);
            let req = resting_buy(&sim, venue, txn).await;
            let s = c
                .place(&req)
                .await
                .unwrap_or_else(|e| panic!("{venue} {fault:?}: {e}"));
            assert_eq!(s.status, OrderStatus::Open, "{venue} {fault:?}");
            assert_eq!(copies(&sim, venue, &req.client_id), 1, "{venue} {fault:?}");
            assert_eq!(
                proxy.placements().len(),
                posts,
                "{venue} {fault:?}: placements sent"
            );
            // The order is real and ours: it can be cancelled by its client id.
            let r = c
                .cancel(symbol(venue), &OrderRef::Client(req.client_id.clone()))
                .await
                .unwrap();
            assert_eq!(r.status, OrderStatus::Canceled);
        }
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_venue_leaves_the_order_unknown_until_reconciled() {
    let sim = quiet_sim().await;
    for (i, venue) in [Venue::MEXC, Venue::GATE].into_iter().enumerate() {
        let (proxy, mut c) = proxied(&sim, venue, None).await;
        // Few retries so the test is quick; the breaker must not open in between.
        let mut cfg = c.config().clone();
        cfg.read_attempts = 2;
        cfg.backoff_ms = 10;
        cfg.breaker_threshold = 50;
        c = VenueClient::new(cfg).unwrap();
        proxy.faults.lock().push(Fault::ApplyThenHang);
        let req = resting_buy(&sim, venue, 100 + i as u64).await;
        let p = c.clone();
        let r2 = req.clone();
        let placing = tokio::spawn(async move { p.place(&r2).await });
        // Once the placement is on its way, the venue becomes unreachable.
        while proxy.placements().is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        *proxy.down.lock() = true;
        let e = placing.await.unwrap().unwrap_err();
        assert_eq!(e.class(), ErrorClass::UnknownOutcome, "{venue}: {e}");
        assert_eq!(
            c.tracker().get(&req.client_id).unwrap().status,
            OrderStatus::Unknown
        );
        // Nothing was resent blindly.
        assert_eq!(proxy.placements().len(), 1);
        // The venue comes back: reconciliation finds the order.
        *proxy.down.lock() = false;
        c.reconcile(&[symbol(venue).to_string()], None)
            .await
            .unwrap();
        assert_eq!(
            c.tracker().get(&req.client_id).unwrap().status,
            OrderStatus::Open,
            "{venue}"
        );
        assert_eq!(copies(&sim, venue, &req.client_id), 1);
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_answer_is_honoured_before_the_next_request() {
    let sim = quiet_sim().await;
    for (i, venue) in [Venue::MEXC, Venue::GATE].into_iter().enumerate() {
        let (proxy, c) = proxied(&sim, venue, None).await;
        proxy.faults.lock().push(Fault::TooMany(1));
        let req = resting_buy(&sim, venue, 200 + i as u64).await;
        c.place(&req).await.unwrap();
        let posts = proxy.placements();
        assert_eq!(posts.len(), 2, "{venue}: refused once, then accepted");
        assert!(
            posts[1] - posts[0] >= Duration::from_secs(1),
            "{venue}: {:?}",
            posts[1] - posts[0]
        );
        assert_eq!(copies(&sim, venue, &req.client_id), 1);
        assert_eq!(c.limiter().stats().venue_blocks, 1);
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_failure_surfaces_at_once_without_retries() {
    let sim = quiet_sim().await;
    for (i, venue) in [Venue::MEXC, Venue::GATE].into_iter().enumerate() {
        let (proxy, c) = proxied(&sim, venue, Some("not-the-secret")).await;
        let e = c.balances().await.unwrap_err();
        assert_eq!(e.class(), ErrorClass::Authentication, "{venue}: {e}");
        assert!(!e.to_string().contains("not-the-secret"));
        assert_eq!(proxy.log.lock().len(), 1, "{venue}: one request, no retry");
        let req = resting_buy(&sim, venue, 300 + i as u64).await;
        let e = c.place(&req).await.unwrap_err();
        assert_eq!(e.class(), ErrorClass::Authentication, "{venue}: {e}");
        assert_eq!(
            proxy.log.lock().len(),
            2,
            "{venue}: one placement, no query, no retry"
        );
        assert_eq!(
            c.tracker().get(&req.client_id).unwrap().status,
            OrderStatus::Rejected
        );
        assert_eq!(c.breaker_state(), arb_exec::BreakerState::Closed);
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_retry_a_few_times_with_backoff_then_fail() {
    let sim = quiet_sim().await;
    let (proxy, c) = proxied(&sim, Venue::MEXC, None).await;
    *proxy.down.lock() = true;
    let e = c.balances().await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::Venue, "{e}");
    assert_eq!(e.http_status, Some(503));
    let log = proxy.log.lock().clone();
    assert_eq!(
        log.len() as u32,
        c.config().read_attempts,
        "one request per attempt"
    );
    // Backoff doubles from backoff_ms between attempts.
    let base = Duration::from_millis(c.config().backoff_ms);
    assert!(log[1].0 - log[0].0 >= base);
    assert!(log[2].0 - log[1].0 >= base * 2);
    sim.shutdown().await;
}
