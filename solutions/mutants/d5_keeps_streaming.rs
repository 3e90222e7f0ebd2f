//! mutant: steps a streaming follower back but keeps streaming to it instead of probing: it goes on sending optimistically after a refusal, its in-flight window still holds the lost appends, and it may fill and stall (§5.3: after a refusal the leader must find where the logs match, one probe at a time)
//! step: Deep Step5
                    let mut next_probe_idx = m.reject_hint;
                    if m.log_term > 0 {
                        next_probe_idx = self
                            .raft_log
                            .find_conflict_by_term(m.reject_hint, m.log_term);
                    }
                    if pr.maybe_decr_to(m.index, next_probe_idx) {
                        debug!("{} decreased progress of {} to [{}]", self.id, m.from, pr);
                        self.send_append(m.from);
                    }
