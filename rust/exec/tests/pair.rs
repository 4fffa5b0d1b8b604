//! Concurrent two-venue submission: both legs are in flight at the same time. Each
//! venue sits behind a forwarding proxy that holds every placement until the other
//! venue's placement has arrived too (a two-party barrier): sequential submission
//! would deadlock there, so the test passing proves the legs were sent concurrently,
//! without measuring any time.

mod common;

use std::sync::Arc;

use arb_core::{Venue, VenueKind};
use arb_exec::order::ClientOrderId;
use arb_exec::{
    submit_pair, Leg, OrderKind, OrderRequest, OrderStatus, Side, TimeInForce, VenueClient,
};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::response::Response;
use common::*;
use tokio::sync::Barrier;

#[derive(Clone)]
struct BarrierProxy {
    upstream: String,
    http: reqwest::Client,
    barrier: Arc<Barrier>,
}

async fn handle(State(p): State<BarrierProxy>, req: Request) -> Response {
    let method = req.method().clone();
    let pq = req
        .uri()
        .path_and_query()
        .map(|x| x.to_string())
        .unwrap_or_default();
    let path = pq.split('?').next().unwrap_or("").to_string();
    let headers = req.headers().clone();
    let body = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .unwrap();
    if method == Method::POST && (path == "/api/v3/order" || path == "/api/v4/spot/orders") {
        p.barrier.wait().await;
    }
    let mut rb = p.http.request(method, format!("{}{}", p.upstream, pq));
    for (k, v) in headers.iter() {
        if k != "host" && k != "content-length" {
            rb = rb.header(k, v);
        }
    }
    let up = rb.body(body).send().await.unwrap();
    let status = up.status().as_u16();
    let bytes = up.bytes().await.unwrap();
    Response::builder()
        .status(status)
        .body(Body::from(bytes))
        .unwrap()
}

async fn behind_barrier(
    sim: &arb_sim::Simulator,
    venue: Venue,
    barrier: Arc<Barrier>,
) -> VenueClient {
    let e = sim.endpoints();
    let (upstream, prefix) = match venue.kind() {
        VenueKind::Mexc => (e.mexc_rest.clone(), ""),
        VenueKind::Gate => (
            e.gate_rest.trim_end_matches("/api/v4").to_string(),
            "/api/v4",
        ),
    };
    let p = BarrierProxy {
        upstream,
        http: reqwest::Client::new(),
        barrier,
    };
    let app = axum::Router::new().fallback(handle).with_state(p);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut cfg = config(sim, venue);
    cfg.rest_url = format!("http://{addr}{prefix}");
    VenueClient::new(cfg).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_legs_are_in_flight_at_once_and_exist_once() {
    let sim = quiet_sim().await;
    let barrier = Arc::new(Barrier::new(2));
    let mexc = behind_barrier(&sim, Venue::MEXC, barrier.clone()).await;
    let gate = behind_barrier(&sim, Venue::GATE, barrier).await;
    let (_, mexc_ask) = best(&sim, Venue::MEXC);
    let (gate_bid, _) = best(&sim, Venue::GATE);
    let txn = 77;
    let buy = OrderRequest {
        rules: rules(&sim, Venue::MEXC).await,
        side: Side::Buy,
        kind: OrderKind::Limit {
            price: mexc_ask,
            qty: amt("0.004"),
            tif: TimeInForce::Ioc,
        },
        client_id: ClientOrderId::for_leg("pr", txn, Leg::A).unwrap(),
    };
    let sell = OrderRequest {
        rules: rules(&sim, Venue::GATE).await,
        side: Side::Sell,
        kind: OrderKind::Limit {
            price: gate_bid,
            qty: amt("0.004"),
            tif: TimeInForce::Ioc,
        },
        client_id: ClientOrderId::for_leg("pr", txn, Leg::B).unwrap(),
    };
    let (a, b) = submit_pair(&mexc, &buy, &gate, &sell).await;
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.order_id.is_some() && b.order_id.is_some());
    for (venue, cid, st) in [
        (Venue::MEXC, &buy.client_id, &a),
        (Venue::GATE, &sell.client_id, &b),
    ] {
        let n = sim
            .orders(venue, &sim.trader(venue).api_key)
            .iter()
            .filter(|o| ClientOrderId::from_venue(&o.client_order_id) == *cid)
            .count();
        assert_eq!(n, 1, "{venue}");
        assert_eq!(cid.leg_id().unwrap().txn, txn);
        assert_ne!(st.status, OrderStatus::Rejected);
    }
    sim.shutdown().await;
}
