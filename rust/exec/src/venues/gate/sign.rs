//! Gate.io API v4 signing (HMAC-SHA512): the REST headers, the private channels'
//! subscription auth and the WebSocket trading API's per-request signature.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha512};

type HmacSha512 = Hmac<Sha512>;

/// Hex SHA-512 of the empty string: what Gate signs for a request without a body.
pub const GATE_EMPTY_BODY_SHA512: &str = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";

fn hmac_hex(secret: &str, parts: &[&[u8]]) -> String {
    let mut mac =
        HmacSha512::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    for p in parts {
        mac.update(p);
    }
    hex::encode(mac.finalize().into_bytes())
}

/// REST: hex HMAC-SHA512(secret, `METHOD\n<path>\n<query>\n<hex sha512(body)>\n<ts>`).
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
    hmac_hex(
        secret,
        &[
            method.as_bytes(),
            b"\n",
            path.as_bytes(),
            b"\n",
            query.as_bytes(),
            b"\n",
            body_hash.as_bytes(),
            b"\n",
            timestamp.as_bytes(),
        ],
    )
}

/// WebSocket channel auth: hex HMAC-SHA512(secret, `channel=<c>&event=<e>&time=<t>`).
pub fn gate_ws_sign(secret: &str, channel: &str, event: &str, time: i64) -> String {
    let payload = format!("channel={channel}&event={event}&time={time}");
    hmac_hex(secret, &[payload.as_bytes()])
}

/// WebSocket trading API: hex HMAC-SHA512(secret, `api\n<channel>\n<req_param>\n<ts>`).
pub fn gate_ws_api_sign(secret: &str, channel: &str, req_param: &str, timestamp: &str) -> String {
    hmac_hex(
        secret,
        &[
            b"api\n",
            channel.as_bytes(),
            b"\n",
            req_param.as_bytes(),
            b"\n",
            timestamp.as_bytes(),
        ],
    )
}

/// The three auth headers: `KEY`, `Timestamp` (unix seconds), `SIGN`.
pub fn sign_headers(
    key: &str,
    secret: &str,
    method: &str,
    full_path: &str,
    query: &str,
    body: &[u8],
    timestamp_s: i64,
) -> [(&'static str, String); 3] {
    let ts = timestamp_s.to_string();
    let sign = gate_rest_sign(secret, method, full_path, query, body, &ts);
    [("KEY", key.to_string()), ("Timestamp", ts), ("SIGN", sign)]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented known answers (exchange-protocols.md, Gate "Signing").
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
    fn signature_headers_match_the_known_answer() {
        let h = sign_headers(
            "key",
            "secret",
            "GET",
            "/api/v4/futures/orders",
            "contract=BTC_USD&status=finished&limit=50",
            b"",
            1_541_993_715,
        );
        assert_eq!(h[1].1, "1541993715");
        assert_eq!(h[2].1, "55f84ea195d6fe57ce62464daaa7c3c02fa9d1dde954e4c898289c9a2407a3d6fb3faf24deff16790d726b66ac9f74526668b13bd01029199cc4fcc522418b8a");
    }
}
