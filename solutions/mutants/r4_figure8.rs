//! mutant: commits whatever a majority holds, even an entry of an earlier term, without maybe_commit's term check: the paper's Figure 8 (§5.4.2)
//! step: Replication Step4
//! also-fails: scenarios, search
                    let quorum_index = self.prs.committed();
                    if quorum_index > self.raft_log.committed {
                        self.raft_log.commit_to(quorum_index);
                        self.bcast_append();
                    }
