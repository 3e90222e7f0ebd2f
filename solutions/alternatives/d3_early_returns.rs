//! alternative: refuses early when the index is not ahead of the commit index or its entry is not of the leader's term, then sets the commit index itself (the entry exists, so the index is within the log) (§5.3, §5.4.2)
//! step: Deep Step3
        if max_index <= self.committed {
            return false;
        }
        if self.term(max_index).ok() != Some(term) {
            return false;
        }
        self.committed = max_index;
        true
