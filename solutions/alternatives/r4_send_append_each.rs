//! alternative: when the commit index moved, sends each other node what it lacks with the per-peer send, in id order, instead of the broadcast helper: the same messages
//! step: Replication Step4
                    if self.maybe_commit() {
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
                    }
