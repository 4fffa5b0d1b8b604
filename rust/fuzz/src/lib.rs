//! Input generators shared by the fuzz tests in `tests/`: random venue-shaped data
//! (protobuf frames, JSON frames, REST bodies) and mutations of valid inputs.
//!
//! Pure random bytes rarely get past a parser's first check, so each generator mixes
//! three sources: arbitrary bytes/text, well-formed messages with hostile field values
//! (huge numbers, too many decimals, empty, non-ASCII), and valid messages cut short or
//! with bytes flipped. The properties live in the tests; this crate only generates.
//!
//! Nesting: `json_value` nests a few levels only (proptest's recursion is for shape, not
//! depth), so [`deep_json`] and [`deep_groups`] add frames nested up to 60,000 deep: a
//! recursive parser without a bound overflows the stack on them (a SIGSEGV, which no
//! `catch_unwind` stops), as Gate's scanner once did.

use arb_market::venues::mexc::proto::{
    Body, DepthItem, PrivateDealsV3Api, PrivateOrdersV3Api, PublicAggreDepthsV3Api,
    PushDataV3ApiWrapper,
};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// Text a venue might put in a numeric or id field, good and bad.
pub fn field_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{1,25}",
        "-?[0-9]{0,20}\\.[0-9]{0,25}",
        "[0-9]{1,3}e[+-]?[0-9]{1,3}",
        Just(String::new()),
        Just("18446744073709551616".to_string()),
        Just("340282366920938463463374607431768211456".to_string()),
        Just("NaN".to_string()),
        Just("0.".to_string()),
        Just(".".to_string()),
        Just("-".to_string()),
        "\\PC{0,12}",
    ]
}

/// A JSON leaf of any type, biased to the numbers and strings venues send.
pub fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => field_text().prop_map(Value::String),
        2 => any::<i64>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        1 => any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
    ]
}

/// A JSON value whose object keys come from `keys` (so parsers meet the fields they
/// look for), nested a few levels, with arrays.
pub fn json_value(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(4, 48, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(keys), inner), 0..12).prop_map(|kv| {
                let mut m = Map::new();
                for (k, v) in kv {
                    m.insert(k.to_string(), v);
                }
                Value::Object(m)
            }),
        ]
    })
}

/// An object with every key of `keys` present (random values), so a parser's later
/// fields are reached too.
pub fn json_object_full(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    prop::collection::vec(json_leaf(), keys.len())
        .prop_map(move |vals| Value::Object(keys.iter().map(|k| k.to_string()).zip(vals).collect()))
}

/// Either `s` mutated (truncated, bytes flipped or inserted) or `s` itself.
pub fn mutate_bytes(s: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = s.len();
    (
        0..=len,
        prop::collection::vec((0..len.max(1), any::<u8>()), 0..4),
        any::<bool>(),
    )
        .prop_map(move |(cut, flips, truncate)| {
            let mut b = s.clone();
            for (i, x) in flips {
                if i < b.len() {
                    b[i] ^= x;
                }
            }
            if truncate {
                b.truncate(cut);
            }
            b
        })
}

/// `s` with a few characters replaced or the text cut short (kept UTF-8).
pub fn mutate_text(s: String) -> impl Strategy<Value = String> {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    (
        0..=n,
        prop::collection::vec((0..n.max(1), any::<char>()), 0..4),
        any::<bool>(),
    )
        .prop_map(move |(cut, subs, truncate)| {
            let mut c = chars.clone();
            for (i, ch) in subs {
                if i < c.len() {
                    c[i] = ch;
                }
            }
            if truncate {
                c.truncate(cut);
            }
            c.into_iter().collect()
        })
}

fn depth_items() -> impl Strategy<Value = Vec<DepthItem>> {
    prop::collection::vec(
        (field_text(), field_text()).prop_map(|(price, quantity)| DepthItem { price, quantity }),
        0..6,
    )
}

/// A MEXC push wrapper, encoded: a depth diff (either field number), a private order or
/// deal, with hostile field values; the channel/symbol may be absent or odd.
pub fn mexc_frame() -> impl Strategy<Value = Vec<u8>> {
    let depth = (depth_items(), depth_items(), field_text(), field_text())
        .prop_map(
            |(asks, bids, from_version, to_version)| PublicAggreDepthsV3Api {
                asks,
                bids,
                event_type: "spot@public.aggre.depth.v3.api.pb@10ms".into(),
                from_version,
                to_version,
                ..Default::default()
            },
        )
        .boxed();
    let body = prop_oneof![
        depth.clone().prop_map(Body::PublicAggreDepths),
        depth.prop_map(Body::PublicIncreaseDepths),
        (field_text(), field_text(), field_text(), any::<i32>()).prop_map(|(id, price, qty, t)| {
            Body::PrivateOrders(PrivateOrdersV3Api {
                id,
                price,
                quantity: qty,
                trade_type: t,
                ..Default::default()
            })
        }),
        (field_text(), field_text(), field_text(), any::<i64>()).prop_map(
            |(tid, price, qty, time)| {
                Body::PrivateDeals(PrivateDealsV3Api {
                    trade_id: tid,
                    price,
                    quantity: qty,
                    time,
                    ..Default::default()
                })
            }
        ),
    ];
    (
        prop::option::of(body),
        prop_oneof![
            Just("spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT".to_string()),
            Just(String::new()),
            "\\PC{0,20}",
        ],
        prop::option::of(prop_oneof![Just("BTCUSDT".to_string()), "\\PC{0,8}"]),
        prop::option::of(any::<i64>()),
    )
        .prop_map(|(body, channel, symbol, send_time)| {
            prost::Message::encode_to_vec(&PushDataV3ApiWrapper {
                channel,
                symbol,
                send_time,
                body,
                ..Default::default()
            })
        })
}

/// Raw bytes for the MEXC decoders: encoded frames, the same mutated, deeply nested
/// groups, or noise.
pub fn mexc_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => mexc_frame(),
        3 => mexc_frame().prop_flat_map(mutate_bytes),
        1 => deep_groups(),
        2 => prop::collection::vec(any::<u8>(), 0..200),
    ]
}

/// How deep the deep generators nest: around the parsers' limits (64, 100, 128) and far
/// beyond them.
fn nesting() -> impl Strategy<Value = usize> {
    prop_oneof![1 => 60usize..140, 1 => 1_000usize..60_000]
}

/// A valid MEXC frame followed by an unknown field holding protobuf groups nested
/// `nesting()` deep (the one protobuf construct a decoder must recurse into to skip),
/// closed or left open.
pub fn deep_groups() -> impl Strategy<Value = Vec<u8>> {
    (mexc_frame(), nesting(), any::<bool>()).prop_map(|(mut b, n, closed)| {
        // Field 999: key = 999 << 3 | wire type (3 start group, 4 end group), as varints.
        let start = [0xBB, 0x3E];
        let end = [0xBC, 0x3E];
        for _ in 0..n {
            b.extend_from_slice(&start);
        }
        if closed {
            for _ in 0..n {
                b.extend_from_slice(&end);
            }
        }
        b
    })
}

/// JSON text nested `nesting()` deep (arrays, objects or both), alone or as the
/// `result` (or a book side) of a Gate frame, closed or cut short.
pub fn deep_json() -> impl Strategy<Value = String> {
    (nesting(), 0u8..3, 0u8..3, any::<bool>()).prop_map(|(n, kind, place, closed)| {
        let (open, close) = match kind {
            0 => ("[", "]"),
            1 => ("{\"a\":", "}"),
            _ => ("[{\"b\":", "}]"),
        };
        let mut v = open.repeat(n);
        v.push('1');
        if closed {
            v.push_str(&close.repeat(n));
        }
        match place {
            0 => v,
            1 => format!(r#"{{"channel":"spot.obu","event":"update","result":{v}}}"#),
            _ => format!(
                r#"{{"channel":"spot.order_book_update","event":"update","result":{{"s":"BTC_USDT","u":2,"U":1,"b":{v}}}}}"#
            ),
        }
    })
}

fn levels_json() -> impl Strategy<Value = Value> {
    prop::collection::vec(
        prop_oneof![
            8 => (field_text(), field_text()).prop_map(|(p, q)| Value::from(vec![p, q])),
            1 => json_leaf(),
            1 => prop::collection::vec(json_leaf(), 0..4).prop_map(Value::Array),
        ],
        0..5,
    )
    .prop_map(Value::Array)
}

/// A Gate `spot.order_book_update` / `spot.order_book` frame with hostile values; the
/// fields may be strings, numbers or missing.
pub fn gate_frame() -> impl Strategy<Value = String> {
    let maybe = |s: BoxedStrategy<Value>| prop::option::of(s);
    (
        prop_oneof![
            Just("spot.order_book_update"),
            Just("spot.order_book"),
            Just("spot.book_ticker"),
            Just("spot.trades"),
            Just("spot.orders"),
            Just("spot.usertrades"),
            Just("spot.pong"),
        ],
        prop_oneof![Just("update"), Just("all"), Just("subscribe"), Just("")],
        maybe(prop_oneof![Just(Value::from("BTC_USDT")), json_leaf()].boxed()),
        maybe(json_leaf().boxed()),
        maybe(json_leaf().boxed()),
        maybe(json_leaf().boxed()),
        maybe(levels_json().boxed()),
        maybe(levels_json().boxed()),
        maybe(json_value(&["code", "message"]).boxed()),
        any::<bool>(),
    )
        .prop_map(
            |(channel, event, s, first, last, t, b, a, error, array_result)| {
                let mut r = Map::new();
                for (k, v) in [
                    ("s", s),
                    ("U", first),
                    ("u", last),
                    ("t", t),
                    ("b", b),
                    ("a", a),
                ] {
                    if let Some(v) = v {
                        r.insert(k.into(), v);
                    }
                }
                let result = if array_result {
                    Value::Array(vec![Value::Object(r)])
                } else {
                    Value::Object(r)
                };
                let mut f = Map::new();
                f.insert("time".into(), Value::from(1_700_000_000));
                f.insert("channel".into(), Value::from(channel));
                f.insert("event".into(), Value::from(event));
                if let Some(e) = error {
                    f.insert("error".into(), e);
                }
                f.insert("result".into(), result);
                Value::Object(f).to_string()
            },
        )
}

/// Text for the Gate frame parsers: frames, frames mutated, arbitrary JSON, noise.
pub fn gate_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => gate_frame(),
        3 => gate_frame().prop_flat_map(mutate_text),
        1 => json_value(&["channel", "event", "result", "error", "s", "U", "u", "b", "a", "time"])
            .prop_map(|v| v.to_string()),
        1 => deep_json(),
        1 => "\\PC{0,120}",
    ]
}

/// JSON text built from `v` (as is, or mutated, or noise): for the REST body parsers.
pub fn body_text(
    v: impl Strategy<Value = Value> + Clone + 'static,
) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => v.clone().prop_map(|v| v.to_string()),
        2 => v.prop_map(|v| v.to_string()).prop_flat_map(mutate_text),
        1 => deep_json(),
        1 => "\\PC{0,80}",
    ]
}
