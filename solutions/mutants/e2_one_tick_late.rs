//! mutant: re-checks the timeout with `>` instead of `>=`, so the election starts one tick after the randomized timeout (§5.2: the election begins when the election timeout elapses; the timeout in force is randomized_election_timeout, and one tick more can reach 2 × election_timeout, outside the randomized range)
//! step: Election Step2
//! also-fails: Election Step3, search
            if self.election_elapsed > self.randomized_election_timeout() {
                self.election_elapsed = 0;
                if let Err(e) = self.step(Message::new(MessageType::MsgHup, self.id, self.id)) {
                    debug!("{} error occurred during election: {e}", self.id);
                }
            }
