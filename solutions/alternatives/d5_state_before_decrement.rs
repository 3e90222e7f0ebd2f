//! alternative: notes whether the follower was streaming before stepping back, computes the probe point in one expression, and sends with the general send function (sending even an empty append), which is what the per-peer send does (§5.3)
//! step: Deep Step5
                    let was_streaming = pr.state == ProgressState::Replicate;
                    let next_probe_idx = if m.log_term > 0 {
                        self.raft_log
                            .find_conflict_by_term(m.reject_hint, m.log_term)
                    } else {
                        m.reject_hint
                    };
                    if pr.maybe_decr_to(m.index, next_probe_idx) {
                        if was_streaming {
                            pr.become_probe();
                        }
                        self.maybe_send_append(m.from, true);
                    }
