//! alternative: steps the MsgHup first and sets the election clock back to 0 afterwards: nothing on the way from MsgHup to the campaign reads the election clock, and every path leaves it at 0 (become_candidate and become_leader reset it themselves, a pre-candidate or a refused hup gets the 0 set here), so the order of these two independent updates does not matter
//! step: Election Step2
            if let Err(e) = self.step(Message::new(MessageType::MsgHup, self.id, self.id)) {
                debug!("{} error occurred during election: {e}", self.id);
            }
            self.election_elapsed = 0;
