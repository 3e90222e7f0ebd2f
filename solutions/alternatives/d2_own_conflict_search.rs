//! alternative: finds the first entry the log does not hold with its own walk over the entries instead of the library's search, and appends from there; the same entries are kept and replaced (Figure 2, §5.3)
//! step: Deep Step2
        if !self.match_term(idx, log_term) {
            return None;
        }
        let last_new_index = idx + ents.len() as u64;
        let first_new = ents
            .iter()
            .position(|e| !self.match_term(e.index, e.term));
        if let Some(k) = first_new {
            self.append(ents[k..].to_vec());
        }
        self.commit_to(std::cmp::min(committed, last_new_index));
        Some(last_new_index)
