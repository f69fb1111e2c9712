//! Sending a body as it is, with no codec: the one `SendMessage` call every send goes
//! through.

use tracing::Instrument;

use crate::attributes::to_sdk_map;
use crate::error::Result;
use crate::producer::{Prepared, SendOptions, SendOutput, check_send_options};
use crate::queue::{Queue, secs_i32};
use crate::telemetry::OpType;
use crate::validate;

impl Queue {
    /// Sends `body` as it is, with no codec (`SendMessage`), checked first as a
    /// [`Producer`](crate::Producer)'s send is: the options' FIFO rules, then the size
    /// of body and attributes against the queue's `MaximumMessageSize`.
    ///
    /// # Errors
    ///
    /// Before any call: [`Error::InvalidInput`](crate::Error::InvalidInput) or
    /// [`Error::PayloadTooLarge`](crate::Error::PayloadTooLarge). Then
    /// [`Error::Sqs`](crate::Error::Sqs) or [`Error::QueueNotFound`](crate::Error::QueueNotFound).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> weir_sqs::Result<()> {
    /// # let client = weir_local::LocalSqs::new().client();
    /// # weir_sqs::QueueSpec::standard("raw").ensure(&client).await?;
    /// use weir_sqs::{AttributeValue, Queue, SendOptions};
    ///
    /// let queue = Queue::open(&client, "raw").await?;
    /// let options = SendOptions::default().with_attribute("kind", AttributeValue::string("ping"));
    /// let out = queue.send_raw("<ping/>", options).await?;
    /// assert!(!out.message_id().is_empty());
    /// # Ok(()) }
    /// ```
    pub async fn send_raw(
        &self,
        body: impl Into<String>,
        options: SendOptions,
    ) -> Result<SendOutput> {
        let attrs = self.attributes();
        check_send_options(
            &options,
            self.is_fifo(),
            attrs.content_based_deduplication(),
        )?;
        let body = body.into();
        let size = validate::check_message(&body, &options.attributes, attrs.max_message_size())?;
        let prepared = Prepared {
            body,
            attributes: options.attributes,
            delay: options.delay,
            group_id: options.group_id,
            dedup_id: options.dedup_id,
            size,
            #[cfg(feature = "s3")]
            upload: None,
        };
        self.send_prepared(prepared, false).await
    }

    /// Sends a message already encoded and checked: with the `s3` feature, its payload
    /// is uploaded first, and deleted again (best effort) when the send fails.
    #[cfg(feature = "s3")]
    pub(crate) async fn send_prepared(
        &self,
        mut p: Prepared,
        log_bodies: bool,
    ) -> Result<SendOutput> {
        let Some(upload) = p.upload.take() else {
            return self.send_checked(p, log_bodies).await;
        };
        let object = upload.put().await?;
        let sent = self.send_checked(p, log_bodies).await;
        if sent.is_err() {
            object.discard().await;
        }
        sent
    }

    /// Sends a message already encoded and checked.
    #[cfg(not(feature = "s3"))]
    pub(crate) async fn send_prepared(&self, p: Prepared, log_bodies: bool) -> Result<SendOutput> {
        self.send_checked(p, log_bodies).await
    }

    async fn send_checked(&self, p: Prepared, log_bodies: bool) -> Result<SendOutput> {
        let span = self.span("SendMessage", OpType::Send);
        if log_bodies {
            tracing::trace!(parent: &span, body = %p.body, "sending message");
        }
        let attrs = if p.attributes.is_empty() {
            None
        } else {
            Some(to_sdk_map(&p.attributes)?)
        };
        let out = self
            .client()
            .send_message()
            .queue_url(self.url())
            .message_body(p.body)
            .set_delay_seconds(p.delay.map(secs_i32))
            .set_message_group_id(p.group_id)
            .set_message_deduplication_id(p.dedup_id)
            .set_message_attributes(attrs)
            .send()
            .instrument(span.clone())
            .await
            .map_err(|e| self.sdk_err("SendMessage", e, &span))?;
        let message_id = out.message_id.unwrap_or_default();
        span.record("messaging.message.id", message_id.as_str());
        Ok(SendOutput::new(message_id, out.sequence_number))
    }
}
