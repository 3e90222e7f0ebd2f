//! mutant: sends the new entries to the first follower only, not to each of the other servers (§5.3: "issues AppendEntries RPCs in parallel to each of the other servers")
//! step: Replication Step2
//! also-fails: search
                if let Some(to) = self.prs.voter_nodes().into_iter().find(|&id| id != self.id) {
                    self.send_append(to);
                }
