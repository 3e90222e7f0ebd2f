//! mutant: appends by hand with the right term and index but forgets the leader's own progress and the commit check, so the leader never counts itself (a single node never commits) (§5.3: an entry is committed once on a majority of the servers, the leader included)
//! step: Replication Step1
//! also-fails: Replication Step2, scenarios
                let last = self.raft_log.last_index();
                for (i, e) in m.entries.iter_mut().enumerate() {
                    e.term = self.term;
                    e.index = last + 1 + i as u64;
                }
                self.raft_log.append(m.entries.clone());
