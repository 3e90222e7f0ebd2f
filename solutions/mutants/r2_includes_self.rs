//! mutant: sends MsgApp to every voter including the leader itself
//! step: Replication Step2
                for id in self.prs.voter_nodes() {
                    self.send_append(id);
                }
