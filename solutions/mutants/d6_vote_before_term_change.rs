//! mutant: restores the vote first and then moves to the stored term with a role change, whose reset clears the vote of a new term: the vote is lost in every restart (§5.2, Figure 2: votedFor is persistent)
//! step: Deep Step6
//! also-fails: scenarios
        self.vote = hs.vote;
        self.raft_log.committed = hs.commit;
        self.become_follower(hs.term, NONE);
