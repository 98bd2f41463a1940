//! JSON without derived decoders: the bidding routes' answers are read as `serde_json::Value`
//! through these plain functions, compiled once (a derived decoder per type would add to the
//! first load). Field names are those of the `callbroker_wire::bidding` types.
use serde_json::Value;

/// The value at a JSON Pointer (`/mapping/amount`), `null` when absent.
pub fn at<'a>(v: &'a Value, pointer: &str) -> &'a Value {
    v.pointer(pointer).unwrap_or(&Value::Null)
}

/// Text, or a number or boolean written out; empty for `null` or absent.
pub fn text(v: &Value, pointer: &str) -> String {
    match at(v, pointer) {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

pub fn int(v: &Value, pointer: &str) -> Option<i64> {
    at(v, pointer).as_i64()
}

pub fn flag(v: &Value, pointer: &str) -> bool {
    at(v, pointer).as_bool().unwrap_or(false)
}

/// The items of an array (none when it is not one).
pub fn items(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

/// An amount in micro-units as money (`12.50`), `—` when absent.
pub fn money(v: &Value, pointer: &str) -> String {
    crate::format::money(int(v, pointer), None)
}
