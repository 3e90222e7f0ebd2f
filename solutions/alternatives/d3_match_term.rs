//! alternative: asks the log matching check whether the majority's entry is of the leader's term, which answers false for an index outside the log as the term read does (§5.4.2)
//! step: Deep Step3
        if max_index > self.committed && self.match_term(max_index, term) {
            self.commit_to(max_index);
            return true;
        }
        false
