//! mutant: probes right after the follower's hint without asking its own log about the hint's term: when the follower's conflicting entries are older than the leader's, the hint is the follower's last entry and the leader steps back one entry per round trip (§5.3: the leader uses the conflicting term to "bypass all of the conflicting entries in that term")
//! step: Deep Step5
//! also-fails: scenarios
                    if pr.maybe_decr_to(m.index, m.reject_hint) {
                        debug!("{} decreased progress of {} to [{}]", self.id, m.from, pr);
                        if pr.state == ProgressState::Replicate {
                            pr.become_probe();
                        }
                        self.send_append(m.from);
                    }
