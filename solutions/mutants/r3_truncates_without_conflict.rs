//! mutant: after a matching previous entry, replaces everything that follows with the message's entries even when nothing conflicts, so a delayed or duplicated append deletes entries a later one added (Figure 2: only "If an existing entry conflicts with a new one (same index but different terms), delete the existing entry and all that follow it")
//! step: Replication Step3
//! also-fails: scenarios, search
                self.election_elapsed = 0;
                self.lead = m.from;
                if m.index >= self.raft_log.committed
                    && self.raft_log.match_term(m.index, m.log_term)
                {
                    let last_new = m.index + m.entries.len() as u64;
                    self.raft_log.append(m.entries.clone());
                    self.raft_log.commit_to(cmp::min(m.commit, last_new));
                    let mut resp = Message::new(MessageType::MsgAppResp, self.id, m.from);
                    resp.index = last_new;
                    self.send(resp);
                } else {
                    self.handle_append_entries(m);
                }
