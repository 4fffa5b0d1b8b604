//! Small HTTP helpers both venue front ends share: raw query/body parameter parsing
//! (signatures are computed over the exact bytes, so handlers take the raw request)
//! and JSON responses.

use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode};

/// Decoded `k=v` pairs in request order.
pub type Params = Vec<(String, String)>;

pub fn parse_form(s: &str) -> Params {
    url::form_urlencoded::parse(s.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// First value of `key`.
pub fn get<'a>(p: &'a Params, key: &str) -> Option<&'a str> {
    p.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

pub fn json_response(status: StatusCode, v: &serde_json::Value) -> Response<Body> {
    let body = serde_json::to_vec(v).unwrap_or_default();
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    r
}
