//! alternative: spells the comparison out as a match on the last terms, looking at the indexes only when the terms are equal (§5.4.1)
//! step: Deep Step1
        match term.cmp(&self.last_term()) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Equal => lasti >= self.last_index(),
        }
