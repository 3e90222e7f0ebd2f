//! mutant: takes an append without entries to mean that the leader's log ends at its previous entry, and cuts what follows, though nothing conflicts (Figure 2: only a conflict deletes entries; an empty append is a probe or the news of a commit)
//! step: Deep Step2
//! also-fails: scenarios
        if !self.match_term(idx, log_term) {
            return None;
        }
        let last_new_index = idx + ents.len() as u64;
        if ents.is_empty() {
            // A heartbeat: the leader's log ends here, so ours must too.
            if idx < self.last_index() && idx > self.committed {
                let prev = self.slice(idx, idx + 1, NO_LIMIT).unwrap_or_default();
                self.append(prev);
            }
        } else {
            let conflict = self.find_conflict(&ents);
            if conflict != 0 {
                let held = (conflict - (idx + 1)) as usize;
                self.append(ents.into_iter().skip(held).collect());
            }
        }
        self.commit_to(committed.min(last_new_index));
        Some(last_new_index)
