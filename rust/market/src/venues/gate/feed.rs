//! [`GateFeed`]: the Gate.io v4 spot public WebSocket as a [`FeedProtocol`] — `spot.obu`
//! or `spot.order_book_update` (plus `spot.book_ticker` and `spot.trades` when asked), one
//! frame per channel and pair, `spot.ping`, REST `order_book?with_id=true` snapshots.

use std::sync::Arc;
use std::time::Duration;

use arb_core::Venue;

use super::frames::{
    pair_subscription, parse_frame, parse_rest_book, ping, subscription, GateBookChannel, GateEvent,
};
use crate::book::Scales;
use crate::feed::{FeedConfig, FeedVenue};
use crate::protocol::{FeedProtocol, Frame, FrameHandler, Snapshot, Streams, SubAction};
use crate::sync::BookSync;

/// The Gate feed protocol, reading the `gate_*` fields of its configuration.
#[derive(Debug)]
pub struct GateFeed {
    cfg: Arc<FeedConfig>,
    /// The instance served and its endpoints.
    at: FeedVenue,
}

impl GateFeed {
    pub fn new(at: FeedVenue, cfg: Arc<FeedConfig>) -> Self {
        Self { cfg, at }
    }

    fn rest(&self) -> &str {
        self.at.rest.trim_end_matches('/')
    }
}

impl FeedProtocol for GateFeed {
    fn venue(&self) -> Venue {
        self.at.venue
    }

    fn ws_url(&self) -> &str {
        &self.at.ws
    }

    /// Gate documents no per-connection channel cap: the configured share.
    fn symbols_per_connection(&self, _streams: Streams) -> usize {
        self.cfg.gate_symbols_per_connection.max(1)
    }

    /// One frame per pair and channel, stamped with the time in seconds.
    fn subscription(&self, symbols: &[&str], action: SubAction, streams: Streams) -> Vec<String> {
        let event = match action {
            SubAction::Subscribe => "subscribe",
            SubAction::Unsubscribe => "unsubscribe",
        };
        let t = arb_core::time::now_ms() / 1000;
        let mut out = Vec::with_capacity(symbols.len() * streams.channels_per_symbol());
        for s in symbols {
            out.push(subscription(
                t,
                self.cfg.gate_channel,
                s,
                event,
                self.cfg.gate_obu_depth,
                &self.cfg.gate_interval,
            ));
            if streams.tickers {
                out.push(pair_subscription(t, "spot.book_ticker", s, event));
            }
            if streams.trades {
                out.push(pair_subscription(t, "spot.trades", s, event));
            }
        }
        out
    }

    fn ping_interval(&self) -> Duration {
        self.cfg.gate_ping
    }

    fn ping(&self) -> String {
        ping(arb_core::time::now_ms() / 1000)
    }

    fn on_frame(&self, frame: Frame<'_>, to: &mut dyn FrameHandler) {
        // Gate's protocol is JSON text; protocol pings are answered by tungstenite.
        let Frame::Text(text) = frame else {
            return;
        };
        match parse_frame(text) {
            Ok(GateEvent::Book(p)) => {
                let Some((i, scales)) = to.book(p.pair) else {
                    return;
                };
                match p.fill(scales, to.scratch()) {
                    Ok(()) => to.diff(i),
                    Err(e) => to.bad_diff(i, &e.to_string()),
                }
            }
            Ok(GateEvent::Ticker {
                pair,
                bid,
                ask,
                time_ms,
            }) => {
                if let Some((i, _)) = to.book(pair) {
                    to.ticker(i, bid, ask, time_ms.unwrap_or(0));
                }
            }
            Ok(GateEvent::Trade {
                pair,
                price,
                amount,
                taker_buy,
                time_ms,
            }) => {
                if let Some((i, _)) = to.book(pair) {
                    to.trade(i, price, amount, taker_buy, time_ms.unwrap_or(0));
                }
            }
            Ok(GateEvent::Error {
                channel,
                code,
                message,
            }) => to.venue_error(&format!("{channel} code {code}: {message}")),
            Ok(_) => {}
            Err(e) => to.unparsable(&e.to_string()),
        }
    }

    fn book_sync(&self) -> BookSync {
        match self.cfg.gate_channel {
            GateBookChannel::Obu => BookSync::gate_obu(),
            GateBookChannel::OrderBookUpdate => BookSync::gate_update(),
        }
    }

    fn snapshot_url(&self, venue_symbol: &str) -> String {
        format!(
            "{}/spot/order_book?currency_pair={venue_symbol}&limit={}&with_id=true",
            self.rest(),
            self.cfg.gate_snapshot_limit
        )
    }

    fn parse_snapshot(
        &self,
        venue_symbol: &str,
        body: &str,
        scales: Scales,
    ) -> Result<Snapshot, String> {
        parse_rest_book(venue_symbol, body, scales)
            .map(|d| Snapshot {
                version: d.id,
                bids: d.bids,
                asks: d.asks,
            })
            .map_err(|e| e.to_string())
    }

    fn symbols_url(&self) -> String {
        format!("{}/spot/currency_pairs", self.rest())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::Start;

    fn feed(cfg: FeedConfig) -> GateFeed {
        GateFeed::new(FeedVenue::public(Venue::GATE), Arc::new(cfg))
    }

    fn feed_at(rest: &str, cfg: FeedConfig) -> GateFeed {
        GateFeed::new(
            FeedVenue::new(Venue::GATE, rest, "wss://api.gateio.ws/ws/v4/"),
            Arc::new(cfg),
        )
    }

    /// The frames with their `time` stamp replaced by 0.
    fn frames(f: &GateFeed, symbols: &[&str], action: SubAction, streams: Streams) -> Vec<String> {
        f.subscription(symbols, action, streams)
            .into_iter()
            .map(|m| {
                let (_, rest) = m.split_once(',').unwrap();
                format!(r#"{{"time":0,{rest}"#)
            })
            .collect()
    }

    #[test]
    fn one_subscription_frame_per_pair_and_channel() {
        let obu = feed(FeedConfig::default());
        assert_eq!(
            frames(
                &obu,
                &["BTC_USDT", "ETH_USDT"],
                SubAction::Subscribe,
                Streams::BOOK
            ),
            [
                r#"{"time":0,"channel":"spot.obu","event":"subscribe","payload":["ob.BTC_USDT.50"]}"#,
                r#"{"time":0,"channel":"spot.obu","event":"subscribe","payload":["ob.ETH_USDT.50"]}"#,
            ]
        );
        let update = feed(FeedConfig {
            gate_channel: GateBookChannel::OrderBookUpdate,
            ..FeedConfig::default()
        });
        let all = Streams {
            tickers: true,
            trades: true,
        };
        assert_eq!(
            frames(&update, &["BTC_USDT"], SubAction::Unsubscribe, all),
            [
                r#"{"time":0,"channel":"spot.order_book_update","event":"unsubscribe","payload":["BTC_USDT","100ms"]}"#,
                r#"{"time":0,"channel":"spot.book_ticker","event":"unsubscribe","payload":["BTC_USDT"]}"#,
                r#"{"time":0,"channel":"spot.trades","event":"unsubscribe","payload":["BTC_USDT"]}"#,
            ]
        );
        assert!(obu.ping().contains(r#""channel":"spot.ping""#));
        assert_eq!(obu.symbols_per_connection(all), 100);
    }

    #[test]
    fn rest_urls_and_sync_procedure() {
        let f = feed_at(
            "http://127.0.0.1:9/api/v4/",
            FeedConfig {
                gate_channel: GateBookChannel::OrderBookUpdate,
                ..FeedConfig::default()
            },
        );
        assert_eq!(
            f.snapshot_url("BTC_USDT"),
            "http://127.0.0.1:9/api/v4/spot/order_book?currency_pair=BTC_USDT&limit=100&with_id=true"
        );
        assert_eq!(
            f.symbols_url(),
            "http://127.0.0.1:9/api/v4/spot/currency_pairs"
        );
        assert_eq!(f.book_sync().start(), Start::Snapshot);
        assert_eq!(
            feed(FeedConfig::default()).book_sync().start(),
            Start::FullPush
        );
        let s = f
            .parse_snapshot(
                "BTC_USDT",
                r#"{"id":9,"bids":[],"asks":[["1.5","2"]]}"#,
                Scales { price: 2, qty: 2 },
            )
            .unwrap();
        assert_eq!((s.version, s.bids.len(), s.asks.len()), (9, 0, 1));
        assert!(f
            .parse_snapshot("BTC_USDT", r#"{"bids":[]}"#, Scales { price: 2, qty: 2 })
            .is_err());
    }

    #[test]
    fn frames_reach_the_handler() {
        use crate::protocol::recorder::Recorder;

        let f = feed(FeedConfig::default());
        let mut r = Recorder::new("BTC_USDT", Scales { price: 1, qty: 0 });
        for text in [
            r#"{"channel":"spot.obu","result":{"t":1,"full":true,"s":"ob.BTC_USDT.50","u":6,"b":[["1.5","2"]],"a":[]}}"#,
            r#"{"channel":"spot.obu","result":{"t":1,"full":true,"s":"ob.ETH_USDT.50","u":6,"b":[],"a":[]}}"#,
            r#"{"channel":"spot.obu","result":{"t":1,"s":"ob.BTC_USDT.50","U":7,"u":8,"b":[["1.55","2"]],"a":[]}}"#,
            r#"{"time":1,"channel":"spot.book_ticker","event":"update","result":{"t":9,"u":1,"s":"BTC_USDT","b":"1.4","B":"3","a":"1.6","A":"4"}}"#,
            r#"{"time":1,"channel":"spot.trades","event":"update","result":{"id":1,"create_time_ms":"7.5","side":"sell","currency_pair":"BTC_USDT","amount":"1","price":"1.5"}}"#,
            r#"{"time":1,"channel":"spot.obu","event":"subscribe","error":{"code":2,"message":"bad"},"result":null}"#,
            r#"{"time":1,"channel":"spot.pong","event":"","result":null}"#,
            "not json",
        ] {
            f.on_frame(Frame::Text(text), &mut r);
        }
        f.on_frame(Frame::Binary(b"\x01"), &mut r);
        assert_eq!(r.events.len(), 6, "{:#?}", r.events);
        assert_eq!(
            r.events[0],
            "diff 0 6..6 full=true bids=[Level { price: 15, qty: 2 }] asks=[]"
        );
        assert!(
            r.events[1].starts_with("bad_diff 0: gateio BTC_USDT bid level"),
            "{}",
            r.events[1]
        );
        assert_eq!(r.events[2], r#"ticker 0 ("1.4", "3") ("1.6", "4") 9"#);
        assert_eq!(r.events[3], "trade 0 1.5 1 false 7");
        assert_eq!(r.events[4], "venue_error spot.obu code 2: bad");
        assert!(
            r.events[5].starts_with("unparsable gateio frame is not valid JSON"),
            "{}",
            r.events[5]
        );
    }
}
