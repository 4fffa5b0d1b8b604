//! Request signing for both venues (HMAC-SHA256 for MEXC, HMAC-SHA512 for Gate.io),
//! checked against the known-answer values of the exchanges' documentation.
//! The simulator verifies with the same functions; the known answers keep both honest.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha512};

type HmacSha256 = Hmac<Sha256>;
type HmacSha512 = Hmac<Sha512>;

/// Hex SHA-512 of the empty string: what Gate signs for a request without a body.
pub const GATE_EMPTY_BODY_SHA512: &str = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";

/// MEXC: lowercase hex HMAC-SHA256(secret, totalParams) where totalParams is the query
/// string followed directly by the body.
pub fn mexc_sign(secret: &str, total_params: &str) -> String {
    let mut mac =
        HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(total_params.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Gate REST: hex HMAC-SHA512(secret, `METHOD\n<path>\n<query>\n<hex sha512(body)>\n<ts>`).
/// `path` includes the `/api/v4` prefix; `query` is un-encoded, in request order;
/// `timestamp` is the header string verbatim.
pub fn gate_rest_sign(
    secret: &str,
    method: &str,
    path: &str,
    query: &str,
    body: &[u8],
    timestamp: &str,
) -> String {
    let body_hash = hex::encode(Sha512::digest(body));
    let mut mac =
        HmacSha512::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(method.as_bytes());
    mac.update(b"\n");
    mac.update(path.as_bytes());
    mac.update(b"\n");
    mac.update(query.as_bytes());
    mac.update(b"\n");
    mac.update(body_hash.as_bytes());
    mac.update(b"\n");
    mac.update(timestamp.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Gate WebSocket channel auth: hex HMAC-SHA512(secret, `channel=<c>&event=<e>&time=<t>`).
pub fn gate_ws_sign(secret: &str, channel: &str, event: &str, time: i64) -> String {
    let payload = format!("channel={channel}&event={event}&time={time}");
    let mut mac =
        HmacSha512::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(payload.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Gate WebSocket trading API: hex HMAC-SHA512(secret, `api\n<channel>\n<req_param>\n<ts>`).
pub fn gate_ws_api_sign(secret: &str, channel: &str, req_param: &str, timestamp: &str) -> String {
    let mut mac =
        HmacSha512::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(b"api\n");
    mac.update(channel.as_bytes());
    mac.update(b"\n");
    mac.update(req_param.as_bytes());
    mac.update(b"\n");
    mac.update(timestamp.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Constant-time comparison of two hex signatures (the simulator's verifier uses it).
pub fn signatures_equal(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| {
        acc | (x.to_ascii_lowercase() ^ y.to_ascii_lowercase())
    }) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn gate_known_answers() {
        assert_eq!(
            gate_rest_sign(
                "secret",
                "GET",
                "/api/v4/futures/orders",
                "contract=BTC_USD&status=finished&limit=50",
                b"",
                "1541993715"
            ),
            "55f84ea195d6fe57ce62464daaa7c3c02fa9d1dde954e4c898289c9a2407a3d6fb3faf24deff16790d726b66ac9f74526668b13bd01029199cc4fcc522418b8a"
        );
        assert_eq!(
            gate_rest_sign(
                "secret",
                "POST",
                "/api/v4/futures/orders",
                "",
                br#"{"contract":"BTC_USD","type":"limit","size":100,"price":6800,"time_in_force":"gtc"}"#,
                "1541993715"
            ),
            "eae42da914a590ddf727473aff25fc87d50b64783941061f47a3fdb92742541fc4c2c14017581b4199a1418d54471c269c03a38d788d802e2c306c37636389f0"
        );
        assert_eq!(
            gate_ws_sign("secret", "spot.orders", "subscribe", 1_611_541_000),
            "833a44bb4cd083e47bc1fec22b5c12e8b98c30fc7a9f4a1e52800dcfdff9a57240d7c10f1e9553dee020011fa5d02cdc7d1155a380cc4dcbd45f8fb525e41f4b"
        );
        assert_eq!(hex::encode(Sha512::digest(b"")), GATE_EMPTY_BODY_SHA512);
    }

    #[test]
    fn signature_comparison() {
        assert!(signatures_equal("abCD", "ABcd"));
        assert!(!signatures_equal("abcd", "abce"));
        assert!(!signatures_equal("abc", "abcd"));
    }
}
