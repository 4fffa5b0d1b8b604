//! How MEXC computes the signature it expects, written from its documentation for the
//! simulator's verifier (independent of the client's signing in arb-exec; the
//! documented known answers below keep both honest).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// `signature` = lowercase hex HMAC-SHA256(secret, totalParams), totalParams being the
/// query string followed directly by the body (no `&` between them).
pub fn mexc_sign(secret: &str, total_params: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(total_params.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// exchange-protocols.md, MEXC "Signing": the documented payload and the mixed
    /// query + body split of the same fields.
    #[test]
    fn known_answers() {
        let secret = "45d0b3c26f2644f19bfb98b07741b2f5";
        assert_eq!(
            mexc_sign(
                secret,
                "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=11&recvWindow=5000&timestamp=1644489390087"
            ),
            "fd3e4e8543c5188531eb7279d68ae7d26a573d0fc5ab0d18eb692451654d837a"
        );
        assert_eq!(
            mexc_sign(
                secret,
                concat!(
                    "symbol=BTCUSDT&side=BUY&type=LIMIT",
                    "quantity=1&price=11&recvWindow=5000&timestamp=1644489390087"
                )
            ),
            "d1a676610ceb39174c8039b3f548357994b2a34139a8addd33baadba65684592"
        );
    }
}
