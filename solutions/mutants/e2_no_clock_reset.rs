//! mutant: steps MsgHup but never sets election_elapsed back to 0; harmless when become_candidate resets the clock, wrong for a pre-candidate, which then campaigns again on every tick (§5.2: "each candidate restarts its randomized election timeout at the start of an election, and it waits for that timeout to elapse before starting the next election")
//! step: Election Step2
//! also-fails: search
            if let Err(e) = self.step(Message::new(MessageType::MsgHup, self.id, self.id)) {
                debug!("{} error occurred during election: {e}", self.id);
            }
