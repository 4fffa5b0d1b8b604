//! The symbol table: unified symbols (ccxt's `BTC/USDT`) interned as [`SymbolId`]s, each
//! venue's spelling (`BTCUSDT` on MEXC, `BTC_USDT` on Gate.io) in both directions, the
//! trading rules per venue, the common set, and the book scales shared by the venues.
//!
//! Built once from the venues' symbol lists (each read by its venue's
//! [`SymbolFormat`](crate::protocol::SymbolFormat) in [`crate::venues`]), then read-only:
//! every lookup is a hash probe or an index, no lock, no allocation.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use arb_core::{Venue, VenueMap};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use crate::decimal::Decimal;

/// The venues' list parsers, at the path they have always had.
pub use crate::venues::{gate::parse_gate, mexc::parse_mexc};

/// Interned id of a unified symbol; indexes every per-symbol array in the market and
/// engine crates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SymbolId(pub u32);

impl SymbolId {
    #[inline]
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// Venue-side trading status, normalised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolStatus {
    Trading,
    BuyOnly,
    SellOnly,
    Paused,
    Offline,
}

impl SymbolStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            SymbolStatus::Trading => "trading",
            SymbolStatus::BuyOnly => "buy_only",
            SymbolStatus::SellOnly => "sell_only",
            SymbolStatus::Paused => "paused",
            SymbolStatus::Offline => "offline",
        }
    }
}

/// One venue's rules for one symbol. Fees are fractions (0.001 = 0.1%), exact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VenueRules {
    /// The venue's own spelling (`BTCUSDT`, `BTC_USDT`).
    pub venue_symbol: Box<str>,
    /// Decimals allowed in an order price.
    pub price_decimals: u32,
    /// Decimals allowed in an order amount (base quantity).
    pub amount_decimals: u32,
    /// Minimum base quantity of an order (zero when the venue sets none).
    pub min_qty: Decimal,
    /// Minimum quote value of an order (zero when the venue sets none).
    pub min_notional: Decimal,
    pub status: SymbolStatus,
    /// False when the venue does not allow API (spot) trading for the symbol.
    pub api_tradable: bool,
    /// False when the venue refuses API market orders for it (MEXC: `MARKET` missing
    /// from `orderTypes`; such a placement answers 30051 / 30019).
    pub market_orders: bool,
    /// False when a market buy may not be sized in quote (MEXC
    /// `quoteOrderQtyMarketAllowed`).
    pub quote_market_orders: bool,
    /// Unix seconds from which the API may buy / sell it (Gate `buy_start` /
    /// `sell_start`); 0 when the venue sets no such time.
    pub buy_start_s: i64,
    pub sell_start_s: i64,
    pub maker_fee: Decimal,
    pub taker_fee: Decimal,
}

impl VenueRules {
    /// Why the engine cannot trade the symbol here at `now_s` (unix seconds), or `None`.
    /// An arbitrage leg may have to be unwound on the venue it filled on, so a venue
    /// that lets the API trade one side only is refused as well.
    pub fn refusal(&self, now_s: i64) -> Option<String> {
        let at = |t: i64| format!("unix time {t} (in {} s)", t - now_s);
        if !self.api_tradable {
            return Some(match self.status {
                SymbolStatus::Trading => "not tradable through the API".into(),
                st => format!("not tradable through the API (status {})", st.as_str()),
            });
        }
        match self.status {
            SymbolStatus::BuyOnly => return Some("the API may only buy it".into()),
            SymbolStatus::SellOnly => return Some("the API may only sell it".into()),
            _ => {}
        }
        if self.buy_start_s > now_s {
            return Some(format!("buying opens at {}", at(self.buy_start_s)));
        }
        if self.sell_start_s > now_s {
            return Some(format!("selling opens at {}", at(self.sell_start_s)));
        }
        None
    }
}

/// A unified symbol with its per-venue rules and the scales its books use.
#[derive(Clone, Debug)]
pub struct SymbolInfo {
    pub id: SymbolId,
    /// `BASE/QUOTE`.
    pub unified: Box<str>,
    pub base: Box<str>,
    pub quote: Box<str>,
    /// The venues that list it.
    pub venues: VenueMap<VenueRules>,
    /// Decimals of book prices on every venue: the larger price precision plus
    /// [`PRICE_HEADROOM`].
    pub price_scale: u32,
    /// Decimals of book quantities on every venue: the larger amount precision plus
    /// headroom, because Gate's books carry amounts finer than `amount_precision`
    /// (HAI_ETH: precision 3, book amount `20.51071557`; OMG_USDT: `152.9783789102`).
    pub qty_scale: u32,
}

impl SymbolInfo {
    pub fn rules(&self, venue: Venue) -> Option<&VenueRules> {
        self.venues.get(venue)
    }
}

/// Extra price decimals over the venues' price precision: Gate keeps resting orders
/// placed before a precision change (ZKS_ETH: precision 6, book price `0.00001063`;
/// NEO_BTC: 7 and `0.00000089`).
pub const PRICE_HEADROOM: u32 = 2;
/// Price scales stay at most this (unless the precision itself is finer).
pub const MAX_PRICE_SCALE: u32 = 12;
/// Extra quantity decimals over the venues' amount precision (see [`SymbolInfo::qty_scale`]).
pub const QTY_HEADROOM: u32 = 7;
/// Quantity scales stay in `[MIN_QTY_SCALE, MAX_QTY_SCALE]` (before the amount precision
/// itself, which always fits): with 12 decimals a `u64` still holds 18 million units.
pub const MIN_QTY_SCALE: u32 = 8;
pub const MAX_QTY_SCALE: u32 = 12;

/// Why a symbol list could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SymbolError {
    #[error("{venue} symbol list is not valid JSON: {source}")]
    Json {
        venue: Venue,
        #[source]
        source: serde_json::Error,
    },
    #[error("{venue} symbol {symbol}: field {field}: {reason}")]
    Field {
        venue: Venue,
        symbol: String,
        field: &'static str,
        reason: String,
    },
}

impl SymbolError {
    /// The same error, naming `venue` (an instance of the kind that parsed the list).
    pub fn at(self, venue: Venue) -> Self {
        match self {
            SymbolError::Json { source, .. } => SymbolError::Json { venue, source },
            SymbolError::Field {
                symbol,
                field,
                reason,
                ..
            } => SymbolError::Field {
                venue,
                symbol,
                field,
                reason,
            },
        }
    }
}

/// FxHash (rustc's hasher): a multiply-rotate per word, a few ns for a short symbol.
/// No new dependency for ~30 lines.
/// The keys are venue symbol names, not attacker-chosen at a rate that matters.
#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.hash = (self.hash.rotate_left(5) ^ w).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().unwrap_or([0; 8])));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(buf));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        // hashbrown indexes buckets with the LOW bits, but a multiply only mixes input
        // into the high bits: without this rotation, thousands of symbols sharing their
        // first bytes ("MX1..", "MX2..") would share buckets. (rustc-hash 2 does the same.)
        self.hash.rotate_left(26)
    }
}

pub type FxBuild = BuildHasherDefault<FxHasher>;
type Index = KeyIndex;

/// A string -> id map specialised for symbol names: keys of 1 to 16 bytes (all real
/// symbols) live inline in an open-addressing table as two words plus the length, so a
/// lookup is a couple of loads, a multiply and at most a few word compares, with no
/// pointer chase and no `memcmp`. Longer keys go to an ordinary hash map.
#[derive(Clone, Default)]
struct KeyIndex {
    slots: Vec<KeySlot>,
    len: usize,
    long: HashMap<Box<str>, SymbolId, FxBuild>,
}

#[derive(Clone, Copy, Default)]
struct KeySlot {
    k0: u64,
    k1: u64,
    /// Key length; 0 marks an empty slot (keys are never empty).
    klen: u32,
    id: u32,
}

/// Two words that, with the length, identify a key of 1..=16 bytes: overlapping reads
/// of its first and last bytes cover every byte.
#[inline(always)]
fn key_words(b: &[u8]) -> Option<(u64, u64)> {
    let n = b.len();
    let rd8 = |i: usize| {
        u64::from_le_bytes([
            b[i],
            b[i + 1],
            b[i + 2],
            b[i + 3],
            b[i + 4],
            b[i + 5],
            b[i + 6],
            b[i + 7],
        ])
    };
    let rd4 = |i: usize| u64::from(u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]));
    match n {
        8..=16 => Some((rd8(0), rd8(n - 8))),
        4..=7 => Some((rd4(0) | rd4(n - 4) << 32, 0)),
        1..=3 => Some((
            u64::from(b[0]) | u64::from(b[n / 2]) << 8 | u64::from(b[n - 1]) << 16,
            0,
        )),
        _ => None,
    }
}

#[inline(always)]
fn key_hash(k0: u64, k1: u64, n: u32) -> usize {
    let h = k0.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ k1.wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
        ^ u64::from(n);
    (h ^ (h >> 29)) as usize
}

impl KeyIndex {
    fn with_capacity(n: usize) -> Self {
        Self {
            slots: vec![KeySlot::default(); (2 * n).next_power_of_two().max(64)],
            ..Self::default()
        }
    }

    #[inline]
    fn get(&self, key: &str) -> Option<SymbolId> {
        let Some((k0, k1)) = key_words(key.as_bytes()) else {
            return self.long.get(key).copied();
        };
        if self.slots.is_empty() {
            return None;
        }
        let n = key.len() as u32;
        let mask = self.slots.len() - 1;
        let mut i = key_hash(k0, k1, n) & mask;
        loop {
            let s = &self.slots[i];
            if s.klen == 0 {
                return None;
            }
            if s.k0 == k0 && s.k1 == k1 && s.klen == n {
                return Some(SymbolId(s.id));
            }
            i = (i + 1) & mask;
        }
    }

    /// Inserts or replaces.
    fn insert(&mut self, key: &str, id: SymbolId) {
        let Some((k0, k1)) = key_words(key.as_bytes()) else {
            self.long.insert(key.into(), id);
            return;
        };
        // Keep the load at most 1/2 so probes stay short.
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let n = key.len() as u32;
        if self.place(KeySlot {
            k0,
            k1,
            klen: n,
            id: id.0,
        }) {
            self.len += 1;
        }
    }

    /// Puts a slot in place; true if it was new.
    fn place(&mut self, slot: KeySlot) -> bool {
        let mask = self.slots.len() - 1;
        let mut i = key_hash(slot.k0, slot.k1, slot.klen) & mask;
        loop {
            let s = &mut self.slots[i];
            if s.klen == 0 {
                *s = slot;
                return true;
            }
            if s.k0 == slot.k0 && s.k1 == slot.k1 && s.klen == slot.klen {
                s.id = slot.id;
                return false;
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let cap = (self.slots.len() * 2).max(64);
        let old = std::mem::replace(&mut self.slots, vec![KeySlot::default(); cap]);
        for s in old.into_iter().filter(|s| s.klen != 0) {
            self.place(s);
        }
    }
}

/// Every symbol known on any venue. Read-only after construction; share it in an `Arc`.
#[derive(Clone, Default)]
pub struct SymbolTable {
    infos: Vec<SymbolInfo>,
    by_unified: Index,
    by_venue: VenueMap<Index>,
    common: Vec<SymbolId>,
}

impl fmt::Debug for SymbolTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SymbolTable")
            .field("symbols", &self.infos.len())
            .field("common", &self.common.len())
            .finish()
    }
}

/// One venue's listing of one symbol, before interning.
#[derive(Clone, Debug)]
pub struct Listing {
    pub base: String,
    pub quote: String,
    pub rules: VenueRules,
}

impl SymbolTable {
    /// Builds the table from each venue's symbol list body, read by the venue's
    /// [`SymbolFormat`](crate::protocol::SymbolFormat).
    ///
    /// # Errors
    /// Invalid JSON, or a field that is present but unreadable (named in the error).
    pub fn from_bodies<'a>(
        bodies: impl IntoIterator<Item = (Venue, &'a str)>,
    ) -> Result<Self, SymbolError> {
        let mut listings = Vec::new();
        for (venue, body) in bodies {
            let parsed = crate::venues::symbol_format(venue)
                .parse_list(body)
                .map_err(|e| e.at(venue))?;
            listings.extend(parsed.into_iter().map(|l| (venue, l)));
        }
        Ok(Self::from_listings(listings))
    }

    /// Builds the table from parsed listings. A second listing of the same unified symbol
    /// on the same venue is ignored (the first wins).
    pub fn from_listings(listings: impl IntoIterator<Item = (Venue, Listing)>) -> Self {
        let listings = listings.into_iter();
        let n = listings.size_hint().0;
        let mut t = SymbolTable {
            infos: Vec::with_capacity(n),
            by_unified: KeyIndex::with_capacity(n),
            by_venue: VenueMap::new(),
            common: Vec::new(),
        };
        let mut unified = String::with_capacity(24);
        for (venue, l) in listings {
            unified.clear();
            unified.push_str(&l.base);
            unified.push('/');
            unified.push_str(&l.quote);
            let id = match t.by_unified.get(unified.as_str()) {
                Some(id) => id,
                None => {
                    let id = SymbolId(t.infos.len() as u32);
                    t.infos.push(SymbolInfo {
                        id,
                        unified: unified.as_str().into(),
                        base: l.base.as_str().into(),
                        quote: l.quote.as_str().into(),
                        venues: VenueMap::new(),
                        price_scale: 0,
                        qty_scale: 0,
                    });
                    t.by_unified.insert(unified.as_str(), id);
                    id
                }
            };
            let info = &mut t.infos[id.index()];
            if info.venues.contains(venue) {
                continue;
            }
            t.by_venue
                .get_or_insert_with(venue, || KeyIndex::with_capacity(n))
                .insert(&l.rules.venue_symbol, id);
            info.venues.insert(venue, l.rules);
        }
        for info in &mut t.infos {
            let price = info.venues.values().map(|r| r.price_decimals).max();
            let amount = info.venues.values().map(|r| r.amount_decimals).max();
            let (price, amount) = (price.unwrap_or(0), amount.unwrap_or(0));
            info.price_scale = (price + PRICE_HEADROOM)
                .min(MAX_PRICE_SCALE)
                .max(price)
                .min(arb_core::fixed::MAX_SCALE);
            info.qty_scale = (amount + QTY_HEADROOM)
                .clamp(MIN_QTY_SCALE, MAX_QTY_SCALE)
                .max(amount)
                .min(arb_core::fixed::MAX_SCALE);
            if info.venues.len() >= 2 {
                t.common.push(info.id);
            }
        }
        t
    }

    pub fn len(&self) -> usize {
        self.infos.len()
    }

    pub fn is_empty(&self) -> bool {
        self.infos.is_empty()
    }

    /// Unified `BASE/QUOTE` -> id.
    #[inline]
    pub fn id(&self, unified: &str) -> Option<SymbolId> {
        self.by_unified.get(unified)
    }

    /// A venue's spelling (`BTCUSDT` / `BTC_USDT`) -> id.
    #[inline]
    pub fn id_by_venue(&self, venue: Venue, venue_symbol: &str) -> Option<SymbolId> {
        self.by_venue.get(venue)?.get(venue_symbol)
    }

    /// Id -> unified `BASE/QUOTE`. Ids come from this table; a foreign id gives `None`.
    #[inline]
    pub fn unified(&self, id: SymbolId) -> Option<&str> {
        self.infos.get(id.index()).map(|i| &*i.unified)
    }

    /// Id -> the venue's spelling, if the symbol is listed there.
    #[inline]
    pub fn venue_symbol(&self, id: SymbolId, venue: Venue) -> Option<&str> {
        self.infos
            .get(id.index())?
            .rules(venue)
            .map(|r| &*r.venue_symbol)
    }

    #[inline]
    pub fn info(&self, id: SymbolId) -> Option<&SymbolInfo> {
        self.infos.get(id.index())
    }

    #[inline]
    pub fn rules(&self, id: SymbolId, venue: Venue) -> Option<&VenueRules> {
        self.infos.get(id.index())?.rules(venue)
    }

    /// Symbols listed on at least two venues (tradable across venues), in id order
    /// (computed once at build).
    pub fn common(&self) -> &[SymbolId] {
        &self.common
    }

    pub fn iter(&self) -> impl Iterator<Item = &SymbolInfo> {
        self.infos.iter()
    }

    /// The venues with at least one listing, in index order.
    pub fn venues(&self) -> Vec<Venue> {
        self.by_venue.venues().collect()
    }
}

/// Writes a unified symbol in a venue's spelling without a table (`BTC/USDT` ->
/// `BTCUSDT` / `BTC_USDT`). `None` if `unified` has no single `/`.
pub fn venue_spelling(unified: &str, venue: Venue) -> Option<String> {
    let (base, quote) = unified.split_once('/')?;
    if base.is_empty() || quote.is_empty() || quote.contains('/') {
        return None;
    }
    Some(crate::venues::symbol_format(venue).spell(base, quote))
}

// ---------------------------------------------------------------------------------
// What the venues' list parsers (in `crate::venues`) share.

/// A decimal that a venue writes as a string or a JSON number; kept as text so that it
/// is parsed exactly.
#[derive(Debug, Default)]
pub(crate) struct DecText(pub(crate) Option<String>);

impl<'de> Deserialize<'de> for DecText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = DecText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal string or number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DecText, E> {
                Ok(DecText(Some(v.to_owned())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<DecText, E> {
                Ok(DecText(Some(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<DecText, E> {
                Ok(DecText(Some(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<DecText, E> {
                // serde_json gives the shortest text that round-trips, which is the text
                // the venue wrote for any value with at most 15 significant digits.
                Ok(DecText(Some(format!("{v}"))))
            }
            fn visit_unit<E: de::Error>(self) -> Result<DecText, E> {
                Ok(DecText(None))
            }
        }
        d.deserialize_any(V)
    }
}

pub(crate) fn dec(
    venue: Venue,
    symbol: &str,
    field: &'static str,
    t: &DecText,
) -> Result<Decimal, SymbolError> {
    match &t.0 {
        None => Ok(Decimal::ZERO),
        Some(s) if s.is_empty() => Ok(Decimal::ZERO),
        Some(s) => Decimal::parse(s).map_err(|e| SymbolError::Field {
            venue,
            symbol: symbol.to_owned(),
            field,
            reason: format!("{s:?}: {e}"),
        }),
    }
}

pub(crate) fn int(
    venue: Venue,
    symbol: &str,
    field: &'static str,
    t: &DecText,
) -> Result<u32, SymbolError> {
    let bad = |reason: String| SymbolError::Field {
        venue,
        symbol: symbol.to_owned(),
        field,
        reason,
    };
    let s = t.0.as_deref().ok_or_else(|| bad("missing".into()))?;
    let v: u32 = s
        .parse()
        .map_err(|_| bad(format!("{s:?} is not a small integer")))?;
    if v > arb_core::fixed::MAX_SCALE {
        return Err(bad(format!("{v} decimals is more than 18")));
    }
    Ok(v)
}

/// Reads the body out of a capture line `URL -> unix_time: body` (the format of the
/// files in `data/captures`).
pub fn capture_body(line: &str) -> Option<&str> {
    let arrow = line.find(" -> ")?;
    let rest = &line[arrow + 4..];
    let colon = rest.find(": ")?;
    Some(&rest[colon + 2..])
}

#[cfg(test)]
mod tests {
    use super::*;

    const MEXC: &str = r#"{"timezone":"CST","serverTime":1,"symbols":[
      {"symbol":"BTCUSDT","status":"1","baseAsset":"BTC","baseAssetPrecision":6,"quoteAsset":"USDT","quotePrecision":2,"quoteAssetPrecision":2,
       "baseSizePrecision":"0.000001","quoteAmountPrecision":"1.000000000000000000000000000000000000","isSpotTradingAllowed":true,
       "makerCommission":"0","takerCommission":"0.0005","orderTypes":["LIMIT"],"filters":[]},
      {"symbol":"ETHUSDT","status":"2","baseAsset":"ETH","baseAssetPrecision":5,"quoteAsset":"USDT","quotePrecision":2,
       "baseSizePrecision":0.0001,"quoteAmountPrecision":5,"isSpotTradingAllowed":true,"makerCommission":0,"takerCommission":0.0005},
      {"symbol":"MXUSDT","status":"1","baseAsset":"MX","baseAssetPrecision":2,"quoteAsset":"USDT","quotePrecision":4,
       "isSpotTradingAllowed":false,"makerCommission":"0","takerCommission":"0"}]}"#;

    const GATE: &str = r#"[
      {"id":"BTC_USDT","base":"BTC","quote":"USDT","fee":"0.1","min_base_amount":"0.0001","min_quote_amount":"3","amount_precision":6,"precision":1,"trade_status":"tradable"},
      {"id":"ETH_USDT","base":"ETH","quote":"USDT","fee":"0.2","min_quote_amount":"1","amount_precision":4,"precision":2,"trade_status":"sellable"},
      {"id":"HAI_ETH","base":"HAI","quote":"ETH","fee":"0.2","min_quote_amount":"0.001","amount_precision":3,"precision":8,"trade_status":"untradable"}]"#;

    #[test]
    fn builds_both_directions_and_common() {
        let t = SymbolTable::from_json(Some(MEXC), Some(GATE)).unwrap();
        assert_eq!(t.len(), 4);
        let btc = t.id("BTC/USDT").unwrap();
        assert_eq!(t.id_by_venue(Venue::MEXC, "BTCUSDT"), Some(btc));
        assert_eq!(t.id_by_venue(Venue::GATE, "BTC_USDT"), Some(btc));
        assert_eq!(t.venue_symbol(btc, Venue::MEXC), Some("BTCUSDT"));
        assert_eq!(t.venue_symbol(btc, Venue::GATE), Some("BTC_USDT"));
        assert_eq!(t.unified(btc), Some("BTC/USDT"));
        let names: Vec<_> = t
            .common()
            .iter()
            .map(|&id| t.unified(id).unwrap())
            .collect();
        assert_eq!(names, ["BTC/USDT", "ETH/USDT"]);
        assert_eq!(t.id_by_venue(Venue::MEXC, "BTC_USDT"), None);
        assert_eq!(t.venue_symbol(t.id("HAI/ETH").unwrap(), Venue::MEXC), None);
    }

    #[test]
    fn rules_are_exact_and_scales_cover_both_venues() {
        let t = SymbolTable::from_json(Some(MEXC), Some(GATE)).unwrap();
        let btc = t.info(t.id("BTC/USDT").unwrap()).unwrap();
        let m = btc.rules(Venue::MEXC).unwrap();
        let g = btc.rules(Venue::GATE).unwrap();
        assert_eq!((m.price_decimals, m.amount_decimals), (2, 6));
        assert_eq!((g.price_decimals, g.amount_decimals), (1, 6));
        assert_eq!(m.min_qty.to_string(), "0.000001");
        assert_eq!(m.min_notional.to_string(), "1");
        assert_eq!(m.taker_fee.to_string(), "0.0005");
        assert!(m.maker_fee.is_zero());
        assert_eq!(g.maker_fee.to_string(), "0.001");
        assert_eq!(g.min_notional.to_string(), "3");
        assert_eq!(btc.price_scale, 4);
        assert_eq!(btc.qty_scale, 12);
        let eth = t.info(t.id("ETH/USDT").unwrap()).unwrap();
        assert_eq!(eth.rules(Venue::MEXC).unwrap().status, SymbolStatus::Paused);
        assert!(!eth.rules(Venue::MEXC).unwrap().api_tradable);
        assert_eq!(
            eth.rules(Venue::MEXC).unwrap().min_qty.to_string(),
            "0.0001"
        );
        assert_eq!(
            eth.rules(Venue::GATE).unwrap().status,
            SymbolStatus::SellOnly
        );
        let mx = t.rules(t.id("MX/USDT").unwrap(), Venue::MEXC).unwrap();
        assert!(!mx.api_tradable);
        let hai = t.info(t.id("HAI/ETH").unwrap()).unwrap();
        assert_eq!(hai.qty_scale, 10);
        assert!(arb_core::fixed::parse_scaled("20.51071557", hai.qty_scale).is_ok());
        assert!(!hai.rules(Venue::GATE).unwrap().api_tradable);
    }

    #[test]
    fn order_types_sides_and_start_times_are_rules() {
        let mexc = r#"{"symbols":[
          {"symbol":"DOGEUSDT","status":"1","baseAsset":"DOGE","baseAssetPrecision":2,"quotePrecision":5,"quoteAsset":"USDT",
           "orderTypes":["LIMIT","LIMIT_MAKER","IMMEDIATE_OR_CANCEL"],"quoteOrderQtyMarketAllowed":false,"isSpotTradingAllowed":true,"tradeSideType":1},
          {"symbol":"AUSDT","status":"1","baseAsset":"A","baseAssetPrecision":2,"quotePrecision":5,"quoteAsset":"USDT","tradeSideType":2},
          {"symbol":"BUSDT","status":"1","baseAsset":"B","baseAssetPrecision":2,"quotePrecision":5,"quoteAsset":"USDT","tradeSideType":"3",
           "orderTypes":["LIMIT","MARKET"],"quoteOrderQtyMarketAllowed":true}]}"#;
        let gate = r#"[
          {"id":"TON_USDT","base":"TON","quote":"USDT","fee":"0.1","min_quote_amount":"3","amount_precision":2,"precision":4,
           "trade_status":"tradable","buy_start":1900000000,"sell_start":0},
          {"id":"A_USDT","base":"A","quote":"USDT","amount_precision":2,"precision":4,"trade_status":"sellable","sell_start":"1600000000"}]"#;
        let t = SymbolTable::from_json(Some(mexc), Some(gate)).unwrap();
        let r = |s: &str, v| t.rules(t.id(s).unwrap(), v).unwrap().clone();
        let now = 1_800_000_000;
        let doge = r("DOGE/USDT", Venue::MEXC);
        assert!(doge.api_tradable && !doge.market_orders && !doge.quote_market_orders);
        assert_eq!(doge.refusal(now), None, "a limit-only symbol still trades");
        let a = r("A/USDT", Venue::MEXC);
        assert_eq!((a.status, a.market_orders), (SymbolStatus::BuyOnly, true));
        assert!(a.refusal(now).unwrap().contains("only buy"));
        let b = r("B/USDT", Venue::MEXC);
        assert_eq!(b.status, SymbolStatus::SellOnly);
        assert!(b.market_orders && b.quote_market_orders);
        let ton = r("TON/USDT", Venue::GATE);
        assert_eq!((ton.buy_start_s, ton.sell_start_s), (1_900_000_000, 0));
        assert!(ton.min_notional.to_string() == "3" && ton.market_orders);
        let why = ton.refusal(now).unwrap();
        assert!(
            why.contains("buying opens") && why.contains("1900000000"),
            "{why}"
        );
        assert_eq!(ton.refusal(1_900_000_000), None);
        let ga = r("A/USDT", Venue::GATE);
        assert_eq!(ga.sell_start_s, 1_600_000_000);
        assert!(ga.refusal(now).unwrap().contains("only sell"));
        let bad = r#"[{"id":"X_Y","base":"X","quote":"Y","precision":1,"amount_precision":1,"buy_start":"1.5"}]"#;
        let e = SymbolTable::from_json(None, Some(bad))
            .unwrap_err()
            .to_string();
        assert!(e.contains("buy_start") && e.contains("X_Y"), "{e}");
    }

    #[test]
    fn bad_fields_are_named() {
        let bad = r#"[{"id":"X_Y","base":"X","quote":"Y","precision":"two","amount_precision":1}]"#;
        let e = SymbolTable::from_json(None, Some(bad))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("gateio") && e.contains("X_Y") && e.contains("precision"),
            "{e}"
        );
        let e = SymbolTable::from_json(Some("{"), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("mexc"), "{e}");
    }

    #[test]
    fn real_gate_list_of_1458_pairs() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../data/captures/gateio/GATEIO.0"
        );
        let Ok(text) = std::fs::read_to_string(path) else {
            panic!("capture {path} missing");
        };
        let body = capture_body(text.lines().next().unwrap()).unwrap();
        let t = SymbolTable::from_json(None, Some(body)).unwrap();
        assert_eq!(t.len(), 1458);
        let hai = t.id_by_venue(Venue::GATE, "HAI_ETH").unwrap();
        assert_eq!(t.unified(hai), Some("HAI/ETH"));
        for info in t.iter() {
            let g = info.rules(Venue::GATE).unwrap();
            assert_eq!(t.id_by_venue(Venue::GATE, &g.venue_symbol), Some(info.id));
            assert_eq!(
                venue_spelling(&info.unified, Venue::GATE).as_deref(),
                Some(&*g.venue_symbol)
            );
        }
        assert!(t.common().is_empty());
    }

    proptest::proptest! {
        /// The inline-key index behaves like a HashMap for any keys, short or long.
        #[test]
        fn key_index_is_a_map(keys in proptest::collection::vec("[A-Z0-9/_]{0,20}", 0..300), probes in proptest::collection::vec("[A-Z0-9/_]{0,20}", 0..50)) {
            let mut idx = KeyIndex::default();
            let mut reference = HashMap::new();
            for (i, k) in keys.iter().enumerate() {
                if k.is_empty() { continue; }
                idx.insert(k, SymbolId(i as u32));
                reference.insert(k.clone(), SymbolId(i as u32));
            }
            for k in keys.iter().chain(probes.iter()) {
                if k.is_empty() { continue; }
                proptest::prop_assert_eq!(idx.get(k), reference.get(k).copied(), "{}", k);
            }
        }
    }

    #[test]
    fn key_words_distinguish_lengths_and_bytes() {
        let keys = [
            "A",
            "AB",
            "ABC",
            "ABCD",
            "ABCDE",
            "ABCDEFG",
            "ABCDEFGH",
            "ABCDEFGHI",
            "ABCDEFGHIJKLMNOP",
            "BBC",
            "ACC",
            "A/B",
            "AB/",
        ];
        let mut idx = KeyIndex::default();
        for (i, k) in keys.iter().enumerate() {
            idx.insert(k, SymbolId(i as u32));
        }
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(idx.get(k), Some(SymbolId(i as u32)), "{k}");
        }
        assert_eq!(idx.get("ABCDEFGHIJKLMNOPQ"), None);
        assert_eq!(idx.get("ABD"), None);
    }

    #[test]
    fn spelling_without_table() {
        assert_eq!(venue_spelling("BTC/USDT", Venue::MEXC).unwrap(), "BTCUSDT");
        assert_eq!(venue_spelling("BTC/USDT", Venue::GATE).unwrap(), "BTC_USDT");
        assert!(venue_spelling("BTCUSDT", Venue::GATE).is_none());
        assert!(venue_spelling("A/B/C", Venue::GATE).is_none());
    }
}
