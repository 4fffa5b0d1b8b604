//! MEXC spot v3 book messages: decoding `aggre.depth` protobuf pushes into a [`Diff`] at
//! the symbol's scales, the REST `/api/v3/depth` snapshot, and the client frames
//! (SUBSCRIPTION, UNSUBSCRIPTION, PING).

use arb_core::mexc_proto::{Body, DepthItem, PushDataV3ApiWrapper};
use prost::Message;
use serde::Deserialize;

use crate::book::{Level, LevelError, Scales};
use crate::sync::Diff;

/// At most this many subscriptions per connection (MEXC's limit).
pub const MAX_SUBSCRIPTIONS_PER_CONNECTION: usize = 30;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MexcFrameError {
    #[error("mexc push is not a valid protobuf wrapper: {0}")]
    Decode(String),
    #[error("mexc {symbol} depth push: field {field} {value:?} is not an integer version")]
    Version {
        symbol: String,
        field: &'static str,
        value: String,
    },
    #[error("mexc {symbol} {side} level: {err}")]
    Level {
        symbol: String,
        side: &'static str,
        err: LevelError,
    },
    #[error("mexc depth snapshot is not valid JSON: {0}")]
    Json(String),
    #[error("mexc depth snapshot: lastUpdateId {0:?} is not an integer")]
    SnapshotVersion(String),
}

/// A decoded binary push.
#[derive(Debug)]
pub enum MexcPush {
    /// An aggre.depth diff for `symbol`, levels still text (see [`DepthPush::fill`]).
    Depth(DepthPush),
    /// Any other body (deals, book ticker, ...).
    Other { channel: String },
}

#[derive(Debug)]
pub struct DepthPush {
    pub symbol: String,
    pub first: u64,
    pub last: u64,
    pub send_time_ms: Option<i64>,
    bids: Vec<DepthItem>,
    asks: Vec<DepthItem>,
}

impl DepthPush {
    /// Parses the levels at `scales` into `diff` (cleared first).
    ///
    /// # Errors
    /// A level that does not fit the scale exactly or is malformed.
    pub fn fill(&self, scales: Scales, diff: &mut Diff) -> Result<(), MexcFrameError> {
        diff.clear();
        diff.first = self.first;
        diff.last = self.last;
        fill_side(&self.symbol, "bid", &self.bids, scales, &mut diff.bids)?;
        fill_side(&self.symbol, "ask", &self.asks, scales, &mut diff.asks)?;
        Ok(())
    }
}

fn fill_side(
    symbol: &str,
    side: &'static str,
    items: &[DepthItem],
    scales: Scales,
    out: &mut Vec<Level>,
) -> Result<(), MexcFrameError> {
    out.reserve(items.len());
    for it in items {
        out.push(
            scales
                .level(&it.price, &it.quantity)
                .map_err(|err| MexcFrameError::Level {
                    symbol: symbol.to_owned(),
                    side,
                    err,
                })?,
        );
    }
    Ok(())
}

fn version(symbol: &str, field: &'static str, s: &str) -> Result<u64, MexcFrameError> {
    s.parse().map_err(|_| MexcFrameError::Version {
        symbol: symbol.to_owned(),
        field,
        value: s.to_owned(),
    })
}

/// Decodes one binary frame.
///
/// # Errors
/// Not a protobuf wrapper, or a depth push whose versions are not integers.
pub fn decode_push(bytes: &[u8]) -> Result<MexcPush, MexcFrameError> {
    let w =
        PushDataV3ApiWrapper::decode(bytes).map_err(|e| MexcFrameError::Decode(e.to_string()))?;
    match w.body {
        Some(Body::PublicAggreDepths(d)) | Some(Body::PublicIncreaseDepths(d)) => {
            // The symbol field is optional on the wire; the channel always ends in it.
            let symbol = match w.symbol {
                Some(s) if !s.is_empty() => s,
                _ => w.channel.rsplit('@').next().unwrap_or_default().to_owned(),
            };
            let first = version(&symbol, "fromVersion", &d.from_version)?;
            let last = version(&symbol, "toVersion", &d.to_version)?;
            Ok(MexcPush::Depth(DepthPush {
                symbol,
                first,
                last,
                send_time_ms: w.send_time,
                bids: d.bids,
                asks: d.asks,
            }))
        }
        _ => Ok(MexcPush::Other { channel: w.channel }),
    }
}

/// A text frame from MEXC (acks, pong, errors).
#[derive(Debug, Deserialize)]
pub struct TextReply {
    #[serde(default)]
    pub id: i64,
    #[serde(default)]
    pub code: i64,
    #[serde(default)]
    pub msg: String,
}

/// Parses a text frame; `None` for text that is not JSON (MEXC sends plain `Blocked!` or
/// `Invalid listen key` in some cases, which the caller logs).
pub fn parse_text(text: &str) -> Option<TextReply> {
    serde_json::from_str(text).ok()
}

/// The REST `GET /api/v3/depth` snapshot.
#[derive(Debug)]
pub struct RestDepth {
    pub last_update_id: u64,
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum IdText {
    Num(u64),
    Text(String),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RestDepthRaw<'a> {
    last_update_id: IdText,
    #[serde(borrow, default)]
    bids: Vec<(&'a str, &'a str)>,
    #[serde(borrow, default)]
    asks: Vec<(&'a str, &'a str)>,
}

/// Parses a `/api/v3/depth` body (`lastUpdateId` as a number or a string).
///
/// # Errors
/// Invalid JSON, a non-integer id, or a level that does not fit the scales.
pub fn parse_rest_depth(
    symbol: &str,
    body: &str,
    scales: Scales,
) -> Result<RestDepth, MexcFrameError> {
    let raw: RestDepthRaw<'_> =
        serde_json::from_str(body).map_err(|e| MexcFrameError::Json(e.to_string()))?;
    let last_update_id = match raw.last_update_id {
        IdText::Num(n) => n,
        IdText::Text(s) => s.parse().map_err(|_| MexcFrameError::SnapshotVersion(s))?,
    };
    let conv = |side: &'static str, src: &[(&str, &str)]| -> Result<Vec<Level>, MexcFrameError> {
        src.iter()
            .map(|&(p, q)| {
                scales.level(p, q).map_err(|err| MexcFrameError::Level {
                    symbol: symbol.to_owned(),
                    side,
                    err,
                })
            })
            .collect()
    };
    Ok(RestDepth {
        last_update_id,
        bids: conv("bid", &raw.bids)?,
        asks: conv("ask", &raw.asks)?,
    })
}

/// The aggre.depth channel name for `symbol` (`interval` is `100ms` or `10ms`).
pub fn depth_channel(symbol: &str, interval: &str) -> String {
    format!("spot@public.aggre.depth.v3.api.pb@{interval}@{symbol}")
}

/// `{"method":"SUBSCRIPTION"|"UNSUBSCRIPTION","params":[...]}`.
pub fn subscription(method: &str, channels: &[String]) -> String {
    serde_json::json!({ "method": method, "params": channels }).to_string()
}

pub const PING: &str = r#"{"method":"PING"}"#;

#[cfg(test)]
mod tests {
    use super::*;
    use arb_core::mexc_proto::PublicAggreDepthsV3Api;

    #[test]
    fn decodes_the_reference_push() {
        let msg = PushDataV3ApiWrapper {
            channel: "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT".into(),
            symbol: None,
            symbol_id: None,
            create_time: None,
            send_time: Some(1_754_741_322_152),
            body: Some(Body::PublicAggreDepths(PublicAggreDepthsV3Api {
                asks: vec![DepthItem {
                    price: "117145.49".into(),
                    quantity: "0".into(),
                }],
                bids: vec![DepthItem {
                    price: "117053.41".into(),
                    quantity: "1.86837271".into(),
                }],
                event_type: "spot@public.aggre.depth.v3.api.pb@100ms".into(),
                from_version: "43296363236".into(),
                to_version: "43296363255".into(),
                last_order_create_time: 0,
            })),
        };
        let MexcPush::Depth(p) = decode_push(&msg.encode_to_vec()).unwrap() else {
            panic!()
        };
        assert_eq!(
            (p.symbol.as_str(), p.first, p.last),
            ("BTCUSDT", 43296363236, 43296363255)
        );
        let mut d = Diff::default();
        p.fill(Scales { price: 2, qty: 8 }, &mut d).unwrap();
        assert_eq!(
            d.bids,
            [Level {
                price: 11_705_341,
                qty: 186_837_271
            }]
        );
        assert_eq!(
            d.asks,
            [Level {
                price: 11_714_549,
                qty: 0
            }]
        );
        assert!(p.fill(Scales { price: 1, qty: 8 }, &mut d).is_err());
        assert!(decode_push(b"\xff\xff\xff").is_err());
    }

    #[test]
    fn rest_depth_ids_as_number_or_string() {
        let sc = Scales { price: 2, qty: 6 };
        let a = parse_rest_depth(
            "BTCUSDT",
            r#"{"lastUpdateId":"42","bids":[["1.5","2"]],"asks":[],"timestamp":1}"#,
            sc,
        )
        .unwrap();
        assert_eq!(a.last_update_id, 42);
        assert_eq!(
            a.bids,
            [Level {
                price: 150,
                qty: 2_000_000
            }]
        );
        let b = parse_rest_depth(
            "BTCUSDT",
            r#"{"lastUpdateId":43,"bids":[],"asks":[["2","1"]]}"#,
            sc,
        )
        .unwrap();
        assert_eq!(b.last_update_id, 43);
        assert!(
            parse_rest_depth("BTCUSDT", r#"{"lastUpdateId":"x","bids":[],"asks":[]}"#, sc).is_err()
        );
    }

    #[test]
    fn client_frames() {
        assert_eq!(
            depth_channel("BTCUSDT", "100ms"),
            "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT"
        );
        assert_eq!(
            subscription("SUBSCRIPTION", &["a".into(), "b".into()]),
            r#"{"method":"SUBSCRIPTION","params":["a","b"]}"#
        );
        assert_eq!(
            parse_text(r#"{"id":0,"code":0,"msg":"PONG"}"#).unwrap().msg,
            "PONG"
        );
        assert!(parse_text("Blocked!").is_none());
    }
}
