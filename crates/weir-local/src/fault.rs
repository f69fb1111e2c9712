//! Fault injection for the in-process connector: errors, latency, dropped connections
//! and lost responses, per operation.

use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// What an injected fault does to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultAction {
    /// Answer with an AWS-style error instead of running the operation: HTTP `status`,
    /// error `code` (in `__type` and the `x-amzn-query-error` header) and `message`.
    Error {
        /// HTTP status, e.g. 400, 403 or 500.
        status: u16,
        /// Error code as the SDK will report it, e.g. `ThrottlingException`.
        code: String,
        /// Error message.
        message: String,
    },
    /// Wait this long (on tokio's clock) before running the operation.
    Latency(Duration),
    /// Fail before the request reaches the engine, like a connection reset: the
    /// operation does not run and the SDK sees a dispatch failure.
    DropConnection,
    /// Run the operation, then lose the response: the SDK sees a timeout although the
    /// operation took effect (a retried send is then a duplicate, as with AWS).
    LoseResponse,
}

/// One fault rule: an action, the operation it applies to, and how often.
#[derive(Debug, Clone)]
#[must_use]
pub struct FaultRule {
    action: FaultAction,
    operation: Option<String>,
    times: Option<u32>,
    probability: f64,
}

impl FaultRule {
    /// A rule applying `action` to every operation, every time.
    pub fn new(action: FaultAction) -> Self {
        Self {
            action,
            operation: None,
            times: None,
            probability: 1.0,
        }
    }

    /// An error rule: see [`FaultAction::Error`].
    pub fn error(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(FaultAction::Error {
            status,
            code: code.into(),
            message: message.into(),
        })
    }

    /// Limits the rule to one operation, by name (`SendMessage`, `ReceiveMessage`, ...).
    pub fn operation(mut self, operation: impl Into<String>) -> Self {
        self.operation = Some(operation.into());
        self
    }

    /// Applies the rule this many times, then retires it.
    pub fn times(mut self, times: u32) -> Self {
        self.times = Some(times);
        self
    }

    /// Applies the rule to a random fraction of matching requests (0.0–1.0, clamped).
    pub fn probability(mut self, probability: f64) -> Self {
        self.probability = probability.clamp(0.0, 1.0);
        self
    }
}

/// The fault rules of a [`LocalSqs`](crate::LocalSqs), shared by its clones and
/// consulted by its in-process connector before each request. The HTTP server started
/// by `serve` does not inject faults.
///
/// The first matching rule wins; a rule with `times` retires when used up.
#[derive(Default)]
pub struct Faults {
    rules: Mutex<Vec<FaultRule>>,
    /// The number of rules, written under the lock: lets `pick` skip the lock (shared
    /// by every client of the SQS) when no fault is armed, the usual case.
    armed: AtomicUsize,
}

impl fmt::Debug for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Faults")
            .field("rules", &*self.lock())
            .finish()
    }
}

impl Faults {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<FaultRule>> {
        self.rules
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds a rule after the existing ones.
    pub fn inject(&self, rule: FaultRule) {
        let mut rules = self.lock();
        rules.push(rule);
        self.armed.store(rules.len(), Ordering::Release);
    }

    /// Removes every rule.
    pub fn clear(&self) {
        let mut rules = self.lock();
        rules.clear();
        self.armed.store(0, Ordering::Release);
    }

    /// The number of active rules.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no rule is active.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// The action for a request to `operation`, consuming one use of the matching rule.
    pub(crate) fn pick(&self, operation: &str) -> Option<FaultAction> {
        if self.armed.load(Ordering::Acquire) == 0 {
            return None;
        }
        let mut rules = self.lock();
        if rules.is_empty() {
            return None;
        }
        let i = rules.iter().position(|r| {
            r.operation.as_deref().is_none_or(|o| o == operation)
                && r.times != Some(0)
                && (r.probability >= 1.0 || fastrand::f64() < r.probability)
        })?;
        let action = rules[i].action.clone();
        if let Some(t) = rules[i].times.as_mut() {
            *t -= 1;
            if *t == 0 {
                let _retired = rules.remove(i);
                self.armed.store(rules.len(), Ordering::Release);
            }
        }
        Some(action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_by_operation_and_retire_after_their_uses() {
        let f = Faults::default();
        f.inject(
            FaultRule::new(FaultAction::DropConnection)
                .operation("SendMessage")
                .times(2),
        );
        assert_eq!(f.pick("ReceiveMessage"), None);
        assert_eq!(f.pick("SendMessage"), Some(FaultAction::DropConnection));
        assert_eq!(f.pick("SendMessage"), Some(FaultAction::DropConnection));
        assert_eq!(f.pick("SendMessage"), None);
        assert!(f.is_empty());
        f.inject(FaultRule::new(FaultAction::LoseResponse).probability(0.0));
        assert_eq!(f.pick("SendMessage"), None);
        f.clear();
        assert_eq!(f.len(), 0);
    }
}
