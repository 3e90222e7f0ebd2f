//! mutant: sends MsgApp to every voter including the leader itself (§5.3: AppendEntries go "to each of the other servers")
//! step: Replication Step2
//! also-fails: scenarios, search
                for id in self.prs.voter_nodes() {
                    self.send_append(id);
                }
