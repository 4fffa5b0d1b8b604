//! Gate's symbol list (`GET /spot/currency_pairs`) and spelling (`BTC_USDT`).

use arb_core::{Venue, VenueKind};
use serde::Deserialize;

use crate::protocol::SymbolFormat;
use crate::symbols::{dec, int, DecText, Listing, SymbolError, SymbolStatus, VenueRules};

/// Gate's [`SymbolFormat`].
#[derive(Clone, Copy, Debug)]
pub struct GateSymbols;

impl SymbolFormat for GateSymbols {
    fn kind(&self) -> VenueKind {
        VenueKind::Gate
    }

    fn parse_list(&self, body: &str) -> Result<Vec<Listing>, SymbolError> {
        parse_gate(body)
    }

    fn spell(&self, base: &str, quote: &str) -> String {
        format!("{base}_{quote}")
    }
}

#[derive(Deserialize)]
struct GatePair {
    id: String,
    base: String,
    quote: String,
    #[serde(default)]
    fee: DecText,
    #[serde(default)]
    min_base_amount: DecText,
    #[serde(default)]
    min_quote_amount: DecText,
    #[serde(default)]
    amount_precision: DecText,
    #[serde(default)]
    precision: DecText,
    #[serde(default)]
    trade_status: Option<String>,
    #[serde(default)]
    buy_start: DecText,
    #[serde(default)]
    sell_start: DecText,
}

/// Parses Gate `currency_pairs`: `precision` is the price decimals, `amount_precision`
/// the amount decimals, `fee` a percent (`"0.2"` = 0.2%, maker and taker alike),
/// `trade_status` tradable / buyable / sellable / untradable, `buy_start` / `sell_start`
/// the unix seconds from which buying / selling opens (0 or absent: open), and
/// `min_quote_amount` the minimum notional. Gate refuses no order type per pair.
///
/// # Errors
/// Invalid JSON or an unreadable field.
pub fn parse_gate(body: &str) -> Result<Vec<Listing>, SymbolError> {
    let v = Venue::GATE;
    let pairs: Vec<GatePair> =
        serde_json::from_str(body).map_err(|source| SymbolError::Json { venue: v, source })?;
    let mut out = Vec::with_capacity(pairs.len());
    for p in pairs {
        let sym = p.id.as_str();
        let status = match p.trade_status.as_deref().unwrap_or("tradable") {
            "tradable" => SymbolStatus::Trading,
            "buyable" => SymbolStatus::BuyOnly,
            "sellable" => SymbolStatus::SellOnly,
            _ => SymbolStatus::Offline,
        };
        let fee = dec(v, sym, "fee", &p.fee)?.percent_to_fraction();
        // Unix seconds; a fraction or a value past i64 is unreadable, not "open".
        let start = |field: &'static str, t: &DecText| -> Result<i64, SymbolError> {
            let d = dec(v, sym, field, t)?;
            d.to_scale(0)
                .and_then(|s| i64::try_from(s).ok())
                .ok_or_else(|| SymbolError::Field {
                    venue: v,
                    symbol: sym.to_owned(),
                    field,
                    reason: format!("{d} is not unix seconds"),
                })
        };
        let rules = VenueRules {
            venue_symbol: sym.into(),
            price_decimals: int(v, sym, "precision", &p.precision)?,
            amount_decimals: int(v, sym, "amount_precision", &p.amount_precision)?,
            min_qty: dec(v, sym, "min_base_amount", &p.min_base_amount)?,
            min_notional: dec(v, sym, "min_quote_amount", &p.min_quote_amount)?,
            status,
            api_tradable: status != SymbolStatus::Offline,
            market_orders: true,
            quote_market_orders: true,
            buy_start_s: start("buy_start", &p.buy_start)?,
            sell_start_s: start("sell_start", &p.sell_start)?,
            maker_fee: fee,
            taker_fee: fee,
        };
        out.push(Listing {
            base: p.base.to_ascii_uppercase(),
            quote: p.quote.to_ascii_uppercase(),
            rules,
        });
    }
    Ok(out)
}
