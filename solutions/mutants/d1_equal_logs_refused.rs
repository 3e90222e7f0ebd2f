//! mutant: grants only to a strictly more up-to-date log, so a candidate whose log equals the voter's is refused: a fresh cluster, or one whose logs all agree, never elects a leader (§5.4.1: the vote goes to a log "at least as up-to-date")
//! step: Deep Step1
//! also-fails: scenarios, Deep Step6
        let our_term = self.last_term();
        term > our_term || (term == our_term && lasti > self.last_index())
