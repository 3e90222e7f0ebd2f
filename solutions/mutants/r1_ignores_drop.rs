//! mutant: ignores append_entry's result, so a proposal dropped because the uncommitted log is full is reported as accepted (and still broadcast) (§5.3: "The leader appends the command to its log"; here it is not appended, yet reported accepted, so the proposer never retries)
//! step: Replication Step1
//! also-fails: search
                self.append_entry(&mut m.entries);
