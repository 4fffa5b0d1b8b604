//! [`MexcFeed`]: the MEXC spot v3 public WebSocket as a [`FeedProtocol`] — aggre.depth
//! (plus aggre.bookTicker and aggre.deals when asked), 30 channels per connection, JSON
//! PING, REST `/api/v3/depth` snapshots and the strict version chain.

use std::sync::Arc;
use std::time::Duration;

use arb_core::Venue;

use super::frames::{
    deals_channel, decode_push, depth_channel, depth_view, parse_rest_depth, parse_text,
    subscription, ticker_channel, MexcPush, MAX_SUBSCRIPTIONS_PER_CONNECTION, PING,
};
use crate::book::Scales;
use crate::feed::{FeedConfig, FeedVenue};
use crate::protocol::{FeedProtocol, Frame, FrameHandler, Snapshot, Streams, SubAction};
use crate::sync::BookSync;

/// The MEXC feed protocol, reading the `mexc_*` fields of its configuration.
#[derive(Debug)]
pub struct MexcFeed {
    cfg: Arc<FeedConfig>,
    /// The instance served and its endpoints.
    at: FeedVenue,
}

impl MexcFeed {
    pub fn new(at: FeedVenue, cfg: Arc<FeedConfig>) -> Self {
        Self { cfg, at }
    }

    fn rest(&self) -> &str {
        self.at.rest.trim_end_matches('/')
    }
}

/// Binary pushes other than depth: tickers and deals.
fn on_other_push(bytes: &[u8], to: &mut dyn FrameHandler) {
    match decode_push(bytes) {
        Ok(MexcPush::Ticker {
            symbol,
            bid,
            ask,
            send_time_ms,
        }) => {
            if let Some((i, _)) = to.book(&symbol) {
                to.ticker(
                    i,
                    (&bid.0, &bid.1),
                    (&ask.0, &ask.1),
                    send_time_ms.unwrap_or(0),
                );
            }
        }
        Ok(MexcPush::Deals { symbol, deals }) => {
            if let Some((i, _)) = to.book(&symbol) {
                for (p, q, buy, t) in &deals {
                    to.trade(i, p, q, *buy, *t);
                }
            }
        }
        Ok(_) => {}
        Err(e) => to.unparsable(&e.to_string()),
    }
}

impl FeedProtocol for MexcFeed {
    fn venue(&self) -> Venue {
        self.at.venue
    }

    fn ws_url(&self) -> &str {
        &self.at.ws
    }

    /// MEXC counts channels, not symbols: with tickers and trades a symbol takes three of
    /// the 30.
    fn symbols_per_connection(&self, streams: Streams) -> usize {
        let cap = (MAX_SUBSCRIPTIONS_PER_CONNECTION / streams.channels_per_symbol()).max(1);
        self.cfg.mexc_symbols_per_connection.clamp(1, cap)
    }

    /// One SUBSCRIPTION / UNSUBSCRIPTION frame listing every channel.
    fn subscription(&self, symbols: &[&str], action: SubAction, streams: Streams) -> Vec<String> {
        let iv = &self.cfg.mexc_interval;
        let mut channels = Vec::with_capacity(symbols.len() * streams.channels_per_symbol());
        for s in symbols {
            channels.push(depth_channel(s, iv));
            if streams.tickers {
                channels.push(ticker_channel(s, iv));
            }
            if streams.trades {
                channels.push(deals_channel(s, iv));
            }
        }
        let method = match action {
            SubAction::Subscribe => "SUBSCRIPTION",
            SubAction::Unsubscribe => "UNSUBSCRIPTION",
        };
        vec![subscription(method, &channels)]
    }

    fn ping_interval(&self) -> Duration {
        self.cfg.mexc_ping
    }

    fn ping(&self) -> String {
        PING.to_string()
    }

    fn on_frame(&self, frame: Frame<'_>, to: &mut dyn FrameHandler) {
        match frame {
            // Depth pushes are read in place without allocating; anything else is decoded
            // by prost.
            Frame::Binary(bytes) => match depth_view(bytes) {
                Ok(Some(p)) => {
                    let Some((i, scales)) = to.book(p.symbol) else {
                        return;
                    };
                    match p.fill(scales, to.scratch()) {
                        Ok(()) => to.diff(i),
                        Err(e) => to.bad_diff(i, &e.to_string()),
                    }
                }
                Ok(None) => on_other_push(bytes, to),
                // Not attributable to a book; if it was a depth push, that book's next push
                // breaks the version chain and resyncs it.
                Err(e) => to.unparsable(&e.to_string()),
            },
            // Acks, pongs and errors are JSON; "Blocked!" and the like are plain text.
            Frame::Text(t) => match parse_text(t) {
                Some(r) if r.code != 0 => to.venue_error(&format!("code {}: {}", r.code, r.msg)),
                Some(_) => {}
                None => to.venue_text(t),
            },
        }
    }

    fn book_sync(&self) -> BookSync {
        BookSync::mexc()
    }

    fn snapshot_url(&self, venue_symbol: &str) -> String {
        format!(
            "{}/api/v3/depth?symbol={venue_symbol}&limit={}",
            self.rest(),
            self.cfg.mexc_snapshot_limit
        )
    }

    fn parse_snapshot(
        &self,
        venue_symbol: &str,
        body: &str,
        scales: Scales,
    ) -> Result<Snapshot, String> {
        parse_rest_depth(venue_symbol, body, scales)
            .map(|d| Snapshot {
                version: d.last_update_id,
                bids: d.bids,
                asks: d.asks,
            })
            .map_err(|e| e.to_string())
    }

    fn symbols_url(&self) -> String {
        format!("{}/api/v3/exchangeInfo", self.rest())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::Start;

    fn feed(cfg: FeedConfig) -> MexcFeed {
        MexcFeed::new(FeedVenue::public(Venue::MEXC), Arc::new(cfg))
    }

    fn feed_at(rest: &str, cfg: FeedConfig) -> MexcFeed {
        MexcFeed::new(
            FeedVenue::new(Venue::MEXC, rest, "wss://wbs-api.mexc.com/ws"),
            Arc::new(cfg),
        )
    }

    #[test]
    fn subscription_lists_every_channel_in_one_frame() {
        let f = feed(FeedConfig::default());
        let all = Streams {
            tickers: true,
            trades: true,
        };
        assert_eq!(
            f.subscription(&["BTCUSDT", "ETHUSDT"], SubAction::Subscribe, Streams::BOOK),
            [
                r#"{"method":"SUBSCRIPTION","params":["spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT","spot@public.aggre.depth.v3.api.pb@100ms@ETHUSDT"]}"#
            ]
        );
        assert_eq!(
            f.subscription(&["BTCUSDT"], SubAction::Unsubscribe, all),
            [
                r#"{"method":"UNSUBSCRIPTION","params":["spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT","spot@public.aggre.bookTicker.v3.api.pb@100ms@BTCUSDT","spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT"]}"#
            ]
        );
        assert_eq!(f.ping(), r#"{"method":"PING"}"#);
    }

    #[test]
    fn the_channel_cap_counts_channels() {
        let f = feed(FeedConfig::default());
        assert_eq!(f.symbols_per_connection(Streams::BOOK), 30);
        let ticker = Streams {
            tickers: true,
            trades: false,
        };
        assert_eq!(f.symbols_per_connection(ticker), 15);
        let all = Streams {
            tickers: true,
            trades: true,
        };
        assert_eq!(f.symbols_per_connection(all), 10);
        let few = feed(FeedConfig {
            mexc_symbols_per_connection: 4,
            ..FeedConfig::default()
        });
        assert_eq!(few.symbols_per_connection(all), 4);
        let zero = feed(FeedConfig {
            mexc_symbols_per_connection: 0,
            ..FeedConfig::default()
        });
        assert_eq!(zero.symbols_per_connection(Streams::BOOK), 1);
    }

    #[test]
    fn rest_urls_and_sync_procedure() {
        let f = feed_at("http://127.0.0.1:9/", FeedConfig::default());
        assert_eq!(
            f.snapshot_url("BTCUSDT"),
            "http://127.0.0.1:9/api/v3/depth?symbol=BTCUSDT&limit=1000"
        );
        assert_eq!(f.symbols_url(), "http://127.0.0.1:9/api/v3/exchangeInfo");
        assert_eq!(f.ws_url(), "wss://wbs-api.mexc.com/ws");
        assert_eq!(f.book_sync().start(), Start::Snapshot);
        let s = f
            .parse_snapshot(
                "BTCUSDT",
                r#"{"lastUpdateId":7,"bids":[["1.5","2"]],"asks":[]}"#,
                Scales { price: 2, qty: 2 },
            )
            .unwrap();
        assert_eq!((s.version, s.bids.len(), s.asks.len()), (7, 1, 0));
        assert!(f
            .parse_snapshot("BTCUSDT", "{}", Scales { price: 2, qty: 2 })
            .is_err());
    }

    #[test]
    fn frames_reach_the_handler() {
        use super::super::proto::{
            Body, DealItem, DepthItem, PublicAggreBookTickerV3Api, PublicAggreDealsV3Api,
            PublicAggreDepthsV3Api, PushDataV3ApiWrapper,
        };
        use crate::protocol::recorder::Recorder;
        use prost::Message;

        let push = |symbol: &str, body: Body| {
            PushDataV3ApiWrapper {
                channel: format!("spot@x@100ms@{symbol}"),
                symbol: Some(symbol.into()),
                symbol_id: None,
                create_time: None,
                send_time: Some(9),
                body: Some(body),
            }
            .encode_to_vec()
        };
        let depth = |price: &str| {
            Body::PublicAggreDepths(PublicAggreDepthsV3Api {
                asks: vec![],
                bids: vec![DepthItem {
                    price: price.into(),
                    quantity: "2".into(),
                }],
                event_type: String::new(),
                from_version: "5".into(),
                to_version: "6".into(),
                last_order_create_time: 0,
            })
        };
        let f = feed(FeedConfig::default());
        let mut r = Recorder::new("BTCUSDT", Scales { price: 1, qty: 0 });
        for bytes in [
            push("BTCUSDT", depth("1.5")),
            push("ETHUSDT", depth("1.5")),
            push("BTCUSDT", depth("1.55")),
            push(
                "BTCUSDT",
                Body::PublicAggreBookTicker(PublicAggreBookTickerV3Api {
                    bid_price: "1.4".into(),
                    bid_quantity: "3".into(),
                    ask_price: "1.6".into(),
                    ask_quantity: "4".into(),
                    version: String::new(),
                    last_order_create_time: 0,
                }),
            ),
            push(
                "BTCUSDT",
                Body::PublicAggreDeals(PublicAggreDealsV3Api {
                    deals: vec![DealItem {
                        price: "1.5".into(),
                        quantity: "1".into(),
                        trade_type: 2,
                        time: 7,
                        trade_id: String::new(),
                    }],
                    event_type: String::new(),
                }),
            ),
            b"\xff\xff".to_vec(),
        ] {
            f.on_frame(Frame::Binary(&bytes), &mut r);
        }
        for text in [
            r#"{"id":0,"code":0,"msg":"PONG"}"#,
            r#"{"id":0,"code":1,"msg":"bad"}"#,
            "Blocked!",
        ] {
            f.on_frame(Frame::Text(text), &mut r);
        }
        assert_eq!(r.events.len(), 7, "{:#?}", r.events);
        assert_eq!(
            r.events[0],
            "diff 0 5..6 full=false bids=[Level { price: 15, qty: 2 }] asks=[]"
        );
        assert!(
            r.events[1].starts_with("bad_diff 0: mexc BTCUSDT bid level"),
            "{}",
            r.events[1]
        );
        assert_eq!(r.events[2], r#"ticker 0 ("1.4", "3") ("1.6", "4") 9"#);
        assert_eq!(r.events[3], "trade 0 1.5 1 false 7");
        assert!(
            r.events[4].starts_with("unparsable mexc push"),
            "{}",
            r.events[4]
        );
        assert_eq!(r.events[5], "venue_error code 1: bad");
        assert_eq!(r.events[6], "venue_text Blocked!");
    }
}
