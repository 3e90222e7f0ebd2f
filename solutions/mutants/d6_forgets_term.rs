//! mutant: restores the vote and the commit index but not the term: the node restarts in the term of its last log entry, below the one it had reached, with no vote, and votes again in terms it had left (Figure 2: currentTerm is persistent; §5.1: terms never go back)
//! step: Deep Step6
//! also-fails: scenarios
        self.raft_log.committed = hs.commit;
        self.vote = hs.vote;
