//! Gate's WebSocket trading API (`spot.login`, `spot.order_place`, `spot.order_cancel`)
//! as frames for the generic session (`crate::ws_trade`). Every request is signed on
//! its own (`api\n<channel>\n<req_param>\n<ts>`) besides the session login, so a
//! request never depends on login state. The login is the documented one (Gate's spot
//! WebSocket API, "Login"): `api_key`, `signature`, `timestamp`, `req_id`, no
//! `req_param`, signed with `req_param` as the empty string.

use arb_core::{ErrorClass, Venue};
use serde_json::{json, Value};

use super::errors::classify_gate;
use super::requests::{client_id_wire, place_body};
use super::sign::gate_ws_api_sign;
use crate::client::OrderRef;
use crate::config::VenueConfig;
use crate::error::ExecError;
use crate::order::PreparedOrder;
use crate::venue_api::WsTradeApi;

/// Gate's WebSocket trading frames.
pub struct GateWsApi;

impl WsTradeApi for GateWsApi {
    fn ping_frame(&self, now_ms: i64) -> String {
        json!({"time": now_ms / 1000, "channel": "spot.ping"}).to_string()
    }

    /// Gate documents the login without `req_param` (the signed text has it empty):
    /// `Null` here, which [`Self::request_frame`] leaves out.
    fn login(&self) -> (&'static str, Value) {
        ("spot.login", Value::Null)
    }

    fn place(&self, p: &PreparedOrder) -> (&'static str, Value) {
        ("spot.order_place", place_body(p))
    }

    fn cancel(&self, symbol: &str, order: &OrderRef) -> (&'static str, Value) {
        let id = match order {
            OrderRef::Venue(id) => id.clone(),
            OrderRef::Client(c) => client_id_wire(c),
        };
        (
            "spot.order_cancel",
            json!({"order_id": id, "currency_pair": symbol}),
        )
    }

    fn request_frame(
        &self,
        cfg: &VenueConfig,
        channel: &str,
        req_param: &str,
        req_id: &str,
        venue_now_ms: i64,
    ) -> String {
        let ts = (venue_now_ms / 1000).to_string();
        // No parameters (the login): no `req_param` field, signed as the empty string.
        let (signed, field) = match req_param {
            "null" => ("", String::new()),
            p => (p, format!(r#","req_param":{p}"#)),
        };
        let sig = gate_ws_api_sign(cfg.api_secret.expose(), channel, signed, &ts);
        format!(
            r#"{{"time":{ts},"channel":"{channel}","event":"api","payload":{{"req_id":"{req_id}","api_key":"{}","timestamp":"{ts}","signature":"{sig}"{field}}}}}"#,
            cfg.api_key
        )
    }

    /// `spot.order_place` answers twice: the `ack` does not complete the request.
    fn answer_id<'v>(&self, v: &'v Value) -> Option<&'v str> {
        if v.get("ack").and_then(Value::as_bool) == Some(true) {
            return None;
        }
        v.get("request_id").and_then(Value::as_str)
    }

    /// `data.result`, or `data.errs` classified like a REST answer.
    fn result(&self, venue: Venue, op: &'static str, answer: Value) -> Result<Value, ExecError> {
        let status: u16 = answer
            .pointer("/header/status")
            .and_then(|s| {
                s.as_str()
                    .map(str::to_string)
                    .or_else(|| s.as_u64().map(|n| n.to_string()))
            })
            .and_then(|s| s.parse().ok())
            .unwrap_or(200);
        if let Some(errs) = answer.pointer("/data/errs") {
            let label = errs.get("label").and_then(Value::as_str);
            let msg = errs.get("message").and_then(Value::as_str).unwrap_or("");
            let class = classify_gate(if status == 200 { 400 } else { status }, label);
            let mut e = ExecError::new(venue, op, class, msg.to_string()).with_status(status);
            if let Some(l) = label {
                e = e.with_code(l);
            }
            return Err(e);
        }
        answer.pointer("/data/result").cloned().ok_or_else(|| {
            ExecError::new(
                venue,
                op,
                ErrorClass::Malformed,
                "WebSocket answer without data.result",
            )
            .with_status(200)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The adapter's surface: acks are skipped, results and errors are told apart.
    #[test]
    fn answers_are_routed_and_classified() {
        let api = GateWsApi;
        let ack = json!({"request_id": "1-1", "ack": true, "data": {"result": {}}});
        assert_eq!(api.answer_id(&ack), None);
        let done = json!({"request_id": "1-1", "header": {"status": "200"}, "data": {"result": {"id": "9"}}});
        assert_eq!(api.answer_id(&done), Some("1-1"));
        assert_eq!(
            api.result(Venue::GATE, "place", done).unwrap(),
            json!({"id": "9"})
        );
        let refused = json!({"request_id": "1-2", "header": {"status": "400"},
            "data": {"errs": {"label": "BALANCE_NOT_ENOUGH", "message": "no"}}});
        let e = api.result(Venue::GATE, "place", refused).unwrap_err();
        assert_eq!(e.class, ErrorClass::InsufficientFunds);
        assert_eq!(e.code.as_deref(), Some("BALANCE_NOT_ENOUGH"));
        let frame: Value = serde_json::from_str(&api.request_frame(
            &VenueConfig::new(
                Venue::GATE,
                "http://x",
                "ws://x",
                "k",
                crate::Secret::new("s"),
            ),
            "spot.order_cancel",
            r#"{"order_id":"1"}"#,
            "7-1",
            1_700_000_000_999,
        ))
        .unwrap();
        assert_eq!(frame["payload"]["timestamp"], "1700000000");
        assert_eq!(frame["payload"]["req_param"]["order_id"], "1");
    }

    /// `spot.login` as Gate documents it (spot WebSocket API, "Login": the request
    /// example and the official demo's `build_login_request`): the payload has
    /// `api_key`, `signature`, `timestamp` and `req_id` and no `req_param`, and "`req_param`
    /// in `login` channel always empty string" in the signed text.
    #[test]
    fn login_is_the_documented_payload() {
        let cfg = VenueConfig::new(
            Venue::GATE,
            "http://x",
            "ws://x",
            "k",
            crate::Secret::new("s"),
        );
        let api = GateWsApi;
        let (channel, param) = api.login();
        let frame: Value = serde_json::from_str(&api.request_frame(
            &cfg,
            channel,
            &param.to_string(),
            "7-1",
            1_681_984_544_000,
        ))
        .unwrap();
        assert_eq!(frame["channel"], "spot.login");
        assert_eq!(frame["event"], "api");
        let payload = frame["payload"].as_object().unwrap();
        let mut keys: Vec<&str> = payload.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["api_key", "req_id", "signature", "timestamp"]);
        assert_eq!(
            payload["signature"],
            gate_ws_api_sign("s", "spot.login", "", "1681984544")
        );
    }
}
