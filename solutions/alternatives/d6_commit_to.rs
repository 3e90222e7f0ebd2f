//! alternative: restores the term and the vote, and moves the commit index with the log's own function (the range was checked above, so it cannot refuse); the same state (Figure 2)
//! step: Deep Step6
        self.term = hs.term;
        self.vote = hs.vote;
        self.raft_log.commit_to(hs.commit);
