//! mutant: with equal last terms, compares the candidate's last index with the voter's commit index instead of its last index: a candidate lacking entries the voter holds wins (§5.4.1 compares "the index and term of the last entries in the logs")
//! step: Deep Step1
//! also-fails: scenarios
        let our_term = self.last_term();
        term > our_term || (term == our_term && lasti >= self.committed)
