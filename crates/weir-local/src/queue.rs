//! One queue: its messages, timers and FIFO bookkeeping, behind a std mutex.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::checksum::AttrValue;
use crate::config::QueueConfig;
use crate::groups::Groups;

/// Where a message is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MsgState {
    Delayed,
    Visible,
    Inflight,
}

/// A stored message.
#[derive(Debug, Clone)]
pub(crate) struct Msg {
    pub(crate) id: Arc<str>,
    pub(crate) body: Arc<str>,
    pub(crate) md5_body: Arc<str>,
    pub(crate) attrs: Arc<BTreeMap<String, AttrValue>>,
    pub(crate) md5_attrs: Option<Arc<str>>,
    pub(crate) trace_header: Option<Arc<str>>,
    pub(crate) sent_ms: u64,
    pub(crate) sent_at: Instant,
    pub(crate) sender_id: Arc<str>,
    pub(crate) group_id: Option<Arc<str>>,
    pub(crate) dedup_id: Option<Arc<str>>,
    pub(crate) seq_number: Option<Arc<str>>,
    pub(crate) dlq_source_arn: Option<Arc<str>>,
    pub(crate) receive_count: u32,
    pub(crate) first_receive_ms: Option<u64>,
    pub(crate) state: MsgState,
    pub(crate) visible_at: Instant,
    pub(crate) receipt: u64,
    pub(crate) received_at: Instant,
}

/// A remembered FIFO deduplication id.
#[derive(Debug, Clone)]
pub(crate) struct DedupEntry {
    pub(crate) expires: Instant,
    pub(crate) message_id: Arc<str>,
    pub(crate) seq_number: Option<Arc<str>>,
}

/// A remembered FIFO ReceiveRequestAttemptId.
#[derive(Debug, Clone)]
pub(crate) struct Attempt {
    pub(crate) expires: Instant,
    pub(crate) taken: Vec<(u64, u64)>,
}

/// Mutable state of a queue.
#[derive(Debug)]
pub(crate) struct QueueState {
    pub(crate) cfg: QueueConfig,
    pub(crate) tags: BTreeMap<String, String>,
    pub(crate) modified_ms: u64,
    pub(crate) msgs: BTreeMap<u64, Msg>,
    pub(crate) ready: BTreeSet<u64>,
    /// (visible_at, seq) of every delayed or in-flight message, exactly one each.
    timers: BTreeSet<(Instant, u64)>,
    /// Visible and in-flight messages per message group (FIFO receives read it).
    pub(crate) groups: Groups,
    pub(crate) dedup: HashMap<String, DedupEntry>,
    dedup_order: VecDeque<(Instant, String)>,
    pub(crate) attempts: HashMap<String, Attempt>,
    next_seq: u64,
    fifo_seq: u64,
    pub(crate) last_purge: Option<Instant>,
    pub(crate) deleted: bool,
}

/// A queue.
#[derive(Debug)]
pub(crate) struct Queue {
    pub(crate) name: String,
    pub(crate) arn: String,
    pub(crate) fifo: bool,
    pub(crate) incarnation: u64,
    pub(crate) created_ms: u64,
    state: Mutex<QueueState>,
    pub(crate) notify: Notify,
}

/// Counts for GetQueueAttributes.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Counts {
    pub(crate) visible: usize,
    pub(crate) inflight: usize,
    pub(crate) delayed: usize,
}

impl Queue {
    pub(crate) fn new(
        name: String,
        arn: String,
        fifo: bool,
        incarnation: u64,
        created_ms: u64,
        cfg: QueueConfig,
        tags: BTreeMap<String, String>,
    ) -> Self {
        Self {
            name,
            arn,
            fifo,
            incarnation,
            created_ms,
            state: Mutex::new(QueueState {
                cfg,
                tags,
                modified_ms: created_ms,
                msgs: BTreeMap::new(),
                ready: BTreeSet::new(),
                timers: BTreeSet::new(),
                groups: Groups::default(),
                dedup: HashMap::new(),
                dedup_order: VecDeque::new(),
                attempts: HashMap::new(),
                next_seq: 0,
                fifo_seq: 10_000_000_000_000_000_000,
                last_purge: None,
                deleted: false,
            }),
            notify: Notify::new(),
        }
    }

    /// The region and account of the queue, from its ARN.
    pub(crate) fn namespace(&self) -> (&str, &str) {
        let mut parts = self.arn.split(':').skip(3);
        let region = parts.next().unwrap_or_default();
        let account = parts.next().unwrap_or_default();
        (region, account)
    }

    /// Locks the state. A poisoned lock is recovered: the state stays consistent
    /// because no code path panics while holding it.
    pub(crate) fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl QueueState {
    /// Moves due delayed and in-flight messages to visible, and drops expired ones.
    pub(crate) fn tick(&mut self, now: Instant) {
        while let Some(&(at, seq)) = self.timers.first() {
            if at > now {
                break;
            }
            self.timers.pop_first();
            if self
                .msgs
                .get(&seq)
                .is_some_and(|m| m.state != MsgState::Visible)
            {
                self.become_visible(seq);
            }
        }
        let retention = Duration::from_secs(u64::from(self.cfg.retention));
        while let Some((&seq, m)) = self.msgs.first_key_value() {
            if m.sent_at + retention <= now {
                self.remove(seq);
            } else {
                break;
            }
        }
        while let Some((at, _)) = self.dedup_order.front() {
            if *at > now {
                break;
            }
            if let Some((_, key)) = self.dedup_order.pop_front()
                && self.dedup.get(&key).is_some_and(|e| e.expires <= now)
            {
                self.dedup.remove(&key);
            }
        }
        if self.attempts.len() > 1024 {
            self.attempts.retain(|_, a| a.expires > now);
        }
    }

    /// The next instant something becomes visible, if any.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        self.timers.first().map(|(at, _)| *at)
    }

    /// Whether a message has outlived the retention period.
    pub(crate) fn expired(&self, m: &Msg, now: Instant) -> bool {
        m.sent_at + Duration::from_secs(u64::from(self.cfg.retention)) <= now
    }

    /// Next FIFO sequence number.
    pub(crate) fn next_fifo_seq(&mut self) -> Arc<str> {
        self.fifo_seq += 1;
        Arc::from(format!("{:020}", self.fifo_seq))
    }

    /// Stores a new message; it is visible now or delayed until `visible_at`.
    pub(crate) fn insert(&mut self, mut m: Msg, now: Instant) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        let delayed = m.visible_at > now;
        m.state = MsgState::Delayed;
        if delayed {
            self.timers.insert((m.visible_at, seq));
        }
        self.msgs.insert(seq, m);
        if !delayed {
            self.become_visible(seq);
        }
        seq
    }

    /// Removes a message wherever it is.
    pub(crate) fn remove(&mut self, seq: u64) -> Option<Msg> {
        self.leave_state(seq);
        let m = self.msgs.remove(&seq)?;
        if m.state != MsgState::Visible {
            self.timers.remove(&(m.visible_at, seq));
        }
        Some(m)
    }

    /// Marks a visible message in flight until `until`, with a fresh receipt token.
    pub(crate) fn take_inflight(&mut self, seq: u64, now: Instant, now_ms: u64, until: Instant) {
        if !self.msgs.contains_key(&seq) {
            return;
        }
        self.leave_state(seq);
        let Some(m) = self.msgs.get_mut(&seq) else {
            return;
        };
        m.state = MsgState::Inflight;
        m.receive_count += 1;
        m.first_receive_ms.get_or_insert(now_ms);
        m.receipt = fastrand::u64(..);
        m.received_at = now;
        m.visible_at = until;
        if let Some(g) = m.group_id.clone() {
            self.groups.inflight(&g, seq);
        }
        self.timers.insert((until, seq));
    }

    /// Sets a new visibility deadline for a received message: visible at once when `at`
    /// is not in the future, else in flight until `at` (also for a message whose
    /// visibility had run out, as AWS applies a change made with the latest handle).
    pub(crate) fn set_visible_at(&mut self, seq: u64, at: Instant, now: Instant) {
        let Some(m) = self.msgs.get(&seq) else {
            return;
        };
        if m.state != MsgState::Visible {
            self.timers.remove(&(m.visible_at, seq));
        }
        if at <= now {
            if m.state != MsgState::Visible {
                self.become_visible(seq);
            }
        } else if m.state != MsgState::Inflight {
            self.leave_state(seq);
            if let Some(m) = self.msgs.get_mut(&seq) {
                m.state = MsgState::Inflight;
                if let Some(g) = m.group_id.clone() {
                    self.groups.inflight(&g, seq);
                }
            }
            self.timers.insert((at, seq));
        } else {
            self.timers.insert((at, seq));
        }
        if let Some(m) = self.msgs.get_mut(&seq) {
            m.visible_at = at;
        }
    }

    /// Takes a stored message out of the indexes of its current state (ready or group
    /// sets; timers are the caller's).
    fn leave_state(&mut self, seq: u64) {
        let Some(m) = self.msgs.get(&seq) else {
            return;
        };
        let group = m.group_id.clone();
        match m.state {
            MsgState::Visible => {
                self.ready.remove(&seq);
                if let Some(g) = &group {
                    self.groups.not_visible(g, seq);
                }
            }
            MsgState::Inflight => {
                if let Some(g) = &group {
                    self.groups.not_inflight(g, seq);
                }
            }
            MsgState::Delayed => {}
        }
    }

    /// Makes a stored delayed or in-flight message visible (its timer is the caller's).
    fn become_visible(&mut self, seq: u64) {
        self.leave_state(seq);
        let Some(m) = self.msgs.get_mut(&seq) else {
            return;
        };
        m.state = MsgState::Visible;
        let group = m.group_id.clone();
        self.ready.insert(seq);
        if let Some(g) = &group {
            self.groups.visible(g, seq);
        }
    }

    /// Remembers a dedup id for five minutes.
    pub(crate) fn remember_dedup(&mut self, key: String, entry: DedupEntry) {
        self.dedup_order.push_back((entry.expires, key.clone()));
        self.dedup.insert(key, entry);
    }

    /// Drops every message.
    pub(crate) fn purge(&mut self) {
        self.msgs.clear();
        self.ready.clear();
        self.timers.clear();
        self.groups.clear();
        self.attempts.clear();
        // AWS forgets deduplication ids with the messages.
        self.dedup.clear();
        self.dedup_order.clear();
    }

    /// Visible, in-flight and delayed counts.
    pub(crate) fn counts(&self, now: Instant) -> Counts {
        let mut c = Counts::default();
        for m in self.msgs.values() {
            if self.expired(m, now) {
                continue;
            }
            match m.state {
                MsgState::Visible => c.visible += 1,
                MsgState::Inflight => c.inflight += 1,
                MsgState::Delayed => c.delayed += 1,
            }
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(now: Instant) -> Msg {
        Msg {
            id: Arc::from("id"),
            body: Arc::from("b"),
            md5_body: Arc::from("m"),
            attrs: Arc::new(BTreeMap::new()),
            md5_attrs: None,
            trace_header: None,
            sent_ms: 0,
            sent_at: now,
            sender_id: Arc::from("s"),
            group_id: None,
            dedup_id: None,
            seq_number: None,
            dlq_source_arn: None,
            receive_count: 0,
            first_receive_ms: None,
            state: MsgState::Visible,
            visible_at: now,
            receipt: 0,
            received_at: now,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn deleted_in_flight_messages_leave_no_timers_behind() {
        let q = Queue::new(
            "q".into(),
            "arn".into(),
            false,
            1,
            0,
            QueueConfig::default(),
            BTreeMap::new(),
        );
        let now = Instant::now();
        let mut st = q.lock();
        for _ in 0..100 {
            let seq = st.insert(msg(now), now);
            st.take_inflight(seq, now, 0, now + Duration::from_secs(30));
            st.remove(seq);
        }
        assert!(st.timers.is_empty());
        assert!(st.msgs.is_empty() && st.ready.is_empty());
        let seq = st.insert(msg(now), now);
        st.take_inflight(seq, now, 0, now + Duration::from_secs(30));
        st.set_visible_at(seq, now + Duration::from_secs(60), now);
        assert_eq!(st.timers.len(), 1);
        st.tick(now + Duration::from_secs(31));
        assert_eq!(st.counts(now).inflight, 1);
        st.tick(now + Duration::from_secs(60));
        assert!(st.timers.is_empty());
        assert_eq!(st.ready.len(), 1);
    }
}
