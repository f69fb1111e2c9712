use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

/// A [`Timeout`](super::Timeout) fired: it names the timeout and its duration.
///
/// When this is returned, the request's cancellation token has been cancelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Elapsed {
    name: Cow<'static, str>,
    after: Duration,
}

impl Elapsed {
    /// An error for the timeout `name` of `after`.
    pub fn new(name: impl Into<Cow<'static, str>>, after: Duration) -> Self {
        Self {
            name: name.into(),
            after,
        }
    }

    /// The timeout's name, as given to [`TimeoutLayer::new`](super::TimeoutLayer::new).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The timeout's duration.
    #[must_use]
    pub const fn duration(&self) -> Duration {
        self.after
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "timeout `{}` fired after {:?}", self.name, self.after)
    }
}

impl std::error::Error for Elapsed {}
