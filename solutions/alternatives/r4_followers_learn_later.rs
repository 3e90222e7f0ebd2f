//! alternative: advances the commit index but tells nobody at once: §5.3 only asks that the leader include the commit index "in future AppendEntries RPCs (including heartbeats) so that the other servers eventually find out", and here they do within one heartbeat interval (every heartbeat carries the commit index, capped at what the follower holds), or sooner with the next append. Was the mutant r4_no_broadcast
//! step: Replication Step4
                    self.maybe_commit();
