//! Parsing and validating a filter policy into its branches and conditions, with
//! AWS's reason for each malformed shape.

use std::net::IpAddr;

use serde_json::Value;

use super::{Cond, NumOp, Scalar};

pub(super) fn flatten(
    v: &Value,
    parent: Option<&str>,
    body_scope: bool,
    branches: &mut Vec<Vec<(String, Vec<Cond>)>>,
) -> Result<(), String> {
    let Value::Object(obj) = v else {
        return Err("failed to parse JSON.".to_owned());
    };
    for (key, child) in obj {
        if key == "$or" {
            let Value::Array(alternatives) = child else {
                return Err("\"$or\" must be an object or an array".to_owned());
            };
            let mut grown = Vec::new();
            for alt in alternatives {
                let mut sub = branches.clone();
                flatten(alt, parent, body_scope, &mut sub)?;
                grown.extend(sub);
            }
            *branches = grown;
            continue;
        }
        let path = parent.map_or_else(|| key.clone(), |p| format!("{p}.{key}"));
        match child {
            Value::Object(_) if !body_scope => {
                return Err(
                    "Filter policy scope MessageAttributes does not support nested filter policy"
                        .to_owned(),
                );
            }
            Value::Object(_) => flatten(child, Some(&path), body_scope, branches)?,
            Value::Array(rules) if rules.is_empty() => {
                return Err("Empty arrays are not allowed".to_owned());
            }
            Value::Array(rules) => {
                let conds = rules.iter().map(rule).collect::<Result<Vec<_>, _>>()?;
                for b in branches.iter_mut() {
                    b.push((path.clone(), conds.clone()));
                }
            }
            _ => return Err(format!("\"{key}\" must be an object or an array")),
        }
    }
    Ok(())
}

fn rule(v: &Value) -> Result<Cond, String> {
    if let Some(s) = Scalar::from_json(v) {
        return Ok(Cond::Exact(s));
    }
    let Value::Object(obj) = v else {
        return Err("Match value must be String, number, true, false, or null".to_owned());
    };
    if obj.len() != 1 {
        return Err("Only one key allowed in match expression".to_owned());
    }
    let Some((op, arg)) = obj.iter().next() else {
        return Err("Only one key allowed in match expression".to_owned());
    };
    let string = |op: &str| {
        arg.as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("{op} match pattern must be a string"))
    };
    match op.as_str() {
        "prefix" => string("prefix").map(Cond::Prefix),
        "suffix" => string("suffix").map(Cond::Suffix),
        "equals-ignore-case" => string("equals-ignore-case").map(Cond::EqualsIgnoreCase),
        "exists" => arg
            .as_bool()
            .map(Cond::Exists)
            .ok_or_else(|| "exists match pattern must be either true or false.".to_owned()),
        "anything-but" => anything_but(arg),
        "numeric" => numeric(arg),
        "cidr" => cidr(arg),
        other => Err(format!("Unrecognized match type {other}")),
    }
}

fn anything_but(arg: &Value) -> Result<Cond, String> {
    match arg {
        Value::Array(items) => items
            .iter()
            .map(|i| {
                Scalar::from_json(i).ok_or_else(|| {
                    "Match value must be String, number, true, false, or null".to_owned()
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Cond::AnythingBut),
        Value::Object(inner) => match inner.iter().next() {
            Some((k, Value::String(p))) if inner.len() == 1 && k == "prefix" => {
                Ok(Cond::AnythingButPrefix(p.clone()))
            }
            Some((k, Value::String(p))) if inner.len() == 1 && k == "suffix" => {
                Ok(Cond::AnythingButSuffix(p.clone()))
            }
            Some((k, _)) => Err(format!("Unsupported anything-but pattern: {k}")),
            None => Err("Unsupported anything-but pattern: ".to_owned()),
        },
        scalar => Scalar::from_json(scalar)
            .map(|s| Cond::AnythingBut(vec![s]))
            .ok_or_else(|| "Match value must be String, number, true, false, or null".to_owned()),
    }
}

fn num_op(v: &Value) -> Option<NumOp> {
    Some(match v.as_str()? {
        "=" => NumOp::Eq,
        "<" => NumOp::Lt,
        "<=" => NumOp::Le,
        ">" => NumOp::Gt,
        ">=" => NumOp::Ge,
        _ => return None,
    })
}

/// `["=", 5]`, `["<", 5]`, or a range `[">", 0, "<=", 10]`, with LocalStack's (AWS's)
/// error for each malformed shape.
fn numeric(arg: &Value) -> Result<Cond, String> {
    let items = arg.as_array().map(Vec::as_slice).unwrap_or_default();
    let Some(first) = items.first() else {
        return Err("Invalid member in numeric match: ]".to_owned());
    };
    let op = num_op(first).ok_or_else(|| match first.as_str() {
        Some(s) => format!("Unrecognized numeric range operator: {s}"),
        None => format!("Invalid member in numeric match: {first}"),
    })?;
    let value_of = |op: NumOp, v: Option<&Value>| {
        v.and_then(Value::as_f64).ok_or_else(|| {
            let name = if op == NumOp::Eq {
                "equals"
            } else {
                op_str(op)
            };
            format!("Value of {name} must be numeric")
        })
    };
    let low = value_of(op, items.get(1))?;
    if items.len() <= 2 {
        return Ok(Cond::Numeric(vec![(op, low)]));
    }
    if !matches!(op, NumOp::Gt | NumOp::Ge) {
        return Err("Too many elements in numeric expression".to_owned());
    }
    let op2 = num_op(&items[2])
        .filter(|o| matches!(o, NumOp::Lt | NumOp::Le))
        .ok_or_else(|| format!("Bad numeric range operator: {}", items[2]))?;
    let high = value_of(op2, items.get(3))?;
    if high <= low {
        return Err("Bottom must be less than top".to_owned());
    }
    if items.len() > 4 {
        return Err("Too many terms in numeric range expression".to_owned());
    }
    Ok(Cond::Numeric(vec![(op, low), (op2, high)]))
}

fn op_str(op: NumOp) -> &'static str {
    match op {
        NumOp::Eq => "=",
        NumOp::Lt => "<",
        NumOp::Le => "<=",
        NumOp::Gt => ">",
        NumOp::Ge => ">=",
    }
}

fn cidr(arg: &Value) -> Result<Cond, String> {
    let s = arg
        .as_str()
        .ok_or_else(|| "prefix match pattern must be a string".to_owned())?;
    let (ip, bits) = s
        .split_once('/')
        .ok_or_else(|| "Malformed CIDR, one '/' required".to_owned())?;
    let bits: u8 = bits
        .parse()
        .map_err(|_| "Malformed CIDR, mask bits must be an integer".to_owned())?;
    let addr: IpAddr = ip
        .parse()
        .map_err(|_| format!("Nonstandard IP address: {ip}"))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    if bits > max {
        return Err(format!("Nonstandard IP address: {ip}"));
    }
    Ok(Cond::Cidr(addr, bits))
}

#[cfg(test)]
mod tests {
    use super::super::FilterPolicy;

    #[test]
    fn bad_policies_are_refused_with_aws_reasons() {
        let err = |p: &str, body| FilterPolicy::parse(p, body).unwrap_err();
        assert_eq!(err("{", false), "failed to parse JSON.");
        assert_eq!(err(r#"{"k":[]}"#, false), "Empty arrays are not allowed");
        assert_eq!(
            err(r#"{"k":"v"}"#, false),
            "\"k\" must be an object or an array"
        );
        assert_eq!(
            err(r#"{"a":{"b":["c"]}}"#, false),
            "Filter policy scope MessageAttributes does not support nested filter policy"
        );
        assert!(FilterPolicy::parse(r#"{"a":{"b":["c"]}}"#, true).is_ok());
        assert_eq!(
            err(r#"{"k":[{"x":1}]}"#, false),
            "Unrecognized match type x"
        );
        assert_eq!(
            err(r#"{"k":[{"numeric":["<",1,">",0]}]}"#, false),
            "Too many elements in numeric expression"
        );
        assert_eq!(
            err(r#"{"k":[{"numeric":[">",5,"<",1]}]}"#, false),
            "Bottom must be less than top"
        );
        assert_eq!(
            err(r#"{"k":[{"numeric":["=","a"]}]}"#, false),
            "Value of equals must be numeric"
        );
        assert_eq!(
            err(r#"{"k":[{"exists":"yes"}]}"#, false),
            "exists match pattern must be either true or false."
        );
        assert_eq!(
            err(
                r#"{"a":[1],"b":[1],"c":[1],"d":[1],"e":[1],"f":[1]}"#,
                false
            ),
            "Filter policy can not have more than 5 keys"
        );
        let many: Vec<String> = (0..151).map(|i| i.to_string()).collect();
        assert_eq!(
            err(&format!(r#"{{"k":{many:?}}}"#), false),
            "Filter policy is too complex"
        );
    }
}
