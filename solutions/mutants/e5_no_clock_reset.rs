//! mutant: grants and records the vote but keeps its election clock running, so a voter may start a competing election right after voting (§5.2)
//! step: Election Step5
//! also-fails: search
                    let mut resp = Message::new(m.msg_type.vote_response(), self.id, m.from);
                    resp.term = m.term;
                    self.send(resp);
                    if m.msg_type == MessageType::MsgVote {
                        self.vote = m.from;
                    }
