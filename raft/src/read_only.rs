//! ReadIndex bookkeeping on the leader (§6.4): read requests wait here until
//! a heartbeat round acknowledged by a quorum proves that the leader was
//! still the leader when the request arrived.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::config::ReadOnlyOption;
use crate::quorum::{VoteResult, vote_result};
use crate::types::{Index, Message, NodeId};

/// A read request waiting for its heartbeat quorum.
#[derive(Clone, Debug)]
pub struct ReadIndexStatus {
    /// The request as it arrived (its one entry's data is the request id).
    pub req: Message,
    /// The commit index when the request arrived: safe to read at once the
    /// quorum answers.
    pub index: Index,
    /// Who acknowledged a heartbeat carrying this request.
    pub acks: BTreeSet<NodeId>,
}

/// The leader's pending read requests, oldest first.
#[derive(Clone, Debug, Default)]
pub struct ReadOnly {
    pub option: ReadOnlyOption,
    /// Pending requests by request id (context).
    pub pending_read_index: BTreeMap<Vec<u8>, ReadIndexStatus>,
    /// Request ids in arrival order; always the keys of `pending_read_index`.
    pub read_index_queue: VecDeque<Vec<u8>>,
}

impl ReadOnly {
    pub fn new(option: ReadOnlyOption) -> ReadOnly {
        ReadOnly {
            option,
            ..Default::default()
        }
    }

    /// Queues request `m` (one entry whose data is its id), to be answered
    /// at `index`. A request already pending is not queued twice.
    pub fn add_request(&mut self, index: Index, m: Message) {
        let Some(ctx) = m.entries.first().map(|e| e.data.to_vec()) else {
            return;
        };
        if self.pending_read_index.contains_key(&ctx) {
            return;
        }
        self.read_index_queue.push_back(ctx.clone());
        self.pending_read_index.insert(
            ctx,
            ReadIndexStatus {
                req: m,
                index,
                acks: BTreeSet::new(),
            },
        );
    }

    /// Records `id`'s acknowledgement of the heartbeat that carried `ctx`.
    /// Returns whether a quorum of `voters` has now acknowledged it.
    pub fn recv_ack(&mut self, id: NodeId, ctx: &[u8], voters: &BTreeSet<NodeId>) -> bool {
        let Some(rs) = self.pending_read_index.get_mut(ctx) else {
            return false;
        };
        rs.acks.insert(id);
        let votes: BTreeMap<NodeId, bool> = rs.acks.iter().map(|&id| (id, true)).collect();
        vote_result(voters, &votes) == VoteResult::Won
    }

    /// Takes every request up to and including the one with id `ctx`: the
    /// quorum that confirmed it confirms the older ones too.
    pub fn advance(&mut self, ctx: &[u8]) -> Vec<ReadIndexStatus> {
        let Some(pos) = self.read_index_queue.iter().position(|c| c == ctx) else {
            return Vec::new();
        };
        self.read_index_queue
            .drain(..=pos)
            .filter_map(|c| self.pending_read_index.remove(&c))
            .collect()
    }

    /// The id of the newest pending request, or empty when none is pending.
    pub fn last_pending_request_ctx(&self) -> Vec<u8> {
        self.read_index_queue.back().cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Entry, MessageType};

    fn req(ctx: &[u8]) -> Message {
        let mut m = Message::new(MessageType::MsgReadIndex, 2, 1);
        m.entries = vec![Entry::new(0, 0, ctx)];
        m
    }

    #[test]
    fn a_quorum_of_acks_releases_the_request_and_older_ones() {
        let voters: BTreeSet<u64> = [1, 2, 3].into();
        let mut ro = ReadOnly::new(ReadOnlyOption::Safe);
        ro.add_request(5, req(b"a"));
        ro.add_request(6, req(b"b"));
        ro.add_request(6, req(b"b")); // a duplicate is not queued twice
        assert_eq!(ro.read_index_queue.len(), 2);
        assert_eq!(ro.last_pending_request_ctx(), b"b");
        assert!(
            !ro.recv_ack(1, b"b", &voters),
            "one ack of three is no quorum"
        );
        assert!(
            ro.recv_ack(2, b"b", &voters),
            "two acks of three are a quorum"
        );
        let done: Vec<Index> = ro.advance(b"b").iter().map(|rs| rs.index).collect();
        assert_eq!(done, vec![5, 6]);
        assert!(ro.pending_read_index.is_empty());
        assert_eq!(ro.last_pending_request_ctx(), Vec::<u8>::new());
    }

    #[test]
    fn unknown_contexts_are_ignored() {
        let voters: BTreeSet<u64> = [1].into();
        let mut ro = ReadOnly::new(ReadOnlyOption::Safe);
        assert!(!ro.recv_ack(1, b"x", &voters));
        assert!(ro.advance(b"x").is_empty());
    }
}
