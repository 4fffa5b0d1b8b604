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
