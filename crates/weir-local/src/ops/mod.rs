//! The operations, grouped by what they act on.

pub(crate) mod messages;
pub(crate) mod moves;
pub(crate) mod permissions;
pub(crate) mod queues;
pub(crate) mod receive;

use crate::error::{SqsError, SqsResult};

/// Validates an optional integer parameter against a range, defaulting when absent.
pub(crate) fn int_param(
    v: Option<i64>,
    name: &str,
    min: i64,
    max: i64,
    default: i64,
) -> SqsResult<i64> {
    match v {
        None => Ok(default),
        Some(v) if (min..=max).contains(&v) => Ok(v),
        Some(v) => Err(SqsError::bad_value(
            v,
            name,
            &format!("Must be between {min} and {max}, if provided."),
        )),
    }
}
