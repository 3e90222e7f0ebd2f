//! mutant: broadcasts on every acknowledgement but never advances the commit index, so nothing is ever committed (§5.3: "A log entry is committed once the leader that created the entry has replicated it on a majority of the servers")
//! step: Replication Step4
//! also-fails: scenarios, search
                    self.bcast_append();
