//! mutant: commits up to what this one follower holds, without waiting for a majority (§5.3: "replicated it on a majority of the servers")
//! step: Replication Step4
//! also-fails: scenarios, search
                    if self.raft_log.maybe_commit(m.index, self.term) {
                        self.bcast_append();
                    }
