//! alternative: always searches its own log from the hint, even when the hint's term is 0: the search then stops at once at the hint (no entry has a term of 0 or less), so the probe is the same (§5.3)
//! step: Deep Step5
                    let next_probe_idx = self
                        .raft_log
                        .find_conflict_by_term(m.reject_hint, m.log_term);
                    if pr.maybe_decr_to(m.index, next_probe_idx) {
                        debug!("{} decreased progress of {} to [{}]", self.id, m.from, pr);
                        if pr.state == ProgressState::Replicate {
                            pr.become_probe();
                        }
                        self.send_append(m.from);
                    }
