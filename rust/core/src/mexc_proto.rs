//! MEXC spot v3 WebSocket push messages (protobuf), written by hand from the field table
//! in MEXC's `websocket-proto` set so that no `protoc` is needed and every field number
//! sits next to its name. Used by the feed decoder and by the simulator's encoder.
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

/// The `oneof body` of [`PushDataV3ApiWrapper`]. Bodies we never read (klines, mini
/// tickers, batches) are left out: prost skips unknown fields.
///
/// Variants differ in size (private orders carry 26 fields); boxing them would cost an
/// allocation per decoded push on the hot path, and a `Body` is decoded, matched and
/// dropped at once, so the size difference costs nothing.
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
