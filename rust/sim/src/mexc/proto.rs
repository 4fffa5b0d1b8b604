//! MEXC spot v3 WebSocket push messages (protobuf) as the venue encodes them: the
//! simulator's own copy, written by hand from MEXC's official `websocket-proto` `.proto`
//! files (field numbers in `exchange-protocols.md`, section B). The client decodes with
//! its own copy (`arb_market::venues::mexc::proto`): both follow the official files, and
//! each side's test pins the wire bytes against the same hand-written encoding, so the
//! simulator cannot agree with the client by construction.
//!
//! Every price and quantity is a decimal string on the wire.

/// The envelope of every binary push.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PushDataV3ApiWrapper {
    #[prost(string, tag = "1")]
    pub channel: String,
    #[prost(string, optional, tag = "3")]
    pub symbol: Option<String>,
    #[prost(string, optional, tag = "4")]
    pub symbol_id: Option<String>,
    #[prost(int64, optional, tag = "5")]
    pub create_time: Option<i64>,
    #[prost(int64, optional, tag = "6")]
    pub send_time: Option<i64>,
    #[prost(
        oneof = "Body",
        tags = "301, 302, 303, 304, 305, 306, 307, 313, 314, 315"
    )]
    pub body: Option<Body>,
}

/// The `oneof body` of [`PushDataV3ApiWrapper`]. Bodies the simulator never sends (klines,
/// mini tickers, batches) are left out.
///
/// Variants differ in size (private orders carry 26 fields); boxing them would cost an
/// allocation per encoded push, and a `Body` is built, encoded and dropped at once, so
/// the size difference costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum Body {
    #[prost(message, tag = "301")]
    PublicDeals(PublicDealsV3Api),
    #[prost(message, tag = "302")]
    PublicIncreaseDepths(PublicAggreDepthsV3Api),
    #[prost(message, tag = "303")]
    PublicLimitDepths(PublicLimitDepthsV3Api),
    #[prost(message, tag = "304")]
    PrivateOrders(PrivateOrdersV3Api),
    #[prost(message, tag = "305")]
    PublicBookTicker(PublicAggreBookTickerV3Api),
    #[prost(message, tag = "306")]
    PrivateDeals(PrivateDealsV3Api),
    #[prost(message, tag = "307")]
    PrivateAccount(PrivateAccountV3Api),
    #[prost(message, tag = "313")]
    PublicAggreDepths(PublicAggreDepthsV3Api),
    #[prost(message, tag = "314")]
    PublicAggreDeals(PublicAggreDealsV3Api),
    #[prost(message, tag = "315")]
    PublicAggreBookTicker(PublicAggreBookTickerV3Api),
}

/// One price level.
#[derive(Clone, PartialEq, prost::Message)]
pub struct DepthItem {
    #[prost(string, tag = "1")]
    pub price: String,
    #[prost(string, tag = "2")]
    pub quantity: String,
}

/// `PublicAggreDepthsV3Api` (field 313): a diff with a version range.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PublicAggreDepthsV3Api {
    #[prost(message, repeated, tag = "1")]
    pub asks: Vec<DepthItem>,
    #[prost(message, repeated, tag = "2")]
    pub bids: Vec<DepthItem>,
    #[prost(string, tag = "3")]
    pub event_type: String,
    #[prost(string, tag = "4")]
    pub from_version: String,
    #[prost(string, tag = "5")]
    pub to_version: String,
    #[prost(int64, tag = "6")]
    pub last_order_create_time: i64,
}

/// `PublicLimitDepthsV3Api` (field 303): a full top-N snapshot.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PublicLimitDepthsV3Api {
    #[prost(message, repeated, tag = "1")]
    pub asks: Vec<DepthItem>,
    #[prost(message, repeated, tag = "2")]
    pub bids: Vec<DepthItem>,
    #[prost(string, tag = "3")]
    pub event_type: String,
    #[prost(string, tag = "4")]
    pub version: String,
}

/// `PublicAggreBookTickerV3Api` (field 315).
#[derive(Clone, PartialEq, prost::Message)]
pub struct PublicAggreBookTickerV3Api {
    #[prost(string, tag = "1")]
    pub bid_price: String,
    #[prost(string, tag = "2")]
    pub bid_quantity: String,
    #[prost(string, tag = "3")]
    pub ask_price: String,
    #[prost(string, tag = "4")]
    pub ask_quantity: String,
    #[prost(string, tag = "5")]
    pub version: String,
    #[prost(int64, tag = "6")]
    pub last_order_create_time: i64,
}

/// One public trade.
#[derive(Clone, PartialEq, prost::Message)]
pub struct DealItem {
    #[prost(string, tag = "1")]
    pub price: String,
    #[prost(string, tag = "2")]
    pub quantity: String,
    /// 1 buy, 2 sell.
    #[prost(int32, tag = "3")]
    pub trade_type: i32,
    #[prost(int64, tag = "4")]
    pub time: i64,
    #[prost(string, tag = "5")]
    pub trade_id: String,
}

/// `PublicAggreDealsV3Api` (field 314) and `PublicDealsV3Api` (301) share this shape.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PublicAggreDealsV3Api {
    #[prost(message, repeated, tag = "1")]
    pub deals: Vec<DealItem>,
    #[prost(string, tag = "2")]
    pub event_type: String,
}

/// `PublicDealsV3Api` (field 301).
pub type PublicDealsV3Api = PublicAggreDealsV3Api;

/// `PrivateOrdersV3Api` (field 304).
#[derive(Clone, PartialEq, prost::Message)]
pub struct PrivateOrdersV3Api {
    #[prost(string, tag = "1")]
    pub id: String,
    #[prost(string, tag = "2")]
    pub client_id: String,
    #[prost(string, tag = "3")]
    pub price: String,
    #[prost(string, tag = "4")]
    pub quantity: String,
    #[prost(string, tag = "5")]
    pub amount: String,
    #[prost(string, tag = "6")]
    pub avg_price: String,
    /// 1 LIMIT, 2 POST_ONLY, 3 IOC, 4 FOK, 5 MARKET, 100 SL/TP.
    #[prost(int32, tag = "7")]
    pub order_type: i32,
    /// 1 buy, 2 sell.
    #[prost(int32, tag = "8")]
    pub trade_type: i32,
    #[prost(bool, tag = "9")]
    pub is_maker: bool,
    #[prost(string, tag = "10")]
    pub remain_amount: String,
    #[prost(string, tag = "11")]
    pub remain_quantity: String,
    #[prost(string, tag = "12")]
    pub last_deal_quantity: String,
    #[prost(string, tag = "13")]
    pub cumulative_quantity: String,
    #[prost(string, tag = "14")]
    pub cumulative_amount: String,
    /// 1 new, 2 filled, 3 partially filled, 4 canceled, 5 partially canceled.
    #[prost(int32, tag = "15")]
    pub status: i32,
    #[prost(int64, tag = "16")]
    pub create_time: i64,
    #[prost(string, tag = "17")]
    pub market: String,
    #[prost(int32, tag = "18")]
    pub trigger_type: i32,
    #[prost(string, tag = "19")]
    pub trigger_price: String,
    #[prost(int32, tag = "20")]
    pub state: i32,
    #[prost(string, tag = "21")]
    pub oco_id: String,
    #[prost(string, tag = "22")]
    pub route_factor: String,
    #[prost(string, tag = "23")]
    pub symbol_id: String,
    #[prost(string, tag = "24")]
    pub market_id: String,
    #[prost(string, tag = "25")]
    pub market_currency_id: String,
    #[prost(string, tag = "26")]
    pub currency_id: String,
}

/// `PrivateDealsV3Api` (field 306): one fill of one of our orders.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PrivateDealsV3Api {
    #[prost(string, tag = "1")]
    pub price: String,
    #[prost(string, tag = "2")]
    pub quantity: String,
    #[prost(string, tag = "3")]
    pub amount: String,
    #[prost(int32, tag = "4")]
    pub trade_type: i32,
    #[prost(bool, tag = "5")]
    pub is_maker: bool,
    #[prost(bool, tag = "6")]
    pub is_self_trade: bool,
    #[prost(string, tag = "7")]
    pub trade_id: String,
    #[prost(string, tag = "8")]
    pub client_order_id: String,
    #[prost(string, tag = "9")]
    pub order_id: String,
    #[prost(string, tag = "10")]
    pub fee_amount: String,
    #[prost(string, tag = "11")]
    pub fee_currency: String,
    #[prost(int64, tag = "12")]
    pub time: i64,
}

/// `PrivateAccountV3Api` (field 307): one balance change.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PrivateAccountV3Api {
    #[prost(string, tag = "1")]
    pub vcoin_name: String,
    #[prost(string, tag = "2")]
    pub coin_id: String,
    #[prost(string, tag = "3")]
    pub balance_amount: String,
    #[prost(string, tag = "4")]
    pub balance_amount_change: String,
    #[prost(string, tag = "5")]
    pub frozen_amount: String,
    #[prost(string, tag = "6")]
    pub frozen_amount_change: String,
    #[prost(string, tag = "7")]
    pub r#type: String,
    #[prost(int64, tag = "8")]
    pub time: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    // A hand-written encoder with the field numbers of the reference table: key =
    // field << 3 | wire type (0 varint, 2 length-delimited), then the value.
    fn varint(mut v: u64, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    fn num(field: u64, v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        varint(field << 3, &mut out);
        varint(v, &mut out);
        out
    }
    fn bytes(field: u64, b: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        varint(field << 3 | 2, &mut out);
        varint(b.len() as u64, &mut out);
        out.extend_from_slice(b);
        out
    }
    /// String fields `fields` with the values `s<field>`.
    fn strings(fields: impl IntoIterator<Item = u64>) -> Vec<u8> {
        fields
            .into_iter()
            .flat_map(|f| bytes(f, format!("s{f}").as_bytes()))
            .collect()
    }
    fn s(field: u64) -> String {
        format!("s{field}")
    }
    fn wrapper(body_field: u64, body: &[u8]) -> Vec<u8> {
        [
            bytes(1, b"ch"),
            bytes(3, b"SYM"),
            bytes(4, b"id"),
            num(5, 5),
            num(6, 6),
            bytes(body_field, body),
        ]
        .concat()
    }
    fn wrap(body: Body) -> PushDataV3ApiWrapper {
        PushDataV3ApiWrapper {
            channel: "ch".into(),
            symbol: Some("SYM".into()),
            symbol_id: Some("id".into()),
            create_time: Some(5),
            send_time: Some(6),
            body: Some(body),
        }
    }
    fn pins(msg: PushDataV3ApiWrapper, expected: Vec<u8>) {
        assert_eq!(msg.encode_to_vec(), expected, "{msg:?}");
        assert_eq!(
            PushDataV3ApiWrapper::decode(expected.as_slice()).unwrap(),
            msg
        );
    }

    #[test]
    fn wire_bytes_match_the_reference_field_numbers() {
        let item = |p: &str, q: &str| DepthItem {
            price: p.into(),
            quantity: q.into(),
        };
        let item_bytes = |p: &[u8], q: &[u8]| [bytes(1, p), bytes(2, q)].concat();
        let depths = PublicAggreDepthsV3Api {
            asks: vec![item("1.5", "2")],
            bids: vec![item("1.4", "3")],
            event_type: s(3),
            from_version: "10".into(),
            to_version: "12".into(),
            last_order_create_time: 6,
        };
        let depths_bytes = [
            bytes(1, &item_bytes(b"1.5", b"2")),
            bytes(2, &item_bytes(b"1.4", b"3")),
            strings([3]),
            bytes(4, b"10"),
            bytes(5, b"12"),
            num(6, 6),
        ]
        .concat();
        pins(
            wrap(Body::PublicAggreDepths(depths.clone())),
            wrapper(313, &depths_bytes),
        );
        pins(
            wrap(Body::PublicIncreaseDepths(depths)),
            wrapper(302, &depths_bytes),
        );
        pins(
            wrap(Body::PublicLimitDepths(PublicLimitDepthsV3Api {
                asks: vec![item("1.5", "2")],
                bids: vec![],
                event_type: s(3),
                version: s(4),
            })),
            wrapper(
                303,
                &[bytes(1, &item_bytes(b"1.5", b"2")), strings([3, 4])].concat(),
            ),
        );
        let ticker = PublicAggreBookTickerV3Api {
            bid_price: s(1),
            bid_quantity: s(2),
            ask_price: s(3),
            ask_quantity: s(4),
            version: s(5),
            last_order_create_time: 6,
        };
        let ticker_bytes = [strings(1..=5), num(6, 6)].concat();
        pins(
            wrap(Body::PublicAggreBookTicker(ticker.clone())),
            wrapper(315, &ticker_bytes),
        );
        pins(
            wrap(Body::PublicBookTicker(ticker)),
            wrapper(305, &ticker_bytes),
        );
        let deals = PublicAggreDealsV3Api {
            deals: vec![DealItem {
                price: s(1),
                quantity: s(2),
                trade_type: 2,
                time: 4,
                trade_id: s(5),
            }],
            event_type: s(2),
        };
        let deals_bytes = [
            bytes(
                1,
                &[strings(1..=2), num(3, 2), num(4, 4), strings([5])].concat(),
            ),
            strings([2]),
        ]
        .concat();
        pins(
            wrap(Body::PublicAggreDeals(deals.clone())),
            wrapper(314, &deals_bytes),
        );
        pins(wrap(Body::PublicDeals(deals)), wrapper(301, &deals_bytes));
        pins(
            wrap(Body::PrivateOrders(PrivateOrdersV3Api {
                id: s(1),
                client_id: s(2),
                price: s(3),
                quantity: s(4),
                amount: s(5),
                avg_price: s(6),
                order_type: 7,
                trade_type: 8,
                is_maker: true,
                remain_amount: s(10),
                remain_quantity: s(11),
                last_deal_quantity: s(12),
                cumulative_quantity: s(13),
                cumulative_amount: s(14),
                status: 15,
                create_time: 16,
                market: s(17),
                trigger_type: 18,
                trigger_price: s(19),
                state: 20,
                oco_id: s(21),
                route_factor: s(22),
                symbol_id: s(23),
                market_id: s(24),
                market_currency_id: s(25),
                currency_id: s(26),
            })),
            wrapper(
                304,
                &[
                    strings(1..=6),
                    num(7, 7),
                    num(8, 8),
                    num(9, 1),
                    strings(10..=14),
                    num(15, 15),
                    num(16, 16),
                    strings([17]),
                    num(18, 18),
                    strings([19]),
                    num(20, 20),
                    strings(21..=26),
                ]
                .concat(),
            ),
        );
        pins(
            wrap(Body::PrivateDeals(PrivateDealsV3Api {
                price: s(1),
                quantity: s(2),
                amount: s(3),
                trade_type: 4,
                is_maker: true,
                is_self_trade: true,
                trade_id: s(7),
                client_order_id: s(8),
                order_id: s(9),
                fee_amount: s(10),
                fee_currency: s(11),
                time: 12,
            })),
            wrapper(
                306,
                &[
                    strings(1..=3),
                    num(4, 4),
                    num(5, 1),
                    num(6, 1),
                    strings(7..=11),
                    num(12, 12),
                ]
                .concat(),
            ),
        );
        pins(
            wrap(Body::PrivateAccount(PrivateAccountV3Api {
                vcoin_name: s(1),
                coin_id: s(2),
                balance_amount: s(3),
                balance_amount_change: s(4),
                frozen_amount: s(5),
                frozen_amount_change: s(6),
                r#type: s(7),
                time: 8,
            })),
            wrapper(307, &[strings(1..=7), num(8, 8)].concat()),
        );
    }

    #[test]
    fn aggre_depth_round_trips_with_field_313() {
        let msg = PushDataV3ApiWrapper {
            channel: "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT".into(),
            symbol: Some("BTCUSDT".into()),
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
        let bytes = msg.encode_to_vec();
        // Field 313, wire type 2 (length-delimited): key = 313 << 3 | 2 = 2506 = varint [0xCA, 0x13].
        assert!(bytes.windows(2).any(|w| w == [0xCA, 0x13]));
        assert_eq!(PushDataV3ApiWrapper::decode(bytes.as_slice()).unwrap(), msg);
    }
}
