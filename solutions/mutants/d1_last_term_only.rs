//! mutant: compares only the last terms, so a shorter log ending in the same term counts as up to date: it may lack committed entries of that term (§5.4.1: "If the logs end with the same term, then whichever log is longer is more up-to-date")
//! step: Deep Step1
//! also-fails: scenarios
        term >= self.last_term()
