//! Shared helpers for arb-exec's integration tests: a quiet simulator, venue clients
//! configured for it, and trading rules read from the simulator's own exchangeInfo /
//! currency_pairs through arb-market's symbol parsers (not typed in by hand).

#![allow(dead_code)]

use std::sync::Arc;

use arb_core::{Venue, VenueKind};
use arb_exec::order::ClientOrderId;
use arb_exec::{Amount, OrderRef, OrderReport, Secret, SymbolRules, VenueClient, VenueConfig};
use arb_sim::{FaultKind, FaultSpec, SimConfig, Simulator};

pub async fn quiet_sim() -> Simulator {
    let cfg = SimConfig {
        market_paused: true,
        ..SimConfig::default()
    };
    Simulator::start(cfg).await.expect("simulator starts")
}

pub fn config(sim: &Simulator, venue: Venue) -> VenueConfig {
    let e = sim.endpoints();
    let acct = sim.trader(venue);
    let (rest, ws) = match venue.kind() {
        VenueKind::Mexc => (e.mexc_rest.clone(), e.mexc_ws.clone()),
        VenueKind::Gate => (e.gate_rest.clone(), e.gate_ws.clone()),
    };
    let mut c = VenueConfig::new(
        venue,
        rest,
        ws,
        acct.api_key.clone(),
        Secret::new(acct.api_secret.clone()),
    );
    // Keep resolution quick on loopback; the logic is the same as in production.
    c.unknown_settle_ms = 50;
    c.request_timeout_ms = 2_000;
    c
}

pub fn client(sim: &Simulator, venue: Venue) -> VenueClient {
    VenueClient::new(config(sim, venue)).expect("client builds")
}

pub fn symbol(venue: Venue) -> &'static str {
    match venue.kind() {
        VenueKind::Mexc => "BTCUSDT",
        VenueKind::Gate => "BTC_USDT",
    }
}

/// The venue's rules for BTC/USDT, fetched from the simulator's listing endpoint and
/// parsed by arb-market.
pub async fn rules(sim: &Simulator, venue: Venue) -> Arc<SymbolRules> {
    let e = sim.endpoints();
    let (url, parse): (String, fn(&str) -> _) = match venue.kind() {
        VenueKind::Mexc => (
            format!("{}/api/v3/exchangeInfo", e.mexc_rest),
            arb_market::symbols::parse_mexc,
        ),
        VenueKind::Gate => (
            format!("{}/spot/currency_pairs", e.gate_rest),
            arb_market::symbols::parse_gate,
        ),
    };
    let body = reqwest::get(url).await.unwrap().text().await.unwrap();
    let listings = parse(&body).expect("listing parses");
    let l = listings
        .iter()
        .find(|l| &*l.rules.venue_symbol == symbol(venue))
        .expect("BTC/USDT listed");
    Arc::new(SymbolRules::from_market(venue, &l.rules).expect("tradable"))
}

/// (best bid, best ask) from the simulator's true book.
pub fn best(sim: &Simulator, venue: Venue) -> (Amount, Amount) {
    let b = sim.truth_book(venue, symbol(venue), 1).expect("book");
    (
        Amount::parse(&b.bids[0].0).unwrap(),
        Amount::parse(&b.asks[0].0).unwrap(),
    )
}

pub fn amt(s: &str) -> Amount {
    Amount::parse(s).unwrap()
}

/// Queries an order the way the venues allow: asked again while MEXC's read still lags
/// the placement (-2013 for a just-accepted order), a bounded number of times.
pub async fn query_settled(c: &VenueClient, sym: &str, by: &OrderRef) -> OrderReport {
    for _ in 0..300 {
        match c.query(sym, by).await {
            Ok(r) => return r,
            Err(e) if e.is_order_not_found() => {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await
            }
            Err(e) => panic!("query {by:?}: {e}"),
        }
    }
    panic!("query {by:?}: never found");
}

/// An order by the venue id its placement answer gave (Gate finds a finished order by
/// its `text` only in its histories).
pub fn by_venue_id(c: &VenueClient, cid: &ClientOrderId) -> OrderRef {
    OrderRef::Venue(c.tracker().get(cid).unwrap().order_id.unwrap())
}

/// How many orders with this client id the venue holds (the ground truth).
pub fn copies(sim: &Simulator, venue: Venue, cid: &ClientOrderId) -> usize {
    sim.orders(venue, &sim.trader(venue).api_key)
        .iter()
        .filter(|o| ClientOrderId::from_venue(&o.client_order_id) == *cid)
        .count()
}

/// A simulator fault on every symbol of `venue`, for `count` uses (None: until cleared).
pub fn fault(venue: Venue, kind: FaultKind, count: Option<u64>) -> FaultSpec {
    FaultSpec {
        venue,
        symbol: None,
        kind,
        count,
        duration_ms: None,
    }
}
