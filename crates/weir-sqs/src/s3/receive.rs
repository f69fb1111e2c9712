//! The consumer's side: fetching offloaded payloads before decoding, and deleting
//! objects after their messages' SQS deletes succeed.

use crate::codec::DecodeError;
use crate::error::CodecErrorKind;
use crate::queue::Queue;
use crate::s3::pointer::{LEGACY_SIZE_ATTRIBUTE, SIZE_ATTRIBUTE};
use crate::s3::store::{self, FETCH_CODEC, FetchError};
use crate::s3::{Offload, S3Pointer};

/// An offloaded message's pointer, and its payload (or why it could not be fetched).
#[derive(Debug)]
pub(crate) struct Fetched {
    pub(crate) pointer: Option<S3Pointer>,
    pub(crate) payload: Result<String, DecodeError>,
}

/// Whether SQS's message carries the extended clients' marker attribute (their only
/// test, `AmazonSQSExtendedClient.java` line 339, `client.py` line 390).
fn is_offloaded(m: &aws_sdk_sqs::types::Message) -> bool {
    m.message_attributes
        .as_ref()
        .is_some_and(|a| a.contains_key(SIZE_ATTRIBUTE) || a.contains_key(LEGACY_SIZE_ATTRIBUTE))
}

/// Fetches the payloads of the offloaded messages among `messages` (concurrently), and
/// returns the messages to hand out, each with its fetch when it was offloaded.
///
/// A missing object is a decode error, or, with `ignore_payload_not_found`, the
/// message is deleted and left out (the Java client's behaviour). A fetch that may
/// succeed later (throttling, 5xx, a timeout) leaves the message out and invisible:
/// SQS delivers it again after its visibility timeout, as after a crash, instead of
/// making a poison message of a passing failure.
pub(crate) async fn fetch_all(
    offload: &Offload,
    queue: &Queue,
    messages: Vec<aws_sdk_sqs::types::Message>,
) -> Vec<(aws_sdk_sqs::types::Message, Option<Fetched>)> {
    let fetches = messages.into_iter().map(|m| async move {
        if !is_offloaded(&m) {
            return Some((m, None));
        }
        let Some(pointer) = m.body.as_deref().and_then(S3Pointer::from_body) else {
            let payload = Err(DecodeError::msg(
                CodecErrorKind::Decode,
                FETCH_CODEC,
                format!(
                    "the message has the {SIZE_ATTRIBUTE} attribute but its body is not an S3 pointer"
                ),
            ));
            return Some((m, Some(Fetched { pointer: None, payload })));
        };
        match store::get(&offload.client, &pointer).await {
            Ok(payload) => Some((
                m,
                Some(Fetched {
                    pointer: Some(pointer),
                    payload: Ok(payload),
                }),
            )),
            Err(FetchError::NotFound(e)) if offload.ignore_payload_not_found => {
                let handle = m.receipt_handle.as_deref().unwrap_or_default();
                match queue.delete(handle).await {
                    Ok(()) => tracing::warn!(
                        message_id = m.message_id.as_deref().unwrap_or_default(),
                        %pointer,
                        "message deleted from SQS: its payload object was not found in S3 (ignore_payload_not_found)"
                    ),
                    Err(err) => tracing::warn!(
                        message_id = m.message_id.as_deref().unwrap_or_default(),
                        %pointer,
                        error = %aws_sdk_sqs::error::DisplayErrorContext(&err),
                        "payload object not found (ignore_payload_not_found), and the message's delete failed: it will be delivered again"
                    ),
                }
                drop(e);
                None
            }
            Err(FetchError::NotFound(e) | FetchError::Permanent(e)) => Some((
                m,
                Some(Fetched {
                    pointer: Some(pointer),
                    payload: Err(e),
                }),
            )),
            Err(FetchError::Transient(err)) => {
                tracing::warn!(
                    message_id = m.message_id.as_deref().unwrap_or_default(),
                    %pointer,
                    error = %aws_sdk_sqs::error::DisplayErrorContext(&err),
                    "fetching the payload failed; the message is left for SQS to deliver again after its visibility timeout"
                );
                None
            }
        }
    });
    futures_util::future::join_all(fetches)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// After the SQS deletes of messages with these pointers succeeded: deletes their
/// objects ([`Offload::delete_acked`]: batched, unless the setting keeps them). A
/// failure is logged, never returned: the message is gone, and the object is left to
/// the lifecycle rule.
pub(crate) async fn after_delete<'a>(
    offload: &Offload,
    pointers: impl IntoIterator<Item = &'a S3Pointer>,
) {
    offload.delete_acked(pointers).await;
}
