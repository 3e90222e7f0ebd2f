//! mutant: records the vote and resets the clock for pre-votes too, so a pre-vote uses up the node's real vote of its term and delays its own elections (§9.6: a pre-vote changes nothing on the voter; §5.2: at most one vote per term)
//! step: Election Step5
//! also-fails: scenarios, search
                    let mut resp = Message::new(m.msg_type.vote_response(), self.id, m.from);
                    resp.term = m.term;
                    self.send(resp);
                    self.election_elapsed = 0;
                    self.vote = m.from;
