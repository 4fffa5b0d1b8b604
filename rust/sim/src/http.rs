//! The HTTP side every venue front end shares: the request prologue ([`handle`]: request
//! counters, body reading, the halt state and injected REST faults, the apply-then-hang
//! fault, refusal counters) around a venue's [`RestApi`], and small helpers (raw
//! query/body parameter parsing, since signatures are computed over the exact bytes,
//! and JSON responses).

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, Response, StatusCode};

use crate::faults::{FaultKind, Hang, Hook};
use crate::state::{Shared, VenueRef, VenueState};

/// A request as the venue's router reads it: raw, because signatures cover the exact
/// query and body bytes.
pub struct RawRequest {
    pub method: Method,
    pub path: String,
    /// The query string as sent, without `?` (empty if none).
    pub query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Why the prologue answers a request before the venue routes it. Each venue words the
/// answer in its own documented error format ([`RestApi::refusal`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The body was over 1 MiB or could not be read (400).
    UnreadableBody,
    /// A Halt fault is in force (503).
    Halted,
    /// A RestTimeout fault held the request until shutdown (503).
    ShuttingDown,
    /// A RestStatus fault: answer with this HTTP status.
    Status(u16),
    /// A RestRateLimit fault: 429, retry after this many seconds.
    RateLimited { retry_after_secs: u64 },
}

/// One venue's REST API behind the shared prologue.
pub trait RestApi {
    /// The venue's answer to a request the prologue refuses.
    fn refusal(why: Refusal) -> Response<Body>;
    /// Routes an admitted request: rate limits, authentication, the endpoint.
    fn route(vs: &VenueState, req: &RawRequest) -> Response<Body>;
}

/// Every REST request of a venue instance, whatever its venue: counted, its body read,
/// refused while halted or by an injected fault, then routed by `A`. A response marked
/// [`Hang`] was applied but is never answered (held until shutdown).
pub async fn handle<A: RestApi>(State(venue): State<VenueRef>, req: Request) -> Response<Body> {
    let vs = venue.venue();
    vs.counters.rest_requests.fetch_add(1, Ordering::Relaxed);
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, 1 << 20).await {
        Ok(b) => b,
        Err(_) => return A::refusal(Refusal::UnreadableBody),
    };
    let req = RawRequest {
        method: parts.method,
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or("").to_string(),
        headers: parts.headers,
        body,
    };
    if let Some(why) = injected_refusal(&venue.shared, vs).await {
        vs.counters.rest_rejected.fetch_add(1, Ordering::Relaxed);
        return A::refusal(why);
    }
    let resp = A::route(vs, &req);
    if resp.extensions().get::<Hang>().is_some() {
        // Applied, never answered: hold the request until the client gives up.
        venue.shared.cancel.cancelled().await;
    }
    if !resp.status().is_success() {
        vs.counters.rest_rejected.fetch_add(1, Ordering::Relaxed);
    }
    resp
}

/// The halt state and injected REST faults, before any routing; a delay fault waits
/// here and lets the request through.
async fn injected_refusal(shared: &Shared, vs: &VenueState) -> Option<Refusal> {
    if vs.is_halted() {
        return Some(Refusal::Halted);
    }
    match vs.faults.take(Hook::Rest, None)? {
        FaultKind::RestDelay { ms } => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            None
        }
        FaultKind::RestTimeout => {
            shared.cancel.cancelled().await;
            Some(Refusal::ShuttingDown)
        }
        FaultKind::RestStatus { status } => Some(Refusal::Status(status)),
        FaultKind::RestRateLimit { retry_after_secs } => {
            vs.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
            Some(Refusal::RateLimited { retry_after_secs })
        }
        _ => None,
    }
}

/// Sets `Retry-After: secs` on a response.
pub fn set_retry_after(r: &mut Response<Body>, secs: u64) {
    if let Ok(h) = HeaderValue::from_str(&secs.to_string()) {
        r.headers_mut().insert("retry-after", h);
    }
}

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

/// The exact source text of the JSON value of `"key"` in `text` (first occurrence), for
/// signatures computed over the client's own serialization (Gate's WebSocket API signs
/// `req_param` as sent). Strings and nesting are respected.
pub fn raw_json_field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let pat = format!("\"{key}\"");
    let at = text.find(&pat)? + pat.len();
    let rest = &text[at..];
    let colon = rest.find(':')?;
    if !rest[..colon].trim().is_empty() {
        return None;
    }
    let after = &rest[colon + 1..];
    let start = after.len() - after.trim_start().len();
    let b = after.as_bytes();
    let mut i = start;
    let mut depth = 0i32;
    let mut in_str = false;
    let mut esc = false;
    while i < b.len() {
        let c = b[i];
        if in_str {
            if esc {
                esc = false;
            } else if c == b'\\' {
                esc = true;
            } else if c == b'"' {
                in_str = false;
                if depth == 0 {
                    return Some(&after[start..=i]);
                }
            }
        } else {
            match c {
                b'"' => in_str = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    if depth == 0 {
                        return Some(after[start..i].trim_end());
                    }
                    depth -= 1;
                    if depth == 0 {
                        return Some(&after[start..=i]);
                    }
                }
                b',' if depth == 0 => return Some(after[start..i].trim_end()),
                _ => {}
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::raw_json_field;

    #[test]
    fn extracts_values_verbatim() {
        let t = r#"{"a": 1, "req_param": {"x": "}", "y": [1, {"z": 2}]}, "b": "s"}"#;
        assert_eq!(
            raw_json_field(t, "req_param"),
            Some(r#"{"x": "}", "y": [1, {"z": 2}]}"#)
        );
        assert_eq!(raw_json_field(t, "a"), Some("1"));
        assert_eq!(raw_json_field(t, "b"), Some(r#""s""#));
        assert_eq!(raw_json_field(t, "c"), None);
    }
}
