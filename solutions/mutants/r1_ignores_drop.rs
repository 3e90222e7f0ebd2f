//! mutant: ignores append_entry's result, so a proposal dropped because the uncommitted log is full is reported as accepted (and still broadcast)
//! step: Replication Step1
                self.append_entry(&mut m.entries);
