//! What an order is before it reaches a venue: side, kind, time in force, the symbol's
//! trading rules it is quantized with, and the client order id that names it.
//!
//! Client order ids carry the arbitrage they belong to (`<prefix>_<txn base36>_<leg>`),
//! so crash recovery can list a venue's orders and tell which transaction and which leg
//! each one is, with no local state. The form fits both venues: Gate wants `t-` plus at
//! most 28 bytes of `[0-9A-Za-z_.-]`, MEXC at most 32 characters; ours is at most 24.

use std::fmt;
use std::sync::Arc;

use arb_core::fixed::Round;
use arb_core::{ErrorClass, Venue};

use crate::amount::Amount;
use crate::error::ExecError;

pub use arb_core::Side;

/// How long a limit order lives. Post-only is a time in force here because both venues
/// treat it as one (MEXC `LIMIT_MAKER`, Gate `poc`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeInForce {
    Gtc,
    Ioc,
    Fok,
    PostOnly,
}

impl TimeInForce {
    pub fn parse(s: &str) -> Option<TimeInForce> {
        match s.to_ascii_lowercase().as_str() {
            "gtc" => Some(TimeInForce::Gtc),
            "ioc" => Some(TimeInForce::Ioc),
            "fok" => Some(TimeInForce::Fok),
            "post_only" | "poc" | "postonly" | "limit_maker" => Some(TimeInForce::PostOnly),
            _ => None,
        }
    }
}

/// The trading rules of one symbol on one venue, as order formatting needs them.
/// (arb-market's symbol table is the source of these values; this struct is the narrow
/// view the execution layer takes so that it depends on nothing else.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SymbolRules {
    pub venue: Venue,
    /// The venue's own symbol (`BTCUSDT`, `BTC_USDT`).
    pub venue_symbol: String,
    pub price_decimals: u32,
    pub amount_decimals: u32,
    /// Decimals of a quote-sized market order (MEXC `quoteOrderQty`, Gate market buy).
    pub quote_decimals: u32,
    pub min_qty: Amount,
    pub min_notional: Amount,
    /// False when the venue takes no API market orders for the symbol (MEXC lists
    /// `orderTypes` without `MARKET`): such an order is refused before it is sent.
    pub market_orders: bool,
}

impl SymbolRules {
    pub fn new(
        venue: Venue,
        venue_symbol: impl Into<String>,
        price_decimals: u32,
        amount_decimals: u32,
        min_qty: Amount,
        min_notional: Amount,
    ) -> Self {
        SymbolRules {
            venue,
            venue_symbol: venue_symbol.into(),
            price_decimals,
            amount_decimals,
            quote_decimals: price_decimals,
            min_qty,
            min_notional,
            market_orders: true,
        }
    }
}

impl SymbolRules {
    /// The execution view of arb-market's per-venue rules (the symbol table loaded from
    /// exchangeInfo / currency_pairs).
    ///
    /// # Errors
    /// [`ErrorClass::SymbolNotTradable`] when the venue does not allow API trading of it:
    /// an order for it would only earn a rejection.
    pub fn from_market(venue: Venue, r: &arb_market::VenueRules) -> Result<Self, ExecError> {
        if !r.api_tradable {
            return Err(ExecError::new(
                venue,
                "place",
                ErrorClass::SymbolNotTradable,
                format!("{} is not tradable through the API", r.venue_symbol),
            ));
        }
        Ok(SymbolRules {
            market_orders: r.market_orders,
            ..SymbolRules::new(
                venue,
                &*r.venue_symbol,
                r.price_decimals,
                r.amount_decimals,
                Amount::from_scaled(r.min_qty.mantissa, r.min_qty.scale),
                Amount::from_scaled(r.min_notional.mantissa, r.min_notional.scale),
            )
        })
    }
}

/// Which leg of an arbitrage an order is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Leg {
    A,
    B,
    /// The n-th order that unwinds a half-filled pair.
    Unwind(u8),
}

impl Leg {
    fn write(self, out: &mut String) {
        match self {
            Leg::A => out.push('a'),
            Leg::B => out.push('b'),
            Leg::Unwind(n) => {
                out.push('u');
                out.push_str(&n.to_string());
            }
        }
    }

    fn parse(s: &str) -> Option<Leg> {
        match s {
            "a" => Some(Leg::A),
            "b" => Some(Leg::B),
            _ => s.strip_prefix('u')?.parse().ok().map(Leg::Unwind),
        }
    }
}

/// A client order id, held without Gate's `t-` prefix (added on the wire by
/// [`ClientOrderId::wire`], stripped from what the venue reports by [`ClientOrderId::from_venue`]).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct ClientOrderId(String);

/// The parts of an id built by [`ClientOrderId::for_leg`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegId {
    pub prefix: String,
    pub txn: u64,
    pub leg: Leg,
}

const MAX_ID_LEN: usize = 28;

fn base36(mut v: u64, out: &mut String) {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut buf = [0u8; 13];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = DIGITS[(v % 36) as usize];
        v /= 36;
        if v == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(&buf[i..]).expect("ascii digits"));
}

impl ClientOrderId {
    /// `<prefix>_<txn in base36>_<leg>`; `prefix` is 1 to 6 of `[a-z0-9]` naming the
    /// engine instance.
    ///
    /// # Errors
    /// A prefix that is empty, longer than 6 or has other characters.
    pub fn for_leg(prefix: &str, txn: u64, leg: Leg) -> Result<Self, String> {
        if prefix.is_empty()
            || prefix.len() > 6
            || !prefix
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        {
            return Err(format!(
                "client id prefix {prefix:?} must be 1-6 characters of [a-z0-9]"
            ));
        }
        let mut s = String::with_capacity(24);
        s.push_str(prefix);
        s.push('_');
        base36(txn, &mut s);
        s.push('_');
        leg.write(&mut s);
        Ok(ClientOrderId(s))
    }

    /// Any id of at most 28 bytes of `[0-9A-Za-z_.-]` (what both venues accept).
    ///
    /// # Errors
    /// Empty, too long, or a character outside that set.
    pub fn custom(text: &str) -> Result<Self, String> {
        let text = text.strip_prefix("t-").unwrap_or(text);
        if text.is_empty()
            || text.len() > MAX_ID_LEN
            || !text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
        {
            return Err(format!(
                "client order id {text:?} must be 1-28 bytes of [0-9A-Za-z_.-]"
            ));
        }
        Ok(ClientOrderId(text.to_string()))
    }

    /// The id as a venue reports it (Gate's `text` has `t-`), without checks: venues
    /// may report ids of orders placed by other tools.
    pub fn from_venue(text: &str) -> Self {
        ClientOrderId(text.strip_prefix("t-").unwrap_or(text).to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form sent to `venue` (its adapter's wire format).
    pub fn wire(&self, venue: Venue) -> String {
        crate::venues::adapter_for(venue).client_id_wire(self)
    }

    /// Which transaction and leg this id names, if it was built by [`Self::for_leg`].
    pub fn leg_id(&self) -> Option<LegId> {
        let mut parts = self.0.split('_');
        let prefix = parts.next()?;
        let txn = u64::from_str_radix(parts.next()?, 36).ok()?;
        let leg = Leg::parse(parts.next()?)?;
        if parts.next().is_some() {
            return None;
        }
        Some(LegId {
            prefix: prefix.to_string(),
            txn,
            leg,
        })
    }
}

impl fmt::Display for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientOrderId({})", self.0)
    }
}

/// What kind of order and how it is sized.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrderKind {
    Limit {
        price: Amount,
        qty: Amount,
        tif: TimeInForce,
    },
    /// Market order sized in base currency.
    Market { qty: Amount },
    /// Market buy sized in quote currency to spend (MEXC `quoteOrderQty`, Gate market
    /// buy `amount`).
    MarketQuote { quote: Amount },
}

/// An order as the engine asks for it.
#[derive(Clone, Debug)]
pub struct OrderRequest {
    pub rules: Arc<SymbolRules>,
    pub side: Side,
    pub kind: OrderKind,
    pub client_id: ClientOrderId,
}

/// An order quantized to its symbol's rules, in the decimal strings the venue gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreparedOrder {
    pub venue: Venue,
    pub symbol: String,
    pub side: Side,
    pub kind: PreparedKind,
    pub client_id: ClientOrderId,
    /// Quantized base quantity (absent for a quote-sized market order).
    pub qty: Option<Amount>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PreparedKind {
    Limit {
        price: String,
        qty: String,
        tif: TimeInForce,
    },
    Market {
        qty: String,
    },
    MarketQuote {
        quote: String,
    },
}

impl OrderRequest {
    /// Quantizes to the symbol's decimals and checks the venue's minimums, so an order
    /// the venue would refuse is refused here without a round trip.
    ///
    /// Price rounds in the order's favour (a buy down, a sell up: never a worse price
    /// than asked); quantities round down (never more than asked).
    ///
    /// # Errors
    /// [`ErrorClass::InvalidOrder`] for a zero or below-minimum size, a notional below
    /// the minimum, or a sizing the venue does not offer (Gate market buy in base).
    pub fn prepare(&self) -> Result<PreparedOrder, ExecError> {
        let r = &*self.rules;
        let invalid = |msg: String| ExecError::new(r.venue, "place", ErrorClass::InvalidOrder, msg);
        let check_qty = |qty: Amount| -> Result<Amount, ExecError> {
            let q = qty.round_to(r.amount_decimals, Round::Down);
            if q <= Amount::ZERO {
                return Err(invalid(format!(
                    "{} quantity {qty} is zero at {} decimals",
                    r.venue_symbol, r.amount_decimals
                )));
            }
            if q < r.min_qty {
                return Err(invalid(format!(
                    "{} quantity {q} is below the minimum {}",
                    r.venue_symbol, r.min_qty
                )));
            }
            Ok(q)
        };
        if matches!(
            self.kind,
            OrderKind::Market { .. } | OrderKind::MarketQuote { .. }
        ) && !r.market_orders
        {
            return Err(invalid(format!(
                "{} takes no API market orders on {} (send an IOC limit)",
                r.venue_symbol, r.venue
            )));
        }
        // A sizing the venue does not offer (Gate sizes a market buy in quote).
        crate::venues::adapter_for(r.venue)
            .check_sizing(self.side, &self.kind)
            .map_err(|why| invalid(why.to_string()))?;
        let (kind, qty) = match &self.kind {
            OrderKind::Limit { price, qty, tif } => {
                let round = match self.side {
                    Side::Buy => Round::Down,
                    Side::Sell => Round::Up,
                };
                let p = price.round_to(r.price_decimals, round);
                if p <= Amount::ZERO {
                    return Err(invalid(format!(
                        "{} price {price} is not positive",
                        r.venue_symbol
                    )));
                }
                let q = check_qty(*qty)?;
                let notional = p.checked_mul(q).ok_or_else(|| {
                    invalid(format!(
                        "{} notional of {q} at {p} is out of range",
                        r.venue_symbol
                    ))
                })?;
                if notional < r.min_notional {
                    return Err(invalid(format!(
                        "{} notional {notional} is below the minimum {}",
                        r.venue_symbol, r.min_notional
                    )));
                }
                (
                    PreparedKind::Limit {
                        price: p.to_fixed_string(r.price_decimals),
                        qty: q.to_fixed_string(r.amount_decimals),
                        tif: *tif,
                    },
                    Some(q),
                )
            }
            OrderKind::Market { qty } => {
                let q = check_qty(*qty)?;
                (
                    PreparedKind::Market {
                        qty: q.to_fixed_string(r.amount_decimals),
                    },
                    Some(q),
                )
            }
            OrderKind::MarketQuote { quote } => {
                let q = quote.round_to(r.quote_decimals, Round::Down);
                if q <= Amount::ZERO || q < r.min_notional {
                    return Err(invalid(format!(
                        "{} quote amount {quote} is below the minimum notional {}",
                        r.venue_symbol, r.min_notional
                    )));
                }
                (
                    PreparedKind::MarketQuote {
                        quote: q.to_fixed_string(r.quote_decimals),
                    },
                    None,
                )
            }
        };
        Ok(PreparedOrder {
            venue: r.venue,
            symbol: r.venue_symbol.clone(),
            side: self.side,
            kind,
            client_id: self.client_id.clone(),
            qty,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amt(s: &str) -> Amount {
        Amount::parse(s).unwrap()
    }

    fn gate_btc() -> Arc<SymbolRules> {
        Arc::new(SymbolRules::new(
            Venue::GATE,
            "BTC_USDT",
            1,
            6,
            amt("0.000001"),
            amt("3"),
        ))
    }

    #[test]
    fn ids_carry_txn_and_leg_and_fit_both_venues() {
        let id = ClientOrderId::for_leg("arb1", u64::MAX, Leg::Unwind(12)).unwrap();
        assert!(id.as_str().len() <= 24, "{id}");
        assert_eq!(
            id.leg_id().unwrap(),
            LegId {
                prefix: "arb1".into(),
                txn: u64::MAX,
                leg: Leg::Unwind(12)
            }
        );
        let id = ClientOrderId::for_leg("a", 0, Leg::B).unwrap();
        assert_eq!(id.as_str(), "a_0_b");
        assert_eq!(
            ClientOrderId::from_venue("t-a_0_b").leg_id().unwrap().leg,
            Leg::B
        );
        assert!(ClientOrderId::for_leg("ARB", 1, Leg::A).is_err());
        assert!(ClientOrderId::custom("x".repeat(29).as_str()).is_err());
        assert!(ClientOrderId::custom("ok-1.2_x").is_ok());
        assert!(ClientOrderId::custom("bad id").is_err());
    }

    /// Price x quantity of an order built from venue values (a hedge of a reported
    /// residual) used to reach `Amount::mul`'s `expect`.
    #[test]
    fn a_notional_out_of_range_is_an_error() {
        let big = OrderRequest {
            rules: gate_btc(),
            side: Side::Buy,
            kind: OrderKind::Limit {
                price: amt("1000000000000000000"),
                qty: amt("100000000000000"),
                tif: TimeInForce::Ioc,
            },
            client_id: ClientOrderId::for_leg("t", 1, Leg::A).unwrap(),
        };
        let e = big.prepare().unwrap_err().to_string();
        assert!(
            e.contains("BTC_USDT notional") && e.contains("out of range"),
            "{e}"
        );
    }

    #[test]
    fn limit_quantizes_in_the_orders_favour() {
        let id = ClientOrderId::for_leg("t", 1, Leg::A).unwrap();
        let buy = OrderRequest {
            rules: gate_btc(),
            side: Side::Buy,
            kind: OrderKind::Limit {
                price: amt("65000.19"),
                qty: amt("0.0012349"),
                tif: TimeInForce::Ioc,
            },
            client_id: id.clone(),
        };
        let p = buy.prepare().unwrap();
        assert_eq!(
            p.kind,
            PreparedKind::Limit {
                price: "65000.1".into(),
                qty: "0.001234".into(),
                tif: TimeInForce::Ioc
            }
        );
        let sell = OrderRequest {
            side: Side::Sell,
            ..buy.clone()
        };
        match sell.prepare().unwrap().kind {
            PreparedKind::Limit { price, .. } => assert_eq!(price, "65000.2"),
            k => panic!("{k:?}"),
        }
    }

    #[test]
    fn minimums_and_unsupported_sizings_are_invalid_orders() {
        let id = ClientOrderId::for_leg("t", 1, Leg::A).unwrap();
        let small = OrderRequest {
            rules: gate_btc(),
            side: Side::Buy,
            kind: OrderKind::Limit {
                price: amt("65000"),
                qty: amt("0.00004"),
                tif: TimeInForce::Gtc,
            },
            client_id: id.clone(),
        };
        let e = small.prepare().unwrap_err();
        assert_eq!(e.class(), ErrorClass::InvalidOrder);
        assert!(
            e.message.contains("notional 2.6 is below the minimum 3"),
            "{e}"
        );
        let dust = OrderRequest {
            kind: OrderKind::Market {
                qty: amt("0.0000001"),
            },
            side: Side::Sell,
            ..small.clone()
        };
        assert!(dust.prepare().unwrap_err().message.contains("zero"));
        let gate_mkt_buy = OrderRequest {
            kind: OrderKind::Market { qty: amt("1") },
            ..small.clone()
        };
        assert_eq!(
            gate_mkt_buy.prepare().unwrap_err().class(),
            ErrorClass::InvalidOrder
        );
        let quote_buy = OrderRequest {
            kind: OrderKind::MarketQuote {
                quote: amt("10.55"),
            },
            ..small
        };
        assert_eq!(
            quote_buy.prepare().unwrap().kind,
            PreparedKind::MarketQuote {
                quote: "10.5".into()
            }
        );
    }
}
