//! mutant: walks back down to index 0 instead of stopping at the oldest index whose term is known: in a log that starts after a snapshot, the hint can fall below it, where no term is known (find_conflict_by_term's contract stops at first_index - 1; §7)
//! step: Deep Step4
        let mut i = index;
        while i > 0 {
            match self.term(i) {
                Ok(t) if t > term => i -= 1,
                _ => break,
            }
        }
        i
