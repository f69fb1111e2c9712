//! AddPermission and RemovePermission: statements in the queue's `Policy` attribute,
//! written as AWS writes them. The policy is stored and returned, not enforced.

use serde_json::{Value, json};

use crate::engine::{Ctx, Engine};
use crate::error::{ErrorKind, SqsError, SqsResult};
use crate::wire::{AddPermissionIn, RemovePermissionIn};

/// Most actions one AddPermission may grant (AWS answers `OverLimit` above).
const MAX_ACTIONS: usize = 7;

/// Actions only the queue's owner may call: AWS refuses to grant them.
const OWNER_ONLY: &[&str] = &[
    "AddPermission",
    "RemovePermission",
    "CreateQueue",
    "DeleteQueue",
    "SetQueueAttributes",
    "TagQueue",
    "UntagQueue",
];

fn check_label(label: &str) -> SqsResult<()> {
    let ok = (1..=80).contains(&label.len())
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(SqsError::bad_value(
            label,
            "Label",
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
        ))
    }
}

fn check_actions(actions: &[String]) -> SqsResult<()> {
    if actions.is_empty() {
        return Err(SqsError::missing("Actions"));
    }
    if actions.len() > MAX_ACTIONS {
        return Err(SqsError::new(
            ErrorKind::OverLimit,
            format!(
                "{} Actions were found, maximum allowed is {MAX_ACTIONS}.",
                actions.len()
            ),
        ));
    }
    for action in actions {
        if OWNER_ONLY.contains(&action.as_str()) {
            return Err(SqsError::bad_value(
                format!("SQS:{action}"),
                "ActionName",
                "Only the queue owner is allowed to invoke this action.",
            ));
        }
        if action != "*" && !crate::OPERATIONS.contains(&action.as_str()) {
            return Err(SqsError::bad_value(
                format!("SQS:{action}"),
                "ActionName",
                "Please refer to the appropriate WSDL for a list of valid actions.",
            ));
        }
    }
    Ok(())
}

/// One value as AWS writes it: a string for one, a list for several.
fn one_or_list(mut values: Vec<String>) -> Value {
    if values.len() == 1 {
        Value::String(values.remove(0))
    } else {
        json!(values)
    }
}

impl Engine {
    pub(crate) fn add_permission(&self, req: &AddPermissionIn, ctx: &Ctx<'_>) -> SqsResult<Value> {
        let q = self.by_url(ctx, req.queue_url.as_deref())?;
        let label = req
            .label
            .as_deref()
            .ok_or_else(|| SqsError::missing("Label"))?;
        check_label(label)?;
        if req.aws_account_ids.is_empty() {
            return Err(SqsError::bad_value(
                "[]",
                "PrincipalId",
                "Unable to verify.",
            ));
        }
        check_actions(&req.actions)?;
        let principals = req
            .aws_account_ids
            .iter()
            .map(|a| format!("arn:aws:iam::{a}:root"))
            .collect();
        let actions = req.actions.iter().map(|a| format!("SQS:{a}")).collect();
        let statement = json!({
            "Sid": label,
            "Effect": "Allow",
            "Principal": { "AWS": one_or_list(principals) },
            "Action": one_or_list(actions),
            "Resource": q.arn,
        });
        let mut st = q.lock();
        let mut policy = stored_policy(st.cfg.policy.as_deref()).unwrap_or_else(
            || json!({ "Version": "2008-10-17", "Id": format!("{}/SQSDefaultPolicy", q.arn) }),
        );
        let mut statements = take_statements(&mut policy);
        if statements.iter().any(|s| s["Sid"] == label) {
            return Err(SqsError::bad_value(label, "Label", "Already exists."));
        }
        statements.push(statement);
        policy["Statement"] = Value::Array(statements);
        st.cfg.policy = Some(policy.to_string());
        Ok(json!({}))
    }

    pub(crate) fn remove_permission(
        &self,
        req: &RemovePermissionIn,
        ctx: &Ctx<'_>,
    ) -> SqsResult<Value> {
        let q = self.by_url(ctx, req.queue_url.as_deref())?;
        let label = req
            .label
            .as_deref()
            .ok_or_else(|| SqsError::missing("Label"))?;
        let not_found =
            || SqsError::bad_value(label, "Label", "can't find label on existing policy.");
        let mut st = q.lock();
        let mut policy = stored_policy(st.cfg.policy.as_deref()).ok_or_else(not_found)?;
        let mut statements = take_statements(&mut policy);
        let before = statements.len();
        statements.retain(|s| s["Sid"] != label);
        if statements.len() == before {
            return Err(not_found());
        }
        // The last statement gone, the policy goes too.
        let empty = statements.is_empty();
        policy["Statement"] = Value::Array(statements);
        st.cfg.policy = (!empty).then(|| policy.to_string());
        Ok(json!({}))
    }
}

/// The queue's stored policy as a JSON object, when it has one.
fn stored_policy(policy: Option<&str>) -> Option<Value> {
    policy
        .and_then(|p| serde_json::from_str::<Value>(p).ok())
        .filter(Value::is_object)
}

/// Takes the `Statement` list out of a policy object (a single statement object becomes
/// a list of it; none, an empty list).
fn take_statements(policy: &mut Value) -> Vec<Value> {
    match policy["Statement"].take() {
        Value::Array(list) => list,
        single @ Value::Object(_) => vec![single],
        _ => Vec::new(),
    }
}
