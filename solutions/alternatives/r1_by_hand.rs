//! alternative: appends by hand, doing everything append_entry does: each entry gets the leader's term and the next free index (§5.3), the uncommitted-size budget is checked and charged (a full budget drops the proposal and changes nothing), the leader's own progress moves to the new last index, and the commit index is checked (a single voter commits at once)
//! step: Replication Step1
                let last = self.raft_log.last_index();
                for (i, e) in m.entries.iter_mut().enumerate() {
                    e.term = self.term;
                    e.index = last + 1 + i as u64;
                }
                if !self.increase_uncommitted_size(&m.entries) {
                    return Err(Error::ProposalDropped);
                }
                let new_last = self.raft_log.append(std::mem::take(&mut m.entries));
                if let Some(pr) = self.prs.get_mut(self.id) {
                    pr.maybe_update(new_last);
                }
                self.maybe_commit();
