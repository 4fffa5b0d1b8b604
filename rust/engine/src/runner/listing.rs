//! Which configured symbols trade where: a symbol that fewer than two enabled venues list
//! stops start-up (naming the venues that lack it); a venue whose rules refuse the API
//! (not API-tradable, one side only, a side not open yet) is left out for that symbol,
//! and a symbol left with fewer than two venues is not traded, each said in one line.

use arb_core::Venue;
use arb_market::{SymbolId, SymbolTable, VenueRules};

/// A configured symbol and the venues it trades on, with their rules.
pub(super) struct Tradable<'a> {
    pub unified: &'a str,
    pub id: SymbolId,
    pub venues: Vec<(Venue, &'a VenueRules)>,
}

/// What start-up trades, and one line per symbol that lost a venue (or every venue).
pub(super) struct Resolved<'a> {
    pub tradable: Vec<Tradable<'a>>,
    pub left_out: Vec<String>,
}

fn names(venues: &[Venue]) -> String {
    venues
        .iter()
        .map(|v| v.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Resolves `symbols` over `venues` (the enabled ones, in order) at `now_s` (unix
/// seconds, for the venues' opening times).
///
/// # Errors
/// Every symbol that fewer than two of `venues` list, with the venues that lack it; or,
/// when no symbol is left to trade, why each was left out.
pub(super) fn resolve<'a>(
    table: &'a SymbolTable,
    symbols: &'a [String],
    venues: &[Venue],
    now_s: i64,
) -> Result<Resolved<'a>, String> {
    let mut unlisted = Vec::new();
    let mut out = Resolved {
        tradable: Vec::new(),
        left_out: Vec::new(),
    };
    for unified in symbols {
        let info = table.id(unified).and_then(|id| table.info(id));
        let lacking: Vec<Venue> = venues
            .iter()
            .copied()
            .filter(|&v| info.and_then(|i| i.rules(v)).is_none())
            .collect();
        let Some(info) = info.filter(|_| venues.len() - lacking.len() >= 2) else {
            unlisted.push(format!("{unified} is not listed on {}", names(&lacking)));
            continue;
        };
        let mut trades = Vec::new();
        let mut refused = Vec::new();
        for &v in venues {
            let Some(r) = info.rules(v) else { continue };
            match r.refusal(now_s) {
                None => trades.push((v, r)),
                Some(why) => refused.push(format!("{v}: {why}")),
            }
        }
        if !refused.is_empty() {
            let on: Vec<Venue> = trades.iter().map(|(v, _)| *v).collect();
            out.left_out.push(if on.len() >= 2 {
                format!(
                    "{unified} trades on {}; left out on {}",
                    names(&on),
                    refused.join("; ")
                )
            } else {
                format!(
                    "{unified} is not traded (it needs two venues): left out on {}",
                    refused.join("; ")
                )
            });
        }
        if trades.len() >= 2 {
            out.tradable.push(Tradable {
                unified,
                id: info.id,
                venues: trades,
            });
        }
    }
    if !unlisted.is_empty() {
        return Err(format!(
            "{} (a symbol trades on at least two enabled venues that list it)",
            unlisted.join("; ")
        ));
    }
    if out.tradable.is_empty() {
        return Err(format!(
            "no configured symbol is tradable through the API on two venues: {}",
            out.left_out.join("; ")
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MEXC: &str = r#"{"symbols":[
      {"symbol":"BTCUSDT","baseAsset":"BTC","quoteAsset":"USDT","baseAssetPrecision":6,"quotePrecision":2},
      {"symbol":"ETHUSDT","baseAsset":"ETH","quoteAsset":"USDT","baseAssetPrecision":4,"quotePrecision":2},
      {"symbol":"PEPEUSDT","baseAsset":"PEPE","quoteAsset":"USDT","baseAssetPrecision":0,"quotePrecision":10,"isSpotTradingAllowed":false},
      {"symbol":"DOGEUSDT","baseAsset":"DOGE","quoteAsset":"USDT","baseAssetPrecision":2,"quotePrecision":5,"orderTypes":["LIMIT"]}]}"#;
    const GATE: &str = r#"[
      {"id":"BTC_USDT","base":"BTC","quote":"USDT","amount_precision":6,"precision":1},
      {"id":"PEPE_USDT","base":"PEPE","quote":"USDT","amount_precision":0,"precision":10},
      {"id":"DOGE_USDT","base":"DOGE","quote":"USDT","amount_precision":1,"precision":5,"buy_start":2000000000}]"#;

    fn table() -> SymbolTable {
        SymbolTable::from_json(Some(MEXC), Some(GATE)).unwrap()
    }

    fn syms(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn a_symbol_two_venues_do_not_list_stops_start_up_naming_the_venues() {
        let t = table();
        let both = [Venue::MEXC, Venue::GATE];
        let s = syms(&["FOO/BAR", "BTC/USDT", "ETH/USDT"]);
        let e = resolve(&t, &s, &both, 0).err().unwrap();
        assert!(e.contains("FOO/BAR is not listed on mexc, gateio"), "{e}");
        assert!(e.contains("ETH/USDT is not listed on gateio"), "{e}");
        assert!(!e.contains("BTC/USDT"), "{e}");
    }

    #[test]
    fn a_venue_that_refuses_the_api_is_left_out_with_a_line() {
        let t = table();
        let both = [Venue::MEXC, Venue::GATE];
        let s = syms(&["BTC/USDT", "PEPE/USDT", "DOGE/USDT"]);
        let r = resolve(&t, &s, &both, 1_900_000_000).unwrap();
        let traded: Vec<&str> = r.tradable.iter().map(|x| x.unified).collect();
        assert_eq!(traded, ["BTC/USDT"]);
        assert_eq!(r.left_out.len(), 2, "{:?}", r.left_out);
        assert!(
            r.left_out[0].starts_with("PEPE/USDT is not traded")
                && r.left_out[0].contains("mexc: not tradable through the API"),
            "{:?}",
            r.left_out
        );
        assert!(
            r.left_out[1].contains("gateio: buying opens"),
            "{:?}",
            r.left_out
        );
        // Once buying opens, DOGE trades on both (market orders disabled on MEXC is a
        // rule the legs follow, not a reason to leave it out).
        let r = resolve(&t, &s, &both, 2_000_000_000).unwrap();
        let traded: Vec<&str> = r.tradable.iter().map(|x| x.unified).collect();
        assert_eq!(traded, ["BTC/USDT", "DOGE/USDT"]);
        // Nothing left to trade is an error saying why.
        let e = resolve(&t, &syms(&["PEPE/USDT"]), &both, 0).err().unwrap();
        assert!(
            e.contains("no configured symbol") && e.contains("PEPE/USDT"),
            "{e}"
        );
    }
}
