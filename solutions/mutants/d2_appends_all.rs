//! mutant: after a matching previous entry, replaces everything that follows with the append's entries, even when none conflicts: a delayed or repeated append deletes entries a later one added, and they are rewritten to storage (Figure 2: only "If an existing entry conflicts with a new one ... delete the existing entry and all that follow it")
//! step: Deep Step2
//! also-fails: scenarios
        if !self.match_term(idx, log_term) {
            return None;
        }
        let last_new_index = idx + ents.len() as u64;
        self.append(ents);
        self.commit_to(committed.min(last_new_index));
        Some(last_new_index)
