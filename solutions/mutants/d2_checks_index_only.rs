//! mutant: checks only that the log reaches the previous index, not that the entry there has the previous term: entries are appended after a different history, and the logs of two nodes no longer match (Figure 2: "Reply false if log doesn't contain an entry at prevLogIndex whose term matches prevLogTerm")
//! step: Deep Step2
//! also-fails: scenarios, Deep Step4, Deep Step5
        if idx > self.last_index() {
            return None;
        }
        let last_new_index = idx + ents.len() as u64;
        let conflict = self.find_conflict(&ents);
        if conflict != 0 {
            assert!(
                conflict > self.committed,
                "entry {conflict} conflicts with committed entry (committed {})",
                self.committed
            );
            let held = (conflict - (idx + 1)) as usize;
            self.append(ents.into_iter().skip(held).collect());
        }
        self.commit_to(committed.min(last_new_index));
        Some(last_new_index)
