//! alternative: sends each other node (learners too) what it lacks with the per-peer send, in id order, instead of the broadcast helper: the same messages (§5.3: "issues AppendEntries RPCs in parallel to each of the other servers")
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
                    self.send_append(id);
                }
