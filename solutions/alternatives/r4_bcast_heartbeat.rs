//! alternative: when the commit index moved, tells the followers with heartbeats instead of appends: a heartbeat carries the commit index (capped at what the follower holds), which is what §5.3 names ("includes that index in future AppendEntries RPCs (including heartbeats)"); followers that lack entries get them when their heartbeat response shows it
//! step: Replication Step4
                    if self.maybe_commit() {
                        self.bcast_heartbeat();
                    }
