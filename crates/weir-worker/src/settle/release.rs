//! Release: visibility 0, in batches of 10, for messages the worker will not handle
//! (received during shutdown, the rest of a FIFO group after a failure, or abandoned by
//! shutdown), so another consumer gets them at once.

use std::time::Duration;

use crate::context::{Ctx, Ticket};

/// Releases `tickets`; returns how many SQS accepted. Each is taken from the lease
/// first, so an extension in flight cannot undo the release.
pub(crate) async fn release(ctx: &Ctx, tickets: Vec<Ticket>) -> u64 {
    let mut released = 0;
    let mut to_send = Vec::with_capacity(tickets.len());
    for t in tickets {
        if ctx.leases.begin_change(t.key).await {
            to_send.push(t);
        } else {
            // Lost or expired: SQS has it back already.
            ctx.leases.finish(t.key);
        }
    }
    for chunk in to_send.chunks(10) {
        let entries: Vec<(&str, Duration)> = chunk
            .iter()
            .map(|t| (t.msg.receipt_handle(), Duration::ZERO))
            .collect();
        match ctx.calls.change_visibility_batch(&entries).await {
            Ok(results) => {
                for r in results {
                    match r {
                        Ok(()) => released += 1,
                        Err(e) => {
                            tracing::debug!(error = %e, "release refused; the message reappears after its visibility timeout")
                        }
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, count = chunk.len(), "release failed; the messages reappear after their visibility timeout");
            }
        }
        ctx.leases.finish_all(chunk.iter().map(|t| t.key));
    }
    ctx.stats.released.add(released);
    released
}
