//! alternative: sends the appends to the other nodes in descending id order: §5.3 issues them "in parallel", so their order in the outbox means nothing
//! step: Replication Step2
                let me = self.id;
                let mut others: Vec<NodeId> = self
                    .prs
                    .progress
                    .keys()
                    .copied()
                    .filter(|&id| id != me)
                    .collect();
                others.reverse();
                for id in others {
                    self.send_append(id);
                }
