//! Gate.io v4 spot WebSocket and REST book messages: parsing `spot.order_book_update`
//! and `spot.obu` pushes into a [`Diff`] at the symbol's scales, the REST `order_book`
//! snapshot, and the client frames (subscribe, unsubscribe, ping).

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::book::{Level, LevelError, Scales};
use crate::json_scan::{self, Scan};
use crate::sync::Diff;

/// Which Gate book channel a feed uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GateBookChannel {
    /// `spot.obu` (order book v2): full first push, then increments; gap -> resubscribe.
    Obu,
    /// `spot.order_book_update`: increments; REST `with_id=true` snapshot to start.
    OrderBookUpdate,
}

impl GateBookChannel {
    pub const fn channel(self) -> &'static str {
        match self {
            GateBookChannel::Obu => "spot.obu",
            GateBookChannel::OrderBookUpdate => "spot.order_book_update",
        }
    }
}

/// A Gate frame that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GateFrameError {
    #[error("gateio frame is not valid JSON: {0}")]
    Json(String),
    #[error("gateio {channel} frame: missing field {field}")]
    Missing {
        channel: String,
        field: &'static str,
    },
    #[error("gateio {symbol} {side} level: {err}")]
    Level {
        symbol: String,
        side: &'static str,
        err: LevelError,
    },
}

/// What a text frame from Gate was.
#[derive(Debug, PartialEq, Eq)]
pub enum GateEvent<'a> {
    /// A book push for `pair` (e.g. `BTC_USDT`); the levels are still text, see
    /// [`BookPush::fill`].
    Book(BookPush<'a>),
    /// A subscribe / unsubscribe reply without error.
    Ack { channel: &'a str, event: &'a str },
    /// `spot.pong`.
    Pong,
    /// A reply with an `error` object.
    Error {
        channel: &'a str,
        code: i64,
        message: String,
    },
    /// spot.book_ticker: best bid/ask as text.
    Ticker {
        pair: &'a str,
        bid: (&'a str, &'a str),
        ask: (&'a str, &'a str),
        time_ms: Option<i64>,
    },
    /// spot.trades: one public trade as text.
    Trade {
        pair: &'a str,
        price: &'a str,
        amount: &'a str,
        taker_buy: bool,
        time_ms: Option<i64>,
    },
    /// Anything else, not used here.
    Other { channel: &'a str },
}

/// A book push with its levels still as borrowed text.
#[derive(Debug, PartialEq, Eq)]
pub struct BookPush<'a> {
    pub channel: &'a str,
    /// The pair (`BTC_USDT`), taken from `s` (`ob.BTC_USDT.50` for spot.obu).
    pub pair: &'a str,
    pub first: u64,
    pub last: u64,
    pub full: bool,
    /// Venue timestamp of the change (ms), when given.
    pub time_ms: Option<i64>,
    /// The raw JSON arrays `[["price","amount"],...]` (empty when absent).
    bids: &'a str,
    asks: &'a str,
}

impl BookPush<'_> {
    /// Parses the levels at `scales` into `diff` (which is cleared first).
    ///
    /// # Errors
    /// A level that does not fit the scale exactly or is malformed.
    pub fn fill(&self, scales: Scales, diff: &mut Diff) -> Result<(), GateFrameError> {
        diff.clear();
        diff.first = self.first;
        diff.last = self.last;
        diff.full = self.full;
        fill_raw(self.pair, "bid", self.bids, scales, &mut diff.bids)?;
        fill_raw(self.pair, "ask", self.asks, scales, &mut diff.asks)?;
        Ok(())
    }
}

/// Parses a raw `[["price","amount"],...]` array into levels.
fn fill_raw(
    pair: &str,
    side: &'static str,
    raw: &str,
    scales: Scales,
    out: &mut Vec<Level>,
) -> Result<(), GateFrameError> {
    if raw.is_empty() {
        return Ok(());
    }
    let mut sc = Scan::new(raw);
    let mut level_err = None;
    let scanned = sc.array(|sc| {
        sc.eat(b'[')?;
        let p = sc.plain_str()?;
        sc.eat(b',')?;
        let q = sc.plain_str()?;
        sc.eat(b']')?;
        match scales.level(p, q) {
            Ok(l) => {
                out.push(l);
                Ok(())
            }
            Err(e) => {
                level_err = Some(e);
                Err("level")
            }
        }
    });
    match (scanned, level_err) {
        (_, Some(err)) => Err(GateFrameError::Level {
            symbol: pair.to_owned(),
            side,
            err,
        }),
        (Err(e), None) => Err(GateFrameError::Json(format!("{pair} {side} levels: {e}"))),
        (Ok(()), None) => Ok(()),
    }
}

fn fill_side(
    pair: &str,
    side: &'static str,
    src: &[(&str, &str)],
    scales: Scales,
    out: &mut Vec<Level>,
) -> Result<(), GateFrameError> {
    out.reserve(src.len());
    for &(p, q) in src {
        out.push(scales.level(p, q).map_err(|err| GateFrameError::Level {
            symbol: pair.to_owned(),
            side,
            err,
        })?);
    }
    Ok(())
}

#[derive(Deserialize)]
struct Frame<'a> {
    #[serde(borrow, default)]
    channel: &'a str,
    #[serde(borrow, default)]
    event: &'a str,
    /// Kept raw: its shape depends on the channel (objects, arrays, strings where book
    /// channels have arrays), so it is read only once the channel is known.
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
    #[serde(default)]
    error: Option<ErrorBody>,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: i64,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
struct TickerRaw<'a> {
    s: &'a str,
    #[serde(default)]
    t: Option<i64>,
    b: &'a str,
    #[serde(rename = "B")]
    bq: &'a str,
    a: &'a str,
    #[serde(rename = "A")]
    aq: &'a str,
}

#[derive(Deserialize)]
struct TradeRaw<'a> {
    currency_pair: &'a str,
    price: &'a str,
    amount: &'a str,
    side: &'a str,
    #[serde(default)]
    create_time_ms: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
struct BookResult<'a> {
    #[serde(borrow, default)]
    s: Option<&'a str>,
    #[serde(rename = "U", default)]
    first: Option<u64>,
    #[serde(default)]
    u: Option<u64>,
    #[serde(default)]
    full: Option<bool>,
    #[serde(default)]
    t: Option<i64>,
    #[serde(borrow, default)]
    b: Option<&'a RawValue>,
    #[serde(borrow, default)]
    a: Option<&'a RawValue>,
}

/// Parses one text frame from Gate's WebSocket.
///
/// # Errors
/// Invalid JSON, or a book push without its sequence fields.
pub fn parse_frame(text: &str) -> Result<GateEvent<'_>, GateFrameError> {
    if let Some(push) = scan_book(text)? {
        return Ok(GateEvent::Book(push));
    }
    parse_frame_serde(text)
}

/// Every frame through serde_json (the fallback, and the path for non-book frames).
///
/// # Errors
/// As [`parse_frame`].
pub fn parse_frame_serde(text: &str) -> Result<GateEvent<'_>, GateFrameError> {
    let f: Frame<'_> =
        serde_json::from_str(text).map_err(|e| GateFrameError::Json(e.to_string()))?;
    if let Some(err) = f.error {
        return Ok(GateEvent::Error {
            channel: f.channel,
            code: err.code,
            message: err.message,
        });
    }
    let is_book = matches!(f.channel, "spot.order_book_update" | "spot.obu");
    if f.event == "subscribe" || f.event == "unsubscribe" {
        return Ok(GateEvent::Ack {
            channel: f.channel,
            event: f.event,
        });
    }
    if f.channel == "spot.pong" {
        return Ok(GateEvent::Pong);
    }
    if f.event == "update" && matches!(f.channel, "spot.book_ticker" | "spot.trades") {
        let raw = f.result.map_or("null", |r| r.get());
        let bad = |e: serde_json::Error| GateFrameError::Json(format!("{} result: {e}", f.channel));
        if f.channel == "spot.book_ticker" {
            let t: TickerRaw<'_> = serde_json::from_str(raw).map_err(bad)?;
            return Ok(GateEvent::Ticker {
                pair: t.s,
                bid: (t.b, t.bq),
                ask: (t.a, t.aq),
                time_ms: t.t,
            });
        }
        let t: TradeRaw<'_> = serde_json::from_str(raw).map_err(bad)?;
        // create_time_ms is "1619093560720.907" (a string with a fraction) on the real venue.
        let time_ms = t.create_time_ms.and_then(|v| match v {
            serde_json::Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            serde_json::Value::String(s) => s.split('.').next().and_then(|i| i.parse().ok()),
            _ => None,
        });
        return Ok(GateEvent::Trade {
            pair: t.currency_pair,
            price: t.price,
            amount: t.amount,
            taker_buy: t.side == "buy",
            time_ms,
        });
    }
    // Real spot.obu increments carry no `event` at all (see the reference's example).
    if !is_book || !(f.event == "update" || f.event.is_empty()) {
        return Ok(GateEvent::Other { channel: f.channel });
    }
    let missing = |field| GateFrameError::Missing {
        channel: f.channel.to_owned(),
        field,
    };
    let raw = f.result.ok_or_else(|| missing("result"))?;
    let r: BookResult<'_> = serde_json::from_str(raw.get())
        .map_err(|e| GateFrameError::Json(format!("{} result: {e}", f.channel)))?;
    let s = r.s.ok_or_else(|| missing("result.s"))?;
    let pair = book_pair(f.channel, s).ok_or_else(|| missing("result.s (ob.<pair>.<depth>)"))?;
    let last = r.u.ok_or_else(|| missing("result.u"))?;
    let full = r.full.unwrap_or(false);
    let first = match r.first {
        Some(v) => v,
        None if full => last,
        None => return Err(missing("result.U")),
    };
    Ok(GateEvent::Book(BookPush {
        channel: f.channel,
        pair,
        first,
        last,
        full,
        time_ms: r.t,
        bids: r.b.map_or("", |v| v.get()),
        asks: r.a.map_or("", |v| v.get()),
    }))
}

fn book_pair<'a>(channel: &str, s: &'a str) -> Option<&'a str> {
    if channel == "spot.obu" {
        // "ob.BTC_USDT.50"
        s.strip_prefix("ob.")
            .and_then(|rest| rest.rsplit_once('.'))
            .map(|(pair, _)| pair)
    } else {
        Some(s)
    }
}

/// The hot path: a book push read in one pass without allocating. `Ok(None)` when the
/// frame is not a book push or uses JSON this scanner leaves to serde (escapes, an
/// `error` member); `Err` for a book push that is missing a sequence field.
fn scan_book(text: &str) -> Result<Option<BookPush<'_>>, GateFrameError> {
    let mut sc = Scan::new(text);
    let (mut channel, mut event, mut has_result, mut has_error) = ("", "", false, false);
    let (mut s, mut first, mut last, mut full, mut t, mut b, mut a) =
        (None, None, None, false, None, "", "");
    // One pass: an object `result` is read as a book result right away, before the
    // channel is necessarily known (the key order is not guaranteed); if it is not a
    // book push after all, the values are discarded. A shape the book fields cannot
    // take makes the scan fail, and serde_json handles the frame instead.
    let top = sc.object(|sc, key| {
        match key {
            "channel" => channel = sc.plain_str()?,
            "event" => event = sc.plain_str()?,
            "result" if sc.peek() == Some(b'{') => {
                has_result = true;
                sc.object(|sc, key| {
                    match key {
                        "s" => s = Some(sc.plain_str()?),
                        "U" => first = Some(sc.u64_value()?),
                        "u" => last = Some(sc.u64_value()?),
                        "full" => full = sc.bool_value()?,
                        "t" => t = sc.i64_value()?,
                        "b" => b = sc.span()?,
                        "a" => a = sc.span()?,
                        _ => sc.skip_value()?,
                    }
                    Ok(())
                })?;
            }
            "error" => has_error = sc.span()? != "null",
            _ => sc.skip_value()?,
        }
        Ok(())
    });
    match top {
        // Not worth a second walk by serde_json (which has its own limit): refused here.
        Err(json_scan::TOO_DEEP) => {
            return Err(GateFrameError::Json(format!(
                "nested deeper than {} levels at offset {}",
                json_scan::MAX_DEPTH,
                sc.offset()
            )))
        }
        Err(_) => return Ok(None),
        Ok(()) if !sc.at_end() || has_error => return Ok(None),
        Ok(()) => {}
    }
    if !matches!(channel, "spot.order_book_update" | "spot.obu")
        || !(event == "update" || event.is_empty())
    {
        return Ok(None);
    }
    let missing = |field| GateFrameError::Missing {
        channel: channel.to_owned(),
        field,
    };
    if !has_result {
        return Err(missing("result"));
    }
    let s = s.ok_or_else(|| missing("result.s"))?;
    let pair = book_pair(channel, s).ok_or_else(|| missing("result.s (ob.<pair>.<depth>)"))?;
    let last = last.ok_or_else(|| missing("result.u"))?;
    let first = match first {
        Some(v) => v,
        None if full => last,
        None => return Err(missing("result.U")),
    };
    Ok(Some(BookPush {
        channel,
        pair,
        first,
        last,
        full,
        time_ms: t,
        bids: b,
        asks: a,
    }))
}

/// The REST `GET /spot/order_book?with_id=true` body.
#[derive(Debug)]
pub struct RestBook {
    pub id: u64,
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
}

#[derive(Deserialize)]
struct RestBookRaw<'a> {
    id: Option<u64>,
    #[serde(borrow, default)]
    bids: Vec<(&'a str, &'a str)>,
    #[serde(borrow, default)]
    asks: Vec<(&'a str, &'a str)>,
}

/// Parses a REST order book snapshot (requires `id`, i.e. `with_id=true`).
///
/// # Errors
/// Invalid JSON, no `id`, or a level that does not fit the scales.
pub fn parse_rest_book(pair: &str, body: &str, scales: Scales) -> Result<RestBook, GateFrameError> {
    let raw: RestBookRaw<'_> =
        serde_json::from_str(body).map_err(|e| GateFrameError::Json(e.to_string()))?;
    let id = raw.id.ok_or(GateFrameError::Missing {
        channel: "GET /spot/order_book".into(),
        field: "id (with_id=true)",
    })?;
    let mut bids = Vec::new();
    let mut asks = Vec::new();
    fill_side(pair, "bid", &raw.bids, scales, &mut bids)?;
    fill_side(pair, "ask", &raw.asks, scales, &mut asks)?;
    Ok(RestBook { id, bids, asks })
}

/// `{"time":..,"channel":..,"event":"subscribe"|"unsubscribe","payload":[..]}`.
pub fn subscription(
    time_s: i64,
    channel: GateBookChannel,
    pair: &str,
    event: &str,
    obu_depth: u32,
    interval: &str,
) -> String {
    match channel {
        GateBookChannel::Obu => format!(
            r#"{{"time":{time_s},"channel":"spot.obu","event":"{event}","payload":["ob.{pair}.{obu_depth}"]}}"#
        ),
        GateBookChannel::OrderBookUpdate => format!(
            r#"{{"time":{time_s},"channel":"spot.order_book_update","event":"{event}","payload":["{pair}","{interval}"]}}"#
        ),
    }
}

/// Subscribe/unsubscribe frame for spot.book_ticker or spot.trades (payload: pairs).
pub fn pair_subscription(time_s: i64, channel: &str, pair: &str, event: &str) -> String {
    format!(r#"{{"time":{time_s},"channel":"{channel}","event":"{event}","payload":["{pair}"]}}"#)
}

/// The application-level ping.
pub fn ping(time_s: i64) -> String {
    format!(r#"{{"time":{time_s},"channel":"spot.ping"}}"#)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_order_book_update() {
        let f = r#"{"time":1606294781,"time_ms":1606294781236,"channel":"spot.order_book_update","event":"update","result":{"t":1606294781123,"full":true,"l":"100","e":"depthUpdate","E":1606294781,"s":"BTC_USDT","U":48776301,"u":48776306,"b":[["19137.74","0.0001"],["19088.37","0"]],"a":[["19137.75","0.6135"]]}}"#;
        let GateEvent::Book(p) = parse_frame(f).unwrap() else {
            panic!()
        };
        assert_eq!(
            (p.pair, p.first, p.last, p.full),
            ("BTC_USDT", 48776301, 48776306, true)
        );
        let mut d = Diff::default();
        p.fill(Scales { price: 2, qty: 8 }, &mut d).unwrap();
        assert_eq!(
            d.bids,
            [
                Level {
                    price: 1_913_774,
                    qty: 10_000
                },
                Level {
                    price: 1_908_837,
                    qty: 0
                }
            ]
        );
        assert_eq!(d.asks.len(), 1);
        let e = p
            .fill(Scales { price: 1, qty: 8 }, &mut d)
            .unwrap_err()
            .to_string();
        assert!(e.contains("BTC_USDT") && e.contains("19137.74"), "{e}");
    }

    #[test]
    fn parses_obu_full_and_increment() {
        let full = r#"{"channel":"spot.obu","result":{"t":1,"full":true,"s":"ob.BTC_USDT.50","u":100,"b":[["1.5","2"]],"a":[["1.6","3"]]},"time_ms":2,"event":"update"}"#;
        let GateEvent::Book(p) = parse_frame(full).unwrap() else {
            panic!()
        };
        assert_eq!(
            (p.pair, p.first, p.last, p.full),
            ("BTC_USDT", 100, 100, true)
        );
        // Verbatim from the protocol reference: no "event" field.
        let inc = r#"{"channel":"spot.obu","result":{"t":1747054612695,"s":"ob.BTC_USDT.50","U":73777715169,"u":73777715212,"b":[["104024.5","10343"]],"a":[["104027.2","0"]]},"time_ms":1747054612925}"#;
        let GateEvent::Book(p) = parse_frame(inc).unwrap() else {
            panic!()
        };
        assert_eq!((p.first, p.last, p.full), (73777715169, 73777715212, false));
    }

    proptest::proptest! {
        /// The one-pass scanner and serde_json read every book push identically.
        #[test]
        fn scanner_agrees_with_serde(
            obu in proptest::bool::ANY,
            with_event in proptest::bool::ANY,
            full in proptest::bool::ANY,
            first in 0u64..u64::MAX / 2,
            span in 0u64..100,
            levels in proptest::collection::vec((0u64..1_000_000_000, 0u64..1_000_000_000_000, proptest::bool::ANY), 0..30),
            numbers_as_strings in proptest::bool::ANY,
            pad in "[ \n]{0,2}",
        ) {
            let lv = |bid: bool| levels.iter().filter(|l| l.2 == bid)
                .map(|&(p, q, _)| format!("[{pad}\"{}\",{pad}\"{}\"]", arb_core::fixed::format_scaled(p as i128, 4), arb_core::fixed::format_scaled(q as i128, 8)))
                .collect::<Vec<_>>().join(",");
            let num = |v: u64| if numbers_as_strings { format!("\"{v}\"") } else { v.to_string() };
            let (channel, s) = if obu { ("spot.obu", "ob.BTC_USDT.400") } else { ("spot.order_book_update", "BTC_USDT") };
            let event = if with_event { r#""event":"update","# } else { "" };
            let text = format!(
                r#"{{"time":1,{pad}"channel":"{channel}",{event}"result":{{"t":17,"full":{full},"l":"100","s":"{s}","U":{},"u":{},"b":[{}],{pad}"a":[{}],"x":{{"y":[1,2]}}}},"time_ms":5}}"#,
                num(first), num(first + span), lv(true), lv(false)
            );
            let fast = parse_frame(&text).unwrap();
            let slow = if numbers_as_strings { None } else { Some(parse_frame_serde(&text).unwrap()) };
            let GateEvent::Book(p) = fast else { panic!("{text}") };
            proptest::prop_assert_eq!((p.pair, p.first, p.last, p.full, p.time_ms), ("BTC_USDT", first, first + span, full, Some(17)));
            let mut a = Diff::default();
            p.fill(Scales { price: 4, qty: 8 }, &mut a).unwrap();
            proptest::prop_assert_eq!(a.bids.len() + a.asks.len(), levels.len());
            if let Some(GateEvent::Book(q)) = slow {
                let mut b = Diff::default();
                q.fill(Scales { price: 4, qty: 8 }, &mut b).unwrap();
                proptest::prop_assert_eq!(a, b);
            }
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,120}") {
            if let Ok(GateEvent::Book(p)) = parse_frame(&text) {
                let _ = p.fill(Scales { price: 4, qty: 8 }, &mut Diff::default());
            }
        }

        #[test]
        fn truncated_book_frames_never_panic(cut in 0usize..200) {
            let f = r#"{"channel":"spot.obu","result":{"t":1,"s":"ob.BTC_USDT.50","U":7,"u":9,"b":[["104024.5","10343"],["1.0","2"]],"a":[["104027.2","0"]]},"time_ms":2}"#;
            let t = &f[..cut.min(f.len())];
            if let Ok(GateEvent::Book(p)) = parse_frame(t) {
                let _ = p.fill(Scales { price: 4, qty: 8 }, &mut Diff::default());
            }
        }
    }

    /// A frame nested 50,000 deep (in `result`, in `result.b`, at the top) used to
    /// overflow the stack of the one-pass scanner: now an error that names the offset.
    #[test]
    fn deeply_nested_frames_are_errors() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        for text in [
            format!(
                r#"{{"channel":"spot.obu","event":"update","result":{{"x":{}}}}}"#,
                deep(50_000)
            ),
            format!(
                r#"{{"channel":"spot.obu","result":{{"s":"ob.BTC_USDT.50","u":9,"full":true,"b":{}}}}}"#,
                deep(50_000)
            ),
            format!(
                r#"{{"channel":"spot.order_book_update","event":"update","result":{}}}"#,
                deep(50_000)
            ),
        ] {
            let e = parse_frame(&text).expect_err("50,000 levels deep");
            assert!(
                e.to_string()
                    .contains("nested deeper than 64 levels at offset"),
                "{e}"
            );
        }
        // Not an object at all: serde_json refuses it at the first byte.
        assert!(matches!(
            parse_frame(&deep(50_000)),
            Err(GateFrameError::Json(_))
        ));
    }

    #[test]
    fn tickers_and_trades() {
        let t = r#"{"time":1,"channel":"spot.book_ticker","event":"update","result":{"t":1606293275123,"u":48733182,"s":"BTC_USDT","b":"19177.79","B":"0.0003341504","a":"19179.38","A":"0.09"}}"#;
        assert_eq!(
            parse_frame(t).unwrap(),
            GateEvent::Ticker {
                pair: "BTC_USDT",
                bid: ("19177.79", "0.0003341504"),
                ask: ("19179.38", "0.09"),
                time_ms: Some(1606293275123)
            }
        );
        // Verbatim from the real capture.
        let tr = r#"{"time":1619093560,"channel":"spot.trades","event":"update","result":{"id":816996977,"create_time":1619093560,"create_time_ms":"1619093560720.907","side":"buy","currency_pair":"NANO_USDT","amount":"0.3760000000","price":"8.7919000000"}}"#;
        assert_eq!(
            parse_frame(tr).unwrap(),
            GateEvent::Trade {
                pair: "NANO_USDT",
                price: "8.7919000000",
                amount: "0.3760000000",
                taker_buy: true,
                time_ms: Some(1619093560720)
            }
        );
    }

    #[test]
    fn other_frames() {
        assert_eq!(
            parse_frame(r#"{"time":1,"channel":"spot.order_book_update","event":"subscribe","result":{"status":"success"}}"#).unwrap(),
            GateEvent::Ack { channel: "spot.order_book_update", event: "subscribe" }
        );
        assert_eq!(
            parse_frame(r#"{"time":1,"channel":"spot.pong","event":"","result":null}"#).unwrap(),
            GateEvent::Pong
        );
        assert!(matches!(
            parse_frame(r#"{"time":1,"channel":"spot.obu","event":"subscribe","error":{"code":2,"message":"bad"},"result":null}"#).unwrap(),
            GateEvent::Error { code: 2, .. }
        ));
        assert!(matches!(
            parse_frame(r#"{"channel":"spot.orders","event":"update","result":[{"id":"1"}]}"#)
                .unwrap(),
            GateEvent::Other { .. }
        ));
        assert!(parse_frame(
            r#"{"channel":"spot.obu","event":"update","result":{"s":"ob.X_Y.50","u":1}}"#
        )
        .is_err());
        assert!(parse_frame("not json").is_err());
    }
}
