//! MEXC's symbol list (`GET /api/v3/exchangeInfo`) and spelling (`BTCUSDT`).

use arb_core::{Venue, VenueKind};
use serde::Deserialize;

use crate::protocol::SymbolFormat;
use crate::symbols::{dec, int, DecText, Listing, SymbolError, SymbolStatus, VenueRules};

/// MEXC's [`SymbolFormat`].
#[derive(Clone, Copy, Debug)]
pub struct MexcSymbols;

impl SymbolFormat for MexcSymbols {
    fn kind(&self) -> VenueKind {
        VenueKind::Mexc
    }

    fn parse_list(&self, body: &str) -> Result<Vec<Listing>, SymbolError> {
        parse_mexc(body)
    }

    fn spell(&self, base: &str, quote: &str) -> String {
        format!("{base}{quote}")
    }
}

#[derive(Deserialize)]
struct MexcInfo {
    symbols: Vec<MexcSymbol>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MexcSymbol {
    symbol: String,
    #[serde(default)]
    status: DecText,
    base_asset: String,
    quote_asset: String,
    #[serde(default)]
    base_asset_precision: DecText,
    #[serde(default)]
    quote_precision: DecText,
    #[serde(default)]
    quote_asset_precision: DecText,
    #[serde(default)]
    base_size_precision: DecText,
    #[serde(default)]
    quote_amount_precision: DecText,
    #[serde(default)]
    is_spot_trading_allowed: Option<bool>,
    #[serde(default)]
    order_types: Option<Vec<String>>,
    #[serde(default)]
    quote_order_qty_market_allowed: Option<bool>,
    #[serde(default)]
    trade_side_type: DecText,
    #[serde(default)]
    maker_commission: DecText,
    #[serde(default)]
    taker_commission: DecText,
}

/// Parses MEXC `exchangeInfo`: `baseAssetPrecision` is the amount decimals,
/// `quotePrecision` (or `quoteAssetPrecision`) the price decimals, `baseSizePrecision`
/// the minimum quantity, `quoteAmountPrecision` the minimum notional, status `"1"`
/// (or `"ENABLED"`) online, `"2"` paused, `"3"` offline; `orderTypes` without `MARKET`
/// refuses market orders, `tradeSideType` `2` buys only, `3` sells only, `4` neither
/// (`1` or absent: both).
///
/// # Errors
/// Invalid JSON or an unreadable field.
pub fn parse_mexc(body: &str) -> Result<Vec<Listing>, SymbolError> {
    let v = Venue::MEXC;
    let info: MexcInfo =
        serde_json::from_str(body).map_err(|source| SymbolError::Json { venue: v, source })?;
    let mut out = Vec::with_capacity(info.symbols.len());
    for s in info.symbols {
        let sym = s.symbol.as_str();
        let price_src = if s.quote_precision.0.is_some() {
            &s.quote_precision
        } else {
            &s.quote_asset_precision
        };
        let status = match s.status.0.as_deref().unwrap_or("1") {
            "1" | "ENABLED" | "TRADING" => SymbolStatus::Trading,
            "2" | "PAUSE" | "HALT" => SymbolStatus::Paused,
            _ => SymbolStatus::Offline,
        };
        let status = match (status, s.trade_side_type.0.as_deref().unwrap_or("1")) {
            (SymbolStatus::Trading, "2") => SymbolStatus::BuyOnly,
            (SymbolStatus::Trading, "3") => SymbolStatus::SellOnly,
            (SymbolStatus::Trading, "4") => SymbolStatus::Paused,
            (st, _) => st,
        };
        let market_orders = s
            .order_types
            .as_ref()
            .is_none_or(|t| t.iter().any(|x| x.eq_ignore_ascii_case("MARKET")));
        let rules = VenueRules {
            venue_symbol: sym.into(),
            price_decimals: int(v, sym, "quotePrecision", price_src)?,
            amount_decimals: int(v, sym, "baseAssetPrecision", &s.base_asset_precision)?,
            min_qty: dec(v, sym, "baseSizePrecision", &s.base_size_precision)?,
            min_notional: dec(v, sym, "quoteAmountPrecision", &s.quote_amount_precision)?,
            status,
            api_tradable: s.is_spot_trading_allowed.unwrap_or(true)
                && matches!(
                    status,
                    SymbolStatus::Trading | SymbolStatus::BuyOnly | SymbolStatus::SellOnly
                ),
            market_orders,
            quote_market_orders: market_orders && s.quote_order_qty_market_allowed.unwrap_or(true),
            buy_start_s: 0,
            sell_start_s: 0,
            maker_fee: dec(v, sym, "makerCommission", &s.maker_commission)?,
            taker_fee: dec(v, sym, "takerCommission", &s.taker_commission)?,
        };
        out.push(Listing {
            base: s.base_asset.to_ascii_uppercase(),
            quote: s.quote_asset.to_ascii_uppercase(),
            rules,
        });
    }
    Ok(out)
}
