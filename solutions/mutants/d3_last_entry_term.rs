//! mutant: checks that the leader's last entry is of its term instead of the entry at the majority's index: once the leader has appended anything, an entry of an earlier term on a majority is committed by counting (§5.4.2, Figure 8)
//! step: Deep Step3
//! also-fails: scenarios
        if max_index > self.committed && self.last_term() == term {
            self.commit_to(max_index);
            return true;
        }
        false
