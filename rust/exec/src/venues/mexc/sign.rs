//! MEXC request signing: lowercase hex HMAC-SHA256(secret, totalParams), where
//! totalParams is the query string followed directly by the body; the client sends every
//! parameter in the query (as ccxt does) and signs exactly the encoded string it sends.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Lowercase hex HMAC-SHA256(secret, totalParams).
pub fn mexc_sign(secret: &str, total_params: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(total_params.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Appends `k=v` to a query string, percent-encoding anything outside the unreserved
/// set. The signature is computed over the encoded string, which is what is sent.
pub fn push_param(q: &mut String, k: &str, v: &str) {
    if !q.is_empty() {
        q.push('&');
    }
    q.push_str(k);
    q.push('=');
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            q.push(b as char);
        } else {
            q.push_str(&format!("%{b:02X}"));
        }
    }
}

/// The signed query string for `params` at venue time `timestamp_ms`:
/// `<params>&timestamp=..&recvWindow=..&signature=<hex>`.
pub fn signed_query(
    params: &[(&str, String)],
    timestamp_ms: i64,
    recv_window_ms: u64,
    secret: &str,
) -> String {
    let mut q = String::with_capacity(256);
    for (k, v) in params {
        push_param(&mut q, k, v);
    }
    push_param(&mut q, "timestamp", &timestamp_ms.to_string());
    push_param(&mut q, "recvWindow", &recv_window_ms.to_string());
    let sig = mexc_sign(secret, &q);
    q.push_str("&signature=");
    q.push_str(&sig);
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented known answers (exchange-protocols.md, MEXC "Signing").
    #[test]
    fn mexc_known_answers() {
        let secret = "45d0b3c26f2644f19bfb98b07741b2f5";
        assert_eq!(
            mexc_sign(
                secret,
                "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=11&recvWindow=5000&timestamp=1644489390087"
            ),
            "fd3e4e8543c5188531eb7279d68ae7d26a573d0fc5ab0d18eb692451654d837a"
        );
        // Mixed query + body, concatenated without '&'.
        let query = "symbol=BTCUSDT&side=BUY&type=LIMIT";
        let body = "quantity=1&price=11&recvWindow=5000&timestamp=1644489390087";
        assert_eq!(
            mexc_sign(secret, &format!("{query}{body}")),
            "d1a676610ceb39174c8039b3f548357994b2a34139a8addd33baadba65684592"
        );
    }

    #[test]
    fn signed_query_matches_the_known_answer() {
        // The documented example: the same payload, then `&signature=`.
        let params = vec![
            ("symbol", "BTCUSDT".to_string()),
            ("side", "BUY".to_string()),
            ("type", "LIMIT".to_string()),
            ("quantity", "1".to_string()),
            ("price", "11".to_string()),
        ];
        let mut q = String::new();
        for (k, v) in &params {
            push_param(&mut q, k, v);
        }
        push_param(&mut q, "recvWindow", "5000");
        push_param(&mut q, "timestamp", "1644489390087");
        assert_eq!(
            mexc_sign("45d0b3c26f2644f19bfb98b07741b2f5", &q),
            "fd3e4e8543c5188531eb7279d68ae7d26a573d0fc5ab0d18eb692451654d837a"
        );
        let s = signed_query(
            &params,
            1_644_489_390_087,
            5000,
            "45d0b3c26f2644f19bfb98b07741b2f5",
        );
        let (payload, sig) = s.split_once("&signature=").unwrap();
        assert_eq!(sig, mexc_sign("45d0b3c26f2644f19bfb98b07741b2f5", payload));
        assert!(payload.ends_with("timestamp=1644489390087&recvWindow=5000"));
    }
}
