//! mutant: hints at the first index of the term the follower holds at that index, whatever that term is, instead of skipping back to an entry not newer than the leader's: the hint may point at an entry that cannot match, and entries of older terms that may match are skipped (§5.3; the hint's contract is in find_conflict_by_term's doc)
//! step: Deep Step4
//! also-fails: Deep Step5
        let lowest = self.first_index() - 1;
        let at = self.zero_term_on_err_compacted(self.term(index));
        let mut i = index;
        while i > lowest + 1 && self.zero_term_on_err_compacted(self.term(i - 1)) == at {
            i -= 1;
        }
        i
