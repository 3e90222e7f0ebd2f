//! mutant: commits whatever a majority holds, even an entry of an earlier term: committing an old term's entry by counting replicas, the paper's Figure 8 (§5.4.2: "Raft never commits log entries from previous terms by counting replicas")
//! step: Deep Step3
//! also-fails: scenarios
        if max_index > self.committed {
            self.commit_to(max_index);
            return true;
        }
        false
