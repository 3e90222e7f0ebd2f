//! mutant: skips entries of the leader's term at that index too, not only newer ones: the hint passes entries that may match the leader's, and the leader resends entries the follower holds (§5.3: only entries of a term newer than the leader's entry cannot match)
//! step: Deep Step4
//! also-fails: Deep Step5
        let lowest = self.first_index() - 1;
        let mut i = index;
        while i > lowest {
            match self.term(i) {
                Ok(t) if t >= term => i -= 1,
                _ => break,
            }
        }
        i
