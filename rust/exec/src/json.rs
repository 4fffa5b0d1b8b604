//! Field readers for venue JSON that say which field was wrong: ids and numbers come as
//! strings on one venue and as numbers on the other (sometimes both on one venue).

use serde_json::Value;

use crate::amount::Amount;

/// A string field that may be sent as a JSON string or number.
pub fn text(v: &Value, name: &str) -> Result<String, String> {
    opt_text(v, name).ok_or_else(|| format!("missing field {name:?}"))
}

pub fn opt_text(v: &Value, name: &str) -> Option<String> {
    match v.get(name)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An exact decimal field (string, or a JSON number whose shortest form is used: for
/// the fee rates MEXC sends as numbers, like 0.0005, that form is the literal).
pub fn amount(v: &Value, name: &str) -> Result<Amount, String> {
    let t = text(v, name)?;
    Amount::parse(&t).map_err(|e| format!("field {name:?}: {e}"))
}

pub fn opt_amount(v: &Value, name: &str) -> Result<Option<Amount>, String> {
    match opt_text(v, name) {
        None => Ok(None),
        Some(t) if t.is_empty() => Ok(None),
        Some(t) => Amount::parse(&t)
            .map(Some)
            .map_err(|e| format!("field {name:?}: {e}")),
    }
}

pub fn int(v: &Value, name: &str) -> Result<i64, String> {
    match v.get(name) {
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| format!("field {name:?} is not an integer")),
        Some(Value::String(s)) => s
            .parse()
            .map_err(|_| format!("field {name:?} is not an integer: {s:?}")),
        _ => Err(format!("missing field {name:?}")),
    }
}

pub fn opt_int(v: &Value, name: &str) -> Option<i64> {
    int(v, name).ok()
}

pub fn array<'a>(v: &'a Value, what: &str) -> Result<&'a Vec<Value>, String> {
    v.as_array()
        .ok_or_else(|| format!("{what} is not a JSON array"))
}
