//! alternative: drains the entries it already holds from the append and hands the rest over, leaving the check that no committed entry is overwritten to the append function's own assertion; the commit follows only when it moves (Figure 2, §5.3)
//! step: Deep Step2
        if !self.match_term(idx, log_term) {
            return None;
        }
        let last_new_index = idx + ents.len() as u64;
        let conflict = self.find_conflict(&ents);
        if conflict != 0 {
            let mut ents = ents;
            ents.drain(..(conflict - idx - 1) as usize);
            self.append(ents);
        }
        let tocommit = committed.min(last_new_index);
        if tocommit > self.committed {
            self.commit_to(tocommit);
        }
        Some(last_new_index)
