//! mutant: broadcasts heartbeats instead of appends, so the entries travel only after each follower's heartbeat response (§5.3: the leader issues AppendEntries RPCs "to replicate the entry")
//! step: Replication Step2
//! also-fails: search
                self.bcast_heartbeat();
