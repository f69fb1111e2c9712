//! The message-group index of a queue: per group, its visible and in-flight messages by
//! sequence, so that a FIFO receive finds what it may take without scanning the backlog.
//!
//! A visible message may be received when no older message of its group is in flight,
//! which is what AWS does case by case: a head message made visible again (visibility 0,
//! or a changed visibility that ran out) is served again while later messages of its
//! group are still in flight, and later messages released while an older one is in flight
//! stay blocked. A receive takes a group's messages together, in order, before the next
//! group's, taking groups by their oldest visible message.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

#[derive(Debug, Default)]
struct Group {
    visible: BTreeSet<u64>,
    inflight: BTreeSet<u64>,
}

/// Visible and in-flight messages per group.
#[derive(Debug, Default)]
pub(crate) struct Groups {
    groups: HashMap<Arc<str>, Group>,
    /// Every group with a visible message, by its oldest visible message.
    by_head: BTreeSet<(u64, Arc<str>)>,
}

impl Groups {
    /// A message of `group` became visible.
    pub(crate) fn visible(&mut self, group: &Arc<str>, seq: u64) {
        let g = self.groups.entry(group.clone()).or_default();
        let old_head = g.visible.first().copied();
        g.visible.insert(seq);
        if old_head.is_none_or(|h| seq < h) {
            if let Some(h) = old_head {
                self.by_head.remove(&(h, group.clone()));
            }
            self.by_head.insert((seq, group.clone()));
        }
    }

    /// A message of `group` is no longer visible (received, delayed or removed).
    pub(crate) fn not_visible(&mut self, group: &Arc<str>, seq: u64) {
        let Some(g) = self.groups.get_mut(group) else {
            return;
        };
        let old_head = g.visible.first().copied();
        if !g.visible.remove(&seq) {
            return;
        }
        if old_head == Some(seq) {
            self.by_head.remove(&(seq, group.clone()));
            if let Some(&h) = g.visible.first() {
                self.by_head.insert((h, group.clone()));
            }
        }
        self.drop_if_empty(group);
    }

    /// A message of `group` went in flight.
    pub(crate) fn inflight(&mut self, group: &Arc<str>, seq: u64) {
        self.groups
            .entry(group.clone())
            .or_default()
            .inflight
            .insert(seq);
    }

    /// A message of `group` is no longer in flight (visible again, or removed).
    pub(crate) fn not_inflight(&mut self, group: &Arc<str>, seq: u64) {
        if let Some(g) = self.groups.get_mut(group) {
            g.inflight.remove(&seq);
            self.drop_if_empty(group);
        }
    }

    fn drop_if_empty(&mut self, group: &Arc<str>) {
        if self
            .groups
            .get(group)
            .is_some_and(|g| g.visible.is_empty() && g.inflight.is_empty())
        {
            self.groups.remove(group);
        }
    }

    /// Forgets every message.
    pub(crate) fn clear(&mut self) {
        self.groups.clear();
        self.by_head.clear();
    }

    /// The messages a FIFO receive may take, in the order it takes them: group by group
    /// (oldest visible message first), each group's visible messages older than its
    /// oldest in-flight one. A blocked group costs one comparison.
    pub(crate) fn receivable(&self) -> impl Iterator<Item = u64> + '_ {
        self.by_head.iter().flat_map(move |(_, name)| {
            let g = self.groups.get(name);
            let limit = g
                .and_then(|g| g.inflight.first().copied())
                .unwrap_or(u64::MAX);
            g.into_iter()
                .flat_map(move |g| g.visible.range(..limit).copied())
        })
    }

    /// Whether `group` has a message in flight.
    #[cfg(test)]
    pub(crate) fn has_inflight(&self, group: &str) -> bool {
        self.groups
            .get(group)
            .is_some_and(|g| !g.inflight.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(name: &str) -> Arc<str> {
        Arc::from(name)
    }

    #[test]
    fn groups_are_taken_whole_and_in_order_of_their_oldest_message() {
        let mut groups = Groups::default();
        for (seq, name) in [(0, "a"), (1, "b"), (2, "a"), (3, "b"), (4, "c"), (5, "a")] {
            groups.visible(&g(name), seq);
        }
        assert_eq!(groups.receivable().collect::<Vec<_>>(), [0, 2, 5, 1, 3, 4]);
    }

    #[test]
    fn an_older_message_in_flight_blocks_the_rest_of_its_group_only() {
        let mut groups = Groups::default();
        for (seq, name) in [(0, "a"), (1, "a"), (2, "a"), (3, "b")] {
            groups.visible(&g(name), seq);
        }
        // a's head is received: a is blocked, b is not.
        groups.not_visible(&g("a"), 0);
        groups.inflight(&g("a"), 0);
        assert_eq!(groups.receivable().collect::<Vec<_>>(), [3]);
        // a's head made visible again while 1 is in flight: the head is served.
        groups.not_visible(&g("a"), 1);
        groups.inflight(&g("a"), 1);
        groups.not_inflight(&g("a"), 0);
        groups.visible(&g("a"), 0);
        assert_eq!(groups.receivable().collect::<Vec<_>>(), [0, 3]);
        // 1 released while 0 is in flight again: 1 stays blocked.
        groups.not_visible(&g("a"), 0);
        groups.inflight(&g("a"), 0);
        groups.not_inflight(&g("a"), 1);
        groups.visible(&g("a"), 1);
        assert_eq!(groups.receivable().collect::<Vec<_>>(), [3]);
        assert!(groups.has_inflight("a"));
        // Deleting 0 unblocks a.
        groups.not_inflight(&g("a"), 0);
        assert_eq!(groups.receivable().collect::<Vec<_>>(), [1, 2, 3]);
    }

    #[test]
    fn empty_groups_are_forgotten() {
        let mut groups = Groups::default();
        groups.visible(&g("a"), 7);
        groups.not_visible(&g("a"), 7);
        groups.inflight(&g("a"), 7);
        groups.not_inflight(&g("a"), 7);
        assert!(groups.groups.is_empty() && groups.by_head.is_empty());
    }
}
