//! Ground truth over HTTP: the exact books, balances, orders, fills and counters the
//! simulator holds, plus the market switches, for tests and tools in any language.
//!
//! Routes (JSON): `GET /health`, `GET /accounts`, `GET /book/{venue}/{symbol}?depth=N`,
//! `GET /balances/{venue}/{api_key}`, `GET /orders/{venue}/{api_key}`,
//! `GET /fills/{venue}/{api_key}`, `GET /counters`, `POST /market/pause`,
//! `POST /market/resume`, `POST /gap/{venue}/{symbol}` (`{venue}`: an instance's name,
//! `gate` / `gate.io` for `gateio`), and faults: `POST /faults`
//! (body: a `FaultSpec`, e.g. `{"venue":"mexc","type":"rest_status","status":503,"count":2}`),
//! `GET /faults` (every fault injected, with how often it fired), `DELETE /faults`;
//! `GET /wallets` (every withdrawal, deposit and trader deposit address);
//! `GET /referee` (probe-mode tick-to-trade report).

// Handlers return a ready HTTP response as their error: it is built once per refused
// request, never on a hot path, so its size does not matter.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use crate::state::{Shared, VenueState};

type S = State<Arc<Shared>>;

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/accounts", get(accounts))
        .route("/book/{venue}/{symbol}", get(book))
        .route("/balances/{venue}/{key}", get(balances))
        .route("/orders/{venue}/{key}", get(orders))
        .route("/fills/{venue}/{key}", get(fills))
        .route("/counters", get(counters))
        .route("/market/pause", post(pause))
        .route("/market/resume", post(resume))
        .route("/gap/{venue}/{symbol}", post(gap))
        .route(
            "/faults",
            post(add_fault).get(list_faults).delete(clear_faults),
        )
        .route("/referee", get(referee))
        .route(
            "/wallets",
            get(|State(s): S| async move { Json(s.wallets.json(&s)) }),
        )
        .with_state(shared)
}

/// The venue instance a path names (its name; `gate` and `gate.io` name `gateio`).
fn venue<'a>(s: &'a Shared, name: &str) -> Result<&'a VenueState, Response> {
    s.lookup(name).map_err(|e| {
        let error = e.to_string();
        (StatusCode::NOT_FOUND, Json(json!({ "error": error }))).into_response()
    })
}

async fn accounts(State(s): S) -> Json<serde_json::Value> {
    Json(s.accounts_json())
}

async fn book(
    State(s): S,
    Path((v, sym)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let vs = match venue(&s, &v) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let depth = q
        .get("depth")
        .and_then(|d| d.parse().ok())
        .unwrap_or(usize::MAX);
    match vs.truth_book(&sym, depth) {
        Some(b) => Json(b).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": format!("unknown {} symbol {sym:?}", vs.name)})),
        )
            .into_response(),
    }
}

async fn balances(State(s): S, Path((v, key)): Path<(String, String)>) -> Response {
    match venue(&s, &v) {
        Ok(vs) => Json(vs.truth_balances(&key)).into_response(),
        Err(r) => r,
    }
}

async fn orders(State(s): S, Path((v, key)): Path<(String, String)>) -> Response {
    match venue(&s, &v) {
        Ok(vs) => Json(vs.truth_orders(&key)).into_response(),
        Err(r) => r,
    }
}

async fn fills(State(s): S, Path((v, key)): Path<(String, String)>) -> Response {
    match venue(&s, &v) {
        Ok(vs) => Json(vs.truth_fills(&key)).into_response(),
        Err(r) => r,
    }
}

async fn counters(State(s): S) -> Json<serde_json::Value> {
    Json(s.counters_json())
}

async fn pause(State(s): S) -> Json<serde_json::Value> {
    s.set_paused(true);
    Json(json!({"paused": true}))
}

async fn resume(State(s): S) -> Json<serde_json::Value> {
    s.set_paused(false);
    Json(json!({"paused": false}))
}

async fn gap(State(s): S, Path((v, sym)): Path<(String, String)>) -> Response {
    let vs = match venue(&s, &v) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if vs.symbol_index(&sym).is_none() {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": format!("unknown {} symbol {sym:?}", vs.name)})),
        )
            .into_response();
    }
    vs.inject_gap(&sym);
    Json(json!({"gap": true})).into_response()
}

async fn add_fault(State(s): S, body: axum::body::Bytes) -> Response {
    let spec: crate::faults::FaultSpec = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": format!("fault spec: {e}")})),
            )
                .into_response()
        }
    };
    match s.inject_fault(spec) {
        Ok(id) => Json(json!({"id": id})).into_response(),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
    }
}

async fn referee(State(s): S) -> Json<serde_json::Value> {
    Json(s.referee.report())
}

async fn list_faults(State(s): S) -> Json<serde_json::Value> {
    Json(s.faults_json())
}

async fn clear_faults(State(s): S) -> Json<serde_json::Value> {
    s.clear_faults();
    Json(json!({"cleared": true}))
}
