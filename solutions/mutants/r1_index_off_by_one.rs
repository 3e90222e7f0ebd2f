//! mutant: appends by hand and numbers the new entries from the last index instead of the one after it, overwriting the leader's own last entry (§5.3: the command is appended "as a new entry")
//! step: Replication Step1
//! also-fails: Replication Step2, scenarios, search
                let last = self.raft_log.last_index();
                for (i, e) in m.entries.iter_mut().enumerate() {
                    e.term = self.term;
                    e.index = last + i as u64;
                }
                let last = self.raft_log.append(m.entries.clone());
                if let Some(pr) = self.prs.get_mut(self.id) {
                    pr.maybe_update(last);
                }
                self.maybe_commit();
