//! mutant: broadcasts heartbeats instead of appends, so the entries travel only after each follower's heartbeat response
//! step: Replication Step2
                self.bcast_heartbeat();
