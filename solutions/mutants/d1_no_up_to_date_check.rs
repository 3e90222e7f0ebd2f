//! mutant: votes for any candidate, without comparing the candidate's last entry with its own: a candidate missing committed entries can win, and a leader then overwrites them (§5.4.1: "the voter denies its vote if its own log is more up-to-date than that of the candidate")
//! step: Deep Step1
//! also-fails: scenarios
        true
