//! Subscription filter policies: parsed and validated once, matched on every publish.
//!
//! The rules are AWS's (<https://docs.aws.amazon.com/sns/latest/dg/sns-subscription-filter-policies.html>):
//! the keys of a policy must all match (AND), the values under a key are alternatives
//! (OR), `$or` splits a policy into alternatives. A value is an exact string, number,
//! boolean or null, or an operator: `prefix`, `suffix`, `equals-ignore-case`,
//! `anything-but` (a value, a list, or `{"prefix"|"suffix": ..}`), `numeric`
//! (`["=", 5]`, `[">", 0, "<=", 10]`), `exists` and `cidr`. In the `MessageAttributes`
//! scope the keys are attribute names (String, Number and String.Array attributes are
//! matched; Binary ones only exist); in the `MessageBody` scope they are paths into the
//! JSON body, nested objects or `a.b` alike, and an array matches if any element does.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::Value;

use crate::checksum::AttrValue;

mod parse;

/// A scalar a policy compares with.
#[derive(Debug, Clone, PartialEq)]
enum Scalar {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
}

impl Scalar {
    fn from_json(v: &Value) -> Option<Self> {
        match v {
            Value::String(s) => Some(Self::Str(s.clone())),
            Value::Number(n) => n.as_f64().map(Self::Num),
            Value::Bool(b) => Some(Self::Bool(*b)),
            Value::Null => Some(Self::Null),
            Value::Array(_) | Value::Object(_) => None,
        }
    }

    fn str(&self) -> Option<&str> {
        match self {
            Self::Str(s) => Some(s),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum NumOp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

/// One alternative under a key.
#[derive(Debug, Clone, PartialEq)]
enum Cond {
    Exact(Scalar),
    Prefix(String),
    Suffix(String),
    EqualsIgnoreCase(String),
    AnythingBut(Vec<Scalar>),
    AnythingButPrefix(String),
    AnythingButSuffix(String),
    Numeric(Vec<(NumOp, f64)>),
    Exists(bool),
    Cidr(IpAddr, u8),
}

/// A parsed filter policy: alternatives (`$or`), each a set of keys that must all match.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FilterPolicy {
    branches: Vec<Vec<(String, Vec<Cond>)>>,
}

/// Greatest number of value combinations AWS allows in one policy.
const MAX_COMBINATIONS: usize = 150;

impl FilterPolicy {
    /// Parses and validates a policy; the error is the reason, in AWS's words, without
    /// the `Invalid parameter: FilterPolicy: ` lead-in.
    pub(crate) fn parse(text: &str, body_scope: bool) -> Result<Self, String> {
        let value: Value =
            serde_json::from_str(text).map_err(|_| "failed to parse JSON.".to_owned())?;
        let Value::Object(obj) = &value else {
            return Err("failed to parse JSON.".to_owned());
        };
        if obj.len() > 5 {
            return Err("Filter policy can not have more than 5 keys".to_owned());
        }
        let mut branches = vec![Vec::new()];
        parse::flatten(&value, None, body_scope, &mut branches)?;
        let combinations: usize = branches
            .iter()
            .map(|b| {
                b.iter()
                    .map(|(_, c): &(String, Vec<Cond>)| c.len())
                    .product::<usize>()
            })
            .sum();
        if combinations > MAX_COMBINATIONS {
            return Err("Filter policy is too complex".to_owned());
        }
        Ok(Self { branches })
    }

    /// Whether message attributes match (the `MessageAttributes` scope).
    pub(crate) fn matches_attributes(&self, attrs: &BTreeMap<String, AttrValue>) -> bool {
        self.branches.iter().any(|branch| {
            branch.iter().all(|(key, conds)| {
                let values = attrs.get(key).map(attribute_values);
                eval(conds, values.as_deref())
            })
        })
    }

    /// Whether a message body matches (the `MessageBody` scope): it must be a JSON object.
    pub(crate) fn matches_body(&self, body: &str) -> bool {
        let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(body) else {
            return false;
        };
        let mut flat: BTreeMap<String, Vec<Scalar>> = BTreeMap::new();
        flatten_payload(&Value::Object(obj), None, &mut flat);
        self.branches.iter().any(|branch| {
            branch
                .iter()
                .all(|(key, conds)| eval(conds, flat.get(key).map(Vec::as_slice)))
        })
    }
}

/// The values an attribute offers a policy.
fn attribute_values(a: &AttrValue) -> Vec<Scalar> {
    let s = a.string.as_deref().unwrap_or_default();
    if a.data_type == "String.Array" {
        return match serde_json::from_str::<Value>(s) {
            Ok(Value::Array(items)) => items.iter().filter_map(Scalar::from_json).collect(),
            _ => Vec::new(),
        };
    }
    if a.data_type.starts_with("Number") {
        return s.trim().parse().map(Scalar::Num).into_iter().collect();
    }
    if a.data_type.starts_with("String") {
        return vec![Scalar::Str(s.to_owned())];
    }
    Vec::new()
}

fn flatten_payload(v: &Value, key: Option<&str>, out: &mut BTreeMap<String, Vec<Scalar>>) {
    match v {
        Value::Object(obj) => {
            for (k, child) in obj {
                let path = key.map_or_else(|| k.clone(), |p| format!("{p}.{k}"));
                flatten_payload(child, Some(&path), out);
            }
        }
        Value::Array(items) => {
            for item in items {
                flatten_payload(item, key, out);
            }
        }
        scalar => {
            if let (Some(key), Some(s)) = (key, Scalar::from_json(scalar)) {
                out.entry(key.to_owned()).or_default().push(s);
            }
        }
    }
}

/// Walks a policy object into its branches: nested keys join with `.`, `$or` multiplies
/// the branches.
fn in_network(value: &str, net: IpAddr, bits: u8) -> bool {
    let Ok(ip) = value.parse::<IpAddr>() else {
        return false;
    };
    let (a, b, width) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u128::from(a.to_bits()), u128::from(b.to_bits()), 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (a.to_bits(), b.to_bits(), 128),
        _ => return false,
    };
    let shift = width - u32::from(bits);
    shift >= width || (a >> shift) == (b >> shift)
}

/// Whether any alternative matches the values of one key (`None`: the key is absent).
fn eval(conds: &[Cond], values: Option<&[Scalar]>) -> bool {
    conds.iter().any(|c| match c {
        Cond::Exists(want) => *want == values.is_some(),
        _ => values.is_some_and(|vs| vs.iter().any(|v| one(c, v))),
    })
}

fn one(c: &Cond, v: &Scalar) -> bool {
    match c {
        Cond::Exact(want) => want == v,
        Cond::Prefix(p) => v.str().is_some_and(|s| s.starts_with(p.as_str())),
        Cond::Suffix(p) => v.str().is_some_and(|s| s.ends_with(p.as_str())),
        Cond::EqualsIgnoreCase(p) => v.str().is_some_and(|s| s.eq_ignore_ascii_case(p)),
        Cond::AnythingBut(list) => !list.contains(v),
        Cond::AnythingButPrefix(p) => v.str().is_some_and(|s| !s.starts_with(p.as_str())),
        Cond::AnythingButSuffix(p) => v.str().is_some_and(|s| !s.ends_with(p.as_str())),
        Cond::Numeric(bounds) => match v {
            Scalar::Num(n) => bounds.iter().all(|(op, x)| match op {
                NumOp::Eq => n == x,
                NumOp::Lt => n < x,
                NumOp::Le => n <= x,
                NumOp::Gt => n > x,
                NumOp::Ge => n >= x,
            }),
            _ => false,
        },
        Cond::Cidr(net, bits) => v.str().is_some_and(|s| in_network(s, *net, *bits)),
        Cond::Exists(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str, &str)]) -> BTreeMap<String, AttrValue> {
        pairs
            .iter()
            .map(|(k, t, v)| {
                (
                    (*k).to_owned(),
                    AttrValue {
                        data_type: (*t).to_owned(),
                        string: Some((*v).to_owned()),
                        binary: None,
                    },
                )
            })
            .collect()
    }

    fn attr_match(policy: &str, a: &[(&str, &str, &str)]) -> bool {
        FilterPolicy::parse(policy, false)
            .unwrap()
            .matches_attributes(&attrs(a))
    }

    fn body_match(policy: &str, body: &str) -> bool {
        FilterPolicy::parse(policy, true)
            .unwrap()
            .matches_body(body)
    }

    #[test]
    fn attribute_operators() {
        let s = |v| [("k", "String", v)];
        assert!(attr_match(r#"{"k":["a","b"]}"#, &s("b")));
        assert!(!attr_match(r#"{"k":["a"]}"#, &s("c")));
        assert!(attr_match(r#"{"k":[{"prefix":"ab"}]}"#, &s("abc")));
        assert!(attr_match(r#"{"k":[{"suffix":"bc"}]}"#, &s("abc")));
        assert!(attr_match(
            r#"{"k":[{"equals-ignore-case":"ABC"}]}"#,
            &s("abc")
        ));
        assert!(attr_match(r#"{"k":[{"anything-but":["x","y"]}]}"#, &s("z")));
        assert!(!attr_match(r#"{"k":[{"anything-but":"z"}]}"#, &s("z")));
        assert!(!attr_match(
            r#"{"k":[{"anything-but":{"prefix":"a"}}]}"#,
            &s("abc")
        ));
        assert!(!attr_match(r#"{"k":[{"anything-but":"z"}]}"#, &[]));
        assert!(attr_match(r#"{"k":[{"exists":false}]}"#, &[]));
        assert!(!attr_match(r#"{"k":[{"exists":true}]}"#, &[]));
        assert!(attr_match(
            r#"{"k":[{"cidr":"10.0.0.0/8"}]}"#,
            &s("10.1.2.3")
        ));
        assert!(!attr_match(
            r#"{"k":[{"cidr":"10.0.0.0/8"}]}"#,
            &s("11.1.2.3")
        ));
        let n = |v| [("k", "Number", v)];
        assert!(attr_match(
            r#"{"k":[{"numeric":[">",0,"<=",10]}]}"#,
            &n("10")
        ));
        assert!(!attr_match(
            r#"{"k":[{"numeric":[">",0,"<=",10]}]}"#,
            &n("10.5")
        ));
        assert!(attr_match(r#"{"k":[{"numeric":["=",5]}]}"#, &n("5.0")));
        assert!(attr_match(r#"{"k":[5]}"#, &n("5")));
        assert!(!attr_match(r#"{"k":[5]}"#, &s("5")));
        let arr = [("k", "String.Array", r#"["x","y",3]"#)];
        assert!(attr_match(r#"{"k":["y"]}"#, &arr));
        assert!(attr_match(r#"{"k":[{"numeric":[">",2]}]}"#, &arr));
        let two = [("a", "String", "1"), ("b", "String", "2")];
        assert!(attr_match(r#"{"a":["1"],"b":["2"]}"#, &two));
        assert!(!attr_match(r#"{"a":["1"],"b":["3"]}"#, &two));
        assert!(attr_match(r#"{"$or":[{"a":["9"]},{"b":["2"]}]}"#, &two));
    }

    #[test]
    fn body_operators() {
        let body =
            r#"{"order":{"kind":"book","price":12,"tags":["new","sale"]},"ok":true,"gone":null}"#;
        assert!(body_match(r#"{"order":{"kind":["book"]}}"#, body));
        assert!(body_match(r#"{"order.kind":["book"]}"#, body));
        assert!(body_match(
            r#"{"order":{"price":[{"numeric":[">=",12]}]}}"#,
            body
        ));
        assert!(body_match(r#"{"order":{"tags":["sale"]}}"#, body));
        assert!(body_match(r#"{"ok":[true]}"#, body));
        assert!(body_match(r#"{"gone":[null]}"#, body));
        assert!(body_match(r#"{"missing":[{"exists":false}]}"#, body));
        assert!(!body_match(
            r#"{"order":{"kind":[{"anything-but":"book"}]}}"#,
            body
        ));
        assert!(!body_match(r#"{"order":{"kind":["book"]}}"#, "not json"));
        assert!(!body_match(r#"{"order":{"kind":["book"]}}"#, "[1]"));
    }
}
