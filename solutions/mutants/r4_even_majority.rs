//! mutant: computes the quorum index by hand as the middle of the voters' sorted match indexes, taking element n/2 of the ascending list: right for odd clusters, but for 2 or 4 voters only half of them hold that index, which is not a majority (§5.3: "replicated it on a majority of the servers")
//! step: Replication Step4
//! also-fails: search
                    let mut matched: Vec<Index> = self
                        .prs
                        .voter_nodes()
                        .into_iter()
                        .filter_map(|id| self.prs.get(id).map(|pr| pr.matched))
                        .collect();
                    matched.sort_unstable();
                    let quorum_index = matched.get(matched.len() / 2).copied().unwrap_or(0);
                    if self.raft_log.maybe_commit(quorum_index, self.term) {
                        self.bcast_append();
                    }
