//! mutant: replies with self.term instead of the request's term; for a pre-vote that asks about a future term, the pre-candidate then drops the grant as stale
//! step: Election Step5
//! also-fails: scenarios
                    let mut resp = Message::new(m.msg_type.vote_response(), self.id, m.from);
                    resp.term = self.term;
                    self.send(resp);
                    if m.msg_type == MessageType::MsgVote {
                        self.election_elapsed = 0;
                        self.vote = m.from;
                    }
