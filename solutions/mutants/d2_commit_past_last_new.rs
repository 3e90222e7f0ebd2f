//! mutant: follows the leader's commit index up to its own last entry instead of the last entry the append vouched for: entries after them, maybe of an old term the leader never had, are committed (Figure 2: "set commitIndex = min(leaderCommit, index of last new entry)")
//! step: Deep Step2
        if !self.match_term(idx, log_term) {
            return None;
        }
        let last_new_index = idx + ents.len() as u64;
        let conflict = self.find_conflict(&ents);
        if conflict != 0 {
            assert!(
                conflict > self.committed,
                "entry {conflict} conflicts with committed entry (committed {})",
                self.committed
            );
            let held = (conflict - (idx + 1)) as usize;
            self.append(ents.into_iter().skip(held).collect());
        }
        self.commit_to(committed.min(self.last_index()));
        Some(last_new_index)
