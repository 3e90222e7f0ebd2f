//! mutant: appends by hand and numbers the entries but never gives them the leader's term: they keep term 0 and can never be committed by counting (§5.3: entries carry the leader's term)
//! step: Replication Step1
//! also-fails: Replication Step2, scenarios, search
                let last = self.raft_log.last_index();
                for (i, e) in m.entries.iter_mut().enumerate() {
                    e.index = last + 1 + i as u64;
                }
                let last = self.raft_log.append(m.entries.clone());
                if let Some(pr) = self.prs.get_mut(self.id) {
                    pr.maybe_update(last);
                }
                self.maybe_commit();
