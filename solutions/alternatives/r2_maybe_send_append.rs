//! alternative: sends with maybe_send_append(id, false), which skips a follower that has nothing to receive: right after an append every follower lacks at least the new entries (a follower's next index is at most the old last index + 1), so it sends exactly what the broadcast sends
//! step: Replication Step2
                let me = self.id;
                let others: Vec<NodeId> = self
                    .prs
                    .progress
                    .keys()
                    .copied()
                    .filter(|&id| id != me)
                    .collect();
                for id in others {
                    self.maybe_send_append(id, false);
                }
