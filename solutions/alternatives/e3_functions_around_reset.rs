//! alternative: sets the tick function before reset and the step function last, and names the new term in a local: reset touches neither function field, so where they are set does not matter; the vote still follows reset
//! step: Election Step3
        let next_term = self.term + 1;
        self.tick = Raft::tick_election;
        self.reset(next_term);
        self.state = StateType::Candidate;
        self.vote = self.id;
        self.step = Raft::step_candidate;
