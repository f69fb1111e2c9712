//! JSON request and response shapes of the SQS awsJson1_0 protocol.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize, Serializer};

/// Serializes a shared string without cloning it into a `String` first (serde's `rc`
/// feature would do the same, for every crate in the build).
fn arc_str<S: Serializer>(s: &Arc<str>, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(s)
}

/// Deserializes an optional string straight into an `Arc<str>`.
fn opt_arc_str_de<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Arc<str>>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(Arc::from))
}

#[allow(clippy::ref_option)] // the signature serde's `serialize_with` calls
fn opt_arc_str<S: Serializer>(s: &Option<Arc<str>>, ser: S) -> Result<S::Ok, S::Error> {
    match s {
        Some(s) => ser.serialize_some(&**s),
        None => ser.serialize_none(),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateQueueIn {
    pub(crate) queue_name: Option<String>,
    #[serde(default)]
    pub(crate) attributes: HashMap<String, String>,
    #[serde(default, rename = "tags")]
    pub(crate) tags: HashMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetQueueUrlIn {
    pub(crate) queue_name: Option<String>,
    #[serde(rename = "QueueOwnerAWSAccountId")]
    pub(crate) queue_owner_aws_account_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListQueuesIn {
    pub(crate) queue_name_prefix: Option<String>,
    pub(crate) next_token: Option<String>,
    pub(crate) max_results: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct QueueUrlIn {
    pub(crate) queue_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListDlqSourcesIn {
    pub(crate) queue_url: Option<String>,
    pub(crate) next_token: Option<String>,
    pub(crate) max_results: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetQueueAttributesIn {
    pub(crate) queue_url: Option<String>,
    #[serde(default)]
    pub(crate) attribute_names: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SetQueueAttributesIn {
    pub(crate) queue_url: Option<String>,
    #[serde(default)]
    pub(crate) attributes: HashMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TagQueueIn {
    pub(crate) queue_url: Option<String>,
    #[serde(default)]
    pub(crate) tags: HashMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UntagQueueIn {
    pub(crate) queue_url: Option<String>,
    #[serde(default)]
    pub(crate) tag_keys: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AddPermissionIn {
    pub(crate) queue_url: Option<String>,
    pub(crate) label: Option<String>,
    #[serde(default, rename = "AWSAccountIds")]
    pub(crate) aws_account_ids: Vec<String>,
    #[serde(default)]
    pub(crate) actions: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RemovePermissionIn {
    pub(crate) queue_url: Option<String>,
    pub(crate) label: Option<String>,
}

/// A message attribute value as sent (binary values are base64).
#[derive(Debug, Default, Deserialize, Serialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AttrIn {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) string_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) binary_value: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) string_list_values: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) binary_list_values: Vec<String>,
    pub(crate) data_type: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SendMessageIn {
    pub(crate) queue_url: Option<String>,
    #[serde(flatten)]
    pub(crate) entry: SendEntry,
}

/// The fields a single send and a batch entry share.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SendEntry {
    pub(crate) id: Option<String>,
    /// Shared from the start: the stored message keeps this allocation.
    #[serde(default, deserialize_with = "opt_arc_str_de")]
    pub(crate) message_body: Option<Arc<str>>,
    pub(crate) delay_seconds: Option<i64>,
    #[serde(default)]
    pub(crate) message_attributes: HashMap<String, AttrIn>,
    #[serde(default)]
    pub(crate) message_system_attributes: HashMap<String, AttrIn>,
    pub(crate) message_deduplication_id: Option<String>,
    pub(crate) message_group_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SendBatchIn {
    pub(crate) queue_url: Option<String>,
    #[serde(default)]
    pub(crate) entries: Vec<SendEntry>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ReceiveIn {
    pub(crate) queue_url: Option<String>,
    #[serde(default)]
    pub(crate) attribute_names: Vec<String>,
    #[serde(default)]
    pub(crate) message_system_attribute_names: Vec<String>,
    #[serde(default)]
    pub(crate) message_attribute_names: Vec<String>,
    pub(crate) max_number_of_messages: Option<i64>,
    pub(crate) visibility_timeout: Option<i64>,
    pub(crate) wait_time_seconds: Option<i64>,
    pub(crate) receive_request_attempt_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DeleteMessageIn {
    pub(crate) queue_url: Option<String>,
    pub(crate) receipt_handle: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct HandleEntry {
    pub(crate) id: Option<String>,
    pub(crate) receipt_handle: Option<String>,
    pub(crate) visibility_timeout: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct HandleBatchIn {
    pub(crate) queue_url: Option<String>,
    #[serde(default)]
    pub(crate) entries: Vec<HandleEntry>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ChangeVisibilityIn {
    pub(crate) queue_url: Option<String>,
    pub(crate) receipt_handle: Option<String>,
    pub(crate) visibility_timeout: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct StartMoveIn {
    pub(crate) source_arn: Option<String>,
    pub(crate) destination_arn: Option<String>,
    pub(crate) max_number_of_messages_per_second: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListMovesIn {
    pub(crate) source_arn: Option<String>,
    pub(crate) max_results: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CancelMoveIn {
    pub(crate) task_handle: Option<String>,
}

// ----- outputs -----

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SendResultEntry {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) id: Option<String>,
    #[serde(serialize_with = "arc_str")]
    pub(crate) message_id: Arc<str>,
    #[serde(rename = "MD5OfMessageBody", serialize_with = "arc_str")]
    pub(crate) md5_of_message_body: Arc<str>,
    #[serde(
        rename = "MD5OfMessageAttributes",
        skip_serializing_if = "Option::is_none",
        serialize_with = "opt_arc_str"
    )]
    pub(crate) md5_of_message_attributes: Option<Arc<str>>,
    #[serde(
        rename = "MD5OfMessageSystemAttributes",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) md5_of_message_system_attributes: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "opt_arc_str"
    )]
    pub(crate) sequence_number: Option<Arc<str>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct FailedEntry {
    pub(crate) id: String,
    pub(crate) sender_fault: bool,
    pub(crate) code: String,
    pub(crate) message: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct IdEntry {
    pub(crate) id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct BatchOut<T> {
    pub(crate) successful: Vec<T>,
    /// Left out when empty, as AWS does: clients test `"Failed" in response`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) failed: Vec<FailedEntry>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MessageOut {
    #[serde(serialize_with = "arc_str")]
    pub(crate) message_id: Arc<str>,
    pub(crate) receipt_handle: String,
    #[serde(rename = "MD5OfBody", serialize_with = "arc_str")]
    pub(crate) md5_of_body: Arc<str>,
    #[serde(serialize_with = "arc_str")]
    pub(crate) body: Arc<str>,
    #[serde(skip_serializing_if = "HashMap::is_empty")]
    pub(crate) attributes: HashMap<&'static str, String>,
    #[serde(
        rename = "MD5OfMessageAttributes",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) md5_of_message_attributes: Option<String>,
    #[serde(skip_serializing_if = "HashMap::is_empty")]
    pub(crate) message_attributes: HashMap<String, AttrIn>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ReceiveOut {
    /// Left out when empty, as AWS does: `"Messages" in response` means messages came.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) messages: Vec<MessageOut>,
}
