//! mutant: ignores the follower's hint and steps back one entry per refusal: repairing a follower whose last dozens of entries conflict takes dozens of round trips (§5.3: "one AppendEntries RPC will be required for each term with conflicting entries, rather than one RPC per entry")
//! step: Deep Step5
//! also-fails: scenarios
                    if pr.maybe_decr_to(m.index, m.index.saturating_sub(1)) {
                        debug!("{} decreased progress of {} to [{}]", self.id, m.from, pr);
                        if pr.state == ProgressState::Replicate {
                            pr.become_probe();
                        }
                        self.send_append(m.from);
                    }
