//! mutant: commits but never tells the followers, who learn the new commit index only from later heartbeats or appends
//! step: Replication Step4
                    self.maybe_commit();
