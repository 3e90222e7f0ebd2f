//! mutant: steps the follower's next index back but sends nothing until the follower next answers a heartbeat: every round trip of the repair waits for a heartbeat (Figure 2: "decrement nextIndex and retry")
//! step: Deep Step5
                    let mut next_probe_idx = m.reject_hint;
                    if m.log_term > 0 {
                        next_probe_idx = self
                            .raft_log
                            .find_conflict_by_term(m.reject_hint, m.log_term);
                    }
                    if pr.maybe_decr_to(m.index, next_probe_idx) {
                        debug!("{} decreased progress of {} to [{}]", self.id, m.from, pr);
                        if pr.state == ProgressState::Replicate {
                            pr.become_probe();
                        }
                    }
