use crate::timeout::WithCancellation;

/// What [`TraceLayer`](super::TraceLayer) reads from a message. `weir_sqs::Message<T>`
/// implements it; so can any request type.
///
/// # Examples
///
/// ```
/// use weir_middleware::trace::MessageMeta;
///
/// struct Job {
///     id: String,
/// }
///
/// impl MessageMeta for Job {
///     fn message_id(&self) -> Option<&str> {
///         Some(&self.id)
///     }
///     fn queue_name(&self) -> Option<&str> {
///         Some("jobs")
///     }
/// }
/// # let _ = Job { id: "1".into() }.message_id();
/// ```
pub trait MessageMeta {
    /// The SQS message id.
    fn message_id(&self) -> Option<&str>;

    /// The queue's name (not its URL).
    fn queue_name(&self) -> Option<&str>;

    /// The W3C `traceparent` message attribute, if any.
    fn traceparent(&self) -> Option<&str> {
        None
    }

    /// The `AWSTraceHeader` system attribute (X-Ray), if any.
    fn aws_trace_header(&self) -> Option<&str> {
        None
    }
}

/// A received SQS message, with the name of the queue it came from.
impl<T> MessageMeta for weir_sqs::Message<T> {
    fn message_id(&self) -> Option<&str> {
        Some(Self::message_id(self))
    }

    fn queue_name(&self) -> Option<&str> {
        Self::queue_name(self)
    }

    fn traceparent(&self) -> Option<&str> {
        Self::traceparent(self)
    }

    fn aws_trace_header(&self) -> Option<&str> {
        Self::trace_header(self)
    }
}

impl<T: MessageMeta> MessageMeta for WithCancellation<T> {
    fn message_id(&self) -> Option<&str> {
        self.request.message_id()
    }

    fn queue_name(&self) -> Option<&str> {
        self.request.queue_name()
    }

    fn traceparent(&self) -> Option<&str> {
        self.request.traceparent()
    }

    fn aws_trace_header(&self) -> Option<&str> {
        self.request.aws_trace_header()
    }
}

/// A trace context parsed from a `traceparent` or an `AWSTraceHeader`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceContext<'a> {
    /// 32 lowercase hex digits.
    pub trace_id: &'a str,
    /// 16 lowercase hex digits (the caller's span).
    pub span_id: &'a str,
    /// Whether the caller sampled the trace, when it said.
    pub sampled: Option<bool>,
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl<'a> TraceContext<'a> {
    /// Parses a W3C `traceparent`: `00-{32 hex trace id}-{16 hex span id}-{2 hex flags}`.
    /// All-zero ids and version `ff` are invalid.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir_middleware::trace::TraceContext;
    ///
    /// let ctx = TraceContext::from_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
    /// assert_eq!(ctx.span_id, "00f067aa0ba902b7");
    /// assert_eq!(ctx.sampled, Some(true));
    /// assert!(TraceContext::from_traceparent("garbage").is_none());
    /// ```
    #[must_use]
    pub fn from_traceparent(value: &'a str) -> Option<Self> {
        let mut parts = value.trim().split('-');
        let (version, trace_id, span_id, flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if !is_hex(version, 2)
            || version == "ff"
            || !is_hex(trace_id, 32)
            || !is_hex(span_id, 16)
            || !is_hex(flags, 2)
        {
            return None;
        }
        if (version == "00" && parts.next().is_some())
            || trace_id.bytes().all(|b| b == b'0')
            || span_id.bytes().all(|b| b == b'0')
        {
            return None;
        }
        let flags = u8::from_str_radix(flags, 16).ok()?;
        Some(Self {
            trace_id,
            span_id,
            sampled: Some(flags & 1 == 1),
        })
    }
}

/// An X-Ray context from `AWSTraceHeader`:
/// `Root=1-{8 hex}-{24 hex};Parent={16 hex};Sampled={0|1}`. Its trace id, in W3C form, is
/// the 8 and 24 hex digits joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct XrayContext {
    pub(super) trace_id: String,
    pub(super) span_id: Option<String>,
}

impl XrayContext {
    pub(super) fn parse(value: &str) -> Option<Self> {
        let mut trace_id = None;
        let mut span_id = None;
        for part in value.split(';') {
            let (key, val) = part.trim().split_once('=')?;
            match key {
                "Root" => {
                    let mut root = val.split('-');
                    let (one, time, id) = (root.next()?, root.next()?, root.next()?);
                    if one != "1" || !is_hex(time, 8) || !is_hex(id, 24) || root.next().is_some() {
                        return None;
                    }
                    trace_id = Some(format!("{time}{id}"));
                }
                "Parent" if is_hex(val, 16) => span_id = Some(val.to_owned()),
                _ => {}
            }
        }
        Some(Self {
            trace_id: trace_id?,
            span_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_parsing() {
        let ok = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
        let ctx = TraceContext::from_traceparent(ok).unwrap();
        assert_eq!(ctx.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(ctx.sampled, Some(false));
        for bad in [
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        ] {
            assert!(TraceContext::from_traceparent(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn aws_trace_header_parsing() {
        let ctx = XrayContext::parse(
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        )
        .unwrap();
        assert_eq!(ctx.trace_id, "5759e988bd862e3fe1be46a994272793");
        assert_eq!(ctx.span_id.as_deref(), Some("53995c3f42cd8ad8"));
        assert!(XrayContext::parse("Root=2-5759e988-bd862e3fe1be46a994272793").is_none());
        assert!(XrayContext::parse("Parent=53995c3f42cd8ad8").is_none());
    }
}
