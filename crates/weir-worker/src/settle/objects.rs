//! Payload objects (the `s3` feature): once a handled message's SQS delete succeeded,
//! its pointer comes here, and the objects go out in `DeleteObjects` of up to 1,000
//! keys per bucket: what arrives while one call is in flight goes in the next.
//!
//! Only after a handler success: a dead-lettered message's copy points at the same
//! object, and a message whose delete failed (or is in doubt) will be delivered again.
//! Best effort: a failure is logged and counted, never an ack failure. Without the
//! feature (or an offload, or when the offload keeps objects), nothing happens here.

use std::future::Future;
use std::sync::Arc;

use weir_sqs::Message;

use crate::context::Ctx;

/// Where the acker sends the pointers of deleted messages.
#[derive(Clone)]
pub(crate) struct Objects {
    #[cfg(feature = "s3")]
    tx: Option<tokio::sync::mpsc::UnboundedSender<weir_sqs::s3::S3Pointer>>,
}

impl Objects {
    /// `msg` was handled and SQS deleted it: its object goes too.
    #[cfg_attr(not(feature = "s3"), allow(clippy::unused_self))]
    pub(crate) fn deleted(&self, msg: &Message<()>) {
        #[cfg(feature = "s3")]
        if let (Some(tx), Some(pointer)) = (&self.tx, msg.s3_pointer()) {
            // The deleter ends only after every sender is gone.
            let _ = tx.send(pointer.clone());
        }
        #[cfg(not(feature = "s3"))]
        let _ = msg;
    }
}

/// The sender, and the deleter to run beside the acker: it ends once every sender is
/// dropped and what they sent is deleted.
pub(crate) fn start(ctx: &Arc<Ctx>) -> (Objects, impl Future<Output = ()> + Send + 'static) {
    #[cfg(feature = "s3")]
    {
        use weir_sqs::s3::Cleanup;
        let offload = ctx
            .settings
            .offload
            .clone()
            .filter(|o| o.cleanup() == Cleanup::DeleteAfterAck);
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let objects = Objects {
            tx: offload.is_some().then_some(tx),
        };
        let ctx = ctx.clone();
        let run = async move {
            if let Some(offload) = offload {
                run(&ctx, &offload, rx).await;
            }
        };
        (objects, run)
    }
    #[cfg(not(feature = "s3"))]
    {
        let _ = ctx;
        (Objects {}, std::future::ready(()))
    }
}

/// Deletes what comes, in calls of up to [`MAX_DELETE_KEYS`](weir_sqs::s3::MAX_DELETE_KEYS)
/// keys, each bounded by the request timeout.
#[cfg(feature = "s3")]
async fn run(
    ctx: &Ctx,
    offload: &weir_sqs::s3::Offload,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<weir_sqs::s3::S3Pointer>,
) {
    use weir_sqs::s3::MAX_DELETE_KEYS;
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_DELETE_KEYS {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let limit = ctx.settings.request_timeout;
        match tokio::time::timeout(limit, offload.delete_acked(&batch)).await {
            Ok(done) => {
                ctx.stats.payloads_deleted.add(done.deleted as u64);
                ctx.stats.payload_delete_failures.add(done.failed as u64);
            }
            Err(_) => {
                tracing::warn!(
                    objects = batch.len(),
                    "deleting the payloads of acknowledged messages took over the request timeout ({limit:?}); they stay until the bucket's lifecycle rule removes them"
                );
                ctx.stats.payload_delete_failures.add(batch.len() as u64);
            }
        }
    }
}
