//! alternative: moves to the stored term with the follower's role change first (its reset clears the vote of a new term), then restores the vote and the commit index: the vote survives, and the later role change in `new` keeps it (Figure 2; §5.2)
//! step: Deep Step6
        self.become_follower(hs.term, NONE);
        self.vote = hs.vote;
        self.raft_log.committed = hs.commit;
