//! mutant: appends the leader's entries without checking that the entry before them matches (§5.3's consistency check), and always acknowledges
//! step: Replication Step3
//! also-fails: scenarios, search
                self.election_elapsed = 0;
                self.lead = m.from;
                let last = self.raft_log.append(m.entries.clone());
                self.raft_log.commit_to(cmp::min(m.commit, last));
                let mut resp = Message::new(MessageType::MsgAppResp, self.id, m.from);
                resp.index = last;
                self.send(resp);
