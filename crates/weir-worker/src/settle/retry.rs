//! Retry: the message's visibility becomes the backoff for its receive count (or the
//! wait its handler asked for), so SQS delivers it again then, even if this process
//! dies meanwhile.

use std::time::Duration;

use crate::context::{Ctx, Ticket};
use crate::retry::MAX_VISIBILITY;

/// Changes the message's visibility to its backoff, after taking it from the lease.
pub(crate) async fn backoff(ctx: &Ctx, ticket: Ticket, after: Option<Duration>) {
    let s = &ctx.settings;
    let msg = &ticket.msg;
    // SQS counts 12 h from the receive; a longer delay would be refused.
    let age = msg.received_at().elapsed();
    let delay = after
        .unwrap_or_else(|| s.retry.backoff(msg.receive_count()))
        .min(MAX_VISIBILITY.saturating_sub(age + Duration::from_secs(1)));
    let delay = Duration::from_secs(delay.as_secs());
    if !ctx.leases.begin_change(ticket.key).await {
        // Lost, or past its deadline: SQS delivers it again after its visibility
        // timeout, without the backoff.
        ctx.leases.finish(ticket.key);
        ctx.stats.skipped.add(1);
        return;
    }
    match ctx
        .calls
        .change_visibility(msg.receipt_handle(), delay)
        .await
    {
        Ok(()) => ctx.stats.retried.add(1),
        Err(e) => {
            ctx.stats.skipped.add(1);
            tracing::warn!(message_id = %msg.message_id(), error = %e, "could not set the retry delay; the message reappears after its visibility timeout");
        }
    }
    ctx.leases.finish(ticket.key);
}
