//! Configuration of one venue client: endpoints, credentials, timeouts, pool size,
//! limits and which order path (REST or Gate's WebSocket trading API) to use.

use std::time::Duration;

use arb_core::Venue;

use crate::secret::Secret;

/// How orders are sent to a venue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderPath {
    #[default]
    Rest,
    /// Gate's WebSocket trading API (`spot.order_place` / `spot.order_cancel`).
    Ws,
}

fn d_timeout() -> u64 {
    5_000
}
fn d_connect() -> u64 {
    2_000
}
fn d_pool() -> usize {
    100
}
fn d_recv() -> u64 {
    5_000
}
fn d_true() -> bool {
    true
}
fn d_threshold() -> u32 {
    5
}
fn d_cooldown() -> u64 {
    10_000
}
fn d_retries() -> u32 {
    3
}
fn d_backoff() -> u64 {
    100
}
fn d_rl_wait() -> u64 {
    30_000
}
fn d_settle() -> u64 {
    300
}
fn d_place_attempts() -> u32 {
    3
}
fn d_keepalive() -> u64 {
    30 * 60_000
}

/// Below the idle timeouts venues' fronts commonly use (60-75 s), so a kept-alive order
/// connection is never closed by the venue just as an order is written on it.
fn d_order_idle() -> u64 {
    50_000
}

/// One venue's client configuration (JSON field names as written here; durations in ms).
/// Its `Debug` masks the key and the secret (written out below, not derived).
#[derive(Clone, serde::Deserialize)]
pub struct VenueConfig {
    /// The instance: a name, or `{name, kind}` for an instance not named after its kind.
    #[serde(deserialize_with = "arb_core::venue::configured")]
    pub venue: Venue,
    /// REST base: `https://api.mexc.com` / `https://api.gateio.ws/api/v4` (the scheme
    /// decides TLS: the simulator is plain `http` on loopback).
    pub rest_url: String,
    /// WebSocket base: `wss://wbs-api.mexc.com/ws` / `wss://api.gateio.ws/ws/v4/`.
    pub ws_url: String,
    pub api_key: String,
    pub api_secret: Secret,
    #[serde(default = "d_timeout")]
    pub request_timeout_ms: u64,
    #[serde(default = "d_connect")]
    pub connect_timeout_ms: u64,
    /// Idle keep-alive connections kept per host (the original design used 100).
    #[serde(default = "d_pool")]
    pub pool_size: usize,
    /// MEXC `recvWindow` (at most 60000).
    #[serde(default = "d_recv")]
    pub recv_window_ms: u64,
    /// Client-side rate limiting at the documented limits.
    #[serde(default = "d_true")]
    pub rate_limit: bool,
    #[serde(default = "d_threshold")]
    pub breaker_threshold: u32,
    #[serde(default = "d_cooldown")]
    pub breaker_cooldown_ms: u64,
    /// Attempts for reads (and cancels) that failed on network/timeout/5xx.
    #[serde(default = "d_retries")]
    pub read_attempts: u32,
    #[serde(default = "d_backoff")]
    pub backoff_ms: u64,
    /// Longest wait a rate-limit answer may impose before the call fails instead.
    #[serde(default = "d_rl_wait")]
    pub max_rate_limit_wait_ms: u64,
    /// After an unknown placement outcome, wait this long before asking the venue,
    /// so an order still in flight inside the venue has landed.
    #[serde(default = "d_settle")]
    pub unknown_settle_ms: u64,
    /// How long after accepting an order the venue's order query may still miss it
    /// (MEXC answers -2013 "Order does not exist." briefly after a placement); no
    /// absence is concluded before this has passed since the outcome became unknown.
    /// Unset: the venue adapter's default (1000 ms on MEXC, well above the lag seen;
    /// 0 on Gate).
    #[serde(default)]
    pub read_after_write_ms: Option<u64>,
    /// Placements of one client id (the first plus re-sends proven safe).
    #[serde(default = "d_place_attempts")]
    pub max_place_attempts: u32,
    /// MEXC listenKey keep-alive period (MEXC recommends 30 min).
    #[serde(default = "d_keepalive")]
    pub listen_key_keepalive_ms: u64,
    #[serde(default)]
    pub order_path: OrderPath,
    /// An order connection idle longer than this is replaced before it carries an order.
    #[serde(default = "d_order_idle")]
    pub order_idle_ms: u64,
}

impl std::fmt::Debug for VenueConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key names the account (and is half of what a signature needs): never shown.
        f.debug_struct("VenueConfig")
            .field("venue", &self.venue)
            .field("rest_url", &self.rest_url)
            .field("ws_url", &self.ws_url)
            .field("api_key", &"***")
            .field("api_secret", &self.api_secret)
            .field("request_timeout_ms", &self.request_timeout_ms)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("pool_size", &self.pool_size)
            .field("recv_window_ms", &self.recv_window_ms)
            .field("rate_limit", &self.rate_limit)
            .field("breaker_threshold", &self.breaker_threshold)
            .field("breaker_cooldown_ms", &self.breaker_cooldown_ms)
            .field("read_attempts", &self.read_attempts)
            .field("backoff_ms", &self.backoff_ms)
            .field("max_rate_limit_wait_ms", &self.max_rate_limit_wait_ms)
            .field("unknown_settle_ms", &self.unknown_settle_ms)
            .field("max_place_attempts", &self.max_place_attempts)
            .field("listen_key_keepalive_ms", &self.listen_key_keepalive_ms)
            .field("order_idle_ms", &self.order_idle_ms)
            .field("order_path", &self.order_path)
            .finish()
    }
}

impl VenueConfig {
    /// A configuration with every default, for `venue` at the given endpoints.
    pub fn new(
        venue: Venue,
        rest_url: impl Into<String>,
        ws_url: impl Into<String>,
        api_key: impl Into<String>,
        api_secret: Secret,
    ) -> Self {
        VenueConfig {
            venue,
            rest_url: rest_url.into(),
            ws_url: ws_url.into(),
            api_key: api_key.into(),
            api_secret,
            request_timeout_ms: d_timeout(),
            connect_timeout_ms: d_connect(),
            pool_size: d_pool(),
            recv_window_ms: d_recv(),
            rate_limit: true,
            breaker_threshold: d_threshold(),
            breaker_cooldown_ms: d_cooldown(),
            read_attempts: d_retries(),
            backoff_ms: d_backoff(),
            max_rate_limit_wait_ms: d_rl_wait(),
            unknown_settle_ms: d_settle(),
            read_after_write_ms: None,
            max_place_attempts: d_place_attempts(),
            listen_key_keepalive_ms: d_keepalive(),
            order_path: OrderPath::Rest,
            order_idle_ms: d_order_idle(),
        }
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// [`Self::read_after_write_ms`] with the venue's default.
    pub fn read_after_write(&self) -> Duration {
        match self.read_after_write_ms {
            Some(ms) => Duration::from_millis(ms),
            None => crate::venues::adapter_for(self.venue).default_read_after_write(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_defaults_and_masks_the_secret() {
        let c: VenueConfig = serde_json::from_str(
            r#"{"venue":"gateio","rest_url":"http://127.0.0.1:1/api/v4","ws_url":"ws://127.0.0.1:1/ws/v4/",
                "api_key":"mx0vglKEY123456","api_secret":"very-secret","order_path":"ws"}"#,
        )
        .unwrap();
        assert_eq!(c.venue, Venue::GATE);
        assert_eq!(c.pool_size, 100);
        assert_eq!(c.order_path, OrderPath::Ws);
        let shown = format!("{c:?}");
        assert!(!shown.contains("very-secret"), "{shown}");
        // The key identifies the account: masked too.
        assert!(!shown.contains("KEY123456"), "{shown}");
        assert!(shown.contains("127.0.0.1:1/api/v4"), "{shown}");
    }
}
