//! mutant: answers an accepted append with its own last index instead of the last entry the append vouched for: the leader then counts entries of the follower's that it never checked as matching its own (§5.3: the follower's log matches the leader's through the append's entries, no further)
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
        self.commit_to(committed.min(last_new_index));
        Some(self.last_index())
