//! alternative: records the vote and restarts the election clock before building the reply: independent updates, and the reply only leaves the node with the next Ready, after the vote is persisted, whatever the order here (§5.2: at most one vote per term, persisted before it is announced)
//! step: Election Step5
                    if m.msg_type == MessageType::MsgVote {
                        self.vote = m.from;
                        self.election_elapsed = 0;
                    }
                    let mut resp = Message::new(m.msg_type.vote_response(), self.id, m.from);
                    resp.term = m.term;
                    self.send(resp);
