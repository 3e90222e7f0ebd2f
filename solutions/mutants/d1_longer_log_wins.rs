//! mutant: compares only the lengths of the logs, not their last terms: a longer log of stale entries beats a shorter one that holds the newer, committed entries (§5.4.1: "If the logs have last entries with different terms, then the log with the later term is more up-to-date")
//! step: Deep Step1
        lasti >= self.last_index()
