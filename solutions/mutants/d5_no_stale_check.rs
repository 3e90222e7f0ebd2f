//! mutant: steps back on every refusal, a late one for an old append too, by setting the next index itself: a stale refusal sends the leader back to entries the follower already acknowledged (§5.3: a refusal answers one append; only the latest says where the logs differ)
//! step: Deep Step5
                    let mut next_probe_idx = m.reject_hint;
                    if m.log_term > 0 {
                        next_probe_idx = self
                            .raft_log
                            .find_conflict_by_term(m.reject_hint, m.log_term);
                    }
                    pr.become_probe();
                    pr.next_idx = next_probe_idx + 1;
                    self.send_append(m.from);
