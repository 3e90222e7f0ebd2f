//! alternative: also draws a new randomized timeout when the old one fires. §5.2: "each candidate restarts its randomized election timeout at the start of an election"; a node that becomes a candidate draws one anyway (reset), and a pre-candidate now waits a fresh random time before its next attempt, which only makes split attempts rarer
//! step: Election Step2
            self.election_elapsed = 0;
            self.reset_randomized_election_timeout();
            if let Err(e) = self.step(Message::new(MessageType::MsgHup, self.id, self.id)) {
                debug!("{} error occurred during election: {e}", self.id);
            }
