//! One queue: its messages, timers and FIFO bookkeeping, behind a std mutex.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::checksum::AttrValue;
use crate::config::QueueConfig;

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
    pub(crate) group_inflight: HashMap<Arc<str>, u32>,
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
                group_inflight: HashMap::new(),
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
            if let Some(m) = self.msgs.get_mut(&seq)
                && m.state != MsgState::Visible
            {
                if m.state == MsgState::Inflight {
                    release_group(&mut self.group_inflight, m.group_id.as_ref());
                }
                m.state = MsgState::Visible;
                self.ready.insert(seq);
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
        if m.visible_at > now {
            m.state = MsgState::Delayed;
            self.timers.insert((m.visible_at, seq));
        } else {
            m.state = MsgState::Visible;
            self.ready.insert(seq);
        }
        self.msgs.insert(seq, m);
        seq
    }

    /// Removes a message wherever it is.
    pub(crate) fn remove(&mut self, seq: u64) -> Option<Msg> {
        let m = self.msgs.remove(&seq)?;
        match m.state {
            MsgState::Visible => {
                self.ready.remove(&seq);
            }
            MsgState::Inflight => release_group(&mut self.group_inflight, m.group_id.as_ref()),
            MsgState::Delayed => {}
        }
        if m.state != MsgState::Visible {
            self.timers.remove(&(m.visible_at, seq));
        }
        Some(m)
    }

    /// Marks a visible message in flight until `until`, with a fresh receipt token.
    pub(crate) fn take_inflight(&mut self, seq: u64, now: Instant, now_ms: u64, until: Instant) {
        let Some(m) = self.msgs.get_mut(&seq) else {
            return;
        };
        self.ready.remove(&seq);
        m.state = MsgState::Inflight;
        m.receive_count += 1;
        m.first_receive_ms.get_or_insert(now_ms);
        m.receipt = fastrand::u64(..);
        m.received_at = now;
        m.visible_at = until;
        if let Some(g) = &m.group_id {
            *self.group_inflight.entry(g.clone()).or_insert(0) += 1;
        }
        self.timers.insert((until, seq));
    }

    /// Sets a new visibility deadline for an in-flight message.
    pub(crate) fn set_visible_at(&mut self, seq: u64, at: Instant, now: Instant) {
        let Some(m) = self.msgs.get_mut(&seq) else {
            return;
        };
        if m.state != MsgState::Visible {
            self.timers.remove(&(m.visible_at, seq));
        }
        m.visible_at = at;
        if at <= now {
            if m.state == MsgState::Inflight {
                release_group(&mut self.group_inflight, m.group_id.as_ref());
            }
            m.state = MsgState::Visible;
            self.ready.insert(seq);
        } else {
            self.timers.insert((at, seq));
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
        self.group_inflight.clear();
        self.attempts.clear();
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

fn release_group(groups: &mut HashMap<Arc<str>, u32>, group: Option<&Arc<str>>) {
    if let Some(g) = group
        && let Some(n) = groups.get_mut(g)
    {
        *n = n.saturating_sub(1);
        if *n == 0 {
            groups.remove(g);
        }
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
