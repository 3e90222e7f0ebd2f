//! mutant: grants the vote without recording it, so the node can vote for two candidates in one term (§5.2: "at most one candidate in a given term")
//! step: Election Step5
//! also-fails: scenarios, search
                    let mut resp = Message::new(m.msg_type.vote_response(), self.id, m.from);
                    resp.term = m.term;
                    self.send(resp);
                    if m.msg_type == MessageType::MsgVote {
                        self.election_elapsed = 0;
                    }
