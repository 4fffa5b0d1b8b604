//! MEXC spot v3 book messages: decoding `aggre.depth` protobuf pushes into a [`Diff`] at
//! the symbol's scales, the REST `/api/v3/depth` snapshot, and the client frames
//! (SUBSCRIPTION, UNSUBSCRIPTION, PING).

use super::proto::{Body, DepthItem, PushDataV3ApiWrapper};
use arb_core::fixed::parse_scaled_bytes;
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
    /// aggre.bookTicker: best bid/ask as text.
    Ticker {
        symbol: String,
        bid: (String, String),
        ask: (String, String),
        send_time_ms: Option<i64>,
    },
    /// aggre.deals: trades as `(price, quantity, taker_buy, time_ms)` text.
    Deals {
        symbol: String,
        deals: Vec<(String, String, bool, i64)>,
    },
    /// Any other body.
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
        Some(Body::PublicAggreBookTicker(t)) | Some(Body::PublicBookTicker(t)) => {
            Ok(MexcPush::Ticker {
                symbol: wrapper_symbol(w.symbol, &w.channel),
                bid: (t.bid_price, t.bid_quantity),
                ask: (t.ask_price, t.ask_quantity),
                send_time_ms: w.send_time,
            })
        }
        Some(Body::PublicAggreDeals(d)) | Some(Body::PublicDeals(d)) => Ok(MexcPush::Deals {
            symbol: wrapper_symbol(w.symbol, &w.channel),
            deals: d
                .deals
                .into_iter()
                .map(|x| (x.price, x.quantity, x.trade_type == 1, x.time))
                .collect(),
        }),
        _ => Ok(MexcPush::Other { channel: w.channel }),
    }
}

fn wrapper_symbol(symbol: Option<String>, channel: &str) -> String {
    match symbol {
        Some(s) if !s.is_empty() => s,
        _ => channel.rsplit('@').next().unwrap_or_default().to_owned(),
    }
}

/// The aggre.bookTicker channel name.
pub fn ticker_channel(symbol: &str, interval: &str) -> String {
    format!("spot@public.aggre.bookTicker.v3.api.pb@{interval}@{symbol}")
}

/// The aggre.deals channel name.
pub fn deals_channel(symbol: &str, interval: &str) -> String {
    format!("spot@public.aggre.deals.v3.api.pb@{interval}@{symbol}")
}

// ---------------------------------------------------------------------------------
// Zero-allocation depth decoding for the hot path.
//
// prost decodes every price and quantity into its own `String` (two allocations per
// level); the feed only needs to parse them into integers. So the aggre.depth push is
// read straight off the protobuf wire: the wrapper's symbol and body are borrowed
// slices, and [`DepthView::fill`] parses each level's bytes into the `Diff` in place.
// Field numbers are those of [`super::proto`] (the wrapper: channel 1, symbol 3,
// sendTime 6, body 302/313; the body: asks 1, bids 2, fromVersion 4, toVersion 5;
// an item: price 1, quantity 2). Unknown fields are skipped, as protobuf requires.

/// A borrowed view of an aggre.depth push.
#[derive(Debug, Clone, Copy)]
pub struct DepthView<'a> {
    pub symbol: &'a str,
    pub first: u64,
    pub last: u64,
    pub send_time_ms: Option<i64>,
    body: &'a [u8],
}

struct Wire<'a> {
    buf: &'a [u8],
    pos: usize,
}

enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

impl<'a> Wire<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    #[inline]
    fn varint(&mut self) -> Option<u64> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = *self.buf.get(self.pos)?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }

    /// The next `(field number, value)`, `None` at the end, `Err` on malformed input.
    #[inline]
    fn next(&mut self) -> Result<Option<(u64, Field<'a>)>, &'static str> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let key = self.varint().ok_or("truncated key")?;
        let value = match key & 7 {
            0 => Field::Varint(self.varint().ok_or("truncated varint")?),
            1 | 5 => {
                let n = if key & 7 == 1 { 8 } else { 4 };
                if self.pos + n > self.buf.len() {
                    return Err("truncated fixed field");
                }
                self.pos += n;
                Field::Fixed
            }
            2 => {
                let len = self.varint().ok_or("truncated length")? as usize;
                let end = self
                    .pos
                    .checked_add(len)
                    .filter(|&e| e <= self.buf.len())
                    .ok_or("length past the end")?;
                let b = &self.buf[self.pos..end];
                self.pos = end;
                Field::Bytes(b)
            }
            _ => return Err("unsupported wire type"),
        };
        Ok(Some((key >> 3, value)))
    }
}

fn ascii_u64(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    b.iter().try_fold(0u64, |acc, &c| {
        if c.is_ascii_digit() {
            acc.checked_mul(10)?.checked_add(u64::from(c - b'0'))
        } else {
            None
        }
    })
}

/// Reads an aggre.depth push without allocating. `Ok(None)` for any other body.
///
/// # Errors
/// Malformed protobuf, or versions that are not integers.
pub fn depth_view(bytes: &[u8]) -> Result<Option<DepthView<'_>>, MexcFrameError> {
    let bad = |e: &str| MexcFrameError::Decode(e.to_owned());
    let mut w = Wire::new(bytes);
    let (mut channel, mut symbol, mut send_time, mut body) = (&[][..], None, None, None);
    while let Some((field, v)) = w.next().map_err(bad)? {
        match (field, v) {
            (1, Field::Bytes(b)) => channel = b,
            (3, Field::Bytes(b)) => symbol = Some(b),
            (6, Field::Varint(t)) => send_time = Some(t as i64),
            (302 | 313, Field::Bytes(b)) => body = Some(b),
            _ => {}
        }
    }
    let Some(body) = body else { return Ok(None) };
    let symbol = match symbol.filter(|s| !s.is_empty()) {
        Some(s) => s,
        // The channel always ends in the symbol.
        None => channel.rsplit(|&c| c == b'@').next().unwrap_or_default(),
    };
    let symbol = std::str::from_utf8(symbol).map_err(|_| bad("symbol is not UTF-8"))?;
    let (mut from, mut to) = (&[][..], &[][..]);
    let mut bw = Wire::new(body);
    while let Some((field, v)) = bw.next().map_err(bad)? {
        match (field, v) {
            (4, Field::Bytes(b)) => from = b,
            (5, Field::Bytes(b)) => to = b,
            _ => {}
        }
    }
    let ver = |field: &'static str, b: &[u8]| {
        ascii_u64(b).ok_or_else(|| MexcFrameError::Version {
            symbol: symbol.to_owned(),
            field,
            value: String::from_utf8_lossy(b).into_owned(),
        })
    };
    Ok(Some(DepthView {
        symbol,
        first: ver("fromVersion", from)?,
        last: ver("toVersion", to)?,
        send_time_ms: send_time,
        body,
    }))
}

impl DepthView<'_> {
    /// Parses the levels at `scales` into `diff` (cleared first).
    ///
    /// # Errors
    /// Malformed items, or a level that does not fit the scale exactly.
    pub fn fill(&self, scales: Scales, diff: &mut Diff) -> Result<(), MexcFrameError> {
        diff.clear();
        diff.first = self.first;
        diff.last = self.last;
        let bad = |e: &str| MexcFrameError::Decode(e.to_owned());
        let mut w = Wire::new(self.body);
        while let Some((field, v)) = w.next().map_err(bad)? {
            let (side, out) = match (field, &v) {
                (1, Field::Bytes(_)) => ("ask", &mut diff.asks),
                (2, Field::Bytes(_)) => ("bid", &mut diff.bids),
                _ => continue,
            };
            let Field::Bytes(item) = v else { continue };
            let (mut price, mut qty) = (&[][..], &[][..]);
            let mut iw = Wire::new(item);
            while let Some((f, iv)) = iw.next().map_err(bad)? {
                match (f, iv) {
                    (1, Field::Bytes(b)) => price = b,
                    (2, Field::Bytes(b)) => qty = b,
                    _ => {}
                }
            }
            let level_err = |err| MexcFrameError::Level {
                symbol: self.symbol.to_owned(),
                side,
                err,
            };
            let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
            let p = parse_scaled_bytes(price, scales.price)
                .map_err(|e| level_err(LevelError::Price(text(price), e)))?;
            let q = parse_scaled_bytes(qty, scales.qty)
                .map_err(|e| level_err(LevelError::Qty(text(qty), e)))?;
            out.push(Level { price: p, qty: q });
        }
        Ok(())
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
    use crate::venues::mexc::proto::PublicAggreDepthsV3Api;

    /// Protobuf's one recursive construct, groups, nested 50,000 deep in an unknown
    /// field: prost stops at its recursion limit (100) and the zero-copy view refuses
    /// groups, so both are errors rather than a stack overflow.
    #[test]
    fn deeply_nested_groups_are_errors() {
        let mut b = Vec::new();
        for _ in 0..50_000 {
            b.extend_from_slice(&[0xBB, 0x3E]); // field 999, start group
        }
        for _ in 0..50_000 {
            b.extend_from_slice(&[0xBC, 0x3E]); // field 999, end group
        }
        let e = decode_push(&b).expect_err("50,000 nested groups");
        assert!(e.to_string().contains("recursion limit"), "{e}");
        assert!(depth_view(&b).is_err());
    }

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
        // The zero-allocation reader agrees with prost.
        let bytes = msg.encode_to_vec();
        let v = depth_view(&bytes).unwrap().unwrap();
        assert_eq!(
            (v.symbol, v.first, v.last, v.send_time_ms),
            ("BTCUSDT", 43296363236, 43296363255, Some(1_754_741_322_152))
        );
        let mut d2 = Diff::default();
        v.fill(Scales { price: 2, qty: 8 }, &mut d2).unwrap();
        p.fill(Scales { price: 2, qty: 8 }, &mut d).unwrap();
        assert_eq!(d, d2);
        assert!(v.fill(Scales { price: 1, qty: 8 }, &mut d2).is_err());
        assert!(depth_view(b"\xff\xff\xff").is_err());
        assert!(depth_view(&bytes[..bytes.len() - 3]).is_err());
    }

    proptest::proptest! {
        #[test]
        fn depth_view_agrees_with_prost(
            levels in proptest::collection::vec((0u64..10_000_000, 0u64..1_000_000_000, proptest::bool::ANY), 0..40),
            from in 0u64..u64::MAX / 2,
            span in 0u64..1000,
            with_symbol in proptest::bool::ANY,
        ) {
            let item = |&(p, q, _): &(u64, u64, bool)| DepthItem {
                price: arb_core::fixed::format_scaled(p as i128, 2),
                quantity: arb_core::fixed::format_scaled(q as i128, 6),
            };
            let msg = PushDataV3ApiWrapper {
                channel: "spot@public.aggre.depth.v3.api.pb@100ms@ETHUSDT".into(),
                symbol: with_symbol.then(|| "ETHUSDT".to_string()),
                symbol_id: Some("abc".into()),
                create_time: Some(5),
                send_time: Some(7),
                body: Some(Body::PublicAggreDepths(PublicAggreDepthsV3Api {
                    asks: levels.iter().filter(|l| l.2).map(item).collect(),
                    bids: levels.iter().filter(|l| !l.2).map(item).collect(),
                    event_type: "e".into(),
                    from_version: from.to_string(),
                    to_version: (from + span).to_string(),
                    last_order_create_time: 9,
                })),
            };
            let bytes = msg.encode_to_vec();
            let sc = Scales { price: 4, qty: 8 };
            let MexcPush::Depth(p) = decode_push(&bytes).unwrap() else { panic!() };
            let (mut a, mut b) = (Diff::default(), Diff::default());
            p.fill(sc, &mut a).unwrap();
            let v = depth_view(&bytes).unwrap().unwrap();
            v.fill(sc, &mut b).unwrap();
            proptest::prop_assert_eq!(a, b);
            proptest::prop_assert_eq!(v.symbol, "ETHUSDT");
        }

        #[test]
        fn depth_view_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            if let Ok(Some(v)) = depth_view(&bytes) {
                let _ = v.fill(Scales { price: 4, qty: 8 }, &mut Diff::default());
            }
        }
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
