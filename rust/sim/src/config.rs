//! The simulator's configuration: every knob has a default so `SimConfig::default()`
//! starts a realistic two-venue market on OS-chosen loopback ports; `venues` lists the
//! venue instances it hosts (any number, of any adapter kind).

use std::collections::BTreeMap;

use arb_core::{Venue, VenueKind};

use crate::spec::Restriction;
use crate::state::Instance;
use crate::SimError;

/// One venue instance in [`SimConfig::venues`]: `{name: "mexc_b", kind: "mexc", port: 0}`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct VenueConfig {
    /// The instance's name: its `arb_core::Venue` (so the engine's venue of the same name
    /// is the same venue), its admin paths, counters and reports.
    pub name: String,
    /// The adapter kind that speaks its protocol: `mexc` or `gateio` (`gate`, `gate.io`).
    pub kind: String,
    /// 0 = the OS chooses (for a default instance, `mexc_port` / `gateio_port` apply).
    #[serde(default)]
    pub port: u16,
}

impl VenueConfig {
    fn new(name: &str, kind: &str) -> Self {
        VenueConfig {
            name: name.to_string(),
            kind: kind.to_string(),
            port: 0,
        }
    }
}

/// Everything that shapes one simulator run. Deserializable from the `simulator`
/// section of the project config (JSON/YAML via serde); unknown fields are rejected
/// so a typo in a config file is an error, not a silently ignored knob.
#[derive(Clone, Debug, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    /// Seed of every random choice the market makes (ChaCha8): same seed, same events.
    pub seed: u64,
    /// Unified symbols ("BTC/USDT"). Known majors get hand-picked precision rules; any
    /// other `BASE/QUOTE` gets rules derived deterministically from the seed.
    pub symbols: Vec<String>,
    /// False: a symbol of `symbols` without hand-picked rules is not listed (as a real
    /// venue lists only its own symbols); the project's config runs the embedded
    /// simulator so unless `simulator.symbols` names what to list.
    pub invent_symbols: bool,
    /// What the API may not do with some listed symbols on some venues (MEXC market
    /// orders disabled, not API-tradable, one side only; Gate untradable, buy/sell only,
    /// buying not open yet). Default: KAS/USDT without market orders and PEPE/USDT not
    /// API-tradable on MEXC, TON/USDT not buyable yet on Gate (symbols with hand-picked
    /// rules, listed when `symbols` names them, as the project's config does for any of
    /// `strategy.symbols`).
    pub restricted: Vec<crate::spec::RestrictedSymbol>,
    /// Venue instances whose trader key may read but not trade (MEXC `canTrade: false`
    /// and 700007 on orders; Gate READ_ONLY on orders).
    pub read_only_keys: Vec<String>,
    /// The venue instances, in order (default: `mexc` and `gateio`). Each is a venue of
    /// its own: port, matching engine and books, accounts, rate limits, faults, counters.
    pub venues: Vec<VenueConfig>,
    /// Ports of the default instances `mexc` and `gateio` when their `venues` entry says
    /// 0. 0 = the OS chooses. Everything binds 127.0.0.1 only.
    pub mexc_port: u16,
    pub gateio_port: u16,
    pub admin_port: u16,
    /// Asset -> decimal string: the trader account's starting balance on each venue.
    pub trader_balances: BTreeMap<String, String>,
    /// Background market actions (maker requotes and takers) per symbol per venue per second.
    pub update_rate_hz: f64,
    /// How often (per minute, across all symbols) a cross-venue gap that pays after
    /// fees opens.
    pub opportunity_rate_per_min: f64,
    /// Size of such a gap in basis points of the fair price (beyond both taker fees).
    pub opportunity_gap_bps: u32,
    /// How many background actions a gap lasts before the lagging venue catches up.
    pub opportunity_duration_actions: u32,
    /// Seconds of background activity (counted in actions at `update_rate_hz`, so the
    /// market stays deterministic) after which a first gap opens if none has yet; at the
    /// random rate alone a short session may see none. 0 = no such first gap.
    pub first_gap_after_s: f64,
    /// Enforce the venues' documented rate limits.
    pub rate_limits: bool,
    /// Start with no background makers/takers; client orders still match.
    pub market_paused: bool,
    /// Price levels the background makers keep on each side of each book.
    pub maker_levels: usize,
    /// Random-walk step of the fair price per action, in basis points (1 = 0.01 %).
    pub fair_step_bps: u32,
    /// Lifetime of a MEXC listenKey (the real venue: 3600 s).
    pub listen_key_ttl_secs: u64,
    /// MEXC: the weight budget per endpoint per 10 s, per IP and per account
    /// (documented 500; each endpoint's weight is in `mexc/weights.rs`).
    pub mexc_requests_per_10s: u32,
    /// Gate: public requests per 10 s per endpoint (documented 200).
    pub gate_public_per_10s: u32,
    /// Gate: private requests per 10 s per endpoint (documented 200).
    pub gate_private_per_10s: u32,
    /// Gate: order placements per second per market (documented 10).
    pub gate_orders_per_sec: u32,
    /// MEXC: subscriptions per WebSocket connection (documented 30).
    pub mexc_ws_max_subscriptions: usize,
    /// MEXC closes a connection that has no valid subscription this long after it
    /// opened (documented 30 s); 0 disables.
    pub mexc_ws_unsubscribed_close_secs: u64,
    /// Latency-referee probe mode: no background activity; at seeded random moments one
    /// venue's price jumps to open a cross-venue gap, and the referee measures how fast
    /// clients trade it (admin `GET /referee`).
    pub probe_mode: bool,
    /// Probe gap size in basis points beyond both taker fees and the spreads.
    pub probe_gap_bps: u32,
    /// Quiet time before each probe, drawn uniformly from this range (ms).
    pub probe_min_interval_ms: u64,
    pub probe_max_interval_ms: u64,
    /// How long a probe gap stays open before the venue's price returns (ms).
    pub probe_hold_ms: u64,
    /// MEXC's read-after-write lag: for this long after an order is accepted,
    /// `GET /api/v3/order` answers -2013 "Order does not exist." for it, as the real
    /// venue's read briefly lags its write (exchange-protocols.md A, "Errors").
    /// Default 300 ms ("briefly"); 0 disables.
    pub mexc_read_lag_ms: u64,
    /// Events a slow WebSocket subscriber may fall behind before it is disconnected
    /// (a real venue drops slow consumers too; silently skipping would break sequences).
    pub ws_backlog: usize,
    /// The wallets' networks: fees, minimums, open flags and transfer delays per asset.
    pub wallet: crate::wallet::WalletConfig,
    /// A persistent-premium regime: one venue priced above (or below) the others for a
    /// stretch, so inventory drifts one way as in real markets. None: no such regime.
    pub premium: Option<PremiumRegime>,
}

/// One venue's makers quote `bps` basis points off the fair price from `after_s`
/// seconds of background activity for `for_s` seconds (counted in actions at
/// `update_rate_hz`, so the market stays deterministic; `for_s` 0 = until the end).
#[derive(Clone, Debug, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct PremiumRegime {
    /// The instance's name.
    pub venue: String,
    /// Positive: that venue is dearer (a premium); negative: cheaper.
    pub bps: i32,
    #[serde(default)]
    pub after_s: f64,
    #[serde(default)]
    pub for_s: f64,
}

impl SimConfig {
    /// The venue instances this config hosts, in list order, each registered as an
    /// `arb_core::Venue` of its kind.
    ///
    /// # Errors
    /// An empty list, an unknown kind, a bad or duplicate name, a name already registered
    /// with another kind, or a default instance whose port disagrees with `mexc_port` /
    /// `gateio_port`.
    pub fn instances(&self) -> Result<Vec<Instance>, SimError> {
        if self.venues.is_empty() {
            return Err(SimError::Config("venues is empty".into()));
        }
        let mut out: Vec<Instance> = Vec::with_capacity(self.venues.len());
        for (i, vc) in self.venues.iter().enumerate() {
            let at = |e: String| SimError::Config(format!("venues[{i}] ({:?}): {e}", vc.name));
            let kind: VenueKind = vc.kind.parse().map_err(|e| at(format!("{e}")))?;
            let venue = Venue::register(&vc.name, kind).map_err(|e| at(e.to_string()))?;
            if out.iter().any(|x| x.venue == venue) {
                return Err(at(format!("venue {venue} is listed twice")));
            }
            // The default instances keep their old port settings.
            let legacy = match venue {
                Venue::MEXC => self.mexc_port,
                Venue::GATE => self.gateio_port,
                _ => 0,
            };
            let port = match (vc.port, legacy) {
                (p, 0) | (0, p) => p,
                (p, l) if p == l => p,
                (p, l) => {
                    return Err(at(format!(
                        "port {p} disagrees with {}_port {l}",
                        kind.as_str()
                    )))
                }
            };
            out.push(Instance {
                venue,
                kind,
                name: venue.as_str().to_string(),
                port,
            });
        }
        Ok(out)
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        let mut trader_balances = BTreeMap::new();
        for (a, v) in [
            ("USDT", "100000"),
            ("BTC", "2"),
            ("ETH", "40"),
            ("SOL", "500"),
            ("XRP", "50000"),
        ] {
            trader_balances.insert(a.to_string(), v.to_string());
        }
        SimConfig {
            seed: 7,
            symbols: vec![
                "BTC/USDT".into(),
                "ETH/USDT".into(),
                "SOL/USDT".into(),
                "XRP/USDT".into(),
            ],
            invent_symbols: true,
            restricted: [
                ("KAS/USDT", "mexc", Restriction::NoMarket),
                ("PEPE/USDT", "mexc", Restriction::NoApi),
                ("TON/USDT", "gateio", Restriction::BuyLater),
            ]
            .into_iter()
            .map(
                |(symbol, venue, restriction)| crate::spec::RestrictedSymbol {
                    symbol: symbol.into(),
                    venue: venue.into(),
                    restriction,
                },
            )
            .collect(),
            read_only_keys: Vec::new(),
            venues: vec![
                VenueConfig::new("mexc", "mexc"),
                VenueConfig::new("gateio", "gateio"),
            ],
            mexc_port: 0,
            gateio_port: 0,
            admin_port: 0,
            trader_balances,
            update_rate_hz: 20.0,
            opportunity_rate_per_min: 2.0,
            opportunity_gap_bps: 60,
            opportunity_duration_actions: 40,
            first_gap_after_s: 0.0,
            rate_limits: true,
            market_paused: false,
            maker_levels: 15,
            fair_step_bps: 2,
            listen_key_ttl_secs: 3600,
            mexc_requests_per_10s: crate::mexc::weights::DOCUMENTED_BUDGET,
            gate_public_per_10s: 200,
            gate_private_per_10s: 200,
            gate_orders_per_sec: 10,
            mexc_ws_max_subscriptions: 30,
            mexc_ws_unsubscribed_close_secs: 30,
            ws_backlog: 1 << 16,
            mexc_read_lag_ms: 300,
            probe_mode: false,
            probe_gap_bps: 40,
            probe_min_interval_ms: 300,
            probe_max_interval_ms: 900,
            probe_hold_ms: 500,
            wallet: crate::wallet::WalletConfig::default(),
            premium: None,
        }
    }
}
