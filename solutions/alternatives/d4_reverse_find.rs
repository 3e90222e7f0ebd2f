//! alternative: walks back with an iterator, finding the first index not newer than term, and falls back to first_index - 1 (or the index itself, if that is lower) (§5.3)
//! step: Deep Step4
        let lowest = self.first_index() - 1;
        (lowest + 1..=index)
            .rev()
            .find(|&i| self.zero_term_on_err_compacted(self.term(i)) <= term)
            .unwrap_or(lowest.min(index))
