//! mutant: restores the term and the commit index but not the vote: a node that voted, crashed and restarted votes again in the same term, and two leaders of one term follow (§5.2: "Each server will vote for at most one candidate in a given term"; Figure 2: votedFor is persistent)
//! step: Deep Step6
//! also-fails: scenarios
        self.raft_log.committed = hs.commit;
        self.term = hs.term;
